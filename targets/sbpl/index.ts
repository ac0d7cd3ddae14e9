// The SBPL (macOS Seatbelt) target: the IR as a profile for `sandbox-exec -p`, with its `-D` parameters.
// `inline` writes every path into the profile as an escaped string literal; `param` passes every path as a
// `-D KEY=VALUE` define referenced by `(param "KEY")`, so no path is ever parsed as profile text, and leaves
// parameters that have no value in the IR for the caller to define.

import type { IR } from "../../ir/types.js";
import { lowerDomainRulesToLocalProxy, withDomainRules, type BackendResult } from "../../ir/backend.js";
import { lowerSbpl, type SbplOptions, type SbplOutput } from "./lower.js";

export type { SbplOptions, SbplOutput } from "./lower.js";

/** The profile and the `-D` defines sandbox-exec needs with it. */
export interface SbplProfile {
  readonly profile: string;
  readonly defines: readonly (readonly [string, string])[];
}

/**
 * The backend's entry point (ir/backend.ts). `proxyPort`: the caller runs sbc's egress proxy on
 * localhost:proxyPort, so rules by domain become outbound to that port only (SBC1423); without it they are
 * an error (SBC1410).
 */
export function compile(ir: IR, options: SbplOptions & { readonly proxyPort?: number }): BackendResult<SbplProfile> {
  const run = (lowered: IR): BackendResult<SbplProfile> => {
    const r = lowerSbpl(lowered, options);
    return { ...(r.profile !== undefined ? { artifact: { profile: r.profile, defines: r.defines } } : {}), diagnostics: r.diagnostics };
  };
  if (options.proxyPort !== undefined && ir.network.domains?.length) {
    const d = lowerDomainRulesToLocalProxy(ir, "sbpl", options.proxyPort);
    const r = run(d.ir);
    return { ...r, diagnostics: [...d.diagnostics, ...r.diagnostics] };
  }
  return withDomainRules(ir, "sbpl", false, run);
}

export function compileSbpl(ir: IR, options: SbplOptions): SbplOutput {
  return lowerSbpl(ir, options);
}

export { placeholder } from "./lower.js";
