// The telemetry statechart: pure config, every effect referenced by name and provided from src/.
import { assign, setup } from 'xstate';
import { notProvided } from './notProvided.js';
import {
  failureOf,
  retryDelayMs,
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
    logOverrun: (_, _sent: SendHeartbeatOutput) => {},
    logStopped: () => {},
    storeSession: assign((_, session: LoadedSession) => ({
      sessionId: session.session_id,
      sessionStartTimestamp: session.session_start_timestamp,
    })),
    recordSuccess: assign(({ context }, sent: SendHeartbeatOutput) => {
      // Fixed rate: the next send is due loopSeconds after this one started, at once if overdue.
      const dueAt = sent.startedAt + context.loopSeconds * 1000;
      return {
        heartbeatsSent: context.heartbeatsSent + 1,
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
    isLastLoop: ({ context }) => context.maxLoops !== undefined && context.heartbeatsSent + 1 >= context.maxLoops,
    overran: ({ context }, sent: SendHeartbeatOutput) => sent.finishedAt - sent.startedAt > context.loopSeconds * 1000,
    // Timers cannot wait under 1 ms (Node makes a 0 ms setTimeout wait 1 ms): a send due that soon goes at once.
    isDueNow: ({ context }, sent: SendHeartbeatOutput) => sent.startedAt + context.loopSeconds * 1000 - sent.finishedAt < 1,
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
            guard: { type: 'isNewSession', params: ({ event }) => event.output },
            target: 'sending',
            actions: [
              { type: 'storeSession', params: ({ event }) => event.output },
              { type: 'logNewSession', params: ({ event }) => event.output },
            ],
          },
          { target: 'sending', actions: { type: 'storeSession', params: ({ event }) => event.output } },
        ],
        onError: {
          target: 'stopped',
          actions: [
            { type: 'recordFailure', params: ({ event }) => failureOf(event.error) },
            { type: 'logLoadFailure', params: ({ event }) => failureOf(event.error) },
            { type: 'markStopped', params: 'failed' },
          ],
        },
      },
    },
    sending: {
      invoke: {
        id: 'sendHeartbeat',
        src: 'sendHeartbeat',
        input: ({ context }) => ({
          endpoint: context.endpoint,
          timeoutSeconds: context.timeoutSeconds,
          source: context.source,
          environment: context.environment,
          serverVersion: context.serverVersion,
          apiVersion: context.apiVersion,
          sessionId: context.sessionId ?? '',
          sessionStartTimestamp: context.sessionStartTimestamp ?? '',
        }),
        onDone: [
          {
            guard: 'isLastLoop',
            target: 'stopped',
            actions: [
              { type: 'recordSuccess', params: ({ event }) => event.output },
              { type: 'markStopped', params: 'completed' },
            ],
          },
          {
            guard: { type: 'overran', params: ({ event }) => event.output },
            target: 'sending',
            reenter: true,
            actions: [
              { type: 'recordSuccess', params: ({ event }) => event.output },
              { type: 'logOverrun', params: ({ event }) => event.output },
            ],
          },
          {
            guard: { type: 'isDueNow', params: ({ event }) => event.output },
            target: 'sending',
            reenter: true,
            actions: { type: 'recordSuccess', params: ({ event }) => event.output },
          },
          { target: 'waiting', actions: { type: 'recordSuccess', params: ({ event }) => event.output } },
        ],
        onError: [
          {
            guard: { type: 'isGone', params: ({ event }) => failureOf(event.error) },
            target: 'stopped',
            actions: [
              { type: 'recordFailure', params: ({ event }) => failureOf(event.error) },
              { type: 'logRejected', params: ({ event }) => failureOf(event.error) },
              { type: 'markStopped', params: 'rejected' },
            ],
          },
          {
            guard: 'canRetry',
            target: 'waiting',
            actions: [
              { type: 'recordFailure', params: ({ event }) => failureOf(event.error) },
              { type: 'scheduleRetry', params: ({ event }) => failureOf(event.error) },
              { type: 'logRetry', params: ({ event }) => failureOf(event.error) },
            ],
          },
          {
            target: 'stopped',
            actions: [
              { type: 'recordFailure', params: ({ event }) => failureOf(event.error) },
              { type: 'logSendFailure', params: ({ event }) => failureOf(event.error) },
              { type: 'markStopped', params: 'failed' },
            ],
          },
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
