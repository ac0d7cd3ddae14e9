// The SBPL (macOS Seatbelt) target: the IR as a profile for `sandbox-exec -p`, with its `-D` parameters.
// `inline` writes every path into the profile as an escaped string literal; `param` passes every path as a
// `-D KEY=VALUE` define referenced by `(param "KEY")`, so no path is ever parsed as profile text, and leaves
// parameters that have no value in the IR for the caller to define.

import type { IR } from "../../ir/types.js";
import { withDomainRules, type BackendResult } from "../../ir/backend.js";
import { lowerSbpl, type SbplOptions, type SbplOutput } from "./lower.js";

export type { SbplOptions, SbplOutput } from "./lower.js";

/** The profile and the `-D` defines sandbox-exec needs with it. */
export interface SbplProfile {
  readonly profile: string;
  readonly defines: readonly (readonly [string, string])[];
}

/** The backend's entry point (ir/backend.ts). */
export function compile(ir: IR, options: SbplOptions): BackendResult<SbplProfile> {
  return withDomainRules(ir, "sbpl", false, (lowered) => {
    const r = lowerSbpl(lowered, options);
    return { ...(r.profile !== undefined ? { artifact: { profile: r.profile, defines: r.defines } } : {}), diagnostics: r.diagnostics };
  });
}

export function compileSbpl(ir: IR, options: SbplOptions): SbplOutput {
  return lowerSbpl(ir, options);
}

export { placeholder } from "./lower.js";
