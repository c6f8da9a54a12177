// The `sendHeartbeat` actor's work for one attempt: read the session stored now, claim the lease (replicas
// sharing a store), check the claim is still fresh, then POST. Only a POST can fail the attempt: a claim that
// cannot be decided, or that went stale before the request left, sends nothing and says so (`unknown`).
import type { HeartbeatIdentity, LoadedSession, SendHeartbeatInput, SendHeartbeatOutput } from '../../machines/telemetryMachine.js';
import type { Logger } from '../logger.js';
import type { HeartbeatClaim, HeartbeatLease, SessionStore, StoredSession } from '../stores/index.js';
import type { HeartbeatRequest, SentHeartbeat } from './sender.js';

/** setTimeout and clearTimeout, as node and XState's SimulatedClock both have them (methods: any id type fits). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

const GLOBAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

/** The POST of one heartbeat (the sender). */
export type Post = (request: HeartbeatRequest, signal: AbortSignal) => Promise<SentHeartbeat>;

export interface HeartbeatSendDeps {
  sessions: SessionStore;
  post: Post;
  /** Replicas sharing a store: claimed before each send. */
  lease?: HeartbeatLease;
  /** This replica's id in the lease. */
  holder: string;
  /**
   * Clock for the times the actor shows (default Date.now); when given, claim freshness is measured on it too
   * (a test's fake clock), else on performance.now, which a wall-clock step cannot move.
   */
  now?: () => number;
  /** Timers for the claim's deadline; default the global ones (a test gives the actor's SimulatedClock). */
  timers?: Timers;
  /** For the session store's "not valid; replacing it" warning and the once-per-process mixed-loop warning. */
  log: Logger;
}

// Below this a peer's heartbeat is never re-checked, so a lease row that looks stale but is not can't spin.
const MIN_PEER_WAIT_MS = 50;

/** Creates the function the `sendHeartbeat` actor runs for each attempt. */
export function createHeartbeatSend(deps: HeartbeatSendDeps): (input: SendHeartbeatInput, signal: AbortSignal) => Promise<SendHeartbeatOutput> {
  const now = deps.now ?? Date.now;
  const readSession = (signal: AbortSignal) => deps.sessions.getOrCreate({ logger: deps.log, signal, now });
  // A retry resends the heartbeat whose request failed, under its key; anything else is a new heartbeat with a
  // new key, whatever happened before it (a failed claim or session read sent nothing, so it has no key to reuse).
  const identify = (input: SendHeartbeatInput, session: StoredSession): HeartbeatIdentity =>
    input.resend ?? { sessionId: session.session_id, sessionStartTimestamp: session.session_start_timestamp, idempotencyKey: globalThis.crypto.randomUUID() };

  async function post(input: SendHeartbeatInput, session: LoadedSession, signal: AbortSignal): Promise<SendHeartbeatOutput> {
    const sent = await deps.post({ ...input, ...identify(input, session) }, signal);
    return { ...sent, sentBy: 'self', session };
  }

  if (deps.lease === undefined) {
    // One process owns the store: the session is read in process (cheap), so a reset reaches the next heartbeat.
    return async (input, signal) => post(input, input.resend === null ? await readSession(signal) : resent(input.resend), signal);
  }
  return createLeasedSend(deps as HeartbeatSendDeps & { lease: HeartbeatLease }, { now, readSession, post });
}

/** The session a retry resends, as the actor shows it (not created by this attempt). */
function resent(heartbeat: HeartbeatIdentity): LoadedSession {
  return { session_id: heartbeat.sessionId, session_start_timestamp: heartbeat.sessionStartTimestamp, created: false };
}

interface LeasedParts {
  now: () => number;
  readSession: (signal: AbortSignal) => Promise<LoadedSession>;
  post: (input: SendHeartbeatInput, session: LoadedSession, signal: AbortSignal) => Promise<SendHeartbeatOutput>;
}

/**
 * The send behind the lease. The row records the holder's interval and stale window; a peer checks again
 * exactly when the holder's lease would go stale, so a dead holder is replaced within its interval plus its
 * timeout, and a live one is never doubled. Fencing: the claim is trusted for the holder's interval from the
 * moment it was requested (its window minus the timeout the POST may take); past that, nothing is sent.
 */
function createLeasedSend(deps: HeartbeatSendDeps & { lease: HeartbeatLease }, parts: LeasedParts) {
  const { lease, holder, log } = deps;
  const { now } = parts;
  const elapsed = deps.now ?? (() => performance.now());
  let loopReported = false;

  return async (input: SendHeartbeatInput, signal: AbortSignal): Promise<SendHeartbeatOutput> => {
    const startedAt = now();
    const loopMs = input.loopSeconds * 1000;
    const timeoutMs = input.timeoutSeconds * 1000;
    const skipped = (reason: string): SendHeartbeatOutput => ({ sentBy: 'unknown', startedAt, finishedAt: now(), reason });
    const requestedAt = elapsed();
    let claim: HeartbeatClaim;
    let session: LoadedSession;
    try {
      claim = await withDeadline(lease.claim({ holder, loopMs, staleMs: loopMs + timeoutMs, signal }), timeoutMs, signal, deps.timers ?? GLOBAL_TIMERS);
      session = input.resend !== null ? resent(input.resend) : claim.session !== undefined ? { ...claim.session, created: false } : await parts.readSession(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      return skipped(`the heartbeat lease could not be claimed: ${reasonOf(error)}`);
    }
    if (!loopReported && !claim.claimed && claim.loopMs !== undefined && claim.loopMs !== loopMs) {
      loopReported = true;
      log.warn(
        { loopSeconds: input.loopSeconds, holderLoopSeconds: claim.loopMs / 1000 },
        "This replica's TELEMETRY_LOOP_SECONDS differs from the heartbeat holder's; the deployment sends at the holder's interval",
      );
    }
    if (!claim.claimed) {
      const at = now();
      const peerSentAt = at - claim.ageMs;
      const staleMs = claim.staleMs ?? loopMs + timeoutMs;
      return { sentBy: 'peer', startedAt: peerSentAt, finishedAt: at, nextDueAt: Math.max(at + MIN_PEER_WAIT_MS, peerSentAt + staleMs), session };
    }
    // The request is handed to undici straight after this check, with no await between them.
    const heldMs = Math.round(elapsed() - requestedAt);
    if (heldMs > loopMs) return skipped(`the heartbeat lease went stale before the request left (${heldMs} ms after the claim; the limit is ${loopMs} ms)`);
    return parts.post(input, session, signal);
  };
}

/** The claim, or a rejection once `ms` have passed (the late answer is ignored: the next interval claims again). */
function withDeadline<T>(work: Promise<T>, ms: number, signal: AbortSignal, timers: Timers): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = timers.setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      timers.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
