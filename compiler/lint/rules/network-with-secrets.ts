// Rule `network-with-secrets`: the sandbox may connect beyond loopback while credentials are readable. Each
// alone may be fine — a build reads `~/.netrc`, an installer fetches packages — but together whatever the
// sandboxed program reads it can send anywhere, which is the exfiltration path prompt injection aims for.
// Both halves are asked of the reference evaluator, so the finding follows what the policy means.

import type { Span } from "../../../diagnostics/source.js";
import { evaluateFs, evaluateName, evaluateNetwork } from "../../../ir/evaluator/evaluate.js";
import type { DomainRule, FsRule, IR, NetRule, Protocol } from "../../../ir/types.js";
import { cidrContains, formatIp, LOOPBACK_CIDRS, parseCidr, parseIp } from "../../../ir/values.js";
import { labelsFor, reportSite } from "../report-site.js";
import type { LintRule } from "../rule.js";
import { SECRETS, type Secret } from "../secrets.js";
import { standInPath } from "../stand-ins.js";

/** Public addresses tried for rules that allow any host (several, so one denied address does not hide the rest). */
const PUBLIC_PROBES = ["140.82.112.3", "8.8.8.8", "1.1.1.1", "2606:4700::1111"];

/** How many connections `findEgress` asks the evaluator about at most. */
export const MAX_QUESTIONS = 256;

export interface Egress {
  readonly host: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** An IP rule, or a rule by domain (a name is beyond loopback whatever it resolves to, for the proxy refuses loopback). */
  readonly rule: NetRule | DomainRule;
}

function isLoopback(host: string): boolean {
  const ip = parseIp(host);
  return ip !== undefined && LOOPBACK_CIDRS.some((c) => cidrContains(c, ip));
}

/** Addresses an allow rule reaches beyond loopback, to try: its blocks' first addresses, or public ones. */
function hostProbes(rule: NetRule): string[] {
  if (rule.hosts === "loopback") return [];
  if (rule.hosts === "any") return PUBLIC_PROBES;
  const out: string[] = [];
  for (const h of rule.hosts) {
    const c = parseCidr(h);
    if (!c.ok) continue;
    // A block as wide as the whole family (0.0.0.0/0) is "any host": its first address is no real peer.
    if (c.value.prefix === 0) out.push(...PUBLIC_PROBES.filter((p) => parseIp(p)?.family === c.value.family));
    else {
      const first = formatIp(c.value);
      const last = formatIp({ family: c.value.family, bits: c.value.bits | ((1n << BigInt((c.value.family === 4 ? 32 : 128) - c.value.prefix)) - 1n) });
      out.push(first, last);
    }
  }
  return out.filter((h) => !isLoopback(h));
}

/**
 * A connection beyond loopback that the policy allows, if the probes find one: for every allow rule with
 * `connect`, its hosts (or public addresses) at the edges of its port ranges (443 first when it is open).
 */
export function findEgress(ir: IR): Egress | undefined {
  // Each question costs a pass over the rules: a budget keeps a file of 200,000 rules linear.
  let budget = MAX_QUESTIONS;
  for (const rule of ir.network.rules) {
    if (rule.effect !== "allow" || !rule.ops.includes("connect")) continue;
    const hosts = hostProbes(rule);
    if (!hosts.length) continue;
    const ports = new Set<number>();
    if (rule.ports.some(([lo, hi]) => lo <= 443 && 443 <= hi)) ports.add(443);
    for (const [lo, hi] of rule.ports) ports.add(lo).add(hi);
    for (const protocol of rule.protocols) {
      for (const host of hosts) {
        for (const port of ports) {
          if (budget-- <= 0) return undefined;
          const v = evaluateNetwork(ir, { op: "connect", protocol, host, port });
          if (v.decision === "allow" && v.rule) return { host, port, protocol, rule: v.rule };
        }
      }
    }
  }
  // Rules by domain: a name each pattern matches (the wildcard as one label), at the edges of its ports.
  for (const rule of ir.network.domains ?? []) {
    if (rule.effect !== "allow") continue;
    for (const pattern of rule.domains) {
      const name = pattern.replace(/^\*\*?\./, "x.");
      for (const protocol of rule.protocols) {
        for (const port of new Set(rule.ports.flat())) {
          if (budget-- <= 0) return undefined;
          const v = evaluateName(ir, { name, port, protocol });
          if (v.decision === "allow") return { host: name, port, protocol, rule: v.rule };
        }
      }
    }
  }
  return undefined;
}

export interface ReadableSecret {
  readonly secret: Secret;
  readonly rule: FsRule;
}

/** The secrets of SECRETS the policy lets the sandbox read, each with the rule that allows it. */
export function readableSecrets(ir: IR): ReadableSecret[] {
  const out: ReadableSecret[] = [];
  for (const secret of SECRETS) {
    const v = evaluateFs(ir, "read", standInPath(ir, secret.read[0]!));
    if (v.decision === "allow" && v.rule) out.push({ secret, rule: v.rule });
  }
  return out;
}

const endpoint = (e: Egress) => `${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port}`;

export const networkWithSecrets: LintRule = {
  id: "network-with-secrets",
  code: "networkWithSecrets",
  defaultSeverity: "warning",
  description: "Network access beyond loopback while credentials (~/.ssh, ~/.aws, .env …) are readable: what the sandbox reads, it can send away.",
  fixable: false,
  run(context) {
    const ir = context.boundIr;
    if (!ir || (!ir.network.rules.length && !ir.network.domains?.length)) return;
    const egress = findEgress(ir);
    if (!egress) return;
    const secrets = readableSecrets(ir);
    if (!secrets.length) return;
    // One label per rule that opens secrets, naming every secret it opens.
    const byRule = new Map<FsRule, Secret[]>();
    for (const s of secrets) byRule.set(s.rule, [...(byRule.get(s.rule) ?? []), s.secret]);
    const at = reportSite(context, [egress.rule.span, ...[...byRule.keys()].map((r) => r.span)]);
    const shown = secrets.slice(0, 3).map((s) => `\`${s.secret.path}\``).join(", ");
    const names = secrets.length > 3 ? `${shown} and ${secrets.length - 3} more secrets` : shown;
    const proto = egress.protocol === "tcp" ? "" : ` (${egress.protocol})`;
    context.report({
      message: `the sandbox can connect to \`${endpoint(egress)}\`${proto} while it can read ${names}: what it reads, it can send`,
      ...(at ? { span: at } : {}),
      spanLabel: at === egress.rule.span ? `allows connecting beyond loopback` : `this policy lets secrets and the network meet`,
      labels: labelsFor(
        [
          { span: egress.rule.span, message: `allows connecting to \`${endpoint(egress)}\`` },
          ...[...byRule].map(([r, ss]) => ({ span: r.span as Span | undefined, message: `makes ${ss.map((s) => `${s.what} (\`${s.path}\`)`).join(", ")} readable` })),
        ],
        at,
      ),
      help: "deny reading the secrets the job does not need (`deny: read` on each), or allow `connect` only to the hosts it needs",
    });
  },
};
