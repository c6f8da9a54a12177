// Types for limits.js: every time limit tests use, scaled by TELEMETRY_TEST_TIME_SCALE.
export declare const TIME_SCALE: number;
export declare function scaled(ms: number): number;
export declare const LIMITS: Readonly<{
  startMs: number;
  commandMs: number;
  waitMs: number;
  stopMs: number;
  requestMs: number;
  shutdownMs: number;
  promptMs: number;
  hangingTimeoutSeconds: number;
  testMs: number;
  postgresStartMs: number;
}>;
