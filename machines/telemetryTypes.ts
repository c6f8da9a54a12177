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

/** One heartbeat as its retries resend it: the session it carries and its idempotency key. */
export interface HeartbeatIdentity {
  sessionId: string;
  sessionStartTimestamp: string;
  idempotencyKey: string;
}

/** What the `sendHeartbeat` actor receives: the settings of one attempt. */
export interface SendHeartbeatInput {
  endpoint: string;
  /** The interval, so a replica sharing its store can tell a peer's recent heartbeat from a stale one. */
  loopSeconds: number;
  timeoutSeconds: number;
  source: string;
  environment: string;
  serverVersion: string;
  apiVersion: string;
  /** 0 for a new heartbeat, N for its N-th retry. */
  attempt: number;
  /**
   * A retry resends this heartbeat as it first went out, under the same idempotency key, so a collector counts
   * it once even when an earlier attempt did arrive. Null for a new heartbeat: the actor then reads the session
   * stored now (so a reset reaches a running actor) and makes a new key.
   */
  resend: HeartbeatIdentity | null;
}

/**
 * Who sent the deployment's last heartbeat: this replica, a peer sharing its store, or `unknown` when this
 * replica could not tell (its lease claim could not be decided, or its claim went stale before the request
 * left) and so sent nothing.
 */
export type SentBy = 'self' | 'peer' | 'unknown';

/** What a `sendHeartbeat` that did not fail resolves with; times are epoch milliseconds. */
export interface SendHeartbeatOutput {
  /** The HTTP status; only when this replica sent the heartbeat. */
  statusCode?: number;
  /** When this send started, or (sentBy `peer`) when the peer's last one did. */
  startedAt: number;
  finishedAt: number;
  /** Default `self`. `peer`: a replica sharing the store holds the heartbeat lease and sent it; nothing went out from here. */
  sentBy?: SentBy;
  /** When the next attempt is due, if not loopSeconds after startedAt (a peer: when its lease would go stale). */
  nextDueAt?: number;
  /** The session this send used (or, from a peer, the one stored now); absent: the session did not change. */
  session?: LoadedSession;
  /** sentBy `unknown`: why nothing was sent (short, safe to log). */
  reason?: string;
}

/** When the next heartbeat is due after this one (fixed rate: loopSeconds after it started). */
export function nextDueAt(sent: SendHeartbeatOutput, loopSeconds: number): number {
  return sent.nextDueAt ?? sent.startedAt + loopSeconds * 1000;
}

/** Who sent it (`self` unless the output says otherwise). */
export function sentByOf(sent: SendHeartbeatOutput): SentBy {
  return sent.sentBy ?? 'self';
}

/** The fields the machine reads from a failed `sendHeartbeat` (any thrown value may carry them). */
export interface HeartbeatFailure {
  reason: string;
  statusCode?: number;
  retryAfterMs?: number;
  /** When the attempt failed (epoch ms), to show when the retry is due. */
  failedAt?: number;
  /** The heartbeat that failed, when its request was made: a retry resends exactly it. */
  heartbeat?: HeartbeatIdentity;
}

/** JSON-safe context: what the status API and the inspector show. */
export interface TelemetryContext extends TelemetryInput {
  /** The session of the last heartbeat (or the one loaded at start); null only before the first load. */
  sessionId: string | null;
  sessionStartTimestamp: string | null;
  /** True when this actor created that session (its first start, or its first heartbeat after a reset). */
  sessionCreated: boolean;
  /** Heartbeats this replica sent itself. */
  heartbeatsSent: number;
  consecutiveFailures: number;
  /** The deployment's last heartbeat, by this replica or a peer (see lastSentBy). */
  lastSentAt: string | null;
  /** Who sent the deployment's last heartbeat as this replica last saw it; null before the first. */
  lastSentBy: SentBy | null;
  nextRunAt: string | null;
  lastError: string | null;
  stopReason: StopReason | null;
  /** How long the current stay in `waiting` lasts (read by the `loopInterval` delay). */
  waitMs: number;
  /** The last send's result, recorded once; null after a failure. The next steps are decided on it. */
  lastResult: SendHeartbeatOutput | null;
  /** The last failure, recorded once; null after a result. A retry resends its heartbeat. */
  lastFailure: HeartbeatFailure | null;
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
      heartbeat: isHeartbeatIdentity(e.heartbeat) ? e.heartbeat : undefined,
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

function isHeartbeatIdentity(value: unknown): value is HeartbeatIdentity {
  const v = value as Partial<HeartbeatIdentity> | null | undefined;
  return typeof v?.sessionId === 'string' && typeof v.sessionStartTimestamp === 'string' && typeof v.idempotencyKey === 'string';
}
