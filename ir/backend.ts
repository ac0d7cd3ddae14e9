// The one entry-point shape every backend's index module exports (docs/adding-a-target.md): the checked IR and
// the backend's own options in, its artifact (absent when there are errors) and its diagnostics out. The
// library's target registry (lib/targets.ts) calls backends only through it.

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "./types.js";

export interface BackendResult<A> {
  /** What the backend made: a filter, a rule table, a profile. Absent when a diagnostic is an error. */
  readonly artifact?: A;
  /** Where enforcement differs from the policy's wording (warnings), or why there is no artifact (errors). */
  readonly diagnostics: Diagnostic[];
}

/** A backend's `compile`: pure, synchronous, no I/O. */
export type Backend<O, A> = (ir: IR, options: O) => BackendResult<A>;
