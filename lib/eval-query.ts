// `sbc eval`'s questions: the query words parsed and asked of the reference evaluator, with the rule that
// decides each answer, and the policy compiled and bound for it (built-ins from the process's environment, as
// `sbc exec` binds them). The CLI parses arguments and prints; this module holds the meaning.

import { ACCESS_CLASSES, type Access } from "../ir/access.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { oneLine } from "../diagnostics/diagnostic.js";
import { formatLocation } from "../diagnostics/source.js";
import { bindIr } from "../ir/bind.js";
import type { IR, UnixPathRule } from "../ir/types.js";
import { parseHostPort } from "../ir/hosts.js";
import { evaluateCommand, evaluateFs, evaluateName, evaluateNetwork, evaluateSyscall, evaluateUnix, EvaluationError, formatAction, type NameVerdict, type SyscallVerdict } from "../ir/evaluator/evaluate.js";
import { parseHttpMethod } from "../ir/http-match.js";
import { parseEndpoint, parseValue, formatIp } from "../ir/values.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { policyInput, type CompileInput } from "./compile.js";
import { environmentBindings } from "../compiler/passes/environment.js";
import { UsageError } from "./errors.js";

export { EvaluationError };

export const EVAL_USAGE =
  "a query is `ACCESS PATH` (e.g. `write ./x`), `connect|bind HOST:PORT [tcp|udp]` (connect also takes NAME:PORT), `unix socketpair`, `unix connect|bind PATH`, `unix connect @NAME`, `syscall NAME [ARG…]` or `command ARGV…`";

export interface EvalAnswer {
  query: string;
  decision: string;
  rule: { section: string; index: number; location: string | null; summary: string; reason?: string } | null;
  /** A syscall asked by name whose answer differs between architectures: each one's. */
  byArch?: { arch: string; nr: number; decision: string; rule: EvalAnswer["rule"] }[];
}

function where(span: { source: unknown } | undefined): string | null {
  return span ? formatLocation(span as never) : null;
}

/**
 * Ask the reference evaluator one question about a bound IR, given as the words of `sbc eval`'s query
 * (`write ./x`, `connect host:443`, `syscall openat`, `command git push` …); relative paths are taken from
 * `cwd`. A malformed query throws UsageError, a question the evaluator cannot answer EvaluationError.
 */
export function evalQuery(ir: IR, words: readonly string[], cwd: string): EvalAnswer {
  const [q, ...rest] = words;
  if (!q) throw new UsageError("no query given", EVAL_USAGE);
  const absolute = (raw: string) => (raw.startsWith("/") || raw.startsWith("${") ? raw : `${cwd === "/" ? "" : cwd}/${raw.replace(/^\.\//, "")}`);
  if ((ACCESS_CLASSES as readonly string[]).includes(q)) {
    if (rest.length !== 1) throw new UsageError(`\`${q}\` takes one path`, EVAL_USAGE);
    const path = absolute(rest[0]!);
    const v = evaluateFs(ir, q as Access, path);
    return {
      query: `${q} ${path}`,
      decision: v.decision,
      rule: v.rule
        ? {
            section: "filesystem",
            index: v.ruleIndex! + 1,
            location: where(v.rule.span),
            summary: `${v.rule.effect} ${v.rule.kind} ${v.rule.path}${v.rule.protects ? ` (protects ${v.rule.protects})` : ""}`,
            ...(v.rule.reason ? { reason: v.rule.reason } : {}),
          }
        : null,
    };
  }
  if (q === "connect" && rest[0] !== undefined && !parseEndpoint(rest[0]).ok) return askName(ir, rest);
  if (q === "connect" || q === "bind") {
    const ep = parseEndpoint(rest[0] ?? "");
    if (!ep.ok) throw new UsageError(ep.issue.message, ep.issue.help);
    const protocol = rest[1] ?? "tcp";
    if (protocol !== "tcp" && protocol !== "udp") throw new UsageError(`protocol must be tcp or udp, found \`${protocol}\``);
    const v = evaluateNetwork(ir, { op: q, protocol, host: formatIp(ep.value.host), port: ep.value.port });
    return {
      query: `${q} ${protocol} ${rest[0]}`,
      decision: v.decision,
      rule: v.rule
        ? { section: "network", index: v.ruleIndex! + 1, location: where(v.rule.span), summary: `${v.rule.effect} ${v.rule.ops.join(",")}`, ...(v.rule.reason ? { reason: v.rule.reason } : {}) }
        : null,
    };
  }
  if (q === "unix") return askUnix(ir, rest, absolute);
  if (q === "syscall") {
    const [name, ...args] = rest;
    if (!name) throw new UsageError("`syscall` takes a name", EVAL_USAGE);
    const values = args.map((a) => {
      const v = parseValue(/^-?\d+$/.test(a) && Math.abs(Number(a)) < 2 ** 53 ? Number(a) : a);
      if (!v.ok) throw new UsageError(v.issue.message, v.issue.help);
      return v.value;
    });
    const v = evaluateSyscall(ir, name, values);
    const decider = (x: SyscallVerdict): EvalAnswer["rule"] =>
      x.rule
        ? { section: "syscalls", index: x.ruleIndex! + 1, location: where(x.rule.span), summary: formatAction(x.rule.action), ...(x.rule.reason ? { reason: x.rule.reason } : {}) }
        : x.implied
          ? { section: "network", index: 0, location: where(ir.network.span), summary: `implied ${formatAction(x.implied.action)}`, reason: x.implied.reason }
          : x.newer
            ? {
                section: "syscalls",
                index: 0,
                location: where(ir.syscalls.span),
                summary: `newer: ${formatAction(x.action)} (a call newer than the policy${ir.syscalls.kernel !== undefined ? `: added after Linux ${ir.syscalls.kernel}` : ": above the highest call its rules name"})`,
              }
            : null;
    const query = `syscall ${name}(${args.join(", ")})`;
    // Asked by name, the arches that have the call may answer differently (numbered rules, `newer`).
    if (v.byArch)
      return {
        query,
        decision: v.byArch.map((a) => `${a.arch}: ${formatAction(a.verdict.action)}`).join(", "),
        rule: null,
        byArch: v.byArch.map((a) => ({ arch: a.arch, nr: a.nr, decision: formatAction(a.verdict.action), rule: decider(a.verdict) })),
      };
    return { query, decision: formatAction(v.action), rule: decider(v) };
  }
  if (q === "command") {
    if (!rest.length) throw new UsageError("`command` takes the argv", EVAL_USAGE);
    const v = evaluateCommand(ir, rest);
    const idx = v.rule ? ir.commands.rules.indexOf(v.rule) : -1;
    return {
      query: `command ${rest.join(" ")}`,
      decision: v.decision,
      rule: v.rule
        ? {
            section: "commands",
            index: idx + 1,
            location: where(v.rule.span),
            summary: `${v.rule.decision} ${v.rule.prefix.map((a) => (a.length > 1 ? `[${a.join("|")}]` : a[0])).join(" ")}`,
            ...(v.rule.reason ? { reason: v.rule.reason } : {}),
          }
        : null,
    };
  }
  throw new UsageError(`unknown query \`${q}\``, EVAL_USAGE);
}

/**
 * `connect NAME:PORT [tcp|udp]`: the domain rules (and any-host IP rules) before resolution, as the egress
 * proxy asks them for a tunnel; `connect NAME:PORT METHOD /PATH`: for a plain-HTTP request, which rules with
 * `http-methods`/`http-paths` match.
 */
function askName(ir: IR, words: readonly string[]): EvalAnswer {
  const hp = parseHostPort(words[0]!);
  if (!hp.ok) throw new UsageError(hp.issue.message, hp.issue.help ?? EVAL_USAGE);
  if (words.length === 3 && words[2]!.startsWith("/") && hp.value.host.kind === "name") {
    const method = parseHttpMethod(words[1]!);
    if (!method.ok) throw new UsageError(method.issue.message, method.issue.help);
    const name = hp.value.host.name;
    const v = evaluateName(ir, { name, port: hp.value.port, http: { method: method.value, path: words[2]! } });
    return { query: `connect tcp ${name}:${hp.value.port} ${method.value} ${words[2]}`, decision: v.decision, rule: nameRule(v) };
  }
  const protocol = words[1] ?? "tcp";
  if (protocol !== "tcp" && protocol !== "udp") throw new UsageError(`protocol must be tcp or udp, found \`${protocol}\``);
  if (words.length > 2) throw new UsageError("`connect` takes HOST:PORT and an optional protocol", EVAL_USAGE);
  if (hp.value.host.kind === "ip") return evalQuery(ir, ["connect", hp.value.host.ip.family === 6 ? `[${formatIp(hp.value.host.ip)}]:${hp.value.port}` : `${formatIp(hp.value.host.ip)}:${hp.value.port}`, protocol], "/");
  const name = hp.value.host.name;
  const v = evaluateName(ir, { name, port: hp.value.port, protocol });
  return { query: `connect ${protocol} ${name}:${hp.value.port}`, decision: v.decision, rule: nameRule(v) };
}

function nameRule(v: NameVerdict): EvalAnswer["rule"] {
  return v.by === "domain"
    ? { section: "network domains", index: v.ruleIndex + 1, location: where(v.rule.span), summary: `${v.rule.effect} connect domains ${v.rule.domains.join(",")}`, ...(v.rule.reason ? { reason: v.rule.reason } : {}) }
    : v.by === "ip"
      ? { section: "network", index: v.ruleIndex + 1, location: where(v.rule.span), summary: `${v.rule.effect} ${v.rule.ops.join(",")} any host`, ...(v.rule.reason ? { reason: v.rule.reason } : {}) }
      : null;
}

function askUnix(ir: IR, words: readonly string[], absolute: (raw: string) => string): EvalAnswer {
  const [op, target, ...extra] = words;
  const u = ir.network.unix;
  if (op === "socketpair" && target === undefined) {
    return { query: "unix socketpair", decision: u.pairs, rule: { section: "network", index: 0, location: where(u.span), summary: `unix pairs: ${u.pairs}` } };
  }
  if ((op !== "connect" && op !== "bind") || target === undefined || extra.length) throw new UsageError("`unix` takes `socketpair`, `connect PATH`, `bind PATH` or `connect @NAME`", EVAL_USAGE);
  if (target.startsWith("@")) {
    if (op === "bind") throw new UsageError("binding abstract names is not restricted: `unix bind` takes a path", EVAL_USAGE);
    const name = target.slice(1);
    return { query: `unix connect @${name}`, decision: u.abstract, rule: { section: "network", index: 0, location: where(u.span), summary: `unix abstract: ${u.abstract}` } };
  }
  const path = absolute(target);
  const v = evaluateUnix(ir, { op, path });
  const by = v.by;
  const pathRule = (rule: UnixPathRule, index: number) => ({
    section: "unix",
    index: index + 1,
    location: where(rule.span),
    summary: `${rule.effect} ${rule.ops.join(",")} ${rule.path}`,
    ...(rule.reason ? { reason: rule.reason } : {}),
  });
  let rule: EvalAnswer["rule"] = null;
  if (by.kind === "path-rule" && by.rule) rule = pathRule(by.rule, by.ruleIndex!);
  else if (by.kind === "filesystem") {
    // Binding creates the socket file: a filesystem rule decides when the path rule allows it.
    rule = by.rule
      ? {
          section: "filesystem",
          index: by.ruleIndex! + 1,
          location: where(by.rule.span),
          summary: `${by.rule.effect} create-special ${by.rule.kind} ${by.rule.path} (binding creates the socket file; ${pathRule(by.pathRule, by.pathRuleIndex).summary} allows it)`,
          ...(by.rule.reason ? { reason: by.rule.reason } : {}),
        }
      : null;
  }
  return { query: `unix ${op} ${path}`, decision: v.decision, rule };
}

export interface EvalPolicyOptions {
  /** Parameter values; built-ins not given here come from the environment (workspace = `cwd`). */
  readonly params?: Readonly<Record<string, string>>;
  readonly kernel?: string;
  readonly cwd?: string;
}

/** The policy built and bound for `sbc eval`: the IR to ask, or the errors that stop it (and the files read). */
export function evalPolicy(input: CompileInput, options: EvalPolicyOptions = {}): { ir?: IR; diagnostics: Diagnostic[]; filesRead: readonly string[] } {
  const cwd = options.cwd ?? process.cwd();
  const r = compilePolicy(policyInput(input), { ...(options.cwd !== undefined ? { cwd: options.cwd } : {}), stopAfter: "build-ir", params: options.params ?? {}, ...(options.kernel !== undefined ? { kernel: options.kernel } : {}) });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.ir || errors.length) return { diagnostics: errors, filesRead: r.filesRead };
  // Built-ins the caller did not bind come from this process's environment.
  const env = environmentBindings(cwd);
  const wanted = Object.fromEntries(r.ir.params.filter((p) => p.value === null && env[p.name] !== undefined).map((p) => [p.name, env[p.name]!]));
  const bound = bindIr(r.ir, wanted);
  return bound.ir ? { ir: bound.ir, diagnostics: [], filesRead: r.filesRead } : { diagnostics: bound.diagnostics, filesRead: r.filesRead };
}

/** An answer as `sbc eval` prints it (the human format). */
export function renderAnswer(answer: EvalAnswer): string {
  let out = "";
  // Index 0 is a setting of a section or a rule the section implies, not one of its numbered rules.
  const decided = (rule: EvalAnswer["rule"], indent: string) => {
    const by = rule && (rule.index === 0 ? `the ${rule.section} section: ${rule.summary}` : `the ${rule.section} rule ${rule.summary}`);
    out += by ? `${indent}decided by ${by}${rule!.location ? ` at ${rule!.location}` : ""}\n` : `${indent}decided by the default\n`;
    if (rule?.reason) out += `${indent}reason: ${oneLine(rule.reason)}\n`;
  };
  if (answer.byArch) {
    out += `differs by architecture  ${answer.query}\n`;
    for (const a of answer.byArch) {
      out += `  ${a.arch} (${a.nr}): ${a.decision}\n`;
      decided(a.rule, "    ");
    }
  } else {
    out += `${answer.decision}  ${answer.query}\n`;
    decided(answer.rule, "  ");
  }
  return out;
}
