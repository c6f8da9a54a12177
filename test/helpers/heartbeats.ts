// Reading the heartbeats a recording endpoint received: their sessions, keys and spacing.
import type { TestEndpoint } from './endpoint.js';

/** One heartbeat as the endpoint saw it. */
export interface Beat {
  /** Date.now() when its body had been read. */
  at: number;
  session: string;
  key: string;
}

/** Every heartbeat the endpoint received so far, in arrival order. */
export function beatsOf(endpoint: TestEndpoint): Beat[] {
  return endpoint.requests.map((r) => ({
    at: r.receivedAt,
    session: (JSON.parse(r.body) as { payload: { session_id: string } }).payload.session_id,
    key: String(r.headers['idempotency-key']),
  }));
}

/**
 * The gaps between consecutive heartbeats that are shorter than half the interval: each one is an interval
 * that got two heartbeats (a holder sends one per interval; a takeover comes later, never sooner).
 */
export function doubledGaps(beats: Beat[], loopSeconds: number): number[] {
  return beats
    .slice(1)
    .map((beat, i) => beat.at - beats[i]!.at)
    .filter((gap) => gap < (loopSeconds * 1000) / 2);
}

/** The distinct session ids among `beats`. */
export function sessionsOf(beats: Beat[]): string[] {
  return [...new Set(beats.map((b) => b.session))];
}
