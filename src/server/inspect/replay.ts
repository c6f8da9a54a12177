// What a late inspector viewer is sent first: the latest registration of every actor, then the most recent events.
//
// A bounded list of the last N events alone loses the `@xstate.actor` registrations of long-lived actors after
// a few minutes, and the inspector shows nothing for an actor it never saw registered. Counts alone do not
// bound memory (200 events of 1 MB each are 200 MB, sent again to every new viewer), so bytes are bounded too.

/** The recent events, and one registration per actor. */
export interface ReplayBuffer {
  /** Keeps one wire message (JSON text of a Stately inspection event); one over `messageBytes` is not kept. */
  add(message: string): void;
  /** Registrations (oldest actor first), then the recent events, in order. */
  messages(): string[];
  /** Number of messages held. */
  size(): number;
  /** UTF-8 bytes held. */
  bytes(): number;
  clear(): void;
}

export interface ReplayLimits {
  /** Recent non-registration events kept (older ones are dropped first). */
  events: number;
  /** Actors whose registration is kept (the longest-registered are dropped first). */
  actors: number;
  /** Bytes kept in all: past it the oldest events go first, then the oldest registrations. */
  bytes: number;
  /** A message larger than this is relayed live but never kept for replay. */
  messageBytes: number;
}

/** The replay bounds; docs/operations.md names them. Our machines' events are a few KiB each. */
export const DEFAULT_REPLAY: ReplayLimits = { events: 200, actors: 1_000, bytes: 4 * 1024 * 1024, messageBytes: 256 * 1024 };

function registrationKey(message: string): string | undefined {
  // Cheap test first: most messages are snapshots and events.
  if (!message.includes('"@xstate.actor"')) return undefined;
  try {
    const event = JSON.parse(message) as { type?: unknown; sessionId?: unknown };
    return event.type === '@xstate.actor' && typeof event.sessionId === 'string' ? event.sessionId : undefined;
  } catch {
    return undefined;
  }
}

interface Held {
  message: string;
  bytes: number;
}

/** Creates an empty buffer with the given limits. */
export function createReplayBuffer(limits: ReplayLimits = DEFAULT_REPLAY): ReplayBuffer {
  const registrations = new Map<string, Held>();
  const recent: Held[] = [];
  let total = 0;

  const dropRegistration = (key: string) => {
    total -= registrations.get(key)?.bytes ?? 0;
    registrations.delete(key);
  };
  const dropOldest = () => {
    if (recent.length > 0) total -= recent.shift()!.bytes;
    else dropRegistration(registrations.keys().next().value as string);
  };

  return {
    add(message) {
      const held = { message, bytes: Buffer.byteLength(message) };
      if (held.bytes > limits.messageBytes) return;
      const key = registrationKey(message);
      if (key !== undefined) {
        dropRegistration(key);
        registrations.set(key, held);
        if (registrations.size > limits.actors) dropRegistration(registrations.keys().next().value as string);
      } else {
        recent.push(held);
        if (recent.length > limits.events) total -= recent.shift()!.bytes;
      }
      total += held.bytes;
      while (total > limits.bytes) dropOldest();
    },
    messages: () => [...[...registrations.values()].map((held) => held.message), ...recent.map((held) => held.message)],
    size: () => registrations.size + recent.length,
    bytes: () => total,
    clear() {
      registrations.clear();
      recent.length = 0;
      total = 0;
    },
  };
}
