// `sbc compile`: one policy (or preset) to one target's artifact on stdout or in a file. Diagnostics go to
// stderr; on any error nothing is written.

import { closest } from "../diagnostics/diagnostic.js";
import { irToJson } from "../ir/serialize.js";
import { compilePolicy, type PolicyInput } from "../passes/index.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { parseParams, printDiagnostics, writeAtomic } from "./output.js";

export const TARGETS = ["ir"] as const;

export interface CompileCommandOptions {
  target: string;
  preset?: string;
  output?: string;
  param: string[];
  withSpans?: boolean;
  stopAfter?: "build-ir" | "check";
  format: string;
  quiet?: boolean;
  color: boolean;
}

export async function runCompile(policy: string | undefined, opts: CompileCommandOptions): Promise<number> {
  if (!(TARGETS as readonly string[]).includes(opts.target)) {
    const guess = closest(opts.target, TARGETS);
    throw new UsageError(`unknown target \`${opts.target}\``, guess ? `did you mean \`${guess}\`?` : `targets: ${TARGETS.join(", ")}`);
  }
  if ((policy === undefined) === (opts.preset === undefined)) {
    throw new UsageError(policy === undefined ? "name a policy file or a --preset" : "name a policy file or a --preset, not both");
  }
  const params = parseParams(opts.param);
  const input: PolicyInput = policy !== undefined ? { kind: "file", path: policy } : { kind: "preset", name: opts.preset! };
  const result = compilePolicy(input, { params, ...(opts.stopAfter ? { stopAfter: opts.stopAfter } : {}) });
  if (!result.ir && result.filesRead.length === 0 && policy !== undefined && result.diagnostics.some((d) => d.code === "SBC0101")) {
    throw new UsageError(result.diagnostics[0]!.message);
  }
  printDiagnostics(result.diagnostics, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) }, process.stderr);
  if (!result.ir || result.diagnostics.some((d) => d.severity === "error")) return EXIT_FINDINGS;
  const text = irToJson(result.ir, { spans: Boolean(opts.withSpans) });
  if (opts.output) writeAtomic(opts.output, text);
  else process.stdout.write(text);
  return EXIT_OK;
}
