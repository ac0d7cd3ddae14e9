// The one entry-point shape every backend's index module exports (docs/adding-a-target.md): the checked IR and
// the backend's own options in, its artifact (absent when there are errors) and its diagnostics out. The
// library's target registry (lib/targets.ts) calls backends only through it.

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR, NetRule } from "./types.js";
import { cidrContains, LOOPBACK_CIDRS, parseCidr } from "./values.js";

export interface BackendResult<A> {
  /** What the backend made: a filter, a rule table, a profile. Absent when a diagnostic is an error. */
  readonly artifact?: A;
  /** Where enforcement differs from the policy's wording (warnings), or why there is no artifact (errors). */
  readonly diagnostics: Diagnostic[];
}

/** A backend's `compile`: pure, synchronous, no I/O. */
export type Backend<O, A> = (ir: IR, options: O) => BackendResult<A>;

/**
 * Network rules by domain need sbc's egress proxy, which a standalone target cannot run (`sbc exec`, the `linux`
 * bundle and `sbc debug seatbelt` lower them for it: lowerDomainRulesForProxy, lowerDomainRulesToLocalProxy).
 * Each one is an error naming the rule and the target (the artifact is withheld), unless the policy accepts `linux: {accept-widening:
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
          ? "`sbc exec` and the `linux` target enforce rules by domain through sbc's egress proxy (docs/proxy.md); here use `hosts:` with addresses, or accept `linux: {accept-widening: [domains]}`"
          : "rules by domain need sbc's egress proxy (docs/proxy.md): `sbc debug seatbelt` runs one for the profile, or compile with `--proxy-port PORT` for a proxy you run; else use `hosts:` with addresses",
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

/** The loopback port inside the sandbox's network namespace where the egress proxy listens (docs/proxy.md). */
export const DEFAULT_PROXY_PORT = 3128;

/**
 * The IR a Linux run behind the egress proxy enforces in the kernel: the command is in a network namespace of
 * its own with loopback only, so its rules by domain are the proxy's to decide (they are dropped here; the
 * proxy asks the unlowered IR), TCP connect to the proxy's port on loopback is allowed (Landlock's port rule,
 * and seccomp's AF_INET/AF_INET6 stream sockets), and every IP rule that allows connecting now reaches only
 * the sandbox's own loopback, whatever hosts it names: each says so in a warning at the rule (through the
 * proxy it applies as written, to the hosts it names).
 * UDP stays as the policy says: without a rule allowing it, seccomp refuses datagram sockets.
 */
export function lowerDomainRulesForProxy(ir: IR, port: number = DEFAULT_PROXY_PORT): { ir: IR; diagnostics: Diagnostic[] } {
  const { domains: _d, ...network } = ir.network;
  const diagnostics = ir.network.rules
    .filter((r) => r.effect === "allow" && r.ops.includes("connect"))
    .map((r) => {
      const hosts = r.hosts === "any" ? "any host" : r.hosts === "loopback" ? "loopback" : r.hosts.join(", ");
      const ports = r.ports.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(", ");
      return diag("proxyDirectLoopback", `in the sandbox's network namespace, the rule \`allow connect ${hosts} port ${ports}\` reaches only the sandbox's own loopback when the command connects directly`, {
        ...(r.span ? { span: r.span } : {}),
        help: `through the egress proxy (127.0.0.1:${port}, HTTP_PROXY and ALL_PROXY) it applies as written; a server on the host's loopback is reached through the proxy, by a rule naming \`loopback\` or its address`,
      });
    });
  // `any`, not `loopback`: Landlock sees ports only, and in the namespace loopback is every host there is.
  // Inside, every address is the sandbox's own: a direct allow for some hosts is an allow for its ports (which
  // Landlock can say, where it cannot say hosts), and SBC1420 above says what it reaches.
  // A deny for hosts outside loopback matches nothing a direct connect can reach there (the proxy enforces it
  // for connections through it): dropped for the kernel, where Landlock, which cannot tell hosts apart, would
  // close its ports altogether, the proxy's among them.
  const rules = network.rules.flatMap((r): NetRule[] => {
    if (!r.ops.includes("connect")) return [r];
    if (r.effect === "allow") return [r.hosts !== "any" ? { ...r, hosts: "any" } : r];
    if (r.hosts === "any" || r.hosts === "loopback" || r.hosts.some(touchesLoopback)) return [r];
    const ops = r.ops.filter((o) => o !== "connect");
    return ops.length ? [{ ...r, ops }] : [];
  });
  const proxy: NetRule = { effect: "allow", ops: ["connect"], protocols: ["tcp"], hosts: "any", ports: [[port, port]], layer: 0, reason: "sbc's egress proxy", proxy: true };
  return { ir: { ...ir, network: { ...network, rules: [...rules, proxy] } }, diagnostics };
}

/**
 * For a target without a network namespace (Seatbelt): the caller says sbc's egress proxy runs on
 * localhost:port outside the sandbox. The rules by domain become one allow to that port on loopback, and
 * the names are the proxy's to decide; one warning at the first rule by domain says so (SBC1423). The IP
 * rules stay as written: on macOS the command can still connect directly where they allow.
 */
export function lowerDomainRulesToLocalProxy(ir: IR, target: string, port: number): { ir: IR; diagnostics: Diagnostic[] } {
  const rules = ir.network.domains ?? [];
  if (!rules.length) return { ir, diagnostics: [] };
  const { domains: _d, ...network } = ir.network;
  const first = rules.find((r) => r.span) ?? rules[0]!;
  const diagnostics = [
    diag("proxySbpl", `${target} lets the sandbox connect to the egress proxy on localhost:${port} for the ${rules.length} network rule${rules.length === 1 ? "" : "s"} by domain: only that proxy enforces the names`, {
      ...(first.span ? { span: first.span } : {}),
      help: "run sbc's egress proxy there with this policy before the command, or nothing by name is reachable; a tool that ignores HTTP_PROXY gets nowhere",
    }),
  ];
  const proxy: NetRule = { effect: "allow", ops: ["connect"], protocols: ["tcp"], hosts: "loopback", ports: [[port, port]], layer: 0, reason: "sbc's egress proxy", proxy: true };
  return { ir: { ...ir, network: { ...network, rules: [...network.rules, proxy] } }, diagnostics };
}

/** Does a CIDR block share an address with loopback (127.0.0.0/8, ::1)? */
function touchesLoopback(text: string): boolean {
  const c = parseCidr(text);
  if (!c.ok) return true;
  return LOOPBACK_CIDRS.some((l) => cidrContains(l, c.value) || cidrContains(c.value, l));
}
