// The telemetry machine's data: its input, context, events, output and the pure helpers its actions use.
// Kept apart from the statechart so the chart file reads as configuration.

/** Plain-data input of the telemetry machine. */
export interface TelemetryInput {
  /** http(s) URL the heartbeat is POSTed to. */
  endpoint: string;
  /** Seconds between the starts of two heartbeats. */
  loopSeconds: number;
  /** Per-request limit covering connect, headers and body. */
  timeoutSeconds: number;
  /** The `environment` field of the payload. */
  environment: string;
  /** The heartbeat's `source` (also the `x-telemetry-event` header). */
  source: string;
  serverVersion: string;
  apiVersion: string;
  /** Retries before the service stops; 0 stops on the first failure. */
  retries: number;
  /** Stop with reason `completed` after this many heartbeats. */
  maxLoops?: number;
  /**
   * The switches that turn telemetry off for this host, as the first-start notice names them
   * (resolveTelemetry fills it in); default `TELEMETRY_ENABLED=false or DO_NOT_TRACK=1`.
   */
  optOutHint?: string;
}

/** Why the actor reached `stopped`. */
export type StopReason = 'requested' | 'failed' | 'completed' | 'rejected';

/** The stored anonymous session, as returned by the `loadSession` actor. */
export interface LoadedSession {
  session_id: string;
  session_start_timestamp: string;
  /** True when this call created the session (first start, or after a reset). */
  created: boolean;
}

/** What the `sendHeartbeat` actor receives. */
export interface SendHeartbeatInput {
  endpoint: string;
  /** The interval, so a replica sharing its store can tell a peer's recent heartbeat from a stale one. */
  loopSeconds?: number;
  timeoutSeconds: number;
  source: string;
  environment: string;
  serverVersion: string;
  apiVersion: string;
  sessionId: string;
  sessionStartTimestamp: string;
  /**
   * 0 (or absent) for a new heartbeat, N for its N-th retry: a retry resends the same heartbeat, under the
   * same idempotency key, so a collector counts it once even when an earlier attempt did arrive.
   */
  attempt?: number;
}

/** Who sent the deployment's last heartbeat: this replica, or a peer sharing its store. */
export type SentBy = 'self' | 'peer';

/** What a successful `sendHeartbeat` resolves with; times are epoch milliseconds. */
export interface SendHeartbeatOutput {
  /** The HTTP status; 0 when a peer sent it. */
  statusCode: number;
  /** When this send started, or (sentBy `peer`) when the peer's last one did. */
  startedAt: number;
  finishedAt: number;
  /** Default `self`. `peer`: a replica sharing the store holds the heartbeat lease and sent it; nothing went out from here. */
  sentBy?: SentBy;
  /** When the next attempt is due, if not loopSeconds after startedAt (a peer: when its lease would go stale). */
  nextDueAt?: number;
}

/** When the next heartbeat is due after this one (fixed rate: loopSeconds after it started). */
export function nextDueAt(sent: SendHeartbeatOutput, loopSeconds: number): number {
  return sent.nextDueAt ?? sent.startedAt + loopSeconds * 1000;
}

/** True when this replica sent the heartbeat itself. */
export function sentBySelf(sent: SendHeartbeatOutput): boolean {
  return sent.sentBy !== 'peer';
}

/** The fields the machine reads from a failed `sendHeartbeat` (any thrown value may carry them). */
export interface HeartbeatFailure {
  reason: string;
  statusCode?: number;
  retryAfterMs?: number;
  /** When the attempt failed (epoch ms), to show when the retry is due. */
  failedAt?: number;
}

/** JSON-safe context: what the status API and the inspector show. */
export interface TelemetryContext extends TelemetryInput {
  sessionId: string | null;
  sessionStartTimestamp: string | null;
  /** Heartbeats this replica sent itself. */
  heartbeatsSent: number;
  consecutiveFailures: number;
  /** The deployment's last heartbeat, by this replica or a peer (see lastSentBy). */
  lastSentAt: string | null;
  /** Whether this replica or a peer sharing its store sent the last heartbeat; null before the first. */
  lastSentBy: SentBy | null;
  nextRunAt: string | null;
  lastError: string | null;
  stopReason: StopReason | null;
  /** How long the current stay in `waiting` lasts (read by the `loopInterval` delay). */
  waitMs: number;
}

/** Output of the actor once stopped. */
export interface TelemetryOutput {
  stopReason: StopReason | null;
  heartbeatsSent: number;
  lastError: string | null;
}

export type TelemetryEvent = { type: 'telemetry.start' } | { type: 'telemetry.stop' };

/** First retry waits about a second; each next one doubles, capped at loopSeconds. */
const BACKOFF_BASE_MS = 1_000;

/** Reads the failure fields from whatever an actor threw. */
export function failureOf(error: unknown): HeartbeatFailure {
  if (error !== null && typeof error === 'object') {
    const e = error as Partial<HeartbeatFailure> & { message?: unknown };
    const reason = typeof e.reason === 'string' ? e.reason : String(e.message ?? error);
    return {
      reason,
      statusCode: typeof e.statusCode === 'number' ? e.statusCode : undefined,
      retryAfterMs: typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined,
      failedAt: typeof e.failedAt === 'number' ? e.failedAt : undefined,
    };
  }
  return { reason: String(error) };
}

/** Capped exponential backoff with jitter in [base/2, base]; a Retry-After wins, capped too. */
export function retryDelayMs(failures: number, loopSeconds: number, retryAfterMs?: number, random = Math.random()): number {
  const cap = loopSeconds * 1000;
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), cap);
  const base = Math.min(cap, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(base / 2 + (base / 2) * random);
}
