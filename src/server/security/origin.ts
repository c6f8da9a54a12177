// Requests a web page on another site makes through the user's browser: refused before any handler runs.
//
// Every page the user opens can send requests to 127.0.0.1 (forms, sendBeacon, no-cors fetch, EventSource)
// and they arrive carrying the user's network position. Browsers say where such a request comes from:
// `Origin` on every cross-origin request but a plain GET, and `Sec-Fetch-Site` on all of them (Chromium,
// Firefox, Safari 16.4+). CLI and server clients send neither, so nothing they do changes.
import type { IncomingMessage } from 'node:http';

/**
 * True when `origin` is this server's own: an http(s) origin whose host (and port) is the authority the
 * request was sent to. `Origin: null` (a sandboxed frame, a file:, a redirect) is never own.
 */
export function isOwnOrigin(origin: string, authority: string | undefined): boolean {
  if (authority === undefined) return false;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    // Read as the origin's scheme would write it: https://example.com and Host example.com agree on port 443.
    return url.host === new URL(`${url.protocol}//${authority}`).host;
  } catch {
    return false;
  }
}

/** A top-level GET navigation (a link followed, an address typed): it shows an answer to the user, never to the page. */
function isNavigation(req: IncomingMessage): boolean {
  const { headers } = req;
  return headers['sec-fetch-mode'] === 'navigate' && headers['sec-fetch-dest'] === 'document' && (req.method === 'GET' || req.method === 'HEAD');
}

/**
 * Why a browser request from another site is refused, or undefined when it may go on: an Origin that is not
 * this server's own, or `Sec-Fetch-Site: cross-site`/`same-site` on anything but a top-level navigation (a
 * link to the console from another page still opens it; framing it is refused by its headers).
 */
export function crossSiteRefusal(req: IncomingMessage, authority: string | undefined): string | undefined {
  const { origin } = req.headers;
  if (origin !== undefined && !isOwnOrigin(origin, authority)) return `Origin not allowed: ${origin}`;
  const site = req.headers['sec-fetch-site'];
  if ((site === 'cross-site' || site === 'same-site') && !isNavigation(req)) return `Request from another site refused (Sec-Fetch-Site: ${site})`;
  return undefined;
}
