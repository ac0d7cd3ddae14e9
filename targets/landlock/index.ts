// The Landlock backend: the IR as a rule table for one Landlock ABI (the rights it handles, the grants beneath
// each path, the ports, the scopes) with the mount layer that carries what Landlock cannot say. See
// docs/targets/landlock.md; the loader's plan format is plan.ts, the C and JSON emitters emit.ts.

import { withDomainRules, type BackendResult } from "../../ir/backend.js";
import type { IR } from "../../ir/types.js";
import { lowerLandlock, type LandlockTable, type LowerOptions } from "./lower.js";

export type { LandlockTable, LowerOptions as LandlockOptions, Compat } from "./lower.js";
export { MAX_ABI } from "./abi.js";

/** The backend's entry point (ir/backend.ts): the table for `options.abi`. */
export function compile(ir: IR, options: LowerOptions): BackendResult<LandlockTable> {
  return withDomainRules(ir, "landlock", true, (lowered) => {
    const r = lowerLandlock(lowered, options);
    return { ...(r.table ? { artifact: r.table } : {}), diagnostics: r.diagnostics };
  });
}
