// A token bucket per client for POST /api/collector, on a collector reachable beyond loopback.
//
// Each client (an IP address; an IPv6 client by its /64, which one host usually holds whole) has a bucket of
// TELEMETRY_RATE_BURST heartbeats that refills at TELEMETRY_RATE_LIMIT a minute. An empty bucket is 429 with
// Retry-After. Addresses live only in this process's memory, in at most MAX_RATE_CLIENTS buckets: they are
// never stored, logged or counted anywhere else (docs/privacy.md).
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Buckets kept at most (about 100 bytes each); past it the least recently seen client's is dropped. */
export const MAX_RATE_CLIENTS = 10_000;
/** The longest client key kept: a forged X-Forwarded-For hop cannot make a bucket larger. */
const MAX_KEY_LENGTH = 64;

export interface RateLimitOptions {
  /** Refill, in heartbeats a minute (> 0). */
  perMinute: number;
  /** Bucket size (>= 1). */
  burst: number;
  maxClients?: number;
  now?: () => number;
}

/** The limiter: `take(client)` is 0 when the heartbeat may go on, else the seconds to wait (Retry-After). */
export interface RateLimiter {
  take(client: string): number;
  /** Buckets held now. */
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const perMs = options.perMinute / 60_000;
  const maxClients = options.maxClients ?? MAX_RATE_CLIENTS;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  return {
    take(client) {
      const at = now();
      const bucket = buckets.get(client);
      const tokens = bucket === undefined ? options.burst : Math.min(options.burst, bucket.tokens + (at - bucket.at) * perMs);
      // Re-inserted on every use, so the map's first key is the least recently seen client.
      buckets.delete(client);
      if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value as string);
      if (tokens >= 1) {
        buckets.set(client, { tokens: tokens - 1, at });
        return 0;
      }
      buckets.set(client, { tokens, at });
      return Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
    },
    size: () => buckets.size,
  };
}

/** The first four groups of an IPv6 address (its /64), written out; the address itself when it is not one. */
function prefix64(address: string): string {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** The key of an address: IPv4 as it is (an IPv4-mapped IPv6 address included), IPv6 by its /64. */
export function clientKey(address: string): string {
  // A forwarded hop may carry a port (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
  const bare = address.replace(/^\[(.*)\](?::\d+)?$/, '$1').replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped !== null) return mapped[1]!;
  return isIP(bare) === 6 ? prefix64(bare) : bare.slice(0, MAX_KEY_LENGTH);
}

/**
 * The client a request counts against: the socket's address, or with TELEMETRY_TRUST_PROXY the first
 * X-Forwarded-For hop (the proxy must overwrite the header, not append to what the client sent).
 */
export function clientOf(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const first = typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : '';
  return clientKey(first !== '' ? first : (req.socket.remoteAddress ?? ''));
}
