// The telemetry statechart: pure config, every effect referenced by name and provided from src/.
// Each send's result is recorded once (recordResult, recordFailure); `waiting` then decides on context, as a
// transient step when the service stops or sends again at once, and otherwise as the wait for the next run.
import { assign, enqueueActions, setup } from 'xstate';
import { notProvided } from './notProvided.js';
import {
  failureOf,
  nextDueAt,
  retryDelayMs,
  sentByOf,
  type HeartbeatFailure,
  type LoadedSession,
  type SendHeartbeatInput,
  type SendHeartbeatOutput,
  type StopReason,
  type TelemetryContext,
  type TelemetryEvent,
  type TelemetryInput,
  type TelemetryOutput,
} from './telemetryTypes.js';

export * from './telemetryTypes.js';

const HOW = 'build the machine with createTelemetryMachine() or machine.provide()';

// The params of every action that takes an invoke's result, and the send's input: written once, named.
const output = <T>({ event }: { event: { output: T } }): T => event.output;
const failure = ({ event }: { event: { error: unknown } }): HeartbeatFailure => failureOf(event.error);
const heartbeatInput = ({ context }: { context: TelemetryContext }): SendHeartbeatInput => ({
  endpoint: context.endpoint,
  loopSeconds: context.loopSeconds,
  timeoutSeconds: context.timeoutSeconds,
  source: context.source,
  environment: context.environment,
  serverVersion: context.serverVersion,
  apiVersion: context.apiVersion,
  attempt: context.consecutiveFailures,
  // A retry resends the heartbeat that failed; a new one reads the session stored now.
  resend: context.lastFailure?.heartbeat ?? null,
});

// Pure readings of the recorded result, shared by the guards.
const selfSent = (c: TelemetryContext) => c.lastResult !== null && sentByOf(c.lastResult) === 'self';
const gone = (c: TelemetryContext) => c.lastFailure?.statusCode === 410;
const outOfRetries = (c: TelemetryContext) => c.lastFailure !== null && c.consecutiveFailures > c.retries;
const heldSession = (c: TelemetryContext): LoadedSession | undefined =>
  c.sessionId === null || c.sessionStartTimestamp === null
    ? undefined
    : { session_id: c.sessionId, session_start_timestamp: c.sessionStartTimestamp, created: c.sessionCreated };
const overran = ({ lastResult: sent, loopSeconds }: TelemetryContext) =>
  sent !== null && sentByOf(sent) === 'self' && sent.finishedAt - sent.startedAt > loopSeconds * 1000;

const base = setup({
  types: {
    input: {} as TelemetryInput,
    context: {} as TelemetryContext,
    events: {} as TelemetryEvent,
    output: {} as TelemetryOutput,
  },
  actors: {
    loadSession: notProvided<LoadedSession>('loadSession', HOW),
    sendHeartbeat: notProvided<SendHeartbeatOutput, SendHeartbeatInput>('sendHeartbeat', HOW),
  },
  actions: {
    // Logging hooks: no-ops here; createTelemetryMachine gives them a logger.
    logNewSession: (_, _session: LoadedSession) => {},
    logLoadFailure: (_, _failure: HeartbeatFailure) => {},
    logSendFailure: (_, _failure: HeartbeatFailure) => {},
    logRetry: (_, _failure: HeartbeatFailure) => {},
    logRejected: (_, _failure: HeartbeatFailure) => {},
    logSent: (_, _sent: SendHeartbeatOutput) => {},
    logOverrun: (_, _sent: SendHeartbeatOutput) => {},
    logPeerSent: (_, _sent: SendHeartbeatOutput) => {},
    logSkipped: (_, _sent: SendHeartbeatOutput) => {},
    logStopped: () => {},
    storeSession: assign((_, session: LoadedSession) => ({
      sessionId: session.session_id,
      sessionStartTimestamp: session.session_start_timestamp,
      sessionCreated: session.created,
    })),
    recordResult: assign(({ context }, sent: SendHeartbeatOutput) => {
      const by = sentByOf(sent);
      // Fixed rate: the next send is due loopSeconds after this one started, at once if overdue.
      const dueAt = nextDueAt(sent, context.loopSeconds);
      return {
        ...(sent.session === undefined
          ? {}
          : { sessionId: sent.session.session_id, sessionStartTimestamp: sent.session.session_start_timestamp }),
        // Announced once: only the send that created the session (after a reset) says so.
        sessionCreated: sent.session?.created === true,
        heartbeatsSent: context.heartbeatsSent + (by === 'self' ? 1 : 0),
        lastSentBy: by,
        // Unknown: nothing new was seen, so the deployment's last heartbeat is still the one known before.
        lastSentAt: by === 'unknown' ? context.lastSentAt : new Date(sent.startedAt).toISOString(),
        consecutiveFailures: 0,
        lastError: sent.reason ?? null,
        nextRunAt: new Date(Math.max(dueAt, sent.finishedAt)).toISOString(),
        waitMs: Math.max(0, dueAt - sent.finishedAt),
        lastResult: sent,
        lastFailure: null,
      };
    }),
    recordFailure: assign(({ context }, failure: HeartbeatFailure) => {
      const consecutiveFailures = context.consecutiveFailures + 1;
      const waitMs = retryDelayMs(consecutiveFailures, context.loopSeconds, failure.retryAfterMs);
      return {
        consecutiveFailures,
        lastError: failure.reason,
        waitMs,
        nextRunAt: failure.failedAt === undefined ? null : new Date(failure.failedAt + waitMs).toISOString(),
        lastResult: null,
        lastFailure: failure,
      };
    }),
    markStopped: assign((_, reason: StopReason) => ({ stopReason: reason, nextRunAt: null })),
  },
  guards: {
    isNewSession: ({ context }) => context.sessionCreated,
    sentBySelf: ({ context }) => selfSent(context),
    sentByPeer: ({ context }) => context.lastResult !== null && sentByOf(context.lastResult) === 'peer',
    isGone: ({ context }) => gone(context),
    outOfRetries: ({ context }) => outOfRetries(context),
    isLastLoop: ({ context }) => context.maxLoops !== undefined && selfSent(context) && context.heartbeatsSent >= context.maxLoops,
    overran: ({ context }) => overran(context),
    // Timers cannot wait under 1 ms (Node makes a 0 ms setTimeout wait 1 ms): a send due that soon goes at once.
    isDueNow: ({ context }) => context.lastFailure === null && context.waitMs < 1,
  },
  delays: {
    loopInterval: ({ context }) => context.waitMs,
  },
});

export const telemetryMachine = base
  .extend({
    actions: {
      /** The first-start notice, when this actor created the session it holds (at start, or after a reset). */
      announceSession: base.enqueueActions(({ context, enqueue, check }) => {
        const session = heldSession(context);
        if (session !== undefined && check('isNewSession')) enqueue({ type: 'logNewSession', params: session });
      }),
      /** Says what the recorded result was: one decision for every log line of a send. */
      reportResult: base.enqueueActions(({ context, enqueue, check }) => {
        const { lastResult: sent, lastFailure: failed } = context;
        if (failed !== null) {
          if (check('isGone')) enqueue({ type: 'logRejected', params: failed });
          else if (check('outOfRetries')) enqueue({ type: 'logSendFailure', params: failed });
          else enqueue({ type: 'logRetry', params: failed });
        } else if (sent !== null) {
          const session = heldSession(context);
          if (session !== undefined && check('isNewSession')) enqueue({ type: 'logNewSession', params: session });
          if (check('sentBySelf')) enqueue({ type: 'logSent', params: sent });
          else if (check('sentByPeer')) enqueue({ type: 'logPeerSent', params: sent });
          else enqueue({ type: 'logSkipped', params: sent });
          if (check('overran')) enqueue({ type: 'logOverrun', params: sent });
        }
      }),
    },
  })
  .createMachine({
    id: 'telemetry',
    initial: 'idle',
    context: ({ input }) => ({
      ...input,
      sessionId: null,
      sessionStartTimestamp: null,
      sessionCreated: false,
      heartbeatsSent: 0,
      consecutiveFailures: 0,
      lastSentAt: null,
      lastSentBy: null,
      nextRunAt: null,
      lastError: null,
      stopReason: null,
      waitMs: 0,
      lastResult: null,
      lastFailure: null,
    }),
    on: {
      'telemetry.stop': { target: '.stopped', actions: { type: 'markStopped', params: 'requested' } },
    },
    states: {
      idle: {
        on: { 'telemetry.start': 'loadingSession' },
      },
      loadingSession: {
        invoke: {
          id: 'loadSession',
          src: 'loadSession',
          onDone: {
            target: 'sending',
            actions: [
              { type: 'storeSession', params: output },
              'announceSession',
            ],
          },
          onError: {
            target: 'stopped',
            actions: [
              { type: 'recordFailure', params: failure },
              { type: 'logLoadFailure', params: failure },
              { type: 'markStopped', params: 'failed' },
            ],
          },
        },
      },
      sending: {
        invoke: {
          id: 'sendHeartbeat',
          src: 'sendHeartbeat',
          input: heartbeatInput,
          onDone: { target: 'waiting', actions: { type: 'recordResult', params: output } },
          onError: { target: 'waiting', actions: { type: 'recordFailure', params: failure } },
        },
      },
      // Entered after every send with its result recorded: stops, sends again at once, or waits loopInterval.
      waiting: {
        entry: 'reportResult',
        always: [
          { guard: 'isGone', target: 'stopped', actions: { type: 'markStopped', params: 'rejected' } },
          { guard: 'outOfRetries', target: 'stopped', actions: { type: 'markStopped', params: 'failed' } },
          { guard: 'isLastLoop', target: 'stopped', actions: { type: 'markStopped', params: 'completed' } },
          { guard: 'isDueNow', target: 'sending' },
        ],
        after: { loopInterval: 'sending' },
      },
      stopped: {
        type: 'final',
        entry: 'logStopped',
      },
    },
    output: ({ context }) => ({
      stopReason: context.stopReason,
      heartbeatsSent: context.heartbeatsSent,
      lastError: context.lastError,
    }),
  });
