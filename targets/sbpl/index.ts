// The SBPL (macOS Seatbelt) target: the IR as a profile for `sandbox-exec -p`, with its `-D` parameters.
// `inline` writes every path into the profile as an escaped string literal; `param` passes every path as a
// `-D KEY=VALUE` define referenced by `(param "KEY")`, so no path is ever parsed as profile text, and leaves
// parameters that have no value in the IR for the caller to define.

import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { IR } from "../../compiler/ir/types.js";
import { lowerSbpl } from "./lower.js";

export interface SbplOptions {
  readonly params: "inline" | "param";
}

export interface SbplOutput {
  /** The profile text; undefined when there are errors. */
  readonly profile?: string;
  /**
   * The `-D KEY=VALUE` pairs sandbox-exec needs (param mode), sorted by key; [] inline. A parameter the IR
   * has no value for appears with the value `${name}`: the caller must replace it with a canonical path.
   */
  readonly defines: readonly (readonly [string, string])[];
  readonly diagnostics: Diagnostic[];
}

export function compileSbpl(ir: IR, options: SbplOptions): SbplOutput {
  return lowerSbpl(ir, options);
}

export { placeholder } from "./lower.js";
