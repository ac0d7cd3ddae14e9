// The questions `sbc diff` asks both policies: every place, socket, call and command line either policy
// mentions, made concrete. Built from the two IRs alone (no I/O), in a fixed order, so the same pair of
// policies always gives the same probes and the same report.

import { networkSyscalls } from "../../ir/evaluator/network-syscalls.js";
import { isNumberedEntry } from "../../ir/evaluator/syscall-numbers.js";
import type { ArgCondition, IR } from "../../ir/types.js";
import { formatIp, parseCidr, U64_MAX } from "../../ir/values.js";
import { knownSyscallNames } from "../../linux-abi/index.js";
import { compileGlob, components, globComponentRegExp, hasWildcard } from "../../ir/paths.js";

/** A path to ask about: as a rule writes it (for the report) and concrete (for the evaluator). */
export interface PathProbe {
  /** `${home}/.ssh`, or `${home}/.ssh/…` for a name beneath a subtree rule's path. */
  readonly shown: string;
  readonly path: string;
}

/** The name a subtree probe uses for "something beneath": no policy names it, so no exact rule decides it. */
const CHILD = "sbc-diff-probe";

/**
 * The values parameters get for probing: a value either policy was bound with, else the stand-in the
 * policy tests and lint rules use (compiler/passes/run-tests.ts), else `/unbound/NAME`.
 */
export function probeBindings(irs: readonly IR[], standIns: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ir of irs) for (const p of ir.params) if (p.value !== null && !(p.name in out)) out[p.name] = p.value;
  for (const ir of irs) for (const p of ir.params) if (!(p.name in out)) out[p.name] = standIns[p.name] ?? `/unbound/${p.name}`;
  return out;
}

/** `${param}/rest` or `/abs` → an absolute path through `bindings`; undefined for a parameter without one. */
function concrete(path: string, bindings: Readonly<Record<string, string>>): string | undefined {
  // IR paths are normalized (`/a/b` or `${param}/a/b`, glob escapes kept): split, never re-parsed.
  const m = /^\$\{([^}]+)\}(.*)$/.exec(path);
  let head: string[] = [];
  if (m) {
    const v = bindings[m[1]!];
    if (v === undefined) return undefined;
    head = components(v);
  }
  const rest = m ? m[2]! : path;
  const all = [...head, ...(rest === "" ? [] : components(rest))];
  return all.length ? "/" + all.join("/") : "/";
}

/** One name a glob component matches (`*.pem` → `x.pem`), or undefined when none of the tries does. */
function instantiateComponent(part: string): string | undefined {
  if (!hasWildcard(part)) return part.replace(/\\(.)/g, "$1");
  const re = globComponentRegExp(part);
  for (const fill of ["x", "a", "0", "_", "-", "X"]) {
    let out = "";
    for (let i = 0; i < part.length; i++) {
      const c = part[i]!;
      if (c === "\\") out += part[++i] ?? "";
      else if (c === "*" || c === "?") out += fill;
      else if (c === "[") {
        let j = i + 1;
        if (part[j] === "!" || part[j] === "^") j++;
        if (part[j] === "]") j++;
        while (j < part.length && part[j] !== "]") j++;
        const cls = globComponentRegExp(part.slice(i, j + 1));
        const pick = [fill, ..."abcxyz0123456789ABCXYZ._-"].find((ch) => cls.test(ch));
        if (pick === undefined) return undefined;
        out += pick;
        i = j;
      } else out += c;
    }
    if (re.test(out)) return out;
  }
  return undefined;
}

/** A concrete path a glob matches, checked with the evaluator's own matcher. */
function instantiateGlob(abs: string): string | undefined {
  const parts = components(abs);
  const names: string[] = [];
  for (const p of parts) {
    if (p === "**") continue;
    const n = instantiateComponent(p);
    if (n === undefined) return undefined;
    names.push(n);
  }
  const path = "/" + names.join("/");
  return compileGlob(parts)(names) ? path : undefined;
}

/** The filesystem probes: every rule's path (a glob through one name it matches), and beneath each subtree. */
export function fsProbes(irs: readonly IR[], bindings: Readonly<Record<string, string>>): PathProbe[] {
  const out = new Map<string, PathProbe>();
  const add = (shown: string, path: string | undefined) => {
    if (path !== undefined && !out.has(path)) out.set(path, { shown, path });
  };
  for (const ir of irs)
    for (const r of ir.filesystem) {
      const abs = concrete(r.path, bindings);
      if (abs === undefined) continue;
      if (r.kind === "glob") add(r.path, instantiateGlob(abs));
      else add(r.path, abs);
      if (r.kind === "subtree") add(`${r.path === "/" ? "" : r.path}/…`, `${abs === "/" ? "" : abs}/${CHILD}`);
    }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The unix socket path probes: every path rule's path and a name beneath it. */
export function unixPathProbes(irs: readonly IR[], bindings: Readonly<Record<string, string>>): PathProbe[] {
  const out = new Map<string, PathProbe>();
  for (const ir of irs)
    for (const r of ir.network.unix.paths) {
      const abs = concrete(r.path, bindings);
      if (abs === undefined) continue;
      if (!out.has(abs)) out.set(abs, { shown: r.path, path: abs });
      const child = `${abs === "/" ? "" : abs}/${CHILD}`;
      if (!out.has(child)) out.set(child, { shown: `${r.path === "/" ? "" : r.path}/…`, path: child });
    }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Addresses no policy is likely to name (documentation ranges, RFC 5737 and RFC 3849): "any other host". */
export const OTHER_HOSTS = ["192.0.2.1", "2001:db8::1"] as const;

/** Above this many host × port pairs, each rule's own pairs are asked instead of every combination. */
export const MAX_ENDPOINTS = 4096;

/** The first address of each host a rule names (`any`: none; `loopback`: both loopback addresses). */
function ruleHosts(hosts: "any" | "loopback" | readonly string[]): string[] {
  if (hosts === "any") return [];
  if (hosts === "loopback") return ["127.0.0.1", "::1"];
  return hosts.flatMap((h) => {
    const c = parseCidr(h);
    return c.ok ? [formatIp(c.value)] : [];
  });
}

/**
 * Endpoints (host, port) to ask about: every host the rules mention (each CIDR's first address) and two no
 * policy is likely to name, on every port range's ends and one port no rule covers — every combination, or,
 * when that is more than MAX_ENDPOINTS, each rule's own hosts on its own ports and the other hosts on all ports.
 */
export function netProbes(irs: readonly IR[]): (readonly [string, number])[] {
  const hosts = new Set<string>();
  const ports = new Set<number>();
  const ranges: (readonly [number, number])[] = [];
  const perRule: [string[], number[]][] = [];
  for (const ir of irs)
    for (const r of ir.network.rules) {
      const hs = ruleHosts(r.hosts);
      for (const h of hs) hosts.add(h);
      const ps = r.ports.flatMap(([lo, hi]) => (lo === hi ? [lo] : [lo, hi]));
      for (const p of ps) ports.add(p);
      ranges.push(...r.ports);
      perRule.push([hs, ps]);
    }
  for (const h of OTHER_HOSTS) hosts.add(h);
  // A port no rule covers stands for every port nothing mentions (when every port is covered, none does).
  let other = 1;
  while (other <= 65535 && ranges.some(([lo, hi]) => other >= lo && other <= hi)) other++;
  if (other <= 65535) ports.add(other);
  const sortedPorts = [...ports].sort((a, b) => a - b);
  if (hosts.size * ports.size <= MAX_ENDPOINTS) return [...hosts].flatMap((h) => sortedPorts.map((p) => [h, p] as const));
  const out = new Map<string, readonly [string, number]>();
  const add = (h: string, p: number) => out.set(`${h} ${p}`, [h, p]);
  for (const [hs, ps] of perRule) for (const h of hs) for (const p of ps) add(h, p);
  for (const h of OTHER_HOSTS) for (const p of sortedPorts) add(h, p);
  for (const h of hosts) if (other <= 65535) add(h, other);
  return [...out.values()];
}

/** One syscall to ask about: a name (or `arch:nr`) and argument values. */
export interface SyscallProbe {
  readonly syscall: string;
  readonly args: readonly bigint[];
}

const clamp = (v: bigint) => (v < 0n ? 0n : v > U64_MAX ? U64_MAX : v);

/** Values on both sides of a condition's boundary. */
function boundaryValues(c: ArgCondition): bigint[] {
  const v = BigInt(c.value);
  if (c.op === "&==") return [v, clamp(v ^ BigInt(c.mask ?? c.value)), 0n];
  if (c.op === "==" || c.op === "!=") return [v, clamp(v + 1n)];
  return [clamp(v - 1n), v, clamp(v + 1n)];
}

/** A value that makes one condition hold (a good guess; the evaluator decides). */
function satisfying(c: ArgCondition): bigint {
  const v = BigInt(c.value);
  if (c.op === "!=" || c.op === ">") return clamp(v + 1n);
  if (c.op === "<") return clamp(v - 1n);
  return v;
}

const MAX_VECTORS = 64;

/**
 * Every syscall name of the Linux tables (all arches), the `arch:nr` entries either policy names, and for
 * each call with conditions (the policies' or the ones their network sections imply) argument vectors on
 * both sides of every condition's value, and one per rule that meets all its conditions.
 */
export function syscallProbes(irs: readonly IR[]): SyscallProbe[] {
  const conditions = new Map<string, ArgCondition[][]>();
  const numbered = new Set<string>();
  for (const ir of irs) {
    for (const r of ir.syscalls.rules)
      for (const s of r.syscalls) {
        if (isNumberedEntry(s)) numbered.add(s);
        if (r.conditions.length) conditions.set(s, [...(conditions.get(s) ?? []), [...r.conditions]]);
      }
    for (const r of networkSyscalls(ir).rules) if (r.conditions.length) conditions.set(r.syscall, [...(conditions.get(r.syscall) ?? []), [...r.conditions]]);
  }
  const out: SyscallProbe[] = [];
  for (const name of [...knownSyscallNames(), ...[...numbered].sort()]) {
    const vectors = new Map<string, bigint[]>([["", []]]);
    const add = (v: bigint[]) => {
      while (v.length && v[v.length - 1] === 0n) v.pop();
      if (vectors.size < MAX_VECTORS) vectors.set(v.join(","), v);
    };
    for (const rule of conditions.get(name) ?? []) {
      const all: bigint[] = [];
      for (const c of rule) all[c.arg] = satisfying(c);
      add(Array.from(all, (x) => x ?? 0n));
      for (const c of rule)
        for (const value of boundaryValues(c)) {
          const v: bigint[] = Array.from({ length: c.arg + 1 }, () => 0n);
          v[c.arg] = value;
          add(v);
        }
    }
    for (const args of vectors.values()) out.push({ syscall: name, args });
  }
  return out;
}

/** Command lines: every prefix a rule accepts (alternatives expanded, a few per rule), and one no rule names. */
export function commandProbes(irs: readonly IR[]): string[][] {
  const out = new Map<string, string[]>();
  for (const ir of irs)
    for (const r of ir.commands.rules) {
      let lines: string[][] = [[]];
      for (const alts of r.prefix) lines = lines.flatMap((l) => alts.map((a) => [...l, a])).slice(0, 16);
      for (const l of lines) out.set(JSON.stringify(l), l);
    }
  out.set(JSON.stringify(["sbc-diff-unlisted-command"]), ["sbc-diff-unlisted-command"]);
  return [...out.values()].sort((a, b) => (a.join(" ") < b.join(" ") ? -1 : a.join(" ") > b.join(" ") ? 1 : 0));
}

/**
 * Names to ask both policies about when either has rules by domain (none otherwise, so such a diff is
 * unchanged): for each pattern the name itself, or one and two labels under a wildcard and its apex, plus
 * a name no rule mentions; at 443, each domain rule's port edges and a port none covers.
 */
export function nameProbes(irs: readonly IR[]): (readonly [string, number])[] {
  const rules = irs.flatMap((ir) => ir.network.domains ?? []);
  if (!rules.length) return [];
  const names = new Set<string>();
  const ports = new Set<number>([443]);
  for (const r of rules) {
    for (const p of r.domains) {
      const m = /^(\*\*?)\.(.*)$/.exec(p);
      if (!m) names.add(p);
      else names.add(`x.${m[2]}`).add(`x.y.${m[2]}`).add(m[2]!);
    }
    for (const [lo, hi] of r.ports) ports.add(lo).add(hi);
  }
  names.add("sbc-diff-probe.example");
  let other = 1;
  while (other <= 65535 && rules.some((r) => r.ports.some(([lo, hi]) => other >= lo && other <= hi))) other++;
  if (other <= 65535) ports.add(other);
  const sortedPorts = [...ports].sort((a, b) => a - b);
  // Bounded as the address probes are: a hostile file of many patterns costs MAX_ENDPOINTS questions at most.
  const out: (readonly [string, number])[] = [];
  for (const n of [...names].sort())
    for (const p of sortedPorts) {
      if (out.length >= MAX_ENDPOINTS) return out;
      out.push([n, p]);
    }
  return out;
}

/**
 * Plain-HTTP requests to ask about when a rule by domain has `http-methods`/`http-paths` (none otherwise: a
 * tunnel question already decides such a policy): each named method and one none names, each path pattern
 * made concrete (`*` → `x`, `**` → `x/y`) and a path none names. Without them a widened method or path list
 * would show as unchanged, since a rule with conditions never answers a tunnel question.
 */
export function httpProbes(irs: readonly IR[]): { readonly method: string; readonly path: string }[] {
  const rules = irs.flatMap((ir) => (ir.network.domains ?? []).filter((r) => r.http));
  if (!rules.length) return [];
  const methods = new Set<string>(["GET"]);
  const paths = new Set<string>(["/sbc-diff-probe"]);
  for (const r of rules) {
    for (const m of r.http!.methods ?? []) methods.add(m);
    for (const p of r.http!.paths ?? []) paths.add(p.split("/").map((seg) => (seg === "**" ? "x/y" : seg.replace(/\*/g, "x"))).join("/"));
  }
  methods.add(["PATCH", "DELETE", "OPTIONS"].find((m) => !methods.has(m)) ?? "TRACE");
  const out: { method: string; path: string }[] = [];
  for (const method of [...methods].sort()) for (const path of [...paths].sort()) out.push({ method, path });
  return out.slice(0, 64);
}
