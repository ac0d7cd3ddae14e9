// The egress proxy's decisions as a table the loader's relay applies itself (native/loader/decide.c), so a
// plan with rules by domain can run without `sbc exec` behind it (bin/sbc's cached fast path). The evaluator's
// precedence (deny wins, then the first allow) is flattened here into first-match lists: the C side only scans.

import { SPECIAL_RANGES } from "../../ir/hosts.js";
import type { IR, NetRule } from "../../ir/types.js";
import { LOOPBACK_CIDRS, formatIp } from "../../ir/values.js";
import { encodePath } from "../../targets/landlock/plan.js";
import { describeDomainRule, describeNetRule, oneLine, ruleText } from "./decide.js";
import { proxyEnvironment } from "./run.js";

/** A label as the client reads it (decide.ts's oneLine, before `sbc: `), percent-encoded as one plan field. */
function label(text: string): string {
  return encodePath(oneLine(text));
}

function ports(p: readonly (readonly [number, number])[]): string {
  return p.map(([lo, hi]) => `${lo}-${hi}`).join(",");
}

function hosts(r: NetRule): string {
  if (r.hosts === "any") return "any";
  if (r.hosts === "loopback") return LOOPBACK_CIDRS.map((c) => `${formatIp({ family: c.family, bits: c.bits })}/${c.prefix}`).join(",");
  return r.hosts.join(",");
}

/** Denies first, each kind in rule order: the first match is the evaluator's answer. */
function firstMatch<T extends { readonly effect: string }>(rules: readonly T[]): T[] {
  return [...rules.filter((r) => r.effect === "deny"), ...rules.filter((r) => r.effect === "allow")];
}

/**
 * The plan lines after `net-proxy` (native/README.md, "The egress proxy's table"), or undefined when the relay
 * cannot decide alone: a rule with HTTP method or path conditions needs the request's path normalized and
 * matched as lib/proxy does, which only `sbc exec` does (such a plan is run by `sbc exec`, never Node-free).
 */
export function proxyTableLines(ir: IR, port: number): string[] | undefined {
  const domains = (ir.network.domains ?? []).filter((r) => r.protocols.includes("tcp"));
  if (domains.some((r) => r.http)) return undefined;
  const ipRules = ir.network.rules.filter((r) => r.ops.includes("connect") && r.protocols.includes("tcp"));
  const lines = ["proxy-table"];
  // evaluateName: a domain deny, else an IP deny for any host; then the first domain allow, else the first IP allow.
  const names = [
    ...domains.filter((r) => r.effect === "deny").map((r) => ({ r, by: "domain" as const })),
    ...ipRules.filter((r) => r.effect === "deny" && r.hosts === "any").map((r) => ({ r, by: "ip" as const })),
    ...domains.filter((r) => r.effect === "allow").map((r) => ({ r, by: "domain" as const })),
    ...ipRules.filter((r) => r.effect === "allow" && r.hosts === "any").map((r) => ({ r, by: "ip" as const })),
  ];
  for (const n of names) {
    const text = ruleText(n.by === "domain" ? describeDomainRule(n.r as never) : describeNetRule(n.r as NetRule));
    const patterns = n.by === "domain" ? (n.r as { domains: readonly string[] }).domains : ["*"];
    for (const p of patterns) lines.push(`proxy-name ${n.r.effect} ${p} ${ports(n.r.ports)} ${label(text)}`);
  }
  // evaluateNetwork and checkResolvedAddress: the first deny, else the first allow; an allow that names the
  // address (not `any`) lets it into a special range.
  for (const r of firstMatch(ipRules)) lines.push(`proxy-addr ${r.effect} ${hosts(r)} ${ports(r.ports)} ${label(ruleText(describeNetRule(r)))}`);
  for (const s of SPECIAL_RANGES) lines.push(`proxy-special ${s.text} ${label(s.what)}`);
  // What `sbc exec` puts in the command's environment; the loader sets it when it runs the plan itself.
  for (const [name, value] of Object.entries(proxyEnvironment(port))) lines.push(`proxy-env ${name} ${encodePath(value)}`);
  return lines;
}
