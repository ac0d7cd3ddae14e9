// Target fidelity for `sbc check`: for each target asked, the backend's own diagnostics (what `compile -t`
// says: narrowings, widenings, impossibilities) and the policy's `tests:` run against that target's executable
// model — the BPF interpreter on the compiled filter, the Landlock launch model, the Seatbelt model — so a
// test that holds on the IR but not where the policy is enforced is an error (SBC1010). No I/O: IR in,
// diagnostics out (each backend imported once, on first use; results kept in a small per-process memo).
// Which test runs on which model: docs/check-targets.md.

import { CODES } from "../diagnostics/codes.js";
import { diag, type Diagnostic, type Label } from "../diagnostics/diagnostic.js";
import type { Span } from "../diagnostics/source.js";
import { formatAction } from "../ir/evaluator/evaluate.js";
import type { IR, PolicyTest } from "../ir/types.js";
import { DEFAULT_PROXY_PORT, lowerDomainRules, lowerDomainRulesForProxy, lowerDomainRulesToLocalProxy } from "../ir/backend.js";
import { parseIp } from "../ir/values.js";
import type { Access } from "../ir/access.js";
import type { Arch } from "../linux-abi/index.js";
import { bindForTests, describeTest, testBindings, testOutcome } from "../compiler/passes/run-tests.js";

export const FIDELITY_TARGETS = ["seccomp", "landlock", "sbpl"] as const;
export type FidelityTarget = (typeof FIDELITY_TARGETS)[number];

export interface FidelityOptions {
  readonly targets: readonly FidelityTarget[];
  /** seccomp: the arches of the filter (default x86_64, as `compile -t seccomp`). */
  readonly arches?: readonly Arch[];
  /** landlock: the ABI the table is built for (default the newest, as `compile -t landlock`). */
  readonly abi?: number;
}

/**
 * The targets `--target` names: comma-separated and/or repeated; `all` is every target, `none` none; nothing
 * given means every target. An unknown name is returned as the error (the CLI makes it a usage error).
 */
export function parseTargetList(values: readonly string[]): { targets: FidelityTarget[] } | { error: string; help: string } {
  if (!values.length) return { targets: [...FIDELITY_TARGETS] };
  const out = new Set<FidelityTarget>();
  const words = values.flatMap((v) => v.split(",")).map((w) => w.trim()).filter(Boolean);
  for (const w of words) {
    if (w === "all") FIDELITY_TARGETS.forEach((t) => out.add(t));
    else if (w === "none") continue;
    else if ((FIDELITY_TARGETS as readonly string[]).includes(w)) out.add(w as FidelityTarget);
    else return { error: `unknown target \`${w}\` for check`, help: `targets: ${FIDELITY_TARGETS.join(", ")}, all, none` };
  }
  if (!words.length) return { error: "--target needs at least one target", help: `targets: ${FIDELITY_TARGETS.join(", ")}, all, none` };
  return { targets: FIDELITY_TARGETS.filter((t) => out.has(t)) };
}

/** One test the IR passes, with what the reports need. */
interface PassingTest {
  readonly test: PolicyTest;
  readonly label: string;
  readonly description: string;
  readonly decidedBy?: Label;
  readonly span?: Span;
  /** The path the test names, as written (parameters unbound), for matching it in diagnostics' messages. */
  readonly path?: string;
  readonly boundPath?: string;
}

/** What a target's model answered where the IR's answer was another. */
interface Divergence {
  readonly at: PassingTest;
  /** The target and where: `landlock (ABI 10, in a mount namespace)`, `seccomp (x86_64)`. */
  readonly where: string;
  /** The model's answer, as a phrase: `denied`, `errno EPERM`, `refused (\`socket(AF_INET, …)\` gets …)`. */
  readonly got: string;
  /** Why, when the target's documented behaviour explains it and no diagnostic does. */
  readonly why?: string;
}

type Lazy<T> = () => Promise<T>;
function once<T>(load: () => Promise<T>): Lazy<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= load());
}

// Each backend and its model, loaded once per process, on first use.
const seccompModules = once(async () => {
  const [index, interpreter, actions, semantics, multiplexers, abi, numbers, evaluate] = await Promise.all([
    import("../targets/seccomp/index.js"),
    import("../targets/seccomp/interpreter.js"),
    import("../targets/seccomp/actions.js"),
    import("../targets/seccomp/semantics.js"),
    import("../targets/seccomp/multiplexers.js"),
    import("../linux-abi/index.js"),
    import("../ir/evaluator/syscall-numbers.js"),
    import("../ir/evaluator/evaluate.js"),
  ]);
  return { index, interpreter, actions, semantics, multiplexers, abi, numbers, evaluate };
});
const landlockModules = once(async () => {
  const [lower, abi, model, modelNet, plan] = await Promise.all([
    import("../targets/landlock/lower.js"),
    import("../targets/landlock/abi.js"),
    import("../targets/landlock/model.js"),
    import("../targets/landlock/model-net.js"),
    import("../targets/landlock/plan.js"),
  ]);
  return { lower, abi, model, modelNet, plan };
});
const sbplModules = once(async () => {
  const [index, reader, model, operations] = await Promise.all([
    import("../targets/sbpl/index.js"),
    import("../targets/sbpl/reader.js"),
    import("../targets/sbpl/model.js"),
    import("../targets/sbpl/operations.js"),
  ]);
  return { index, reader, model, operations };
});

/**
 * Every target's diagnostics and every test the IR passes but a target's model fails, for `ir` as
 * compilePolicy returns it (parameters may be symbolic; tests get the stand-ins of run-tests.ts).
 */
export async function checkTargetFidelity(ir: IR, options: FidelityOptions): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const proxied = behindProxy(ir);
  let saidProxy = false;
  for (const { target, r } of await runModels(ir, options)) {
    // Rules by domain: what `sbc exec` (Linux) and `sbc debug seatbelt` (macOS) do with them — the egress
    // proxy; on Linux its lowering's warnings, said once for both Linux targets, on macOS SBC1423.
    if (proxied && target !== "sbpl") {
      if (!saidProxy) out.push(...proxied.diagnostics);
      saidProxy = true;
    } else if (proxied) out.push(...lowerDomainRulesToLocalProxy(ir, "sbpl", DEFAULT_PROXY_PORT).diagnostics);
    else out.push(...lowerDomainRules(ir, target, target !== "sbpl").diagnostics);
    out.push(...r.diagnostics, ...r.divergences.map((d) => report(d, r.explainWith ?? r.diagnostics)));
  }
  return out;
}

/** A test the IR passes and a target's model does not (for `sbc diff --target`). */
export interface TargetDivergence {
  readonly target: FidelityTarget;
  /** The test as bound (its `name` is the caller's). */
  readonly test: PolicyTest;
  /** `landlock (ABI 10, in a mount namespace)`, `seccomp (x86_64)`. */
  readonly where: string;
  /** The model's answer: `allowed`, `denied`, `errno EPERM`, `refused (…)`. */
  readonly got: string;
}

/**
 * The divergences checkTargetFidelity reports, as data: `sbc diff --target` writes its probes as the tests of
 * an IR (expecting the IR's own answers) and asks which of them each target answers otherwise.
 */
export async function targetDivergences(ir: IR, options: FidelityOptions): Promise<TargetDivergence[]> {
  const out: TargetDivergence[] = [];
  for (const { target, r } of await runModels(ir, options)) {
    for (const d of r.divergences) out.push({ target, test: d.at.test, where: d.where, got: d.got });
  }
  return out;
}

/** Each target `options` names, in FIDELITY_TARGETS' order, with its model's answers to the tests the IR passes. */
async function runModels(ir: IR, options: FidelityOptions) {
  const passing = passingTests(ir);
  // A policy with rules by domain runs on Linux behind the egress proxy: the kernel's side is the IR lowered
  // for the command's network namespace (lib/exec-plan.ts does the same), and the proxy decides TCP connections
  // with the IR's own evaluator, so the Linux models are not asked about those.
  const proxied = behindProxy(ir);
  const linux = proxied && passing.bound ? { ir: proxied.ir, passing: { ...passing, bound: lowerDomainRulesForProxy(passing.bound).ir, proxied: true } } : { ir, passing };
  // On macOS the proxy listens on the host's loopback (an ephemeral port; the nominal one stands in for it) and
  // the profile reaches only that port for the names: TCP connections are the proxy's there too.
  const mac = proxied && passing.bound ? { ir: lowerDomainRulesToLocalProxy(ir, "sbpl", DEFAULT_PROXY_PORT).ir, passing: { ...passing, proxied: true } } : { ir, passing };
  const out = [];
  for (const target of FIDELITY_TARGETS) {
    if (!options.targets.includes(target)) continue;
    const r = target === "seccomp" ? await seccomp(linux.ir, linux.passing, options) : target === "landlock" ? await landlock(linux.ir, linux.passing, options) : await sbpl(mac.ir, mac.passing);
    out.push({ target, r });
  }
  return out;
}

/** Behind the egress proxy a TCP connection goes through the proxy, which decides it by the IR: no target model's. */
function proxyDecides(passing: ReturnType<typeof passingTests>, t: PassingTest): boolean {
  return passing.proxied === true && t.test.kind === "net" && t.test.protocol === "tcp" && t.test.op === "connect";
}

/** The IR `sbc exec` enforces in the kernel for a policy with rules by domain (memoized per IR). */
const proxiedIrs = new WeakMap<IR, ReturnType<typeof lowerDomainRulesForProxy> | undefined>();
function behindProxy(ir: IR): ReturnType<typeof lowerDomainRulesForProxy> | undefined {
  if (!ir.network.domains?.length) return undefined;
  if (!proxiedIrs.has(ir)) proxiedIrs.set(ir, lowerDomainRulesForProxy(ir));
  return proxiedIrs.get(ir);
}

/** The bound IR and the tests it passes (a failing one is run-tests' to report, once, not once per target). */
function passingTests(ir: IR): { bound?: IR; tests: PassingTest[]; proxied?: boolean } {
  if (!ir.tests.length) return { tests: [] };
  const b = bindForTests(ir).ir;
  if (!b) return { tests: [] };
  const tests: PassingTest[] = [];
  b.tests.forEach((t, i) => {
    // Command rules are the `sbc exec` hook's business: no kernel mechanism decides them.
    if (t.kind === "command") return;
    // Nor names: rules by domain are the egress proxy's (every target refuses them, SBC1410).
    if (t.kind === "net" && !parseIp(t.host) && t.host !== "localhost") return;
    const o = testOutcome(b, t);
    if (o.expected !== o.got) return;
    const orig = ir.tests[i]!;
    tests.push({
      ...("path" in orig && "path" in t ? { path: orig.path, boundPath: t.path } : {}),
      test: t,
      label: t.name ? `test \`${t.name}\`` : `test ${i + 1}`,
      description: describeTest(ir.tests[i]!),
      ...(o.decidedBy ? { decidedBy: o.decidedBy } : {}),
      ...(t.span ? { span: t.span } : {}),
    });
  });
  return { bound: b, tests };
}

function report(d: Divergence, targetDiagnostics: readonly Diagnostic[]): Diagnostic {
  const t = d.at;
  const q = t.test;
  const want = q.kind === "syscall" ? formatAction(q.expect) : q.expect;
  const here = q.kind === "syscall" ? `the policy gives it \`${want}\` here` : `the policy ${q.expect === "allow" ? "allows" : "denies"} it here`;
  return diag("targetTestFailed", `${t.label}: ${t.description} is ${d.got} on ${d.where}, though the policy says ${want}`, {
    ...(t.span ? { span: t.span } : {}),
    labels: t.decidedBy ? [{ span: t.decidedBy.span, message: here }] : [],
    help: d.why ?? explanation(t, targetDiagnostics) ?? `no diagnostic of the target explains it: the target enforces this policy differently without saying so; please report it`,
  });
}

/**
 * The target diagnostic most likely to explain the divergence: one about the rule that decided the test,
 * else the one whose message shares most words with the test (its operation, protocol, access class).
 */
function explanation(t: PassingTest, diagnostics: readonly Diagnostic[]): string | undefined {
  if (!diagnostics.length) return undefined;
  const at = t.decidedBy?.span;
  const overlaps = (s: Span | undefined) => s !== undefined && at !== undefined && s.source.path === at.source.path && s.start < at.end && at.start < s.end;
  const q = t.test;
  const words =
    q.kind === "net" ? [q.op, q.protocol.toUpperCase(), "port"] : q.kind === "fs" ? [`\`${q.access}\``, q.access] : q.kind === "unix" ? ["unix", q.op] : q.kind === "syscall" ? [`\`${q.syscall}\``] : [];
  let best: { d: Diagnostic; score: number } | undefined;
  for (const d of diagnostics) {
    const score = (overlaps(d.span) || d.labels.some((l) => overlaps(l.span)) ? 4 : 0) + words.filter((w) => d.message.includes(w)).length + Math.max(pathScore(t.path, d.message), pathScore(t.boundPath, d.message));
    if (score > 0 && (!best || score > best.score)) best = { d, score };
  }
  if (!best) return undefined;
  const other = diagnostics.length - 1;
  return `${best.score >= 4 ? "the target said so" : "probably what the target said"}, ${best.d.code}: ${best.d.message}${other ? ` (and ${other} more diagnostic${other > 1 ? "s" : ""} of this target)` : ""}`;
}

/** 2 (and a little more the deeper it is) when the message names the test's path or an ancestor of it, a glob's literal head included. */
function pathScore(path: string | undefined, message: string): number {
  if (path === undefined) return 0;
  let best = 0;
  for (const m of message.matchAll(/`([^`]+)`/g)) {
    const parts = m[1]!.split("/");
    const wild = parts.findIndex((c) => /[*?[]/.test(c));
    const head = (wild < 0 ? parts : parts.slice(0, wild)).join("/");
    if (head && (path === head || path.startsWith(head.endsWith("/") ? head : head + "/"))) best = Math.max(best, 2 + head.length / 10_000);
  }
  return best;
}

interface TargetResult {
  readonly diagnostics: Diagnostic[];
  /** Diagnostics that may explain a divergence without being reported (the SBPL profile made for the tests). */
  readonly explainWith?: readonly Diagnostic[];
  readonly divergences: Divergence[];
}

// ---- seccomp: the BPF interpreter on the compiled filter ---------------------------------------------------

const AF_UNIX = 1n;
const AF_INET = 2n;
const AF_INET6 = 10n;
const SOCK_STREAM = 1n;
const SOCK_DGRAM = 2n;

async function seccomp(ir: IR, passing: ReturnType<typeof passingTests>, options: FidelityOptions): Promise<TargetResult> {
  const m = await seccompModules();
  const arches = options.arches ?? ["x86_64"];
  const r = compileSeccompOnce(m, ir, arches);
  const divergences: Divergence[] = [];
  const tests = passing.tests.filter((t) => t.test.kind === "syscall" || t.test.expect === "allow");
  if (!r.filter || !tests.length || !passing.bound) return { diagnostics: r.diagnostics, divergences };
  const filter = r.filter;
  const run = r.run();
  const ask = (arch: Arch, name: string, args: readonly bigint[]) => {
    const nr = m.abi.syscallNumber(arch, name);
    if (nr === undefined) return undefined;
    return run({ arch: m.semantics.AUDIT_ARCH[arch], nr: (nr | m.abi.ARCH_INFO[arch].nrBase) >>> 0, args, byteOrder: filter.endianness }).ret >>> 0;
  };
  const allows = (ret: number) => {
    const a = m.interpreter.actionOf(ret).action;
    return a === "allow" || a === "log";
  };
  const shown = (ret: number) => {
    const { action, data } = m.interpreter.actionOf(ret);
    return action === "errno" ? `errno ${m.abi.errnoName(data) ?? data}` : action;
  };
  for (const t of tests) {
    for (const arch of arches) {
      const where = `seccomp (${arch})`;
      const q = t.test;
      if (q.kind === "syscall") {
        const args = q.args.map((a) => BigInt(a));
        const numbered = m.numbers.numberedEntry(q.syscall);
        let ret: number | undefined;
        if (numbered) {
          if (numbered.arch !== arch) continue;
          ret = run({ arch: m.semantics.AUDIT_ARCH[arch], nr: (numbered.nr | m.abi.ARCH_INFO[arch].nrBase) >>> 0, args, byteOrder: filter.endianness }).ret >>> 0;
        } else {
          const nr = m.abi.syscallNumber(arch, q.syscall);
          if (nr === undefined) continue;
          // Where the arches differ, the IR's own answer on this one is what the filter must give.
          if (!m.evaluate.sameAction(m.evaluate.evaluateSyscallAt(passing.bound, arch, nr, args).action, q.expect)) continue;
          ret = ask(arch, q.syscall, args)!;
        }
        if (ret === m.actions.actionValue(q.expect) >>> 0) continue;
        const name = numbered ? undefined : q.syscall;
        // The IR answers a multiplexer by its own rules; the filter gives each sub-call the answer of the call it stands for.
        const why = name !== undefined && m.multiplexers.isMultiplexer(name) ? `through \`${name}\` the filter gives each sub-call the answer of the call it stands for (docs/targets/seccomp.md); ask the call itself` : undefined;
        divergences.push({ at: t, where, got: shown(ret), ...(why ? { why } : {}) });
        continue;
      }
      // An allowed socket operation needs the filter to let the socket be made and used; the address is
      // behind a pointer, so hosts, ports and paths are Landlock's (see the landlock target).
      const calls: [string, bigint[]][] = [];
      if (q.kind === "net") {
        const domain = q.host.includes(":") ? AF_INET6 : AF_INET;
        const type = q.protocol === "tcp" ? SOCK_STREAM : SOCK_DGRAM;
        calls.push(["socket", [domain, type, 0n]], [q.op, []]);
      } else if (q.kind === "unix") {
        if (q.op === "socketpair") calls.push(["socketpair", [AF_UNIX, SOCK_STREAM, 0n]]);
        else calls.push(["socket", [AF_UNIX, SOCK_STREAM, 0n]]);
      } else continue;
      for (const [name, args] of calls) {
        const ret = ask(arch, name, args);
        if (ret === undefined || allows(ret)) continue;
        const call = args.length ? `\`${name}(${args.map(showArg(name)).join(", ")})\`` : `\`${name}\``;
        divergences.push({ at: t, where, got: `refused (${call} gets ${shown(ret)})` });
        break;
      }
    }
  }
  return { diagnostics: r.diagnostics, divergences };
}

/**
 * Policies checked together often share what a backend reads (most extend a preset and add a few rules, many
 * share their syscall and network sections): a backend's result is kept under what it was computed from (the
 * IR's sections, their spans reduced to their order) and reused for another policy with the same sections. Its
 * diagnostics point into the first policy's files: on reuse, each of their spans is swapped for the span at the
 * same place in the new policy's sections. That gives what the backend would have said, because a backend
 * reads a span only to carry it or to order by it (file, then offset), and the key holds that order; where a
 * diagnostic has a span the sections do not hold at one place, the result is computed afresh. A few dozen
 * entries per backend, dropped oldest first.
 */
const MEMO_LIMIT = 64;
const memos = new Map<string, Map<string, { readonly from: unknown; readonly value: unknown }>>();

function memoized<T extends { readonly diagnostics: readonly Diagnostic[] }>(backend: string, from: unknown, compute: () => T, extra = ""): T {
  let memo = memos.get(backend);
  if (!memo) memos.set(backend, (memo = new Map()));
  const k = extra + memoKey(from);
  const hit = memo.get(k);
  if (hit) {
    const value = hit.value as T;
    if (!value.diagnostics.length) return value;
    const moved = moveDiagnostics(value.diagnostics, hit.from, from);
    if (moved) return { ...value, diagnostics: moved };
  }
  const t = compute();
  if (!hit && memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value!);
  memo.set(k, { from, value: t });
  return t;
}

const isSpan = (v: unknown): v is Span => typeof v === "object" && v !== null && "source" in v && "start" in v && "end" in v;

/** Every span under `root`, in walk order (the IR is a tree of plain objects and arrays). */
function spansOf(root: unknown, out: Span[] = []): Span[] {
  if (typeof root !== "object" || root === null) return out;
  if (Array.isArray(root)) {
    for (const x of root) spansOf(x, out);
    return out;
  }
  for (const [name, v] of Object.entries(root)) {
    if (name === "span" && isSpan(v)) out.push(v);
    else spansOf(v, out);
  }
  return out;
}

/**
 * The memo key: `from` as JSON, each span written as its rank among the sections' files (by path) and its
 * offset's rank within its file, so two keys are equal only when their spans sort the same way.
 */
const keys = new WeakMap<object, string>();

function memoKey(from: unknown): string {
  const known = typeof from === "object" && from !== null ? keys.get(from) : undefined;
  if (known !== undefined) return known;
  const spans = spansOf(from);
  const paths = [...new Set(spans.map((s) => s.source.path))].sort();
  const starts = new Map<string, number[]>();
  for (const s of spans) {
    const list = starts.get(s.source.path) ?? [];
    list.push(s.start, s.end);
    starts.set(s.source.path, list);
  }
  const ranks = new Map<string, Map<number, number>>();
  for (const [path, list] of starts) ranks.set(path, new Map([...new Set(list)].sort((a, b) => a - b).map((n, i) => [n, i])));
  const token = (s: Span) => {
    const r = ranks.get(s.source.path)!;
    return `${paths.indexOf(s.source.path)}:${r.get(s.start)}:${r.get(s.end)}`;
  };
  const key = JSON.stringify(from, (name, v: unknown) => (name === "span" && isSpan(v) ? token(v) : typeof v === "bigint" ? `${v}n` : v));
  if (typeof from === "object" && from !== null) keys.set(from, key);
  return key;
}

/** `diagnostics` made for `was`, their spans swapped for the spans at the same places in `now`; undefined if one has none. */
function moveDiagnostics(diagnostics: readonly Diagnostic[], was: unknown, now: unknown): Diagnostic[] | undefined {
  const a = spansOf(was);
  const b = spansOf(now);
  if (a.length !== b.length) return undefined;
  const to = new Map<Span, Span>();
  const taken = new Set<Span>();
  for (let i = 0; i < a.length; i++) {
    const seen = to.get(a[i]!);
    if (seen !== undefined) {
      if (seen !== b[i]) return undefined;
      continue;
    }
    // One span shared by two places must stay one span, and two must stay two.
    if (taken.has(b[i]!)) return undefined;
    to.set(a[i]!, b[i]!);
    taken.add(b[i]!);
  }
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (d.fix) return undefined;
    const span = d.span && to.get(d.span);
    if (d.span && !span) return undefined;
    const labels: Label[] = [];
    for (const l of d.labels) {
      const s = to.get(l.span);
      if (!s) return undefined;
      labels.push({ ...l, span: s });
    }
    out.push({ ...d, ...(span ? { span } : {}), labels });
  }
  return out;
}

/**
 * What the backends read of an IR: all of it but its name, description (comments in an SBPL profile) and
 * tests; one object per IR, so that its key is computed once for every backend.
 */
const sections = new WeakMap<IR, IR>();
function sectionsOf(ir: IR): IR {
  let s = sections.get(ir);
  if (!s) sections.set(ir, (s = { ...ir, name: "", description: "", tests: [] }));
  return s;
}

type SeccompModules = Awaited<ReturnType<typeof seccompModules>>;
type CompiledFilter = { filter?: NonNullable<ReturnType<SeccompModules["index"]["compileSeccomp"]>["filter"]>; diagnostics: Diagnostic[]; run: () => ReturnType<SeccompModules["interpreter"]["prepareFilter"]> };

function compileSeccompOnce(m: SeccompModules, ir: IR, arches: readonly Arch[]): CompiledFilter {
  return memoized(
    "seccomp",
    [ir.syscalls, ir.network, ir.filesystem.some((r) => r.effect === "allow" && r.access.includes("create-special")), arches],
    () => {
      const r = m.index.compileSeccomp(ir, arches);
      let run: ReturnType<SeccompModules["interpreter"]["prepareFilter"]> | undefined;
      return { ...r, run: () => (run ??= m.interpreter.prepareFilter(r.filter!.program)) };
    },
  );
}

const showArg = (call: string) => (a: bigint, i: number) => {
  if (i === 0 && (call === "socket" || call === "socketpair")) return a === AF_UNIX ? "AF_UNIX" : a === AF_INET ? "AF_INET" : a === AF_INET6 ? "AF_INET6" : String(a);
  if (i === 1 && (call === "socket" || call === "socketpair")) return a === SOCK_STREAM ? "SOCK_STREAM" : a === SOCK_DGRAM ? "SOCK_DGRAM" : String(a);
  return String(a);
};

// ---- landlock: the loader's launch model (mounts, then Landlock) and its port rules -------------------------

/** The call the launch model makes for each access class, and what the tested path must be beforehand. */
const FS_OPS: Readonly<Partial<Record<Access, { op: string; before: "file" | "dir" | "missing" }>>> = {
  read: { op: "read", before: "file" },
  list: { op: "list", before: "dir" },
  write: { op: "write", before: "file" },
  truncate: { op: "truncate", before: "file" },
  execute: { op: "execute", before: "file" },
  "create-file": { op: "create-file", before: "missing" },
  "create-dir": { op: "create-dir", before: "missing" },
  "create-symlink": { op: "create-symlink", before: "missing" },
  "create-special": { op: "create-fifo", before: "missing" },
  "delete-file": { op: "unlink", before: "file" },
  "delete-dir": { op: "rmdir", before: "dir" },
};

async function landlock(ir: IR, passing: ReturnType<typeof passingTests>, options: FidelityOptions): Promise<TargetResult> {
  const m = await landlockModules();
  const abi = options.abi ?? m.abi.MAX_ABI;
  const lowered = memoized("landlock", sectionsOf(ir), () => m.lower.lowerLandlock(ir, { abi, namespaces: ir.linux.namespaces }), `${abi}:`);
  const divergences: Divergence[] = [];
  const tests = passing.tests.filter((t) => !proxyDecides(passing, t) && (t.test.kind === "fs" || t.test.kind === "net" || (t.test.kind === "unix" && t.test.op === "connect" && "path" in t.test)));
  if (!lowered.table || !tests.length || !passing.bound) return { diagnostics: lowered.diagnostics, divergences };
  // Port rules name no path: a policy whose Landlock tests are all about the network asks the table as built.
  // Otherwise, the table as the loader resolves it for the tests' parameter values; lowered from the bound IR
  // if the loader would refuse those values (the stand-ins are not where the table assumed).
  let table = lowered.table;
  const mode = ir.linux.namespaces === "never" ? "landlock" : "namespace";
  let prepared: LaunchModel | undefined;
  if (tests.some((t) => t.test.kind !== "net")) {
    // The resolved table, its plan and the tests' verdicts depend only on the sections (the parameters' stand-ins
    // are a function of them): kept under the same key as the lowering.
    const key = `${abi}:${memoKey(sectionsOf(ir))}`;
    prepared = launchModels.get(key);
    if (!prepared) {
      prepared = prepareLaunch(m, ir, passing.bound, lowered.table, abi, mode);
      if (launchModels.size >= MEMO_LIMIT) launchModels.delete(launchModels.keys().next().value!);
      launchModels.set(key, prepared);
    }
    if (!prepared.table || !prepared.plan) return { diagnostics: lowered.diagnostics, divergences };
    table = prepared.table;
  }
  const where = `landlock (ABI ${abi}${mode === "namespace" ? ", in a mount namespace" : ", without a mount namespace"})`;
  for (const t of tests) {
    const q = t.test;
    let allowed: boolean | undefined;
    if (q.kind === "fs") {
      const asked = `${q.access}\0${q.path}`;
      if (prepared!.verdicts.has(asked)) allowed = prepared!.verdicts.get(asked);
      else prepared!.verdicts.set(asked, (allowed = fsAllowed(m, table, prepared!.plan!, mode, q.access, q.path)));
    }
    else if (q.kind === "net") allowed = m.modelNet.linuxNetAllows(passing.bound, table, { protocol: q.protocol, op: q.op, port: q.port });
    else if (q.kind === "unix" && "path" in q && (table.handledAccessFs & m.abi.ACCESS_FS.resolve_unix) !== 0) allowed = m.modelNet.landlockUnixConnectAllows(table, q.path);
    if (allowed === undefined || allowed === (q.expect === "allow")) continue;
    const why = !allowed && q.kind === "fs" ? rootEntryWhy(passing.bound, q.access, q.path, t.path ?? q.path) : undefined;
    divergences.push({ at: t, where, got: allowed ? "allowed" : "denied", ...(why ? { why } : {}) });
  }
  return { diagnostics: lowered.diagnostics, divergences };
}

/**
 * Landlock gives a rule's rights to what lies beneath its directory: creating, removing or renaming the rule's
 * own path is a change to its parent, which the rule does not reach. The policy language lets a subtree rule
 * cover its root for those too, so a test of exactly that is narrower on Landlock by design, not by a bug.
 */
function rootEntryWhy(bound: IR, access: string, boundPath: string, path: string): string | undefined {
  if (!(access.startsWith("create-") || access.startsWith("delete-") || access === "rename")) return undefined;
  const rule = bound.filesystem.find((r) => r.effect === "allow" && r.kind === "subtree" && r.path === boundPath && r.access.includes(access as never));
  if (!rule) return undefined;
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  return `Landlock gives a rule's rights to the entries beneath \`${path}\`, not to \`${path}\` itself: \`${access}\` of \`${path}\` takes the right on \`${parent}\`; create it before the run, or allow \`${access}\` on the parent if the command must make it`;
}

type LandlockModules = Awaited<ReturnType<typeof landlockModules>>;

/** The launch model of a policy's table for its tests, and the verdicts asked of it so far. */
interface LaunchModel {
  readonly table?: Table;
  readonly plan?: ReturnType<LandlockModules["model"]["parsePlan"]>;
  readonly verdicts: Map<string, boolean | undefined>;
}
const launchModels = new Map<string, LaunchModel>();

/**
 * The table as the loader resolves it for the tests' parameter values (lowered from the bound IR if the loader
 * would refuse those values: the stand-ins are not where the table assumed), and the plan it launches with.
 */
function prepareLaunch(m: LandlockModules, ir: IR, bound: IR, lowered: Table, abi: number, mode: "namespace" | "landlock"): LaunchModel {
  let table = lowered;
  if (table.params?.length) {
    const resolved = m.model.resolveTable(table, testBindings(ir));
    // Only its table is used (its diagnostics speak of the stand-ins).
    const t = resolved.table ?? memoized("landlock-bound", sectionsOf(bound), () => m.lower.lowerLandlock(bound, { abi, namespaces: ir.linux.namespaces }), `${abi}:`).table;
    if (!t) return { verdicts: new Map() };
    table = t;
  }
  try {
    return { table, plan: m.model.parsePlan(m.plan.buildPlan(table, undefined, { mounts: table.mounts, namespaces: mode === "namespace" ? "auto" : "never" }).text, testBindings(ir)), verdicts: new Map() };
  } catch {
    return { verdicts: new Map() };
  }
}
type Table = NonNullable<ReturnType<LandlockModules["lower"]["lowerLandlock"]>["table"]>;

/**
 * One access in a model filesystem where every path the table and its mounts name exists as a directory, and
 * the tested path is what the call needs (a file to read, nothing yet to create). Classes the launch model
 * makes no single call for (`ioctl`, `rename`) are asked of the expanded table, right by right. Undefined
 * when the model cannot say (the loader would refuse the launch).
 */
function fsAllowed(m: LandlockModules, table: Table, plan: ReturnType<LandlockModules["model"]["parsePlan"]>, mode: "namespace" | "landlock", cls: Access, path: string): boolean | undefined {
  const spec: Record<string, { kind: "dir" } | { kind: "file" }> = { "/": { kind: "dir" } };
  const dirs = (p: string, self: boolean) => {
    const parts = p.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length - (self ? 0 : 1); i++) spec["/" + parts.slice(0, i).join("/")] = { kind: "dir" };
  };
  // An `exact:` grant (mode `file`) applies only to a file; every other grant names a directory.
  for (const g of table.fs) dirs(g.path, g.mode !== "file");
  for (const g of table.fs) if (g.mode === "file" && !spec[g.path]) spec[g.path] = { kind: "file" };
  for (const mt of plan.mounts) dirs(mt.path, !mt.file);
  for (const mt of plan.mounts) if (mt.file && !spec[mt.path]) spec[mt.path] = { kind: "file" };
  const how = FS_OPS[cls];
  try {
    if (!how) {
      dirs(path, false);
      spec[path] ??= { kind: "file" };
      const snapshot = new Map(Object.entries(spec).map(([p, e]) => [p, e.kind] as const));
      const applied = m.model.expandTable(table, snapshot);
      const bits = m.lower.RIGHTS_OF[cls];
      for (let bit = 1; bit <= bits; bit <<= 1) if (bits & bit && !m.model.landlockAllows(table, applied, path, bit)) return false;
      return true;
    }
    dirs(path, false);
    if (how.before === "missing") delete spec[path];
    else spec[path] = { kind: how.before };
    // Nothing may stand beneath the tested file.
    if (how.before !== "dir") for (const p of Object.keys(spec)) if (p.startsWith(path === "/" ? "/" : path + "/") && p !== path) delete spec[p];
    const sb = m.model.launch(plan, m.model.FsModel.fromSpec(spec), { mode });
    if (sb.refused !== undefined) return undefined;
    const op = { op: how.op, path } as Parameters<typeof m.model.attempt>[1];
    return m.model.tookEffect(op, m.model.attempt(sb, op), sb.fs);
  } catch {
    return undefined;
  }
}

// ---- sbpl: the Seatbelt model on the emitted profile -------------------------------------------------------

/** The kernel resolves /tmp, /var and /etc to /private/…: the profile is asked in that spelling. */
function macCanonical(path: string): string {
  return /^\/(tmp|var|etc)(\/|$)/.test(path) ? "/private" + path : path;
}

/** The profile as the model reads it: the same text for every policy whose sections are the same (the memo). */
const profiles = new Map<string, ReturnType<SbplModules["reader"]["readSbpl"]>["profile"]>();
function readProfile(m: SbplModules, text: string): ReturnType<SbplModules["reader"]["readSbpl"]>["profile"] {
  if (profiles.has(text)) return profiles.get(text);
  const profile = m.reader.readSbpl(text).profile;
  if (profiles.size >= MEMO_LIMIT) profiles.delete(profiles.keys().next().value!);
  profiles.set(text, profile);
  return profile;
}
type SbplModules = Awaited<ReturnType<typeof sbplModules>>;

async function sbpl(ir: IR, passing: ReturnType<typeof passingTests>): Promise<TargetResult> {
  const m = await sbplModules();
  // With parameters left symbolic, inline mode can only refuse (SBC2303): the diagnostics are param mode's,
  // what `compile -t sbpl --sbpl-params` says.
  const symbolic = ir.params.some((p) => p.value === null);
  const r = memoized("sbpl", sectionsOf(ir), () => m.index.compileSbpl(ir, { params: symbolic ? "param" : "inline" }));
  // A glob under a parameter needs its value even in param mode (SBC2303): `sbc exec` has the values and
  // writes the profile inline, so for check that is no difference from the policy, and is not reported.
  const reported = symbolic ? r.diagnostics.filter((d) => d.code !== CODES.sbplNeedsValue.code) : r.diagnostics;
  const divergences: Divergence[] = [];
  const tests = passing.tests.filter((t) => !proxyDecides(passing, t) && (t.test.kind === "fs" || t.test.kind === "net" || (t.test.kind === "unix" && "path" in t.test)));
  if (!tests.length || !passing.bound) return { diagnostics: reported, divergences };
  // Tests are asked of the profile with the tests' parameter values (the stand-ins, in their macOS spelling)
  // given as sandbox-exec would (-D); where param mode could not write the profile, of one written inline.
  const values = testBindings(ir);
  const bound = r.profile !== undefined ? r : m.index.compileSbpl(passing.bound, { params: "inline" });
  if (!bound.profile) return { diagnostics: reported, divergences };
  const profile = readProfile(m, bound.profile);
  if (!profile) return { diagnostics: reported, divergences };
  const defines = new Map<string, string>();
  for (const [k, v] of bound.defines) {
    const name = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v)?.[1];
    defines.set(k, name !== undefined ? macCanonical(values[name] ?? v) : v);
  }
  const decide = (operation: string, input: Parameters<typeof m.model.evaluateOp>[2]) => m.model.evaluateOp(profile, operation, input, defines).decision === "allow";
  for (const t of tests) {
    const q = t.test;
    let allowed: boolean;
    try {
      if (q.kind === "fs") {
        const vnode = (m.operations.ACCESS_VNODE[q.access] ?? ["regular"])[0] === "directory" || q.access === "create-dir" || q.access === "delete-dir" ? "DIRECTORY" : "REGULAR-FILE";
        const path = macCanonical(q.path);
        allowed = m.operations.FILE_OPERATIONS[q.access].every((op) => decide(op, { path, attrs: { "vnode-type": vnode } }));
      } else if (q.kind === "net") {
        const endpoint = { kind: "ip" as const, host: q.host, port: q.port, protocol: q.protocol };
        allowed = m.operations.NETWORK_OPERATIONS[q.op].every((op) => decide(op, op === "network-outbound" ? { remote: endpoint } : { local: endpoint }));
      } else if (q.kind === "unix" && "path" in q) {
        // Pathname sockets: connecting is `network-outbound` to the address; binding is `network-bind` on it,
        // and creating the socket file, a file operation (create-special).
        const path = macCanonical(q.path);
        const endpoint = { kind: "unix" as const, path };
        allowed =
          q.op === "connect"
            ? decide("network-outbound", { remote: endpoint })
            : decide("network-bind", { local: endpoint }) && m.operations.FILE_OPERATIONS["create-special"].every((op) => decide(op, { path, attrs: { "vnode-type": "SOCKET" } }));
      } else continue;
    } catch {
      // The model cannot answer (an input a filter needs is absent): no verdict, no report.
      continue;
    }
    if (allowed === (q.expect === "allow")) continue;
    divergences.push({ at: t, where: "sbpl (macOS Seatbelt)", got: allowed ? "allowed" : "denied" });
  }
  return { diagnostics: reported, divergences, ...(bound !== r ? { explainWith: [...reported, ...bound.diagnostics] } : {}) };
}
