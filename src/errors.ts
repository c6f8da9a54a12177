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
