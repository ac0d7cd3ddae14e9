// `sbc exec --explain`: turn the loader's trace records (native/loader/trace.c, one JSON line per refused
// call) into explained denials — the layer that refused, the operation, and the rule of the policy that
// decides it, asked of the reference evaluator on the same bound IR the run was compiled from.

import { accessSync, constants, existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { formatLocation, type Span } from "../diagnostics/source.js";
import type { Access } from "../ir/access.js";
import { EvaluationError, evaluateFs, evaluateNetwork, evaluateSyscall } from "../ir/evaluator/evaluate.js";
import { syscallNameAt } from "../ir/evaluator/syscall-numbers.js";
import type { IR } from "../ir/types.js";
import { errnoName, type Arch } from "../linux-abi/index.js";
import { lintPolicyText } from "../compiler/lint/index.js";
import { DANGEROUS_CALLS } from "../compiler/lint/rules/dangerous-syscall.js";
import type { NetworkEvent } from "./proxy/service.js";
import { AF_INET, AF_INET6, AT_REMOVEDIR, O_ACCMODE, O_CREAT, O_DIRECTORY, SOCK_DGRAM } from "./trace-abi.js";

/** One line the tracer wrote. `kind`: `seccomp` (the filter refused), `exit` (a watched call failed). */
export interface TraceRecord {
  readonly kind: "seccomp" | "exit";
  readonly pid: number;
  readonly nr: number;
  readonly errno: number;
  /** u64 registers, as decimal strings. */
  readonly args: readonly string[];
  readonly path?: string;
  readonly path2?: string;
  readonly family?: number;
  readonly addr?: string;
  readonly port?: number;
  /** With `--trace-learn`, an IP socket's type where the tracer could read it: 1 stream (TCP), 2 datagram (UDP). */
  readonly socktype?: number;
  /** How many identical records this one stands for (TraceCollector folds repeats). */
  readonly repeat?: number;
}

/** `proxy`: the egress proxy refused a connection by name or address (lib/proxy/). */
export type Layer = "seccomp" | "landlock" | "mount" | "proxy";

export interface Denial {
  readonly layer: Layer;
  readonly syscall: string;
  /** An access class (`write`, `create-file` …), `connect`/`bind`, or `call` for a syscall refused as such. */
  readonly operation: string;
  readonly path?: string;
  readonly address?: string;
  readonly errno: string;
  /** The deciding rule's `file:line:col`; absent when no rule matched (the default decided). */
  readonly location?: string;
  /** What decided, in words: the rule's first line, `protect: .git`, `no rule grants write (default deny)`. */
  readonly decidedBy: string;
  /** The smallest change that would allow it, as a YAML snippet; absent where none is simple. */
  readonly suggestion?: string;
  /** The lint findings the suggestion would add (their codes and messages): it is dangerous. */
  readonly dangerous?: readonly string[];
  /** How many times the command met it. */
  readonly count: number;
}


function ruleText(span: Span | undefined): string | undefined {
  if (!span) return undefined;
  const text = span.source.text.slice(span.start, span.end).trim().split("\n")[0]!.trim();
  return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

/** The filesystem accesses a failed call asked for, in the order the kernel checks them. */
function fsAccesses(name: string, args: readonly bigint[], path: string | undefined): { access: Access; path?: string; second?: boolean }[] {
  const flagsOf = (i: number): number => Number((args[i] ?? 0n) & 0xffffffffn);
  const open = (flags: number): Access => ((flags & O_CREAT) !== 0 && path !== undefined && !existsSync(path) ? "create-file" : (flags & O_ACCMODE) !== 0 ? "write" : (flags & O_DIRECTORY) !== 0 ? "list" : "read");
  switch (name) {
    case "open": return [{ access: open(flagsOf(1)) }];
    case "openat": case "openat2": return [{ access: open(flagsOf(2)) }];
    case "creat": return [{ access: path !== undefined && !existsSync(path) ? "create-file" : "write" }];
    case "mkdir": case "mkdirat": return [{ access: "create-dir" }];
    case "mknod": case "mknodat": return [{ access: "create-special" }];
    case "unlink": return [{ access: "delete-file" }];
    case "unlinkat": return [{ access: (flagsOf(2) & AT_REMOVEDIR) !== 0 ? "delete-dir" : "delete-file" }];
    case "rmdir": return [{ access: "delete-dir" }];
    case "symlink": case "symlinkat": return [{ access: "create-symlink" }];
    case "truncate": return [{ access: "truncate" }];
    case "execve": case "execveat": return [{ access: "execute" }];
    case "rename": case "renameat": case "renameat2": case "link": case "linkat":
      return [{ access: name.startsWith("link") ? "read" : "delete-file" }, { access: "create-file", second: true }, { access: "rename", second: true }];
    default: return [];
  }
}

/** PATH written with the longest bound parameter it lies under (`${home}/x`), as a policy would say it. */
function symbolic(ir: IR, path: string): string {
  let best: { name: string; value: string } | undefined;
  for (const p of ir.params)
    if (p.value !== null && p.value !== "/" && (path === p.value || path.startsWith(p.value + "/")) && (!best || p.value.length > best.value.length)) best = { name: p.name, value: p.value };
  return best ? "${" + best.name + "}" + path.slice(best.value.length) : path;
}

/** Whether the file's mode lets this user do ACCESS at PATH (for a create or delete: in its directory). */
function modeAllows(access: Access, path: string): boolean {
  const inDir = access.startsWith("create") || access.startsWith("delete") || access === "rename";
  const target = inDir ? dirname(path) : path;
  const mode = inDir ? constants.W_OK | constants.X_OK : access === "read" || access === "list" ? constants.R_OK : access === "execute" ? constants.X_OK : constants.W_OK;
  try {
    accessSync(target, mode);
    return true;
  } catch {
    return false;
  }
}

function deniedBy(layer: Layer, errno: number): Layer {
  return errno === 30 /* EROFS */ ? "mount" : layer;
}

function yamlString(s: string): string {
  return /^[\w./${}@-]+$/.test(s) ? s : JSON.stringify(s);
}

/** Lint a policy that extends the run's policy with SNIPPET; what it finds that the policy alone does not. */
function newLintFindings(policyFile: string | undefined, preset: string | undefined, snippet: string, baseline: Set<string>): string[] {
  // `extends:` takes no absolute path: the suggestion is a virtual file beside the policy, naming it relatively.
  const ext = policyFile !== undefined ? JSON.stringify("./" + basename(policyFile)) : preset!;
  const path = policyFile !== undefined ? join(dirname(policyFile), ".sbc-explain-suggestion.yaml") : "explain-suggestion.yaml";
  const text = `sbc: 1\nname: explain-suggestion\nextends: ${ext}\n${snippet}`;
  try {
    const found = lintPolicyText(text, { path });
    return found.filter((d) => d.code.startsWith("SBC30")).map((d) => `${d.code}: ${d.message}`).filter((f) => !baseline.has(f));
  } catch {
    return [];
  }
}

export interface ExplainOptions {
  readonly arch: Arch;
  /** The run's policy, for linting suggestions: a file (absolute), or a preset's name. */
  readonly policyFile?: string;
  readonly preset?: string;
  /** Skip linting suggestions (tests of the mapping alone). */
  readonly lint?: boolean;
  /** The run was behind the egress proxy (rules by domain): UDP has no way out whatever the policy says. */
  readonly proxied?: boolean;
}

/** Explained denials, one per distinct refusal, in the order first met. */
export function explainRecords(ir: IR, records: readonly TraceRecord[], options: ExplainOptions): Denial[] {
  const seen = new Map<string, { denial: Omit<Denial, "count">; count: number }>();
  let baseline: Set<string> | undefined;
  const lintSuggestion = (snippet: string): string[] | undefined => {
    if (options.lint === false || (options.policyFile === undefined && options.preset === undefined)) return undefined;
    if (!baseline) baseline = new Set(newLintFindings(options.policyFile, options.preset, "", new Set()));
    const found = newLintFindings(options.policyFile, options.preset, snippet, baseline);
    return found.length ? found : undefined;
  };
  for (const r of records) {
    const d = explainOne(ir, r, options.arch, lintSuggestion, options.proxied === true);
    if (!d) continue;
    const key = [d.layer, d.syscall, d.operation, d.path ?? "", d.address ?? "", d.errno].join("\0");
    const prev = seen.get(key);
    if (prev) prev.count += r.repeat ?? 1;
    else seen.set(key, { denial: d, count: r.repeat ?? 1 });
  }
  return [...seen.values()].map(({ denial, count }) => ({ ...denial, count }));
}

function explainOne(ir: IR, r: TraceRecord, arch: Arch, lint: (snippet: string) => string[] | undefined, proxied: boolean): Omit<Denial, "count"> | undefined {
  const name = syscallNameAt(arch, r.nr) ?? `${arch}:${r.nr}`;
  const args = r.args.map((a) => BigInt(a));
  const errno = errnoName(r.errno) ?? String(r.errno);
  const address = r.addr !== undefined ? (r.family === AF_INET6 ? `[${r.addr}]:${r.port}` : `${r.addr}:${r.port}`) : undefined;
  if (r.kind === "seccomp") {
    const v = evaluateSyscall(ir, `${arch}:${r.nr}`, args, { arch });
    const base = { layer: "seccomp" as const, syscall: name, operation: "call", errno, ...(address ? { address } : {}) };
    if (v.implied) {
      const span = ir.network.span;
      // Behind the egress proxy a datagram socket would reach nothing (the namespace has no route, and the
      // proxy carries TCP): no rule to suggest. Tools probe with one (curl, for IPv6) and go on.
      const family = Number(args[0] ?? 0n);
      if (proxied && name === "socket" && (family === AF_INET || family === AF_INET6) && (Number(args[1] ?? 0n) & 0xf) === SOCK_DGRAM) {
        return { ...base, ...(span ? { location: formatLocation(span) } : {}), decidedBy: "the network section: behind the egress proxy UDP has no way out (docs/proxy.md), so seccomp refuses datagram sockets" };
      }
      // The socket was refused before the command chose an address: the port is the user's to fill in.
      const suggestion = `network:\n  rules:\n    - allow: connect\n      ports: [443] # the port the command needs`;
      const dangerous = lint(suggestion);
      return { ...base, ...(span ? { location: formatLocation(span) } : {}), decidedBy: `the network section (${v.implied.reason})`, suggestion, ...(dangerous ? { dangerous } : {}) };
    }
    if (v.rule) {
      const suggestion = `syscalls:\n  rules:\n    - syscalls: [${name}]\n      action: allow`;
      // dangerous-syscall judges allow-lists only; its list of calls that defeat a sandbox holds under any default.
      const listed = DANGEROUS_CALLS.some((c) => c.name === name) ? [`\`${name}\` is on the dangerous-syscall lint rule's list of calls that defeat a sandbox (docs/lint.md#dangerous-syscall)`] : [];
      const dangerous = [...listed, ...(lint(suggestion) ?? [])];
      return { ...base, ...(v.rule.span ? { location: formatLocation(v.rule.span) } : {}), decidedBy: ruleText(v.rule.span) ?? `a rule for \`${name}\``, suggestion, ...(dangerous.length ? { dangerous } : {}) };
    }
    const suggestion = `syscalls:\n  rules:\n    - syscalls: [${name}]\n      action: allow`;
    const dangerous = lint(suggestion);
    return { ...base, ...(ir.syscalls.span ? { location: formatLocation(ir.syscalls.span) } : {}), decidedBy: v.newer ? "`syscalls.newer` (a call newer than the policy)" : "`syscalls.default`", suggestion, ...(dangerous ? { dangerous } : {}) };
  }
  // A watched call that failed: Landlock (EACCES, EPERM, EXDEV) or the mount layer (EROFS), if the policy
  // refuses it; a failure the policy allows is the system's own (file modes, a read-only host mount).
  if (name === "connect" || name === "bind") {
    if (r.family !== AF_INET && r.family !== AF_INET6) return undefined;
    const v = evaluateNetwork(ir, { op: name, protocol: "tcp", host: r.addr ?? "0.0.0.0", port: r.port ?? 0 });
    if (v.decision === "allow") return undefined;
    const span = v.rule?.span ?? ir.network.span;
    const suggestion = `network:\n  rules:\n    - allow: ${name}\n      hosts: [${yamlString(r.addr ?? "0.0.0.0")}]\n      ports: [${r.port ?? 0}]`;
    const dangerous = lint(suggestion);
    return { layer: "landlock", syscall: name, operation: name, errno, ...(address ? { address } : {}), ...(span ? { location: formatLocation(span) } : {}), decidedBy: v.rule ? (ruleText(v.rule.span) ?? "a network rule") : "the network section (default deny)", suggestion, ...(dangerous ? { dangerous } : {}) };
  }
  for (const q of fsAccesses(name, args, r.path)) {
    const path = q.second ? r.path2 : r.path;
    if (path === undefined || !path.startsWith("/")) continue;
    let v;
    try {
      v = evaluateFs(ir, q.access, path);
    } catch (e) {
      if (e instanceof EvaluationError) continue;
      throw e;
    }
    const layer = deniedBy("landlock", r.errno);
    const base = { layer, syscall: name, operation: q.access, path, errno };
    if (v.decision === "allow") {
      // The policy allows it. EROFS is never the file's mode: the mount layer is narrower than the rule (a
      // read-only mount for a `deny: write` nearby, said as a warning before the run). EACCES is Landlock's
      // narrowing only if the file's mode would allow it; else it is the system's own refusal, not listed.
      if (r.errno !== 30 && !modeAllows(q.access, path)) continue;
      const near = (["write", "create-file", "delete-file"] as const).map((a) => evaluateFs(ir, a, path).rule).find((x) => x?.effect === "deny" && x.span);
      return {
        ...base,
        ...(near?.span ? { location: formatLocation(near.span) } : {}),
        decidedBy: `the policy allows \`${q.access}\` here; ${layer === "mount" ? "the mount layer" : "Landlock"} enforces ${near ? `\`${ruleText(near.span)}\`` : "a rule nearby"} more widely (see the warnings before the run)`,
      };
    }
    if (v.rule?.protects !== undefined) {
      const dangerous = ["the name is protected on purpose: allowing writes there lets the command plant hooks or settings that run outside the sandbox later"];
      return { ...base, ...(v.rule.span ? { location: formatLocation(v.rule.span) } : {}), decidedBy: `protect: ${v.rule.protects}`, suggestion: `# remove \`${v.rule.protects}\` from \`protect:\` at ${v.rule.span ? formatLocation(v.rule.span) : "its rule"}`, dangerous };
    }
    if (v.rule) {
      return { ...base, ...(v.rule.span ? { location: formatLocation(v.rule.span) } : {}), decidedBy: ruleText(v.rule.span) ?? `a \`deny\` rule`, suggestion: `# an explicit deny decides: narrow or remove the rule at ${v.rule.span ? formatLocation(v.rule.span) : "its place"}` };
    }
    const target = q.access.startsWith("create") ? path.slice(0, path.lastIndexOf("/")) || "/" : path;
    const suggestion = `filesystem:\n  - allow: [${q.access}]\n    path: ${yamlString(symbolic(ir, target))}`;
    const dangerous = lint(suggestion);
    // No rule grants it: the rule that covers the path for another access (usually a read-only grant) is where
    // a user looks, so it is named, with its place.
    const near = (["read", "list"] as const).map((a) => evaluateFs(ir, a, path).rule).find((x) => x?.effect === "allow" && x.span);
    const covered = near ? `; \`${ruleText(near.span)}\` covers it for ${near.access.join(", ")} only` : "";
    return { ...base, ...(near?.span ? { location: formatLocation(near.span) } : {}), decidedBy: `no rule grants \`${q.access}\` here (default deny)${covered}`, suggestion, ...(dangerous ? { dangerous } : {}) };
  }
  return undefined;
}

/** Parse the tracer's lines; a line that is not a record is skipped (never fatal: the run already happened). */
export function parseTrace(text: string): TraceRecord[] {
  const out: TraceRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as TraceRecord;
      if ((r.kind === "seccomp" || r.kind === "exit") && typeof r.nr === "number" && Array.isArray(r.args)) out.push(r);
    } catch {
      /* a torn line: the tracer was killed mid-write */
    }
  }
  return out;
}

/**
 * The tracer's lines as they arrive, folded: a record that differs from an earlier one only in its pid (or, for
 * a failed path call, its pointers) counts as a repeat, so a command that makes the same refused call a
 * million times costs one record, not a million.
 */
export class TraceCollector {
  private partial = "";
  private readonly decoder = new StringDecoder("utf8"); // a chunk may end inside a character
  private readonly folded = new Map<string, { record: TraceRecord; repeat: number }>();
  add(chunk: Buffer): void {
    const text = this.partial + this.decoder.write(chunk);
    const parts = text.split("\n");
    this.partial = parts.pop()!;
    for (const r of parseTrace(parts.join("\n"))) {
      // A refused call's arguments can decide its rule (conditions); a failed path call's pointers cannot,
      // only its flags (the third register of openat and unlinkat, the second of open).
      const args = r.kind === "seccomp" ? r.args : r.args.slice(1, 3);
      const key = JSON.stringify([r.kind, r.nr, r.errno, r.path, r.path2, r.family, r.addr, r.port, args]);
      const seen = this.folded.get(key);
      if (seen) seen.repeat++;
      else this.folded.set(key, { record: r, repeat: 1 });
    }
  }
  records(): TraceRecord[] {
    return [...this.folded.values()].map(({ record, repeat }) => ({ ...record, pid: 0, repeat }));
  }
}

/**
 * The egress proxy's refusals as denials of the `proxy` layer, folded by host, port and answer. A name no rule
 * allows gets the rule by domain that would allow it; a refusal by a rule or a special range gets none (the
 * rule was written, or the address is private: say it in `hosts:` knowingly).
 */
export function explainProxyRefusals(refused: readonly NetworkEvent[]): Denial[] {
  const out = new Map<string, Denial>();
  for (const e of refused) {
    const address = e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
    const key = `${address}\0${e.status ?? ""}\0${e.rule ?? ""}`;
    const seen = out.get(key);
    if (seen) {
      out.set(key, { ...seen, count: seen.count + 1 });
      continue;
    }
    const byName = /[a-z]/.test(e.host) && !e.host.includes(":");
    const suggestion = e.rule === null && e.status === 403 && byName ? `network:\n  rules:\n    - allow: connect\n      domains: [${yamlString(e.host)}]\n      ports: [${e.port}]` : undefined;
    out.set(key, {
      layer: "proxy",
      syscall: e.via === "socks5" ? "SOCKS5 CONNECT" : e.via === "http" ? `HTTP ${e.method ?? "request"}` : "HTTP CONNECT",
      operation: "connect",
      address,
      errno: `${e.status ?? 403}`,
      ...(e.location ? { location: e.location } : {}),
      decidedBy: e.location ? `\`${e.rule}\`` : e.rule === null && e.status === 403 ? "no rule allows it (default deny)" : (e.text ?? "the egress proxy").replace(/^sbc: /, ""),
      ...(suggestion ? { suggestion } : {}),
      count: 1,
    });
  }
  return [...out.values()];
}

/** The human report: one paragraph per denial. */
export function renderDenials(denials: readonly Denial[]): string {
  if (!denials.length) return "sbc explain: the sandbox refused nothing\n";
  const lines = [`sbc explain: the sandbox refused ${denials.length} distinct access${denials.length === 1 ? "" : "es"}`];
  for (const d of denials) {
    const what = d.path ?? d.address ?? "";
    lines.push(`- ${d.layer}: ${d.operation === "call" ? `${d.syscall}()` : `${d.operation} \`${what}\` (${d.syscall})`}${d.operation === "call" && what ? ` \`${what}\`` : ""} → ${d.errno}${d.count > 1 ? ` ×${d.count}` : ""}`);
    lines.push(`  decided by: ${d.decidedBy}${d.location ? ` at ${d.location}` : ""}`);
    if (d.suggestion) lines.push(`  to allow it:`, ...d.suggestion.split("\n").map((s) => `    ${s}`));
    for (const w of d.dangerous ?? []) lines.push(`  dangerous: ${w}`);
  }
  return lines.join("\n") + "\n";
}
