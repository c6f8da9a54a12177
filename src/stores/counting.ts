// What a heartbeat is counted as, written once for every backend: its session, the five breakdown values
// (capped), the day it was received, and its idempotency key with a fingerprint of its body.
import { createHash } from 'node:crypto';
import type { Heartbeat } from '../heartbeat.js';

/** The breakdowns, by payload field: each value is counted by heartbeat and by distinct session. */
export const DIMENSIONS = ['server_version', 'platform', 'environment', 'architecture', 'node_version'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
/** A counter's scope: the whole fleet (`total`, value '') or one breakdown value. */
export type Scope = 'total' | Dimension;
export const SCOPES: readonly Scope[] = ['total', ...DIMENSIONS];

/** The bucket for a heartbeat that lacks a field. */
export const UNKNOWN_KEY = 'unknown';
/** The bucket for values beyond the cap, and (when read) for buckets below the privacy floor. */
export const OTHER_KEY = 'other';
/** Distinct values a breakdown ever stores, `other` included: the 1,000th and later new values count as `other`. */
export const MAX_VALUES = 1000;

/** An idempotency key and what it was first sent with: the same key with another body is a conflict. */
export interface IdempotencyKey {
  key: string;
  /** sha256 of the heartbeat's canonical JSON, base64url. */
  fingerprint: string;
}

/** One validated heartbeat, as the stores count it. */
export interface CountedHeartbeat {
  /** Lower case, so one session is one session whatever case its sender used. */
  sessionId: string;
  /** Every breakdown's value as sent (UNKNOWN_KEY when absent), before the cap. */
  values: Readonly<Record<Dimension, string>>;
  receivedAt: Date;
  idempotency?: IdempotencyKey;
}

function valueOf(v: unknown): string {
  return v === undefined || v === null ? UNKNOWN_KEY : String(v);
}

/** Sorted keys, recursively: the same heartbeat has one text, whatever order its sender wrote. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** The fingerprint of a heartbeat's body, for telling a retry (same body) from a reused key (another body). */
export function fingerprintOf(heartbeat: Heartbeat): string {
  return createHash('sha256').update(canonical(heartbeat)).digest('base64url');
}

/** A validated heartbeat as counted; `key` is its idempotency-key header, when it had one. */
export function toCounted(heartbeat: Heartbeat, receivedAt: Date, key?: string): CountedHeartbeat {
  const payload = heartbeat.payload as unknown as Record<string, unknown>;
  const values = {} as Record<Dimension, string>;
  for (const dimension of DIMENSIONS) values[dimension] = valueOf(payload[dimension]);
  return {
    sessionId: heartbeat.payload.session_id.toLowerCase(),
    values,
    receivedAt,
    ...(key === undefined ? {} : { idempotency: { key, fingerprint: fingerprintOf(heartbeat) } }),
  };
}
