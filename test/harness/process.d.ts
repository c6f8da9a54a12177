// Types for process.js: the one process harness shared by test/ and bench/.
import type { ChildProcess } from 'node:child_process';
import type { LogLine } from '../helpers/logs.js';

/** The built CLI, dist/src/bin.cjs. */
export declare const CLI: string;
/** The same CLI unbundled, dist/src/cli.js. */
export declare const UNBUNDLED_CLI: string;

/** Variables a test sets; `undefined` removes one. */
export type CliEnv = Record<string, string | undefined>;

/** Inherited env minus TELEMETRY_*, PREFECT_*, DO_NOT_TRACK, *_PROXY, NODE_OPTIONS; TELEMETRY_PORT=0; then `env`. Requires a temp TELEMETRY_HOME. */
export declare function cleanEnv(env: CliEnv): NodeJS.ProcessEnv;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process exited. */
  at: number;
}

export interface SpawnOptions {
  /** Working folder; os.tmpdir() by default. */
  cwd?: string;
  /** Arguments for node itself, before the CLI path (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** The script node runs: CLI (default) or UNBUNDLED_CLI. */
  entry?: string;
}

/** A running CLI process with its stdout parsed as pino lines. */
export interface CliProcess {
  child: ChildProcess;
  pid: number;
  /** Date.now() at spawn. */
  startedAt: number;
  /** performance.now() at spawn. */
  spawnedAt: number;
  /** Every stdout line that parsed as a JSON object, in order. */
  lines: LogLine[];
  stdout(): string;
  stderr(): string;
  /** Resolves once the process has exited and its output has been read to the end. */
  exited: Promise<Exit>;
  /** Resolves with the first line matching; rejects after timeoutMs (LIMITS.waitMs) or when the process exits first. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: LogLine[];
}

export interface JsonAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A `telemetry-actor server` process that has logged `Server listening`. */
export interface ServerProcess extends CliProcess {
  /** From the `Server listening` line, e.g. `http://127.0.0.1:40123`. */
  url: string;
  home: string;
  /** GET a path of the server's API: the status and the JSON body only. */
  get<T = Record<string, unknown>>(apiPath: string): Promise<{ status: number; body: T }>;
  /** Sends `signal` (SIGTERM), SIGKILL after LIMITS.stopMs; resolves once exited, with the ms from kill to exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit & { ms: number }>;
}

export interface Sandbox {
  /** A fresh folder under os.tmpdir(), removed by cleanup(). */
  makeTemp(prefix?: string): Promise<string>;
  /** The same as makeTemp. */
  tempHome(prefix?: string): Promise<string>;
  spawnCli(args: string[], env: CliEnv, options?: SpawnOptions): CliProcess;
  /** Runs a command to its end; SIGKILLs it and rejects after timeoutMs (LIMITS.commandMs). */
  runCli(args: string[], env: CliEnv, options?: SpawnOptions & { timeoutMs?: number }): Promise<CliResult>;
  /** Starts the server in a new temp home unless env names TELEMETRY_HOME; resolves once it listens. */
  startServerProcess(env?: CliEnv, options?: SpawnOptions & { args?: string[]; timeoutMs?: number }): Promise<ServerProcess>;
  /** SIGKILLs every child still running, waits for them, removes the temp folders. */
  cleanup(): Promise<void>;
}

export declare function createSandbox(): Sandbox;

/** GET url with a limit (LIMITS.requestMs): the status and the JSON body (undefined when empty or not JSON). */
export declare function getJson<T = Record<string, unknown>>(url: string, options?: { timeoutMs?: number }): Promise<JsonAnswer<T>>;
