// The telemetry status as the API, the CLI and the docs show it: one shape, built from settings and a snapshot.
import type { SentBy, TelemetryContext } from '../../machines/telemetryMachine.js';
import type { StoredSession } from '../stores/index.js';
import { redactUrl } from '../redact.js';

/** GET /api/telemetry, and `telemetry-actor status --json`. */
export interface TelemetryStatus {
  enabled: boolean;
  disabled_by: string | null;
  state: string;
  session_id: string | null;
  session_start_timestamp: string | null;
  heartbeats_sent: number;
  last_sent_at: string | null;
  /**
   * `self` when this replica sent the last heartbeat, `peer` when a replica sharing its database did, `unknown`
   * when this replica skipped the last interval because it could not tell (its lease claim could not be decided,
   * or went stale before the request left); null before the first.
   */
  last_sent_by: SentBy | null;
  next_run_at: string | null;
  last_error: string | null;
  stop_reason: string | null;
  endpoint: string;
}

/** The parts of a telemetry actor snapshot the status reads. */
export interface TelemetrySnapshotLike {
  value: unknown;
  context: TelemetryContext;
}

export interface StatusSource {
  enabled: boolean;
  disabledBy: string | null;
  endpoint: string;
}

/** Status of a live actor; `disabled` when telemetry is off, `idle` before the child is spawned. */
export function liveStatus(source: StatusSource, snapshot: TelemetrySnapshotLike | undefined): TelemetryStatus {
  const c = snapshot?.context;
  return {
    enabled: source.enabled,
    disabled_by: source.disabledBy,
    state: source.enabled ? String(snapshot?.value ?? 'idle') : 'disabled',
    session_id: c?.sessionId ?? null,
    session_start_timestamp: c?.sessionStartTimestamp ?? null,
    heartbeats_sent: c?.heartbeatsSent ?? 0,
    last_sent_at: c?.lastSentAt ?? null,
    last_sent_by: c?.lastSentBy ?? null,
    next_run_at: c?.nextRunAt ?? null,
    last_error: c?.lastError ?? null,
    stop_reason: c?.stopReason ?? null,
    endpoint: redactUrl(c?.endpoint ?? source.endpoint),
  };
}

/** Status read from the database alone (no server running): state `not running`. */
export function storedStatus(source: StatusSource, session: StoredSession | undefined): TelemetryStatus {
  return {
    ...liveStatus(source, undefined),
    state: source.enabled ? 'not running' : 'disabled',
    session_id: session?.session_id ?? null,
    session_start_timestamp: session?.session_start_timestamp ?? null,
  };
}
