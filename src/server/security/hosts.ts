// Which Host a request may name: the defence against DNS rebinding. A web page on a name its owner points at
// 127.0.0.1 is same-origin with this server, so the browser lets it read every answer; the only trace of the
// trick is the Host header (that name), so any Host not on the list is refused before a handler runs.
// Setting: TELEMETRY_ALLOWED_HOSTS (docs/security.md).
import { isIP } from 'node:net';

/** Names every server answers to: the loopback names a person types, as a Host header carries them. */
export const DEFAULT_ALLOWED_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;

/** Host headers remembered with their verdict; a header is the same text on every request of a client. */
const VERDICTS_KEPT = 256;

/** The policy for one server: `allows(authority)` for a Host header or an absolute-form target's authority. */
export interface HostPolicy {
  allows(authority: string | undefined): boolean;
  /** True when TELEMETRY_ALLOWED_HOSTS is `*`: every Host is answered. */
  allowsAll: boolean;
}

export interface HostPolicyOptions {
  /** The address the server listens on (TELEMETRY_HOST, without brackets). */
  listenHost: string;
  /** TELEMETRY_ALLOWED_HOSTS as parsed: lowercased names, `[v6]` addresses, `.suffix` entries; or `*`. */
  allowed: readonly string[] | '*';
}

// A name, an IPv4 address, or an IPv6 address in brackets, then an optional port.
const AUTHORITY = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/;

/** The host of an authority (`name`, `name:port`, `[v6]:port`), lowercased, or undefined when it is not one. */
export function hostOf(authority: string): string | undefined {
  return AUTHORITY.exec(authority.toLowerCase())?.[1];
}

/** A wildcard listen address (`0.0.0.0`, `::`) names no host; any other is what clients may type. */
function listenName(host: string): string | undefined {
  const lower = host.toLowerCase();
  if (isIP(lower) === 6) return /^[0:]+$/.test(lower) ? undefined : `[${lower}]`;
  return lower === '0.0.0.0' ? undefined : lower;
}

/** Creates the policy: the defaults, the listen host when it names one, and TELEMETRY_ALLOWED_HOSTS. */
export function createHostPolicy(options: HostPolicyOptions): HostPolicy {
  if (options.allowed === '*') return { allows: () => true, allowsAll: true };
  const exact = new Set<string>(DEFAULT_ALLOWED_HOSTS);
  const suffixes: string[] = [];
  const own = listenName(options.listenHost);
  if (own !== undefined) exact.add(own);
  for (const entry of options.allowed) {
    // `.example.com` allows example.com itself and every name under it, as Django and Vite read it.
    if (entry.startsWith('.')) {
      exact.add(entry.slice(1));
      suffixes.push(entry);
    } else exact.add(entry);
  }
  const judge = (authority: string): boolean => {
    const host = hostOf(authority);
    return host !== undefined && (exact.has(host) || suffixes.some((suffix) => host.endsWith(suffix)));
  };
  const verdicts = new Map<string, boolean>();
  return {
    allowsAll: false,
    allows(authority) {
      // No Host (an HTTP/1.0 request) names nothing this server could check: refused like a wrong one.
      if (authority === undefined) return false;
      let verdict = verdicts.get(authority);
      if (verdict === undefined) {
        verdict = judge(authority);
        if (verdicts.size >= VERDICTS_KEPT) verdicts.clear();
        verdicts.set(authority, verdict);
      }
      return verdict;
    },
  };
}
