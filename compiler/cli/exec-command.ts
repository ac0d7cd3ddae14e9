// `sbc exec` and `sbc debug landlock`: run a command under a policy on Linux. The policy is compiled here —
// built-in parameters from this process (workspace = the current directory), the Landlock table for the
// running kernel's ABI, the seccomp filter for this architecture — the table's carve-outs are expanded over
// the filesystem as it is now, and the native loader applies the resulting plan and execs the command.
// `debug landlock` prints what is enforced, dropped and narrowed before it runs the command.

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { environmentBindings } from "../passes/environment.js";
import { packageRoot } from "../package-root.js";
import type { Arch } from "../linux-abi/index.js";
import { EXIT_FINDINGS, UsageError, exitLikeChild, forwardSignals } from "./exit.js";
import { compileForRun } from "./compile-for-run.js";
import { parseParams, printDiagnostics } from "./output.js";

/** The command could not be run under the policy (like env(1)'s 125): nothing of the command ran. */
export const EXIT_CANNOT_RUN = 125;

export interface ExecOptions {
  preset?: string;
  param: string[];
  compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  debug?: boolean;
  color: boolean;
}

function loaderPath(): string {
  return join(packageRoot(), "native", "build", "sbc-loader");
}

function fail(message: string, help?: string): number {
  process.stderr.write(`sbc: ${message}\n${help ? `  help: ${help}\n` : ""}`);
  return EXIT_CANNOT_RUN;
}

export async function runExec(policy: string | undefined, argv: readonly string[], opts: ExecOptions): Promise<number> {
  if ((policy === undefined) === (opts.preset === undefined)) throw new UsageError("name a policy file or a --preset, not both and not neither");
  if (!argv.length) throw new UsageError("name the command to run after `--`", "for example `sbc exec --preset workspace-write -- make test`");
  if (process.platform !== "linux") {
    return fail(`sbc exec runs on Linux (Landlock and seccomp); this is ${process.platform}`, "on macOS use `sbc debug seatbelt`, which runs the command under the policy compiled to a Seatbelt profile");
  }
  const loader = loaderPath();
  if (!existsSync(loader)) {
    return fail("the native loader is not built, so commands cannot be sandboxed here", "it is built by `npm install` with the machine's C compiler; run `node scripts/build-native.mjs` to see why it was not");
  }
  const arch: Arch | undefined = process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : undefined;
  if (!arch) return fail(`no seccomp support for the ${process.arch} architecture`);

  // ---- compile ----
  const cwd = process.cwd();
  const explicit = parseParams(opts.param);
  // Built-ins are always known parameters, so binding them all is safe whatever the policy uses.
  const compiled = compileForRun(policy, opts.preset, { ...environmentBindings(cwd), ...explicit }, opts.color);
  if ("status" in compiled) return compiled.status;
  const ir = compiled.ir;

  // ---- what the kernel offers ----
  const probe = spawnSync(loader, ["--probe"], { encoding: "utf8" });
  const m = /landlock-abi=(\d+)/.exec(probe.stdout ?? "");
  if (probe.status !== 0 || !m) return fail(`the loader could not probe the kernel: ${(probe.stderr || probe.error?.message || "").trim()}`);
  const kernelAbi = Math.min(Number(m[1]), 7);

  const { lowerLandlock } = await import("../../targets/landlock/lower.js");
  const { compileSeccomp } = await import("../../targets/seccomp/index.js");
  const { encode } = await import("../../targets/seccomp/bpf.js");
  const { buildPlan } = await import("../../targets/landlock/plan.js");

  const full = lowerLandlock(ir, { abi: 7 });
  if (!full.table) {
    printDiagnostics(full.diagnostics, { format: "human", color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  const compat = opts.compat ?? "hard-requirement";
  const notes: string[] = [];
  let table = kernelAbi > 0 ? lowerLandlock(ir, { abi: kernelAbi, compat }).table : undefined;
  const needed = full.table.requiredAbi;
  if (kernelAbi < needed) {
    const what = kernelAbi === 0 ? "this kernel has no Landlock" : `this kernel has Landlock ABI ${kernelAbi}, the policy needs ${needed} to be enforced in full`;
    if (compat === "hard-requirement") return fail(`${what}; not running the command (compatibility: hard-requirement)`, "pass `--compat best-effort` to run with what the kernel can enforce, or `--compat soft-requirement` to run without Landlock");
    if (compat === "soft-requirement") {
      table = undefined;
      notes.push(`${what}: running WITHOUT Landlock (compatibility: soft-requirement); only the seccomp filter applies`);
    } else notes.push(`${what}: running with what ABI ${kernelAbi} enforces (compatibility: best-effort)`);
  }
  if (table && table.handledAccessFs === 0 && table.handledAccessNet === 0 && table.scoped === 0) table = undefined;
  const filter = compileSeccomp(ir, [arch]);
  if (!filter.filter) {
    printDiagnostics(filter.diagnostics, { format: "human", color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  const plan = buildPlan(table, encode(filter.filter.program));
  for (const n of notes) process.stderr.write(`sbc: ${n}\n`);

  if (opts.debug) {
    const lines: string[] = [];
    lines.push(`sbc debug landlock: policy \`${ir.name}\`, kernel Landlock ABI ${kernelAbi}, table ABI ${table?.abi ?? "none"}, compatibility ${compat}`);
    if (table) {
      const { fsRightNames, netRightNames, scopeNames } = await import("../../targets/landlock/abi.js");
      lines.push(`handled fs: ${fsRightNames(table.handledAccessFs).join(" ") || "none"}`);
      lines.push(`handled net: ${netRightNames(table.handledAccessNet).join(" ") || "none (every TCP port allowed)"}`);
      lines.push(`scoped: ${scopeNames(table.scoped).join(" ") || "none"}`);
      const dropped = full.table.handledAccessFs & ~table.handledAccessFs;
      if (dropped) lines.push(`NOT enforced on this kernel: ${fsRightNames(dropped).join(" ")}`);
      lines.push("grants:");
      for (const g of table.fs) lines.push(`  ${g.mode} ${g.path}${g.except ? ` except ${g.except.join(", ")}` : ""}: ${fsRightNames(g.access).join(" ")}`);
      for (const n of table.net) lines.push(`  tcp port ${n.port}: ${netRightNames(n.access).join(" ")}`);
      if (plan.report.length) lines.push("at launch:", ...plan.report.map((r) => `  ${r}`));
    } else lines.push("no Landlock ruleset");
    lines.push(`seccomp: ${filter.filter.program.length} instructions for ${arch}`);
    const narrowed: Diagnostic[] = [...full.diagnostics, ...filter.diagnostics];
    if (narrowed.length) lines.push("narrowed or dropped by the compiler:", ...narrowed.map((d) => `  ${d.code}: ${d.message}`));
    lines.push("the loader's report follows (what it applied, expanded, carved out and skipped):");
    process.stderr.write(lines.join("\n") + "\n");
  }

  // ---- run ----
  return await new Promise<number>((resolve) => {
    const child = spawn(loader, [...(opts.debug ? ["--report"] : []), "--plan-fd", "3", "--", ...argv], { stdio: ["inherit", "inherit", "inherit", "pipe"] });
    const pipe = child.stdio[3] as NodeJS.WritableStream;
    pipe.on("error", () => undefined);
    pipe.end(plan.text);
    forwardSignals(child);
    child.on("error", (e) => resolve(fail(`cannot start the loader: ${e.message}`)));
    child.on("exit", (code, signal) => resolve(exitLikeChild(code, signal)));
  });
}
