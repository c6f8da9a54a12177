// createTelemetryMachine: the pure statechart with its real session-store and HTTP actors and its log lines.
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { fromPromise } from 'xstate';
import {
  telemetryMachine,
  type HeartbeatFailure,
  type LoadedSession,
  type SendHeartbeatInput,
  type SendHeartbeatOutput,
  type TelemetryContext,
} from '../../machines/telemetryMachine.js';
import { limitRepeats } from '../logLimit.js';
import { silentLogger, type Logger } from '../logger.js';
import { redactUrl } from '../redact.js';
import { createLevelSessionStore, type HeartbeatLease, type LevelLike, type SessionStore } from '../stores/index.js';
import { createHeartbeatSend } from './heartbeatSend.js';
import { createSender } from './sender.js';

/** Where the session lives: a SessionStore, or (the convenience) any abstract-level database. */
export type SessionSource =
  | { sessions: SessionStore; db?: never }
  /** Any abstract-level database (`Level`, `MemoryLevel`); the session lives in its `configuration` sublevel. */
  | { db: LevelLike; sessions?: never };

export type TelemetryDeps = SessionSource & {
  /** Root or parent logger; the actor logs through `logger.child({ component: 'telemetry' })`. */
  logger?: Logger;
  /** undici dispatcher for the heartbeat; default honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
  dispatcher?: Dispatcher;
  /** Put stack traces in failure lines (TELEMETRY_DEBUG). */
  debug?: boolean;
  /** Clock for send times and the session start; default Date.now. */
  now?: () => number;
  /**
   * Replicas sharing a store (Storage.lease, PostgreSQL): claimed before each send, so one heartbeat per
   * interval goes out between them; a replica that loses the claim sends nothing and records `peer`, one whose
   * claim cannot be decided (the store unreachable) or went stale before its request left sends nothing and
   * records `unknown`.
   */
  lease?: HeartbeatLease;
  /** This replica's id in the lease; default a random one per machine. */
  replicaId?: string;
};

/** What the first-start notice says is sent. */
export const SENT_FIELDS = [
  'platform',
  'architecture',
  'node_version',
  'runtime',
  'environment',
  'api_version',
  'server_version',
  'session_id',
  'session_start_timestamp',
] as const;

/**
 * Returns the telemetry machine with its real actors: `loadSession` (the store's get-or-create) and
 * `sendHeartbeat` (undici POST). Spawn or `createActor` it with a {@link TelemetryInput}.
 */
export function createTelemetryMachine(deps: TelemetryDeps) {
  const log = (deps.logger ?? silentLogger()).child({ component: 'telemetry' });
  const sessions = deps.sessions ?? createLevelSessionStore(deps.db);
  const send = createHeartbeatSend({
    sessions,
    post: createSender({ dispatcher: deps.dispatcher, now: deps.now }),
    lease: deps.lease,
    holder: deps.replicaId ?? randomUUID(),
    now: deps.now,
    log,
  });
  // Retries and overruns can repeat for as long as a fault lasts: a few lines a minute, then a summary.
  const limited = limitRepeats(log);
  const withStack = (error: unknown) => (deps.debug === true && error instanceof Error ? { err: error } : {});

  return telemetryMachine.provide({
    actors: {
      loadSession: fromPromise<LoadedSession, void>(({ signal }) =>
        sessions.getOrCreate({ logger: log, signal, now: deps.now }),
      ),
      sendHeartbeat: fromPromise<SendHeartbeatOutput, SendHeartbeatInput>(({ input, signal }) => send(input, signal)),
    },
    actions: {
      logNewSession: ({ context }, session: LoadedSession) => logNotice(log, context, session),
      logLoadFailure: ({ event }, failure: HeartbeatFailure) =>
        log.error(
          { reason: failure.reason, ...withStack(errorOf(event)) },
          `Failed to load telemetry session: ${failure.reason}. Shutting down telemetry service...`,
        ),
      logSendFailure: ({ context, event }, failure: HeartbeatFailure) =>
        log.error(
          { reason: failure.reason, statusCode: failure.statusCode, endpoint: redactUrl(context.endpoint), ...withStack(errorOf(event)) },
          `Failed to send telemetry: ${failure.reason}. Shutting down telemetry service...`,
        ),
      logRetry: ({ context }, failure: HeartbeatFailure) =>
        limited.warn(
          { reason: failure.reason, statusCode: failure.statusCode, attempt: context.consecutiveFailures, retries: context.retries, delayMs: context.waitMs },
          'Failed to send telemetry; retrying',
        ),
      logRejected: ({ context }, failure: HeartbeatFailure) =>
        log.warn(
          { reason: failure.reason, endpoint: redactUrl(context.endpoint) },
          'Telemetry endpoint answered 410 Gone. Shutting down telemetry service...',
        ),
      logSent: ({ context }, sent: SendHeartbeatOutput) =>
        log.debug({ statusCode: sent.statusCode, durationMs: durationOf(sent), heartbeatsSent: context.heartbeatsSent }, 'Heartbeat sent'),
      logPeerSent: ({ context }, sent: SendHeartbeatOutput) =>
        log.debug(
          { peerSentMsAgo: durationOf(sent), nextCheckAt: context.nextRunAt },
          'A peer replica sent the heartbeat; this replica sent none and checks again when its lease would go stale',
        ),
      logSkipped: ({ context }, sent: SendHeartbeatOutput) =>
        limited.warn({ reason: sent.reason, nextRunAt: context.nextRunAt }, 'Telemetry heartbeat skipped this interval; trying again at the next one'),
      logOverrun: ({ context }, sent: SendHeartbeatOutput) =>
        limited.warn(
          { durationMs: durationOf(sent), loopSeconds: context.loopSeconds },
          'Telemetry heartbeat took longer than the loop interval; sending the next one at once',
        ),
      logStopped: ({ context }) =>
        log.debug({ stopReason: context.stopReason, heartbeatsSent: context.heartbeatsSent }, 'Telemetry service stopped'),
    },
  });
}

/** Whole milliseconds from a result's start to its end (for a peer: how long ago it sent). */
function durationOf(sent: SendHeartbeatOutput): number {
  return Math.round(sent.finishedAt - sent.startedAt);
}

function errorOf(event: unknown): unknown {
  return (event as { error?: unknown }).error;
}

/** The opt-outs named when the host does not say which switches it honours (resolveTelemetry's standard ones). */
export const DEFAULT_OPT_OUT_HINT = 'TELEMETRY_ENABLED=false or DO_NOT_TRACK=1';

function logNotice(log: Logger, context: TelemetryContext, session: LoadedSession) {
  // Only switches this host honours: the input's hint comes from resolveTelemetry or the server.
  const optOut = context.optOutHint ?? DEFAULT_OPT_OUT_HINT;
  log.info(
    { fields: SENT_FIELDS, loopSeconds: context.loopSeconds, endpoint: redactUrl(context.endpoint), sessionId: session.session_id, optOut },
    `Anonymous telemetry is on: every ${context.loopSeconds} s a heartbeat (platform, architecture, runtime and ` +
      `versions, environment, a random session id) is sent to ${redactUrl(context.endpoint)}. ` +
      `Set ${optOut} to turn it off.`,
  );
}
