// Running under macOS Seatbelt: the policy's SBPL profile with every path as a `sandbox-exec -D` parameter,
// and the parameters it still lacks a value for (the caller must bind them; sandbox-exec would refuse).

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { compile as compileSbpl, placeholder } from "../targets/sbpl/index.js";

/** The port a profile shows for the egress proxy when none runs (off macOS); a run uses the relay's own. */
export { DEFAULT_PROXY_PORT } from "../ir/backend.js";
/** The bound IR a profile is compiled from. */
export type SeatbeltIr = IR;

export interface SeatbeltRun {
  /** The profile for `sandbox-exec -p`; absent when the policy cannot be written as one. */
  readonly profile?: string;
  /** The `-D KEY=VALUE` pairs, sorted by key. */
  readonly defines: readonly (readonly [string, string])[];
  /** Parameters with no value: each must be bound before the profile can run. */
  readonly missing: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

/** `proxyPort`: sbc's egress proxy listens on localhost:proxyPort, the only way out for rules by domain. */
export function seatbeltProfile(ir: IR, options: { readonly proxyPort?: number } = {}): SeatbeltRun {
  const r = compileSbpl(ir, { params: "param", ...(options.proxyPort !== undefined ? { proxyPort: options.proxyPort } : {}) });
  const defines = r.artifact?.defines ?? [];
  const missing = defines.filter(([k, v]) => v === placeholder(k)).map(([k]) => k);
  return { ...(r.artifact ? { profile: r.artifact.profile } : {}), defines, missing, diagnostics: r.diagnostics };
}
