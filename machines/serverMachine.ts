// The reference server's statechart: opens its resources, hosts the telemetry actor, shuts down cleanly.
import { assign, sendTo, setup, spawnChild, stopChild } from 'xstate';
import { notProvided } from './notProvided.js';
import { telemetryMachine, type TelemetryInput, type TelemetryOutput } from './telemetryMachine.js';

/** Plain-data input of the server machine. */
export interface ServerInput {
  /** Input of the telemetry child; spawned only when `telemetryEnabled`. */
  telemetry: TelemetryInput;
  telemetryEnabled: boolean;
  /** The opt-out layer that turned telemetry off, for the status API and logs. */
  disabledBy: string | null;
}

export interface ServerContext extends ServerInput {
  /** Where the HTTP API listens, once it does. */
  url: string | null;
  /** Why start-up failed, if it did. */
  error: string | null;
}

/** Output once stopped: the process exit code and the start-up error, if any. */
export interface ServerOutput {
  exitCode: 0 | 1;
  error: string | null;
}

export type ServerEvent =
  | { type: 'server.shutdown' }
  // Sent by XState when the spawned telemetry child throws (it handles its own failures, so this is a bug path).
  | { type: 'xstate.error.actor.telemetry'; error: unknown }
  // Sent by XState when the telemetry child reaches its final state on its own (failed, completed, rejected).
  | { type: 'xstate.done.actor.telemetry'; output: TelemetryOutput };

/** What the `startListener` actor resolves with. */
export interface ListenerInfo {
  url: string;
  /** Where heartbeats go, now that the real address is known (the server's own collector on port 0). */
  endpoint: string;
}

const HOW = 'run the server through src/server/server.ts or machine.provide()';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// The params of the actions that take an invoke's error, and the one way a start-up step fails: written once.
const errorOf = ({ event }: { event: { error: unknown } }) => ({ error: event.error });
const startFailed = {
  target: '#server.stopping',
  actions: [{ type: 'recordStartFailure', params: errorOf }, 'logStartFailure'],
} as const;

export const serverMachine = setup({
  types: {
    input: {} as ServerInput,
    context: {} as ServerContext,
    events: {} as ServerEvent,
    output: {} as ServerOutput,
    // The spawned child, by id: the host reads `snapshot.children.telemetry` typed as the telemetry actor.
    children: {} as { telemetry: 'telemetry' },
  },
  actors: {
    openDatabase: notProvided<void>('openDatabase', HOW),
    startListener: notProvided<ListenerInfo>('startListener', HOW),
    closeResources: notProvided<void>('closeResources', HOW),
    telemetry: telemetryMachine,
  },
  actions: {
    // Logging hooks: no-ops here; the host gives them a logger.
    logListening: () => {},
    logTelemetryOff: () => {},
    logTelemetryCrash: (_, _failure: { error: unknown }) => {},
    logStartFailure: () => {},
    logShutdown: () => {},
    logCloseFailure: (_, _failure: { error: unknown }) => {},
    recordUrl: assign(({ context }, info: ListenerInfo) => ({
      url: info.url,
      telemetry: { ...context.telemetry, endpoint: info.endpoint },
    })),
    recordStartFailure: assign((_, failure: { error: unknown }) => ({ error: messageOf(failure.error) })),
    spawnTelemetry: spawnChild('telemetry', {
      id: 'telemetry',
      systemId: 'telemetry',
      input: ({ context }) => context.telemetry,
    }),
    startTelemetry: sendTo('telemetry', { type: 'telemetry.start' }),
    // Asked first, so the child reaches its final state (aborting any call in flight) and logs that it stopped.
    requestTelemetryStop: sendTo('telemetry', { type: 'telemetry.stop' }),
    stopTelemetry: stopChild('telemetry'),
  },
  guards: {
    telemetryEnabled: ({ context }) => context.telemetryEnabled,
  },
}).createMachine({
  id: 'server',
  initial: 'starting',
  context: ({ input }) => ({ ...input, url: null, error: null }),
  on: {
    'server.shutdown': '.stopping',
  },
  states: {
    starting: {
      initial: 'openingDatabase',
      states: {
        openingDatabase: {
          invoke: {
            id: 'openDatabase',
            src: 'openDatabase',
            onDone: 'startingListener',
            onError: startFailed,
          },
        },
        startingListener: {
          invoke: {
            id: 'startListener',
            src: 'startListener',
            onDone: {
              target: '#server.running',
              actions: [{ type: 'recordUrl', params: ({ event }) => event.output }, 'logListening'],
            },
            onError: startFailed,
          },
        },
      },
    },
    running: {
      initial: 'deciding',
      states: {
        deciding: {
          always: [{ guard: 'telemetryEnabled', target: 'hostingTelemetry' }, { target: 'telemetryOff' }],
        },
        hostingTelemetry: {
          entry: ['spawnTelemetry', 'startTelemetry'],
          on: {
            // Only while the child runs is there one to ask: XState refuses a missing child, warns about a stopped one.
            'server.shutdown': { target: '#server.stopping', actions: 'requestTelemetryStop' },
            'xstate.done.actor.telemetry': 'telemetryStopped',
          },
        },
        // The child stopped on its own (failed, completed, rejected) and logged it; the server keeps serving.
        telemetryStopped: {},
        // Off: the child is never spawned, so no session is written and no socket is opened.
        telemetryOff: {
          entry: 'logTelemetryOff',
        },
      },
      on: {
        // A telemetry failure never leaves `running`: the child stops itself and the server keeps serving.
        'xstate.error.actor.telemetry': {
          actions: { type: 'logTelemetryCrash', params: errorOf },
        },
      },
    },
    stopping: {
      entry: ['stopTelemetry', 'logShutdown'],
      on: { 'server.shutdown': {} },
      invoke: {
        id: 'closeResources',
        src: 'closeResources',
        onDone: 'stopped',
        onError: {
          target: 'stopped',
          actions: { type: 'logCloseFailure', params: errorOf },
        },
      },
    },
    stopped: {
      type: 'final',
    },
  },
  output: ({ context }) => ({ exitCode: context.error === null ? 0 : 1, error: context.error }),
});
