// What a request asks for: the path to route and the authority to check, from either form of request target.
//
// RFC 9112 §3.2.2: a server MUST accept the absolute form (`GET http://host:port/path HTTP/1.1`, what a client
// sends when it takes the server for a proxy), route its path, and use its authority in place of the Host header.

/** The routed path (no query, no trailing slash) and the authority the request names. */
export interface Target {
  path: string;
  /** The Host header, or the authority of an absolute-form target; undefined when the request names none. */
  authority: string | undefined;
  /** The query string without its `?`, or '' when there is none. */
  query: string;
}

const ABSOLUTE = /^https?:\/\//i;

/** Reads `req.url` and the Host header into a Target; undefined when an absolute-form target does not parse. */
export function parseTarget(url: string | undefined, host: string | undefined): Target | undefined {
  const raw = url ?? '/';
  if (!ABSOLUTE.test(raw)) return split(raw, host);
  try {
    const parsed = new URL(raw);
    return { ...split(`${parsed.pathname}${parsed.search}`, undefined), authority: parsed.host };
  } catch {
    return undefined;
  }
}

function split(full: string, authority: string | undefined): Target {
  const mark = full.indexOf('?');
  const raw = mark === -1 ? full : full.slice(0, mark);
  const path = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
  return { path, authority, query: mark === -1 ? '' : full.slice(mark + 1) };
}
