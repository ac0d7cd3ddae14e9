// The error the library throws for options it cannot take (an unknown target or arch, a bad ABI): the CLI
// reports it as a usage error (exit 2), a build script catches it by type.

export class UsageError extends Error {
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
  }
}
