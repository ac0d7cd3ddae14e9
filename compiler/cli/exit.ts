// Exit codes shared by every command, and the error type for bad command lines.

export const EXIT_OK = 0;
/** The policy has errors (or more warnings than --max-warnings allows). */
export const EXIT_FINDINGS = 1;
/** Bad command line, unreadable input named on the command line, or an internal error. */
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
  }
}
