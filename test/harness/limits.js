// The one place for time limits in tests and in the process harness. A limit here only tells "finished" from
// "hung": each is far above any honest run on a busy 2-core machine. Tight figures (SIGTERM in ms, stop
// latency, RSS) belong to `npm run bench`, which measures them as ratios against a baseline.
//
// TELEMETRY_TEST_TIME_SCALE multiplies every limit (e.g. 3 on a very slow CI box, 0.5 to find hangs faster).

const raw = process.env.TELEMETRY_TEST_TIME_SCALE;
const parsed = raw === undefined || raw.trim() === '' ? 1 : Number(raw);
if (!Number.isFinite(parsed) || parsed <= 0) {
  throw new Error(`TELEMETRY_TEST_TIME_SCALE=${JSON.stringify(raw)} is not valid: expected a positive number`);
}

/** The factor every limit is multiplied by (TELEMETRY_TEST_TIME_SCALE, default 1). */
export const TIME_SCALE = parsed;

/** `ms` times TELEMETRY_TEST_TIME_SCALE, rounded. */
export const scaled = (ms) => Math.round(ms * TIME_SCALE);

export const LIMITS = Object.freeze({
  /** A CLI process from spawn to `Server listening` (or a one-shot command to its exit). */
  startMs: scaled(30_000),
  /** A one-shot CLI command (status, preview, send, reset, a bad setting) to its exit. */
  commandMs: scaled(30_000),
  /** A log line or a state the test waits for, once the process is up. */
  waitMs: scaled(20_000),
  /** SIGTERM to exit before the harness gives up and SIGKILLs (a kill shows as signal SIGKILL, failing the test). */
  stopMs: scaled(30_000),
  /** One local HTTP request to a server under test. */
  requestMs: scaled(10_000),
  /**
   * An exit or a socket close after SIGTERM, asserted in tests: tells "shut down at once" from "hung, or waited
   * for a heartbeat's timeout to run out" (tests that assert it give the heartbeat a timeout of
   * HANGING_TIMEOUT_SECONDS). 26-90 ms by hand, up to 6 s seen with 12 servers starved on 2 busy cores;
   * bench B3 has the real figure.
   */
  shutdownMs: scaled(30_000),
  /**
   * Something in-process that must not wait for a timeout (a 0.5 s request timeout firing, a 20 MB body dumped):
   * tells it from the 10 s default request timeout. Well under 1 s when quiet.
   */
  promptMs: scaled(5_000),
  /** TELEMETRY_TIMEOUT_SECONDS for a heartbeat left hanging: 4x shutdownMs, so waiting for it cannot pass. */
  hangingTimeoutSeconds: Math.ceil((4 * scaled(30_000)) / 1000),
  /** Vitest's per-test limit for tests that start real processes. */
  testMs: scaled(60_000),
  /** An embedded PostgreSQL from initdb to accepting connections: about 1 s here, a few under load. */
  postgresStartMs: scaled(90_000),
});
