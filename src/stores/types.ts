// The storage seam: what the actor, the collector, the server and the CLI need from a backend.
import type { CollectorStore, CollectorStoreOptions } from './collectorStore.js';
import type { Logger } from '../logger.js';

export type { CollectorStats, ExportRow } from './stats.js';
export type { CollectorStore, CollectorStoreOptions, CountedHeartbeat, RecordOutcome } from './collectorStore.js';

/** The anonymous session, exactly as stored: `{ session_id, session_start_timestamp }`. */
export interface StoredSession {
  session_id: string;
  session_start_timestamp: string;
}

/** The session as loaded for the telemetry actor; `created` is true when this call wrote it. */
export interface LoadedStoredSession extends StoredSession {
  created: boolean;
}

export interface GetOrCreateOptions {
  /** Aborts the lookup; an aborted call writes nothing. */
  signal?: AbortSignal;
  /** Clock for the session start; default Date.now. */
  now?: () => number;
  /** Where the one "not valid; replacing it" warning goes. */
  logger?: Logger;
}

/** The configuration store's TELEMETRY_SESSION: created once, reused until reset. */
export interface SessionStore {
  /** The stored session, or a new one stored now; a value that is not a session is replaced, with one warning. */
  getOrCreate(options?: GetOrCreateOptions): Promise<LoadedStoredSession>;
  /** The stored session without creating one; undefined when absent or not of the right shape. */
  read(): Promise<StoredSession | undefined>;
  /** Forgets the session; resolves true if one was stored. */
  reset(): Promise<boolean>;
}

/** What a claim on the deployment's heartbeat found. */
export interface HeartbeatClaim {
  /** True: this replica sends now. False: a peer holds the lease and sent `ageMs` ago. */
  claimed: boolean;
  /** Whole milliseconds since the deployment's last heartbeat, measured on the store's clock (0 when claimed). */
  ageMs: number;
  /** The holder's interval as its lease row records it (this replica's own when it claimed); undefined when the row does not say. */
  loopMs?: number;
  /** The holder's stale window (its interval plus its timeout) as its row records it; undefined when the row does not say. */
  staleMs?: number;
  /** The session stored now, read in the same round trip; undefined when none is (after a reset) or the lease cannot tell. */
  session?: StoredSession;
}

/**
 * Decides, between replicas sharing a store, which one sends the heartbeat. The holder renews it with
 * every send and records its interval and stale window; a peer takes it over only when the holder has been
 * silent for longer than the holder's own stale window, so a short-interval replica never displaces a live
 * long-interval holder.
 */
export interface HeartbeatLease {
  claim(options: {
    holder: string;
    /** The claimant's interval, recorded in the row when it claims. */
    loopMs: number;
    /** The claimant's stale window (interval plus timeout), recorded when it claims; used when the row has none. */
    staleMs: number;
    signal?: AbortSignal;
  }): Promise<HeartbeatClaim>;
}

/** A backend: where both stores live, opened and closed by its owner (the server, or one CLI command). */
export interface Storage {
  /** `level` or `postgres`. */
  readonly kind: string;
  /** Where the data lives, safe to show (no password). */
  readonly location: string;
  readonly sessions: SessionStore;
  /** Shared backends only (PostgreSQL): one heartbeat per interval between replicas. A process-exclusive one has none and always sends. */
  readonly lease?: HeartbeatLease;
  /** True when the store has been created (so reading it is worth opening it). */
  exists(): Promise<boolean>;
  open(): Promise<void>;
  /** Opens the collector's store on this backend (migrates what an older version stored, loads its caches). */
  openCollector(options: CollectorStoreOptions): Promise<CollectorStore>;
  close(): Promise<void>;
}
