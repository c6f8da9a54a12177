// The telemetry statechart: pure config, every effect referenced by name and provided from src/.
import { assign, setup } from 'xstate';
import { notProvided } from './notProvided.js';
import {
  failureOf,
  nextDueAt,
  retryDelayMs,
  sentBySelf,
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

// The params of every action and guard that looks at an invoke's result, written once.
const output = <T>({ event }: { event: { output: T } }): T => event.output;
const failure = ({ event }: { event: { error: unknown } }): HeartbeatFailure => failureOf(event.error);

/** The end of every failure that stops the service: count it, log it with `log`, stop with `reason`. */
const stopAfterFailure = (log: 'logLoadFailure' | 'logSendFailure' | 'logRejected', reason: StopReason) =>
  [
    { type: 'recordFailure', params: failure },
    { type: log, params: failure },
    { type: 'markStopped', params: reason },
  ] as const;

export const telemetryMachine = setup({
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
    logStopped: () => {},
    storeSession: assign((_, session: LoadedSession) => ({
      sessionId: session.session_id,
      sessionStartTimestamp: session.session_start_timestamp,
    })),
    recordSuccess: assign(({ context }, sent: SendHeartbeatOutput) => {
      // Fixed rate: the next send is due loopSeconds after this one started, at once if overdue.
      const dueAt = nextDueAt(sent, context.loopSeconds);
      return {
        heartbeatsSent: context.heartbeatsSent + (sentBySelf(sent) ? 1 : 0),
        lastSentBy: sentBySelf(sent) ? ('self' as const) : ('peer' as const),
        consecutiveFailures: 0,
        lastError: null,
        lastSentAt: new Date(sent.startedAt).toISOString(),
        nextRunAt: new Date(Math.max(dueAt, sent.finishedAt)).toISOString(),
        waitMs: Math.max(0, dueAt - sent.finishedAt),
      };
    }),
    recordFailure: assign(({ context }, failure: HeartbeatFailure) => ({
      consecutiveFailures: context.consecutiveFailures + 1,
      lastError: failure.reason,
    })),
    scheduleRetry: assign(({ context }, failure: HeartbeatFailure) => {
      const waitMs = retryDelayMs(context.consecutiveFailures, context.loopSeconds, failure.retryAfterMs);
      const nextRunAt = failure.failedAt === undefined ? null : new Date(failure.failedAt + waitMs).toISOString();
      return { waitMs, nextRunAt };
    }),
    markStopped: assign((_, reason: StopReason) => ({ stopReason: reason, nextRunAt: null })),
  },
  guards: {
    isNewSession: (_, session: LoadedSession) => session.created,
    isGone: (_, failure: HeartbeatFailure) => failure.statusCode === 410,
    canRetry: ({ context }) => context.consecutiveFailures < context.retries,
    isLastLoop: ({ context }, sent: SendHeartbeatOutput) =>
      context.maxLoops !== undefined && sentBySelf(sent) && context.heartbeatsSent + 1 >= context.maxLoops,
    overran: ({ context }, sent: SendHeartbeatOutput) =>
      sentBySelf(sent) && sent.finishedAt - sent.startedAt > context.loopSeconds * 1000,
    // Timers cannot wait under 1 ms (Node makes a 0 ms setTimeout wait 1 ms): a send due that soon goes at once.
    isDueNow: ({ context }, sent: SendHeartbeatOutput) => nextDueAt(sent, context.loopSeconds) - sent.finishedAt < 1,
  },
  delays: {
    loopInterval: ({ context }) => context.waitMs,
  },
}).createMachine({
  id: 'telemetry',
  initial: 'idle',
  context: ({ input }) => ({
    ...input,
    sessionId: null,
    sessionStartTimestamp: null,
    heartbeatsSent: 0,
    consecutiveFailures: 0,
    lastSentAt: null,
    lastSentBy: null,
    nextRunAt: null,
    lastError: null,
    stopReason: null,
    waitMs: 0,
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
        onDone: [
          {
            guard: { type: 'isNewSession', params: output },
            target: 'sending',
            actions: [
              { type: 'storeSession', params: output },
              { type: 'logNewSession', params: output },
            ],
          },
          { target: 'sending', actions: { type: 'storeSession', params: output } },
        ],
        onError: { target: 'stopped', actions: stopAfterFailure('logLoadFailure', 'failed') },
      },
    },
    sending: {
      invoke: {
        id: 'sendHeartbeat',
        src: 'sendHeartbeat',
        input: ({ context }) => ({
          endpoint: context.endpoint,
          loopSeconds: context.loopSeconds,
          timeoutSeconds: context.timeoutSeconds,
          source: context.source,
          environment: context.environment,
          serverVersion: context.serverVersion,
          apiVersion: context.apiVersion,
          sessionId: context.sessionId ?? '',
          sessionStartTimestamp: context.sessionStartTimestamp ?? '',
          attempt: context.consecutiveFailures,
        }),
        onDone: [
          {
            guard: { type: 'isLastLoop', params: ({ event }) => event.output },
            target: 'stopped',
            actions: [
              { type: 'recordSuccess', params: output },
              { type: 'logSent', params: output },
              { type: 'markStopped', params: 'completed' },
            ],
          },
          {
            guard: { type: 'overran', params: output },
            target: 'sending',
            reenter: true,
            actions: [
              { type: 'recordSuccess', params: output },
              { type: 'logSent', params: output },
              { type: 'logOverrun', params: output },
            ],
          },
          {
            guard: { type: 'isDueNow', params: output },
            target: 'sending',
            reenter: true,
            actions: [
              { type: 'recordSuccess', params: output },
              { type: 'logSent', params: output },
            ],
          },
          {
            target: 'waiting',
            actions: [
              { type: 'recordSuccess', params: output },
              { type: 'logSent', params: output },
            ],
          },
        ],
        onError: [
          { guard: { type: 'isGone', params: failure }, target: 'stopped', actions: stopAfterFailure('logRejected', 'rejected') },
          {
            guard: 'canRetry',
            target: 'waiting',
            actions: [
              { type: 'recordFailure', params: failure },
              { type: 'scheduleRetry', params: failure },
              { type: 'logRetry', params: failure },
            ],
          },
          { target: 'stopped', actions: stopAfterFailure('logSendFailure', 'failed') },
        ],
      },
    },
    waiting: {
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
