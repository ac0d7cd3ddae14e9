// The errors the library throws: UsageError for options it cannot take (an unknown target or arch, a bad ABI),
// which the CLI reports as a usage error (exit 2); PolicyError and SandboxUnavailableError for spawnSandboxed,
// which has no result object to put diagnostics in. A build script or a harness catches them by type.

import type { Diagnostic } from "../diagnostics/diagnostic.js";

export class UsageError extends Error {
  override readonly name: string = "UsageError";
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
  }
}

/** The policy has errors, so nothing was run: `diagnostics` says which (render them with renderHumanAll). */
export class PolicyError extends Error {
  override readonly name: string = "PolicyError";
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(message);
  }
}

/** This machine cannot sandbox a command (another OS, no native loader, an arch seccomp has no table for). */
export class SandboxUnavailableError extends Error {
  override readonly name: string = "SandboxUnavailableError";
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
  }
}
