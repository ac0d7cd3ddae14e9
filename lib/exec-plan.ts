// What `sbc exec` runs under on this kernel: the Landlock table negotiated down to the kernel's ABI by the
// compatibility level (best effort, soft or hard requirement, as rust-landlock names them), the mount layer,
// the seccomp filter for this arch, and the refusals when the policy cannot be enforced as written (SBC2501–
// SBC2503, at the rule that asks). Pure: the kernel's answers come in (lib/loader.ts probes them).

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { Span } from "../diagnostics/source.js";
import { evaluateFs } from "../ir/evaluator/evaluate.js";
import type { IR } from "../ir/types.js";
import { DEFAULT_PROXY_PORT, lowerDomainRulesForProxy } from "../ir/backend.js";
import type { Arch } from "../linux-abi/index.js";
import { compile as compileLandlock, MAX_ABI, type Compat, type LandlockTable } from "../targets/landlock/index.js";
import { compile as compileSeccomp } from "../targets/seccomp/index.js";
import { ACCESS_FS, fsRightNames, netRightNames, scopeNames } from "../targets/landlock/abi.js";
import { buildPlan, type Plan, type PlanOptions } from "../targets/landlock/plan.js";
import { allowsEverything, encode } from "../targets/seccomp/bpf.js";
import type { NamespacesMode } from "./loader-probe.js";
import { proxyTableLines } from "./proxy/table.js";

export type { Compat, LandlockTable } from "../targets/landlock/index.js";
export type { Plan } from "../targets/landlock/plan.js";

export interface RunOptions {
  /** The arch the filter is for (the machine's). */
  readonly arch: Arch;
  /** The kernel's Landlock ABI as probed (0: none); ABIs newer than sbc knows count as MAX_ABI. */
  readonly kernelAbi: number;
  readonly compat: Compat;
  /** The run's `--namespaces`, over the policy's `linux.namespaces`. */
  readonly namespaces?: NamespacesMode;
  /** The probe's `namespaces=` answer: `user`, `admin` or `none:STEP:ERRNO`. */
  readonly probeNamespaces: string;
  /** The egress proxy's port inside the sandbox, for a policy with rules by domain (default DEFAULT_PROXY_PORT). */
  readonly proxyPort?: number;
}

export interface RunPlan {
  readonly ir: IR;
  readonly kernelAbi: number;
  readonly compat: Compat;
  /** The mount-namespace mode in force (the run's choice, else the policy's), and the policy's own. */
  readonly mode: NamespacesMode;
  readonly policyMode: NamespacesMode;
  /** The table for ABI MAX_ABI: what the policy asks for in full, and its mount layer. */
  readonly full: LandlockTable;
  /** The table applied on this kernel; undefined when no Landlock ruleset is applied. */
  readonly table?: LandlockTable;
  /** The encoded filter; undefined when it would allow every syscall (no filter then). */
  readonly filter?: Uint8Array;
  readonly instructions: number;
  readonly arch: Arch;
  /** False when the kernel enforces less than the policy asks (best-effort, soft-requirement). */
  readonly exact: boolean;
  /** The Landlock table's and the filter's narrowings (warnings), said before the command runs. */
  readonly narrowed: readonly Diagnostic[];
  /** One-line notes on what this kernel costs (`running WITHOUT Landlock …`). */
  readonly notes: readonly string[];
  /**
   * Set when the policy has rules by domain: the command runs in a network namespace of its own behind the
   * egress proxy listening on 127.0.0.1:port there (the plan's `net-proxy`); `ir` keeps the rules by domain,
   * which the proxy's decision service asks (lib/proxy/); `table`, the decision table the plan carries where the
   * relay can decide alone (lib/proxy/table.ts: no HTTP method/path rules).
   */
  readonly netProxy?: { readonly port: number; readonly table?: readonly string[] };
}

export type RunNegotiation =
  /** The policy cannot be compiled for Linux (errors of the table or the filter): exit 1. */
  | { readonly kind: "errors"; readonly diagnostics: Diagnostic[] }
  /** The policy cannot be enforced as written here, and the compatibility level forbids less: nothing runs. */
  | { readonly kind: "refused"; readonly diagnostic: Diagnostic }
  | { readonly kind: "ready"; readonly run: RunPlan };

/**
 * What the kernel lacks first, and where the policy asks for it (for the diagnostic's span): with no Landlock
 * at all the filesystem rules; else the first right the table handles that came after the kernel's ABI.
 */
function abiReason(ir: IR, table: LandlockTable, kernelAbi: number): { what: string; span: Span | undefined } {
  const fsRule = ir.filesystem.find((x) => x.span) ?? ir.filesystem[0];
  const netRule = ir.network.rules.find((x) => x.protocols.includes("tcp") && x.span);
  const needs: [number, boolean, string, Span | undefined][] = [
    [1, table.handledAccessFs !== 0, "the policy restricts the filesystem", fsRule?.span],
    [2, (table.handledAccessFs & ACCESS_FS.refer) !== 0 && table.fs.some((g) => (g.access & ACCESS_FS.refer) !== 0), "renames between directories, which the policy allows somewhere", fsRule?.span],
    [3, (table.handledAccessFs & ACCESS_FS.truncate) !== 0, "truncating files, which the policy restricts", fsRule?.span],
    [4, table.handledAccessNet !== 0, "TCP ports, which the network section restricts", netRule?.span ?? ir.network.span],
    [5, (table.handledAccessFs & ACCESS_FS.ioctl_dev) !== 0, "device ioctls, which the policy restricts", fsRule?.span],
    [6, table.scoped !== 0, "abstract unix sockets outside the sandbox, which the policy denies", ir.network.unix.span ?? ir.network.span],
  ];
  const first = needs.find(([abi, needed]) => needed && abi > kernelAbi);
  return first ? { what: first[2], span: first[3] } : { what: "the policy", span: undefined };
}

/** Negotiate the policy with what the kernel offers: the plan to run, or why nothing may run. */
export function negotiateRun(ir: IR, options: RunOptions): RunNegotiation {
  if (!ir.network.domains?.length) return negotiateKernel(ir, ir, options, []);
  // Rules by domain: the kernel enforces the namespace's side (only the proxy's port, only loopback), the
  // proxy the names. The warnings of that lowering are said with the table's and the filter's.
  const port = options.proxyPort ?? DEFAULT_PROXY_PORT;
  const lowered = lowerDomainRulesForProxy(ir, port);
  const r = negotiateKernel(ir, lowered.ir, options, lowered.diagnostics);
  if (r.kind !== "ready") return r;
  const table = proxyTableLines(r.run.ir, port);
  return { kind: "ready", run: { ...r.run, netProxy: { port, ...(table ? { table } : {}) } } };
}

/** negotiateRun for the IR the kernel enforces (`kernelIr`: `ir` with its rules by domain lowered for the proxy). */
function negotiateKernel(ir: IR, kernelIr: IR, options: RunOptions, lowering: readonly Diagnostic[]): RunNegotiation {
  const { compat, arch } = options;
  const policyMode: NamespacesMode = ir.linux.namespaces;
  const mode = options.namespaces ?? policyMode;
  const kernelAbi = Math.min(options.kernelAbi, MAX_ABI);

  const full = compileLandlock(kernelIr, { abi: MAX_ABI, namespaces: mode });
  if (!full.artifact) return { kind: "errors", diagnostics: full.diagnostics };
  const notes: string[] = [];
  const needed = full.artifact.requiredAbi;
  // The table for this kernel, and what compiling it says: the diagnostics shown before the command runs. With
  // best-effort or soft-requirement on a kernel older than the policy needs, UDP's widening is one the level
  // accepts (said below).
  const acceptAlso = compat !== "hard-requirement" && kernelAbi < needed ? (["udp"] as const) : [];
  // Lowered with the policy's own `namespaces`, as `sbc compile` lowers it: the table does not depend on it, and
  // what a run's `--namespaces never` costs is accepted by that choice, not announced (docs/language.md §12).
  const run = compileLandlock(kernelIr, { abi: kernelAbi, compat, namespaces: policyMode, acceptAlso, abiCheck: false });
  // A widening at this kernel's ABI the policy does not accept (SBC2210, at the rule): nothing runs.
  if (!run.artifact) return { kind: "errors", diagnostics: run.diagnostics };
  let table = kernelAbi > 0 ? run.artifact : undefined;
  let exact = true;
  if (kernelAbi < needed) {
    const what = kernelAbi === 0 ? "this kernel has no Landlock" : `this kernel has Landlock ABI ${kernelAbi}, the policy needs ${needed} to be enforced in full`;
    if (compat === "hard-requirement") {
      const why = abiReason(ir, full.artifact, kernelAbi);
      return {
        kind: "refused",
        diagnostic: diag("execLandlockAbi", `${what} (${why.what}); the command is not run`, {
          span: why.span,
          help: "pass `--compat best-effort` to run with what the kernel can enforce, or `--compat soft-requirement` to run without Landlock; `sbc doctor` shows what the kernel has",
        }),
      };
    }
    exact = false;
    if (compat === "soft-requirement") {
      table = undefined;
      notes.push(`${what}: running WITHOUT Landlock (compatibility: soft-requirement); only the seccomp filter${full.artifact.mounts.length ? " and the mount layer apply" : " applies"}`);
    } else notes.push(`${what}: running with what ABI ${kernelAbi} enforces (compatibility: best-effort)${full.artifact.handledAccessNet & ~(table?.handledAccessNet ?? 0) & 0xc ? "; UDP is not restricted" : ""}`);
  }
  if (table && table.handledAccessFs === 0 && table.handledAccessNet === 0 && table.scoped === 0) table = undefined;
  const filter = compileSeccomp(kernelIr, { arches: [arch], unixPathsByLandlock: table !== undefined && (table.handledAccessFs & ACCESS_FS.resolve_unix) !== 0 });
  if (!filter.artifact) return { kind: "errors", diagnostics: filter.diagnostics };
  // A mount namespace the policy or the run requires, on a machine that cannot give one.
  if (mode === "require" && full.artifact.mounts.length && options.probeNamespaces.startsWith("none")) {
    const [, step, errno] = options.probeNamespaces.split(":");
    const asked = options.namespaces ? "`--namespaces require`" : "the policy (`linux.namespaces: require`)";
    return {
      kind: "refused",
      diagnostic: diag("execNoNamespace", `${asked} requires a mount namespace, and none can be created here: ${step ?? "?"} failed with ${errno ?? "?"}; the command is not run`, {
        span: options.namespaces ? undefined : ir.linux.span,
        help: "`sbc doctor` says why; `--namespaces auto` runs with Landlock alone and says what that loses",
      }),
    };
  }
  // A filter that allows everything restricts nothing: no filter, so full access means no sandbox at all.
  const bytes = allowsEverything(filter.artifact.program) ? undefined : encode(filter.artifact.program);
  return {
    kind: "ready",
    run: {
      ir,
      kernelAbi,
      compat,
      mode,
      policyMode,
      full: full.artifact,
      ...(table ? { table } : {}),
      ...(bytes ? { filter: bytes } : {}),
      instructions: filter.artifact.program.length,
      arch,
      exact,
      narrowed: [...lowering, ...run.diagnostics, ...filter.diagnostics],
      notes,
    },
  };
}

/** The plan the loader applies (`extra`: the cache key, the files and the warnings it carries when stored). */
export function runPlanText(run: RunPlan, extra: Pick<PlanOptions, "cacheKey" | "deps" | "diagnostics"> = {}): Plan {
  // A plan with rules by domain carries the proxy's decision table, so a cached run needs no `sbc exec` behind it.
  return buildPlan(run.table, run.filter, { mounts: run.full.mounts, namespaces: run.policyMode, ...(run.netProxy ? { netProxy: run.netProxy } : {}), ...extra });
}

/**
 * Can the plan run with no `sbc exec` behind it (bin/sbc's fast path, from the cache)? Always without the
 * egress proxy; with it, when the relay can decide alone (lib/proxy/table.ts: no HTTP method/path rules).
 */
export function runsWithoutNode(run: RunPlan): boolean {
  return !run.netProxy || run.netProxy.table !== undefined;
}

/** The plan without its filter, for the loader's `--check` of the names it protects. */
export function checkablePlanText(run: RunPlan): string {
  // Without `net-proxy`: the check reads the names the plan protects, and a plan that routes the network
  // through the proxy is one the loader runs only with its control channel (`--proxy-fd`).
  return buildPlan(run.table, undefined, { mounts: run.full.mounts, namespaces: run.policyMode }).text;
}

/** The loader's refusal of a protected name (`--check --explain`), as a diagnostic at the rule that protects it. */
export function unprotectableDiagnostic(ir: IR, refusal: { path: string; why: string }): Diagnostic {
  const rule = ir.filesystem.find((r) => r.effect === "deny" && r.path === refusal.path) ?? evaluateFs(ir, "write", refusal.path).rule;
  return diag("execUnprotectable", `${refusal.why}; the command is not run`, {
    span: rule?.span,
    help: "sbc protects what a protected or denied name points at: a link to nothing could be given a target by the command",
  });
}

/** `sbc debug landlock`'s account of a run: what is enforced, dropped and narrowed, before the loader's report. */
export function describeRun(run: RunPlan, plan: Plan, probeNamespaces: string, runNamespaces: NamespacesMode | undefined): string[] {
  const { table, full } = run;
  const lines: string[] = [];
  lines.push(`sbc debug landlock: policy \`${run.ir.name}\`, kernel Landlock ABI ${run.kernelAbi}, table ABI ${table?.abi ?? "none"}, compatibility ${run.compat}`);
  if (run.netProxy) lines.push(`network: a network namespace of its own (loopback only) behind sbc's egress proxy on 127.0.0.1:${run.netProxy.port}; rules by domain are decided by the proxy`);
  lines.push(`mount namespace: ${run.mode}${runNamespaces ? " (this run)" : run.policyMode !== "auto" ? " (the policy)" : ""}; the kernel offers: ${probeNamespaces}`);
  if (full.mounts.length) {
    lines.push("mount layer (in a namespace):");
    for (const m of full.mounts) lines.push(`  ${m.path}${m.file ? " (a file)" : ""}: ${m.writable ? "rw" : "ro"} ${m.executable ? "exec" : "noexec"}`);
    if (plan.fallbackNote) lines.push(`without a namespace: ${plan.fallbackNote}`);
  } else lines.push("mount layer: none needed");
  if (table) {
    lines.push(`handled fs: ${fsRightNames(table.handledAccessFs).join(" ") || "none"}`);
    lines.push(`handled net: ${netRightNames(table.handledAccessNet).join(" ") || "none (every port allowed)"}`);
    lines.push(`scoped: ${scopeNames(table.scoped).join(" ") || "none"}`);
    const dropped = full.handledAccessFs & ~table.handledAccessFs;
    if (dropped) lines.push(`NOT enforced on this kernel: ${fsRightNames(dropped).join(" ")}`);
    lines.push("grants:");
    for (const g of table.fs) {
      const ex = g.except?.map((e) => (g.mountEnforced?.includes(e) ? `${e} (mount)` : e));
      lines.push(`  ${g.mode} ${g.path}${ex ? ` except ${ex.join(", ")}` : ""}: ${fsRightNames(g.access).join(" ")}`);
    }
    for (const n of table.net) lines.push(`  port ${n.port}: ${netRightNames(n.access).join(" ")}`);
  } else lines.push("no Landlock ruleset");
  if (plan.report.length) lines.push("at launch:", ...plan.report.map((r) => `  ${r}`));
  lines.push(run.filter ? `seccomp: ${run.instructions} instructions for ${run.arch}` : "seccomp: none (the filter would allow every syscall)");
  if (run.narrowed.length) lines.push("narrowed or dropped by the compiler:", ...run.narrowed.map((d) => `  ${d.code}: ${d.message}`));
  lines.push("the loader's report follows (what it mounted, applied, expanded, carved out and skipped):");
  return lines;
}
