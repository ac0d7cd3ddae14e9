// An IR written back as the document tree of one policy file (the value `schema/policy.schema.json`
// validates), so that tools and property tests can go IR → YAML or DSL → IR. Only some IRs came from a single
// file: rules from extended files (layer > 0), bound parameters and parameters with defaults (substituted
// away), and a `protect:` entry's rules out of their place have no spelling in one file; those are refused
// with the reason, never approximated.

import { ACCESS_GROUPS, expandAccess, type Access } from "../ir/access.js";
import { BUILTIN_PARAMS } from "./schema.js";
import { formatTemplate, parsePath } from "../ir/paths.js";
import type { Action, ArgCondition, DomainRule, FsRule, IR, NetRule, PolicyTest, SyscallRule, UnixSockets } from "../ir/types.js";

export type DocumentValue = Record<string, unknown>;

export type IrToDocumentResult = { readonly ok: true; readonly document: DocumentValue } | { readonly ok: false; readonly reason: string };

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MODIFY = expandAccess(["modify"]);

class NotOneFile extends Error {}
const refuse = (reason: string): never => {
  throw new NotOneFile(reason);
};

export function irToDocument(ir: IR): IrToDocumentResult {
  try {
    return { ok: true, document: build(ir) };
  } catch (e) {
    if (e instanceof NotOneFile) return { ok: false, reason: e.message };
    throw e;
  }
}

function build(ir: IR): DocumentValue {
  if (!NAME_PATTERN.test(ir.name)) refuse(`the name \`${ir.name}\` cannot be written as \`name:\``);
  const doc: DocumentValue = { sbc: 1, name: ir.name };
  if (ir.description !== undefined) doc.description = ir.description;

  const params = paramsOf(ir);
  if (params) doc.params = params;
  const filesystem = filesystemOf(ir.filesystem);
  if (filesystem.length) doc.filesystem = filesystem;
  const network = networkOf(ir);
  if (network) doc.network = network;
  const syscalls = syscallsOf(ir);
  if (syscalls) doc.syscalls = syscalls;
  const commands = commandsOf(ir);
  if (commands) doc.commands = commands;
  if (ir.linux.namespaces !== "auto" || ir.linux.acceptWidening) {
    doc.linux = { ...(ir.linux.namespaces !== "auto" ? { namespaces: ir.linux.namespaces } : {}), ...(ir.linux.acceptWidening ? { "accept-widening": [...ir.linux.acceptWidening.widenings] } : {}) };
  }
  if (ir.tests.length) doc.tests = ir.tests.map(testOf);
  return doc;
}

/** Free parameters only: a bound one, or one with a default, was substituted and is not in one file's text. */
function paramsOf(ir: IR): DocumentValue | undefined {
  const out: DocumentValue = {};
  for (const p of ir.params) {
    if (p.value !== null) refuse(`parameter \`${p.name}\` is bound; a file cannot bind a parameter`);
    const builtin = (BUILTIN_PARAMS as readonly string[]).includes(p.name);
    if (builtin !== p.builtin) refuse(`parameter \`${p.name}\` is marked ${p.builtin ? "built-in" : "declared"} but is not`);
    if (builtin) {
      if (p.description !== undefined) refuse(`built-in parameter \`${p.name}\` cannot have a description`);
      continue;
    }
    out[p.name] = p.description !== undefined ? { description: p.description } : {};
  }
  return Object.keys(out).length ? out : undefined;
}

function accessOf(access: readonly Access[]): string | string[] {
  if (access.length === 1) return access[0]!;
  for (const [group, members] of Object.entries(ACCESS_GROUPS)) {
    if (members.length === access.length && members.every((m, i) => access[i] === m)) return group;
  }
  return [...access];
}

function checkLayer(layer: number, what: string): void {
  if (layer !== 0) refuse(`${what} comes from an extended file (layer ${layer})`);
}

/** A rule and the `protect:` rules that follow it become one entry. */
function filesystemOf(rules: readonly FsRule[]): DocumentValue[] {
  const out: DocumentValue[] = [];
  let parent: { rule: FsRule; entry: DocumentValue; protect: string[] } | undefined;
  rules.forEach((r, i) => {
    checkLayer(r.layer, `filesystem rule ${i + 1}`);
    if (r.protects !== undefined) {
      const expected = parent && parsePath(parent.rule.path).template;
      const ok =
        parent !== undefined &&
        expected !== undefined &&
        r.effect === "deny" &&
        r.kind === "subtree" &&
        r.ifMissing === "skip" &&
        r.reason === undefined &&
        r.access.length === MODIFY.length &&
        r.access.every((a, j) => a === MODIFY[j]) &&
        r.path === formatTemplate({ param: expected.param, components: [...expected.components, ...r.protects.split("/")] });
      if (!ok) refuse(`filesystem rule ${i + 1} protects \`${r.protects}\` but does not follow the rule it belongs to`);
      parent!.protect.push(r.protects);
      parent!.entry.protect = [...parent!.protect];
      return;
    }
    const entry: DocumentValue = { [r.effect]: accessOf(r.access), [r.kind === "subtree" ? "path" : r.kind]: r.path };
    if (r.ifMissing === "error") entry["if-missing"] = "error";
    if (r.reason !== undefined) entry.reason = r.reason;
    out.push(entry);
    parent = r.effect === "allow" && r.kind === "subtree" ? { rule: r, entry, protect: [] } : undefined;
  });
  // `protect:` is written after the target, as the DSL printer and the presets do.
  return out.map(orderFsEntry);
}

function orderFsEntry(e: DocumentValue): DocumentValue {
  const keys = ["allow", "deny", "path", "exact", "glob", "protect", "if-missing", "reason"];
  return Object.fromEntries(keys.filter((k) => e[k] !== undefined).map((k) => [k, e[k]]));
}

function portOf([lo, hi]: readonly [number, number]): number | string {
  return lo === hi ? lo : `${lo}-${hi}`;
}

function netRuleOf(r: NetRule, i: number): DocumentValue {
  checkLayer(r.layer, `network rule ${i + 1}`);
  const entry: DocumentValue = { [r.effect]: r.ops.length === 1 ? r.ops[0] : [...r.ops] };
  const protocols = [...r.protocols].sort().join(",");
  if (protocols === "udp") entry.protocol = "udp";
  else if (protocols === "tcp,udp") entry.protocol = "any";
  else if (protocols !== "tcp") refuse(`network rule ${i + 1} has protocols \`${protocols}\``);
  if (r.hosts !== "any") entry.hosts = typeof r.hosts === "string" ? r.hosts : [...r.hosts];
  const every = r.ports.length === 1 && r.ports[0]![0] === 0 && r.ports[0]![1] === 65535;
  if (!every) entry.ports = r.ports.map(portOf);
  if (r.reason !== undefined) entry.reason = r.reason;
  return entry;
}

function domainRuleOf(r: DomainRule, i: number): DocumentValue {
  checkLayer(r.layer, `network rule ${i + 1}`);
  const entry: DocumentValue = { [r.effect]: "connect" };
  const protocols = [...r.protocols].sort().join(",");
  if (protocols === "udp") entry.protocol = "udp";
  else if (protocols === "tcp,udp") entry.protocol = "any";
  entry.domains = [...r.domains];
  const every = r.ports.length === 1 && r.ports[0]![0] === 0 && r.ports[0]![1] === 65535;
  if (!every) entry.ports = r.ports.map(portOf);
  if (r.http?.methods) entry["http-methods"] = [...r.http.methods];
  if (r.http?.paths) entry["http-paths"] = [...r.http.paths];
  if (r.reason !== undefined) entry.reason = r.reason;
  return entry;
}

function unixOf(u: UnixSockets): string | DocumentValue | undefined {
  const [only] = u.paths;
  const everyPath = u.paths.length === 1 && only!.effect === "allow" && only!.path === "/" && only!.ops.length === 2 && only!.reason === undefined && only!.layer === 0;
  if (u.pairs === "allow" && u.abstract === "allow" && everyPath) return "allow";
  const paths = u.paths.map((r, i): DocumentValue => {
    checkLayer(r.layer, `unix path rule ${i + 1}`);
    return { [r.effect]: r.ops.length === 1 ? r.ops[0] : [...r.ops], path: r.path, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
  });
  const out: DocumentValue = {
    ...(u.pairs === "allow" ? { pairs: "allow" } : {}),
    ...(u.abstract === "allow" ? { abstract: "allow" } : {}),
    ...(paths.length ? { paths } : {}),
  };
  return Object.keys(out).length ? out : undefined;
}

function networkOf(ir: IR): DocumentValue | undefined {
  const n = ir.network;
  const unix = unixOf(n.unix);
  const domains = n.domains ?? [];
  if (unix === undefined && n.rules.length === 0 && domains.length === 0) return undefined;
  // Rules by domain after the IP rules: their order has no meaning (deny wins either way).
  const rules = [...n.rules.map(netRuleOf), ...domains.map((r, i) => domainRuleOf(r, n.rules.length + i))];
  return { ...(unix !== undefined ? { unix } : {}), ...(rules.length ? { rules } : {}) };
}

export function actionOf(a: Action): string | { errno: number } | { trace: number } {
  if (a.type === "trace") return a.data === 0 ? "trace" : { trace: a.data };
  return a.type === "errno" ? { errno: a.errno } : a.type;
}

export function conditionOf(c: ArgCondition): string {
  return c.op === "&==" ? `arg${c.arg} & ${c.mask} == ${c.value}` : `arg${c.arg} ${c.op} ${c.value}`;
}

function syscallRuleOf(r: SyscallRule, i: number): DocumentValue {
  checkLayer(r.layer, `syscall rule ${i + 1}`);
  return {
    syscalls: [...r.syscalls],
    action: actionOf(r.action),
    ...(r.conditions.length ? { args: r.conditions.map(conditionOf) } : {}),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
}

function syscallsOf(ir: IR): DocumentValue | undefined {
  const s = ir.syscalls;
  if (s.defaultAction.type === "allow" && !s.foreignArchAction && !s.newerAction && s.kernel === undefined && s.rules.length === 0) return undefined;
  return {
    default: actionOf(s.defaultAction),
    ...(s.foreignArchAction ? { "foreign-arch": actionOf(s.foreignArchAction) } : {}),
    ...(s.newerAction ? { newer: actionOf(s.newerAction) } : {}),
    ...(s.kernel !== undefined ? { kernel: s.kernel } : {}),
    ...(s.rules.length ? { rules: s.rules.map(syscallRuleOf) } : {}),
  };
}

function commandsOf(ir: IR): DocumentValue | undefined {
  const c = ir.commands;
  if (c.defaultDecision === "prompt" && c.rules.length === 0) return undefined;
  return {
    ...(c.defaultDecision !== "prompt" ? { default: c.defaultDecision } : {}),
    ...(c.rules.length
      ? {
          rules: c.rules.map((r) => ({
            prefix: r.prefix.map((alts) => (alts.length === 1 ? alts[0]! : [...alts])),
            decision: r.decision,
            ...(r.reason !== undefined ? { reason: r.reason } : {}),
          })),
        }
      : {}),
  };
}

function endpointOf(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function testOf(t: PolicyTest): DocumentValue {
  const name = t.name !== undefined ? { name: t.name } : {};
  switch (t.kind) {
    case "fs":
      return { [t.access]: t.path, expect: t.expect, ...name };
    case "net":
      return { [t.op]: endpointOf(t.host, t.port), ...(t.protocol === "udp" ? { protocol: "udp" } : {}), expect: t.expect, ...name };
    case "unix":
      return { unix: t.op, ...("path" in t ? { path: t.path } : "abstract" in t ? { abstract: t.abstract } : {}), expect: t.expect, ...name };
    case "syscall":
      return { syscall: t.syscall, ...(t.args.length ? { args: [...t.args] } : {}), expect: actionOf(t.expect), ...name };
    case "command":
      return { command: [...t.argv], expect: t.expect, ...name };
  }
}
