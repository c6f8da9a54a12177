// Every error this package raises or answers, with its code and its text, in one place (as fastify's
// lib/errors.js keeps them): the classes thrown (each with the exit code the CLI ends with), the texts they
// share, and the HTTP API's refusals (status and `error` text).

/** A failure the user can act on: `message` is the one line printed, `exitCode` what the CLI exits with. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A bad setting: start-up stops with exit code 2 and this one-line message. */
export class SettingsError extends UserError {
  readonly variable: string;
  readonly value: string;
  readonly accepted: string;

  constructor(variable: string, value: string, accepted: string) {
    // JSON quotes make empty and blank values visible and keep a stray newline from splitting the line.
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${accepted}`, { exitCode: 2 });
    this.name = 'SettingsError';
    this.variable = variable;
    this.value = value;
    this.accepted = accepted;
  }
}

/**
 * A feature asked for needs an optional package that is not installed (pg for TELEMETRY_DATABASE_URL,
 * @statelyai/inspect and ws for --inspect): one line naming what to install, exit code 1.
 */
export class MissingPackageError extends UserError {
  readonly packages: readonly string[];
  constructor(feature: string, packages: readonly string[], options: { cause?: unknown } = {}) {
    const names = packages.length === 1 ? `the package ${packages[0]}` : `the packages ${packages.slice(0, -1).join(', ')} and ${packages.at(-1)}`;
    super(`${feature} needs ${names}, which this installation lacks: npm install ${packages.join(' ')}`, options);
    this.name = 'MissingPackageError';
    this.packages = packages;
  }
}

/** The one line said when a store is held by another process; `holder` names it when the host knows (the server.json). */
export function storeLockedText(location: string, holder = 'another process'): string {
  return `The database ${location} is in use by ${holder}; stop it first or use another TELEMETRY_HOME`;
}

/** A store is held by another process (LevelDB allows one); the host says who, if it knows. */
export class StoreLockedError extends UserError {
  /** Where the store lives (a folder for LevelDB). */
  readonly location: string;
  constructor(location: string, options: { cause?: unknown } = {}) {
    super(storeLockedText(location), options);
    this.name = 'StoreLockedError';
    this.location = location;
  }
}

/**
 * A store cannot take writes right now: a shared store (PostgreSQL) is unreachable, or a LevelDB store is
 * recovering from a failed write (a full disk). Nothing was written or acknowledged; the caller may try again
 * (the collector answers 503 with Retry-After).
 */
export class StoreUnavailableError extends Error {
  constructor(message = 'The store is recovering from a failed write; nothing is accepted until it has', options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StoreUnavailableError';
  }
}

/** PostgreSQL cannot be reached (refused, lost, timed out): `reason` is short and holds no password (describePgError). */
export function postgresUnavailable(reason: string, cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`PostgreSQL is unavailable: ${reason}`, { cause });
}

/**
 * An idempotency key already counted with another body (the IETF Idempotency-Key draft's 422): the sender
 * reused a key, and the heartbeat is neither counted nor acknowledged.
 */
export class IdempotencyConflictError extends Error {
  constructor(message = 'This idempotency-key was already used with a different body') {
    super(message);
    this.name = 'IdempotencyConflictError';
  }
}

/** The message of anything thrown: an Error's message, anything else as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The `code` of anything thrown (Node's errno codes such as `EADDRINUSE`, undici's `UND_ERR_*`, PostgreSQL's
 * SQLSTATE), or undefined when it has none: the one place that reads a code off an unknown error.
 */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A refusal of the HTTP API: its status and the `error` text of its JSON body (`{ error, ...fields }`). */
export interface Refusal {
  readonly status: number;
  readonly error: string;
  /** Seconds a client should wait (the Retry-After header), for the refusals that pass. */
  readonly retryAfter?: number;
}

/** A client's value echoed in a refusal, cut short: a header may be 16 KiB. */
const SHOWN_CHARS = 200;
const shown = (value: string): string => (value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS)}…` : value);

/** The HTTP API's refusals, each status with its one text; a text a value completes is a function. */
export const REFUSALS = {
  badRequest: (reason: string | undefined) => ({ status: 400, error: `Bad request${reason === undefined ? '' : `: ${reason}`}` }) as const,
  badTarget: { status: 400, error: 'Bad request target' },
  bodyNotJson: { status: 400, error: 'Body is not valid JSON' },
  invalidKey: (maxLength: number) => ({ status: 400, error: `idempotency-key must be 1 to ${maxLength} visible ASCII characters` }) as const,
  noReadToken: { status: 401, error: "This read needs the server's read token: send Authorization: Bearer <TELEMETRY_READ_TOKEN>" },
  notLocal: { status: 403, error: 'Only a client on this machine may change the session' },
  hostNotAllowed: (host: string | undefined) => ({ status: 403, error: `Host not allowed: ${host === undefined ? '(none)' : shown(host)}` }) as const,
  originNotAllowed: (origin: string) => ({ status: 403, error: `Origin not allowed: ${shown(origin)}` }) as const,
  otherSite: (site: string) => ({ status: 403, error: `Request from another site refused (Sec-Fetch-Site: ${shown(site)})` }) as const,
  notFound: { status: 404, error: 'Not found' },
  methodNotAllowed: (method: string | undefined) => ({ status: 405, error: `Method ${method} not allowed` }) as const,
  requestTimeout: { status: 408, error: 'Request timed out' },
  tooLarge: (maxBytes: number) => ({ status: 413, error: `Body larger than ${maxBytes} bytes` }) as const,
  chunkExtensionsTooLarge: { status: 413, error: 'Chunk extensions too large' },
  notJson: { status: 415, error: 'Content-Type must be application/json' },
  encoding: { status: 415, error: 'Content-Encoding is not supported' },
  keyConflict: (key: string) => ({ status: 422, error: `idempotency-key ${JSON.stringify(key)} was already used with a different body` }) as const,
  rateLimited: (waitSeconds: number) => ({ status: 429, error: `Too many heartbeats from this client; retry in ${waitSeconds} s`, retryAfter: waitSeconds }) as const,
  headersTooLarge: { status: 431, error: 'Request header fields too large' },
  internal: { status: 500, error: 'Internal server error' },
  // A write refused is retried soon (the sender's own retry); a read waits longer: a scrape or a page asks again anyway.
  cannotStore: { status: 503, error: 'The collector cannot store heartbeats right now; retry later', retryAfter: 1 },
  cannotRead: { status: 503, error: 'The collector cannot read its counts right now; retry later', retryAfter: 5 },
} as const satisfies Record<string, Refusal | ((value: never) => Refusal)>;
