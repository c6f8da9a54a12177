// The one function that says where heartbeats go.
import { createRequire } from 'node:module';
import { ROUTES } from './routes.js';

// node:net (and the ~25 stream and socket modules it loads) is required only for a host with a colon: `status`,
// `preview` and `send` name the endpoint of the default host without it (H2).
const isIPv6 = (text: string): boolean => (createRequire(import.meta.url)('node:net') as typeof import('node:net')).isIPv6(text);

/**
 * The base URL (`http://host:port`) to reach a server listening on host:port. A wildcard host is replaced
 * by loopback of the same family, since a wildcard is not an address to send to.
 */
export function serverUrl(host: string, port: number): string {
  const bare = /^\[.*\]$/.test(host) ? host.slice(1, -1) : host;
  // Every IPv6 address has a colon: the check skips isIPv6, whose first call costs ~4 ms (it builds its regex).
  const v6 = (text: string) => text.includes(':') && isIPv6(text);
  const unspecifiedV6 = v6(bare) && /^[0:]+$/.test(bare);
  const target = bare === '0.0.0.0' ? '127.0.0.1' : unspecifiedV6 ? '::1' : bare;
  return `http://${v6(target) ? `[${target}]` : target}:${port}`;
}

/**
 * Where heartbeats go: TELEMETRY_ENDPOINT when configured, else the collector of the server at `server`
 * (its real URL once listening; before that, or with no server, the configured host and port).
 */
export function resolveEndpoint(settings: { endpoint: string | undefined; host: string; port: number }, server?: string): string {
  if (settings.endpoint !== undefined) return settings.endpoint;
  return `${server ?? serverUrl(settings.host, settings.port)}${ROUTES.collector}`;
}
