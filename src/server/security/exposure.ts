// Whether the server can be reached from beyond this machine, and the start-up rule that follows from it:
// a collector on the internet keeps its reads private (TELEMETRY_READ_TOKEN) unless told they are public.
import { isIP } from 'node:net';
import { UserError } from '../../errors.js';

/** The settings the rule reads. */
export interface ExposureSettings {
  host: string;
  trustProxy: boolean;
  collector: boolean;
  readToken: string | undefined;
  publicStats: boolean;
}

/** True for a host only this machine can reach: `localhost`, 127.0.0.0/8, `::1` (an IPv4-mapped 127.x too). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  const v4 = bare.replace(/^::ffff:/, '');
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(bare) === 6 && /^(0{0,4}:){7}0{0,3}1$|^::1$/.test(bare);
}

/**
 * Reachable from beyond loopback: listening on any other address (a wildcard included), or behind a proxy
 * (TELEMETRY_TRUST_PROXY: the clients are elsewhere even when the proxy talks to 127.0.0.1).
 */
export function isExposed(settings: Pick<ExposureSettings, 'host' | 'trustProxy'>): boolean {
  return settings.trustProxy || !isLoopbackHost(settings.host);
}

/**
 * Refuses (UserError, exit code 2, one line) to serve the collector beyond loopback with no read token,
 * unless TELEMETRY_PUBLIC_STATS=true says the stats are meant to be public.
 */
export function checkExposure(settings: ExposureSettings): void {
  if (!settings.collector || settings.readToken !== undefined || settings.publicStats || !isExposed(settings)) return;
  const where = settings.trustProxy && isLoopbackHost(settings.host) ? 'behind a proxy (TELEMETRY_TRUST_PROXY)' : `on ${settings.host}`;
  throw new UserError(
    `Refusing to serve the collector ${where} with no TELEMETRY_READ_TOKEN: anyone could read its stats; ` +
      'set TELEMETRY_READ_TOKEN, or TELEMETRY_PUBLIC_STATS=true if they are meant to be public',
    { exitCode: 2 },
  );
}
