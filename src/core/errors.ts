// Exit codes and the one error class that means "the user can fix this": it prints one line and a hint, no stack.

export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  preflight: 3,
  health: 4,
  aborted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class UserError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserError';
    this.exitCode = opts.exitCode ?? ExitCode.usage;
    this.hint = opts.hint;
  }
}

/** Bad usage or input (exit 2). */
export function usageError(message: string, hint?: string): UserError {
  return new UserError(message, { exitCode: ExitCode.usage, hint });
}

/** A preflight failure (exit 3). */
export function preflightError(message: string, hint?: string): UserError {
  return new UserError(message, { exitCode: ExitCode.preflight, hint });
}

/** The user aborted (Ctrl-C in a prompt, "no" at the confirm): exit 130. */
export class AbortedError extends UserError {
  constructor(message = 'aborted') {
    super(message, { exitCode: ExitCode.aborted });
    this.name = 'AbortedError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
