// Errors a user can act on. The CLI prints their message (never a stack trace) and exits with their code.

export class UserError extends Error {
  override readonly name: string = 'UserError';
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

/** A command line that does not parse: printed with the command's usage, exit code 2. */
export class UsageError extends UserError {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message, 2);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
