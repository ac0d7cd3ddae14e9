// `sbc exec` and `sbc debug landlock`: run a command under a policy on Linux. The policy is compiled here —
// built-in parameters bound the way the native loader binds them (workspace = the current directory), the
// Landlock table for the running kernel's ABI with its mount layer, the seccomp filter for this
// architecture — and the native loader applies the resulting plan: in a private mount namespace when it can
// get one (and the policy lets it), else Landlock and seccomp alone, then execs the command. The plan is also
// stored in the plan cache, so the next run of the same policy here starts without Node (bin/sbc).
// `debug landlock` prints what is enforced, dropped and narrowed before it runs the command.

import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { CodeKey } from "../diagnostics/codes.js";
import type { Span } from "../diagnostics/source.js";
import { environmentBindings } from "../compiler/passes/environment.js";
import { evaluateFs } from "../ir/evaluator/evaluate.js";
import type { IR } from "../ir/types.js";
import type { LandlockTable } from "../targets/landlock/lower.js";
import { packageRoot } from "../compiler/package-root.js";
import { findLoader } from "../lib/loader.js";
import type { Arch } from "../linux-abi/index.js";
import { EXIT_FINDINGS, UsageError, exitLikeChild, forwardSignals } from "./exit.js";
import { compileForRun } from "./compile-for-run.js";
import { parseKernelOption, parseParams, printDiagnostics, renderPlain } from "./output.js";
import { buildId, cacheInput, loaderCacheKey, planCacheDir, sha256File, storePlan } from "../lib/plan-cache.js";

/** The command could not be run under the policy (like env(1)'s 125): nothing of the command ran. */
export const EXIT_CANNOT_RUN = 125;

export type NamespacesMode = "auto" | "require" | "never";

export interface ExecOptions {
  preset?: string;
  param: string[];
  compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  /** The run's choice, over the policy's `linux.namespaces`. */
  namespaces?: NamespacesMode;
  /** `--no-cache`: neither store the plan nor (in bin/sbc) look it up. */
  cache?: boolean;
  /** `--kernel X.Y`: overrides the policy's `syscalls.kernel`. */
  kernel?: string;
  debug?: boolean;
  color: boolean;
}

/** Where the install script puts the loader in the package; `findLoader()` (lib/loader.ts) says which one to run. */
export function loaderPath(): string {
  return join(packageRoot(), "native", "build", "sbc-loader");
}

function fail(message: string, help?: string): number {
  process.stderr.write(`sbc: ${message}\n${help ? `  help: ${help}\n` : ""}`);
  return EXIT_CANNOT_RUN;
}

/** The policy cannot be enforced as written here: a coded diagnostic at the rule that asks for it, and 125. */
function refuse(key: CodeKey, message: string, span: Span | undefined, help: string, color: boolean): number {
  printDiagnostics([diag(key, message, { span, help })], { format: "human", color }, process.stderr);
  return EXIT_CANNOT_RUN;
}

/**
 * What the kernel lacks first, and where the policy asks for it (for the diagnostic's span): with no Landlock
 * at all the filesystem rules; else the first right the table handles that came after the kernel's ABI.
 */
function abiReason(ir: IR, table: LandlockTable, kernelAbi: number, ACCESS_FS: { refer: number; truncate: number; ioctl_dev: number }): { what: string; span: Span | undefined } {
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

/** The loader's `--check --explain` on a plan: the protected name it would refuse, and why; undefined otherwise. */
function checkPlan(loader: string, text: string, namespaces: NamespacesMode | undefined): { path: string; why: string } | undefined {
  const r = spawnSync(loader, ["--check", "--explain", ...(namespaces ? ["--namespaces", namespaces] : []), "--plan-fd", "0"], { input: text, encoding: "utf8" });
  const m = /^refuse (\S+) (.*)$/m.exec(r.stdout ?? "");
  if (r.status !== 1 || !m) return undefined;
  return { path: Buffer.from(m[1]!.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8"), why: m[2]! };
}

/** `sbc-loader --probe`, parsed; undefined when the loader cannot answer. */
export function probeKernel(loader: string): { landlockAbi: number; seccomp: boolean; namespaces: string; ioUring: string; line: string } | { error: string } {
  const probe = spawnSync(loader, ["--probe"], { encoding: "utf8" });
  const line = (probe.stdout ?? "").trim();
  const field = (name: string) => new RegExp(`(?:^| )${name}=(\\S+)`).exec(line)?.[1];
  const abi = field("landlock-abi");
  if (probe.status !== 0 || abi === undefined) return { error: (probe.stderr || probe.error?.message || line || "no answer").trim() };
  return { landlockAbi: Number(abi), seccomp: field("seccomp") === "1", namespaces: field("namespaces") ?? "unknown", ioUring: field("io-uring") ?? "unknown", line };
}

export async function runExec(policy: string | undefined, argv: readonly string[], opts: ExecOptions): Promise<number> {
  if ((policy === undefined) === (opts.preset === undefined)) throw new UsageError("name a policy file or a --preset, not both and not neither");
  if (!argv.length) throw new UsageError("name the command to run after `--`", "for example `sbc exec --preset workspace-write -- make test`");
  if (process.platform !== "linux") {
    return fail(`sbc exec runs on Linux (Landlock and seccomp); this is ${process.platform}`, "on macOS use `sbc debug seatbelt`, which runs the command under the policy compiled to a Seatbelt profile");
  }
  // The package's loader, or one built now where install scripts did not run; never a run without one.
  const found = findLoader({ build: true });
  if (!found.ok) {
    printDiagnostics([diag(found.code, `${found.message}; the command is not run`, { help: found.help })], { format: "human", color: opts.color }, process.stderr);
    return EXIT_CANNOT_RUN;
  }
  if (found.notice) process.stderr.write(`sbc: ${found.notice}\n`);
  const loader = found.path;
  const arch: Arch | undefined = process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : undefined;
  if (!arch) return fail(`no seccomp support for the ${process.arch} architecture`);

  // ---- compile, with the built-ins the loader binds (so this plan is the one bin/sbc finds in the cache) ----
  const explicit = parseParams(opts.param);
  const build = buildId();
  const input = build ? cacheInput(build, opts.namespaces, policy !== undefined ? { file: policy } : { preset: opts.preset! }) : undefined;
  const keyed = input ? loaderCacheKey(loader, input, opts.param) : undefined;
  const compat = opts.compat ?? "hard-requirement";
  const kernel = parseKernelOption(opts.kernel);
  const compiled = compileForRun(policy, opts.preset, { ...(keyed?.builtins ?? environmentBindings(process.cwd())), ...explicit }, opts.color, kernel);
  if ("status" in compiled) return compiled.status;
  const ir = compiled.ir;
  const policyMode: NamespacesMode = ir.linux.namespaces;
  const mode = opts.namespaces ?? policyMode;

  // ---- what the kernel offers ----
  const probe = probeKernel(loader);
  if ("error" in probe) return fail(`the loader could not probe the kernel: ${probe.error}`);
  const { ACCESS_FS, MAX_ABI } = await import("../targets/landlock/abi.js");
  const kernelAbi = Math.min(probe.landlockAbi, MAX_ABI);

  const { lowerLandlock } = await import("../targets/landlock/lower.js");
  const { compileSeccomp } = await import("../targets/seccomp/index.js");
  const { allowsEverything, encode } = await import("../targets/seccomp/bpf.js");
  const { buildPlan } = await import("../targets/landlock/plan.js");

  const full = lowerLandlock(ir, { abi: MAX_ABI, namespaces: mode });
  if (!full.table) {
    printDiagnostics(full.diagnostics, { format: "human", color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  const notes: string[] = [];
  const needed = full.table.requiredAbi;
  // The table for this kernel, and what compiling it says: the diagnostics shown before the command runs. With
  // best-effort or soft-requirement on a kernel older than the policy needs, UDP's widening is one the level
  // accepts (said below).
  const acceptAlso = compat !== "hard-requirement" && kernelAbi < needed ? (["udp"] as const) : [];
  // Lowered with the policy's own `namespaces`, as `sbc compile` lowers it: the table does not depend on it, and
  // what a run's `--namespaces never` costs is accepted by that choice, not announced (docs/language.md §12).
  const run = lowerLandlock(ir, { abi: kernelAbi, compat, namespaces: policyMode, acceptAlso, abiCheck: false });
  if (!run.table) {
    // A widening at this kernel's ABI the policy does not accept (SBC2210, at the rule): nothing runs.
    printDiagnostics(run.diagnostics, { format: "human", color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  let table = kernelAbi > 0 ? run.table : undefined;
  let exact = true;
  if (kernelAbi < needed) {
    const what = kernelAbi === 0 ? "this kernel has no Landlock" : `this kernel has Landlock ABI ${kernelAbi}, the policy needs ${needed} to be enforced in full`;
    if (compat === "hard-requirement") {
      const why = abiReason(ir, full.table, kernelAbi, ACCESS_FS);
      return refuse("execLandlockAbi", `${what} (${why.what}); the command is not run`, why.span, "pass `--compat best-effort` to run with what the kernel can enforce, or `--compat soft-requirement` to run without Landlock; `sbc doctor` shows what the kernel has", opts.color);
    }
    exact = false;
    if (compat === "soft-requirement") {
      table = undefined;
      notes.push(`${what}: running WITHOUT Landlock (compatibility: soft-requirement); only the seccomp filter${full.table.mounts.length ? " and the mount layer apply" : " applies"}`);
    } else notes.push(`${what}: running with what ABI ${kernelAbi} enforces (compatibility: best-effort)${full.table.handledAccessNet & ~(table?.handledAccessNet ?? 0) & 0xc ? "; UDP is not restricted" : ""}`);
  }
  if (table && table.handledAccessFs === 0 && table.handledAccessNet === 0 && table.scoped === 0) table = undefined;
  const filter = compileSeccomp(ir, [arch], { unixPathsByLandlock: table !== undefined && (table.handledAccessFs & ACCESS_FS.resolve_unix) !== 0 });
  if (!filter.filter) {
    printDiagnostics(filter.diagnostics, { format: "human", color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  // What compiling said (the policy's warnings, the Landlock table's and the filter's narrowings): said before
  // the command runs, as `sbc compile` says it, and stored with the plan so a cached run says it too.
  const warnings: Diagnostic[] = [...compiled.warnings, ...run.diagnostics, ...filter.diagnostics];
  // A mount namespace the policy or the run requires, on a machine that cannot give one.
  if (mode === "require" && full.table.mounts.length && probe.namespaces.startsWith("none")) {
    const [, step, errno] = probe.namespaces.split(":");
    const span = opts.namespaces ? undefined : ir.linux.span;
    const asked = opts.namespaces ? "`--namespaces require`" : "the policy (`linux.namespaces: require`)";
    return refuse("execNoNamespace", `${asked} requires a mount namespace, and none can be created here: ${step ?? "?"} failed with ${errno ?? "?"}; the command is not run`, span, "`sbc doctor` says why; `--namespaces auto` runs with Landlock alone and says what that loses", opts.color);
  }

  // A protected name the loader would refuse (a link that points nowhere, a broken gitfile): said here, at the
  // rule that protects it, before anything runs. The loader's own check decides, so the two cannot disagree.
  const refusal = checkPlan(loader, buildPlan(table, undefined, { mounts: full.table.mounts, namespaces: policyMode }).text, opts.namespaces);
  if (refusal) {
    const rule = ir.filesystem.find((r) => r.effect === "deny" && r.path === refusal.path) ?? evaluateFs(ir, "write", refusal.path).rule;
    return refuse("execUnprotectable", `${refusal.why}; the command is not run`, rule?.span, "sbc protects what a protected or denied name points at: a link to nothing could be given a target by the command", opts.color);
  }

  // Cache only what bin/sbc could look up: the default compatibility, no debugging, an exact plan.
  const cacheDir = planCacheDir();
  // The cache key does not know `--kernel`, so a run with it neither stores nor (bin/sbc) finds a plan.
  const caching = kernel === undefined && keyed !== undefined && cacheDir !== undefined && opts.cache !== false && !process.env.SBC_NO_CACHE && !opts.debug && compat === "hard-requirement" && exact;
  const deps = caching ? compiled.filesRead.map((path) => ({ path, sha256: sha256File(path) })) : [];
  // A filter that allows everything restricts nothing: no filter, so full access means no sandbox at all.
  const bytes = allowsEverything(filter.filter.program) ? undefined : encode(filter.filter.program);
  const plan = buildPlan(table, bytes, { mounts: full.table.mounts, namespaces: policyMode, ...(caching ? { cacheKey: keyed!.key, deps } : {}) });
  printDiagnostics(warnings, { format: "human", color: opts.color }, process.stderr);
  if (caching) {
    // The stored plan carries the warnings (the loader prints them on a cached run); the one run now does not.
    const stored = warnings.length ? buildPlan(table, bytes, { mounts: full.table.mounts, namespaces: policyMode, cacheKey: keyed!.key, deps, diagnostics: renderPlain(warnings) }).text : plan.text;
    const why = storePlan(cacheDir!, keyed!.key, stored);
    if (why) notes.push(`not caching the plan: ${why}`);
  }
  for (const n of notes) process.stderr.write(`sbc: ${n}\n`);

  if (opts.debug) {
    const lines: string[] = [];
    lines.push(`sbc debug landlock: policy \`${ir.name}\`, kernel Landlock ABI ${kernelAbi}, table ABI ${table?.abi ?? "none"}, compatibility ${compat}`);
    lines.push(`mount namespace: ${mode}${opts.namespaces ? " (this run)" : policyMode !== "auto" ? " (the policy)" : ""}; the kernel offers: ${probe.namespaces}`);
    if (full.table.mounts.length) {
      lines.push("mount layer (in a namespace):");
      for (const m of full.table.mounts) lines.push(`  ${m.path}${m.file ? " (a file)" : ""}: ${m.writable ? "rw" : "ro"} ${m.executable ? "exec" : "noexec"}`);
      if (plan.fallbackNote) lines.push(`without a namespace: ${plan.fallbackNote}`);
    } else lines.push("mount layer: none needed");
    if (table) {
      const { fsRightNames, netRightNames, scopeNames } = await import("../targets/landlock/abi.js");
      lines.push(`handled fs: ${fsRightNames(table.handledAccessFs).join(" ") || "none"}`);
      lines.push(`handled net: ${netRightNames(table.handledAccessNet).join(" ") || "none (every port allowed)"}`);
      lines.push(`scoped: ${scopeNames(table.scoped).join(" ") || "none"}`);
      const dropped = full.table.handledAccessFs & ~table.handledAccessFs;
      if (dropped) lines.push(`NOT enforced on this kernel: ${fsRightNames(dropped).join(" ")}`);
      lines.push("grants:");
      for (const g of table.fs) {
        const ex = g.except?.map((e) => (g.mountEnforced?.includes(e) ? `${e} (mount)` : e));
        lines.push(`  ${g.mode} ${g.path}${ex ? ` except ${ex.join(", ")}` : ""}: ${fsRightNames(g.access).join(" ")}`);
      }
      for (const n of table.net) lines.push(`  port ${n.port}: ${netRightNames(n.access).join(" ")}`);
    } else lines.push("no Landlock ruleset");
    if (plan.report.length) lines.push("at launch:", ...plan.report.map((r) => `  ${r}`));
    lines.push(bytes ? `seccomp: ${filter.filter.program.length} instructions for ${arch}` : "seccomp: none (the filter would allow every syscall)");
    const narrowed: Diagnostic[] = [...run.diagnostics, ...filter.diagnostics];
    if (narrowed.length) lines.push("narrowed or dropped by the compiler:", ...narrowed.map((d) => `  ${d.code}: ${d.message}`));
    lines.push("the loader's report follows (what it mounted, applied, expanded, carved out and skipped):");
    process.stderr.write(lines.join("\n") + "\n");
  }

  // ---- run ----
  const args = [...(opts.debug ? ["--report"] : []), ...(opts.namespaces ? ["--namespaces", opts.namespaces] : []), "--plan-fd", "3", "--", ...argv];
  return await new Promise<number>((resolve) => {
    const child = spawn(loader, args, { stdio: ["inherit", "inherit", "inherit", "pipe"] });
    const pipe = child.stdio[3] as NodeJS.WritableStream;
    pipe.on("error", () => undefined);
    pipe.end(plan.text);
    forwardSignals(child);
    child.on("error", (e) => resolve(fail(`cannot start the loader: ${e.message}`)));
    child.on("exit", (code, signal) => resolve(exitLikeChild(code, signal)));
  });
}
