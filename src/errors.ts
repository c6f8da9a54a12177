// Errors that carry one clear line for the user and the exit code the CLI ends with.

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

/** A store is held by another process (LevelDB allows one); the host says who, if it knows. */
export class StoreLockedError extends UserError {
  /** Where the store lives (a folder for LevelDB). */
  readonly location: string;
  constructor(location: string, options: { cause?: unknown } = {}) {
    super(`The database ${location} is in use by another process; stop it first or use another TELEMETRY_HOME`, options);
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
