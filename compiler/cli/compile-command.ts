// `sbc compile`: one policy (or preset) to one target's artifact on stdout or in a file. Diagnostics go to
// stderr; on any error nothing is written.

import { MAX_ABI } from "../../targets/landlock/abi.js";
import { closest } from "../diagnostics/diagnostic.js";
import { compilePolicy, type PolicyInput } from "../passes/index.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { parseKernelOption, parseParams, printDiagnostics, throwIfEntryUnreadable, writeAtomic } from "./output.js";
import { parseArches, TARGETS } from "./targets.js";

export interface CompileCommandOptions {
  target: string;
  preset?: string;
  output?: string;
  param: string[];
  withSpans?: boolean;
  abi?: string;
  compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  strict?: boolean;
  arch?: string;
  stopAfter?: "build-ir" | "check";
  kernel?: string;
  format: string;
  quiet?: boolean;
  color: boolean;
}

export async function runCompile(policy: string | undefined, opts: CompileCommandOptions): Promise<number> {
  const target = Object.hasOwn(TARGETS, opts.target) ? TARGETS[opts.target]! : undefined;
  if (!target) {
    const names = Object.keys(TARGETS);
    const guess = closest(opts.target, names);
    throw new UsageError(`unknown target \`${opts.target}\``, guess ? `did you mean \`${guess}\`?` : `targets: ${names.join(", ")}`);
  }
  const arches = parseArches(opts.arch);
  if ((policy === undefined) === (opts.preset === undefined)) {
    throw new UsageError(policy === undefined ? "name a policy file or a --preset" : "name a policy file or a --preset, not both");
  }
  const params = parseParams(opts.param);
  const kernel = parseKernelOption(opts.kernel);
  const input: PolicyInput = policy !== undefined ? { kind: "file", path: policy } : { kind: "preset", name: opts.preset! };
  const result = compilePolicy(input, { params, ...(opts.stopAfter ? { stopAfter: opts.stopAfter } : {}), ...(kernel !== undefined ? { kernel } : {}) });
  if (policy !== undefined) throwIfEntryUnreadable(result);
  const failed = !result.ir || result.diagnostics.some((d) => d.severity === "error");
  let abi: number | undefined;
  if (opts.abi !== undefined) {
    if (!/^[1-9]\d*$/.test(opts.abi) || Number(opts.abi) > MAX_ABI) throw new UsageError(`--abi takes a Landlock ABI from 1 to ${MAX_ABI}, found \`${opts.abi}\``);
    abi = Number(opts.abi);
  }
  const emitted = failed
    ? undefined
    : await target.emit(result.ir!, {
        arches,
        withSpans: Boolean(opts.withSpans),
        ...(abi !== undefined ? { abi } : {}),
        ...(opts.compat ? { compat: opts.compat } : {}),
        ...(opts.strict ? { strict: true } : {}),
      });
  const all = [...result.diagnostics, ...(emitted?.diagnostics ?? [])];
  printDiagnostics(all, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) }, process.stderr);
  if (failed || !emitted?.output || all.some((d) => d.severity === "error")) return EXIT_FINDINGS;
  const out = emitted.output;
  if (opts.output) writeAtomic(opts.output, out);
  else {
    if (typeof out !== "string" && process.stdout.isTTY) throw new UsageError(`target \`${opts.target}\` is binary; write it with \`-o FILE\` or redirect stdout`);
    process.stdout.write(out);
  }
  return EXIT_OK;
}
