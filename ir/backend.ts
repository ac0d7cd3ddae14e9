// The one entry-point shape every backend's index module exports (docs/adding-a-target.md): the checked IR and
// the backend's own options in, its artifact (absent when there are errors) and its diagnostics out. The
// library's target registry (lib/targets.ts) calls backends only through it.

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "./types.js";

export interface BackendResult<A> {
  /** What the backend made: a filter, a rule table, a profile. Absent when a diagnostic is an error. */
  readonly artifact?: A;
  /** Where enforcement differs from the policy's wording (warnings), or why there is no artifact (errors). */
  readonly diagnostics: Diagnostic[];
}

/** A backend's `compile`: pure, synchronous, no I/O. */
export type Backend<O, A> = (ir: IR, options: O) => BackendResult<A>;

/**
 * Network rules by domain need the egress proxy, which no target has yet: each one is an error naming the rule
 * and the target, and the artifact is withheld, never emitted with the rule silently dropped or widened.
 */
export function unenforcedDomainRules(ir: IR, target: string): Diagnostic[] {
  return (ir.network.domains ?? []).map((r) =>
    diag("domainsUnenforced", `${target} cannot enforce the network rule by domain \`${r.effect} connect ${r.domains.join(", ")}\`: it sees addresses, not names`, {
      ...(r.span ? { span: r.span } : {}),
      help: "rules by domain need the egress proxy, which is not built yet; use `hosts:` with addresses, or leave the rule out",
    }),
  );
}

/** A backend's result with the domain-rule errors in front (and so no artifact) when the policy has such rules. */
export function withDomainCheck<A>(ir: IR, target: string, result: BackendResult<A>): BackendResult<A> {
  const errors = unenforcedDomainRules(ir, target);
  return errors.length ? { diagnostics: [...errors, ...result.diagnostics] } : result;
}
