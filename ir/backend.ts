// The one entry-point shape every backend's index module exports (docs/adding-a-target.md): the checked IR and
// the backend's own options in, its artifact (absent when there are errors) and its diagnostics out. The
// library's target registry (lib/targets.ts) calls backends only through it.

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR, NetRule } from "./types.js";

export interface BackendResult<A> {
  /** What the backend made: a filter, a rule table, a profile. Absent when a diagnostic is an error. */
  readonly artifact?: A;
  /** Where enforcement differs from the policy's wording (warnings), or why there is no artifact (errors). */
  readonly diagnostics: Diagnostic[];
}

/** A backend's `compile`: pure, synchronous, no I/O. */
export type Backend<O, A> = (ir: IR, options: O) => BackendResult<A>;

/**
 * Network rules by domain need the egress proxy, which no target has yet. Each one is an error naming the
 * rule and the target (the artifact is withheld), unless the policy accepts `linux: {accept-widening:
 * [domains]}` and the target is a Linux one: then each allow rule by domain is lowered as an allow for every
 * host on its ports, each deny rule by domain is dropped, and each says so in a warning. Never in silence.
 */
export function lowerDomainRules(ir: IR, target: string, linux: boolean): { ir: IR; diagnostics: Diagnostic[] } {
  const rules = ir.network.domains ?? [];
  if (!rules.length) return { ir, diagnostics: [] };
  const { domains: _d, ...network } = ir.network;
  const accepted = linux && (ir.linux.acceptWidening?.widenings ?? []).includes("domains");
  const labels = accepted && ir.linux.acceptWidening?.span ? [{ span: ir.linux.acceptWidening.span, message: "the widenings this policy accepts" }] : [];
  const diagnostics = rules.map((r) => {
    const rule = `\`${r.effect} connect ${r.domains.join(", ")}\``;
    const span = r.span ? { span: r.span } : {};
    if (!accepted)
      return diag("domainsUnenforced", `${target} cannot enforce the network rule by domain ${rule}: it sees addresses, not names`, {
        ...span,
        help: linux
          ? "rules by domain need the egress proxy, which is not built yet: use `hosts:` with addresses, or accept `linux: {accept-widening: [domains]}`"
          : "rules by domain need the egress proxy, which is not built yet: use `hosts:` with addresses",
      });
    return diag(
      "domainsWidened",
      r.effect === "allow" ? `${target} enforces the network rule by domain ${rule} as an allow for every host on its ports (accepted widening)` : `${target} drops the network rule by domain ${rule} (accepted widening)`,
      { ...span, labels },
    );
  });
  const widened: NetRule[] = accepted
    ? rules.filter((r) => r.effect === "allow").map((r) => ({ effect: "allow", ops: ["connect"], protocols: r.protocols, hosts: "any", ports: r.ports, layer: r.layer, ...(r.reason !== undefined ? { reason: r.reason } : {}), ...(r.span ? { span: r.span } : {}) }))
    : [];
  return { ir: { ...ir, network: { ...network, rules: [...network.rules, ...widened] } }, diagnostics };
}

/** A backend run on the IR with its domain rules lowered (lowerDomainRules): their diagnostics first; no artifact on an error. */
export function withDomainRules<A>(ir: IR, target: string, linux: boolean, run: (ir: IR) => BackendResult<A>): BackendResult<A> {
  const d = lowerDomainRules(ir, target, linux);
  if (!d.diagnostics.length) return run(ir);
  const r = run(d.ir);
  const diagnostics = [...d.diagnostics, ...r.diagnostics];
  return diagnostics.some((x) => x.severity === "error") ? { diagnostics } : { ...r, diagnostics };
}
