// The host's view of its telemetry child: found in the server's snapshots, kept once seen, read for the
// status API, the console and the preview without a cast (serverMachine types its children).
import type { ActorRefFrom, SnapshotFrom } from 'xstate';
import type { serverMachine } from '../../machines/serverMachine.js';
import type { telemetryMachine } from '../../machines/telemetryMachine.js';
import { buildHeartbeat, type Heartbeat } from '../heartbeat.js';
import type { Settings } from '../settings/index.js';
import { resolveEndpoint } from './endpoint.js';
import { liveStatus, type TelemetryStatus } from './status.js';

/** What the server's resources read of the telemetry child (the API, the console feed). */
export interface TelemetryView {
  /** The status now (GET /api/telemetry): `idle` before the child is spawned, `disabled` when off. */
  status(): TelemetryStatus;
  /** The exact body the child sends now (as `telemetry-actor preview` shows it), once it has a session. */
  preview(): Heartbeat | null;
}

export interface TelemetryChild extends TelemetryView {
  /** Reads one server snapshot: the first time the child appears, `onStep` is called at its every step too. */
  observe(snapshot: SnapshotFrom<typeof serverMachine>, onStep: () => void): void;
}

type TelemetryRef = ActorRefFrom<typeof telemetryMachine>;

/** Follows the telemetry child of a server run with these settings. */
export function trackTelemetryChild(settings: Settings): TelemetryChild {
  // Kept once seen: a child that reached `stopped` leaves the machine's children, but its final snapshot is the status.
  let child: TelemetryRef | undefined;
  // The server's real URL once it listens (port 0): the default endpoint is its own collector there.
  let url: string | undefined;
  return {
    observe(snapshot, onStep) {
      url = snapshot.context.url ?? undefined;
      if (child !== undefined) return;
      child = snapshot.children.telemetry;
      child?.subscribe({ next: onStep, error: onStep });
    },
    status: () => liveStatus({ ...settings, endpoint: resolveEndpoint(settings, url) }, child?.getSnapshot()),
    preview() {
      const context = child?.getSnapshot().context;
      if (context?.sessionId == null || context.sessionStartTimestamp == null) return null;
      return buildHeartbeat({ ...context, sessionId: context.sessionId, sessionStartTimestamp: context.sessionStartTimestamp });
    },
  };
}
