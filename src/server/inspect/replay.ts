// What a late inspector viewer is sent first: the latest registration of every actor, then the most recent events.
//
// A bounded list of the last N events alone loses the `@xstate.actor` registrations of long-lived actors after
// a few minutes, and the inspector shows nothing for an actor it never saw registered.

/** The recent events, and one registration per actor. */
export interface ReplayBuffer {
  /** Keeps one wire message (JSON text of a Stately inspection event). */
  add(message: string): void;
  /** Registrations (oldest actor first), then the recent events, in order. */
  messages(): string[];
  /** Number of messages held. */
  size(): number;
  clear(): void;
}

export interface ReplayLimits {
  /** Recent non-registration events kept (older ones are dropped first). */
  events: number;
  /** Actors whose registration is kept (the longest-registered are dropped first). */
  actors: number;
}

export const DEFAULT_REPLAY: ReplayLimits = { events: 200, actors: 1_000 };

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

/** Creates an empty buffer with the given limits. */
export function createReplayBuffer(limits: ReplayLimits = DEFAULT_REPLAY): ReplayBuffer {
  const registrations = new Map<string, string>();
  const recent: string[] = [];
  return {
    add(message) {
      const key = registrationKey(message);
      if (key !== undefined) {
        registrations.delete(key);
        registrations.set(key, message);
        if (registrations.size > limits.actors) registrations.delete(registrations.keys().next().value as string);
        return;
      }
      recent.push(message);
      if (recent.length > limits.events) recent.shift();
    },
    messages: () => [...registrations.values(), ...recent],
    size: () => registrations.size + recent.length,
    clear() {
      registrations.clear();
      recent.length = 0;
    },
  };
}
