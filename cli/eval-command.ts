// `sbc eval`: ask the reference evaluator one question about a policy from the shell, and see which rule
// decided (lib/eval-query.ts). Built-in parameters default to this process's environment (workspace = current
// directory).

import { evalPolicy, evalQuery, EvaluationError, renderAnswer, type EvalAnswer } from "../lib/eval-query.js";
import type { CompileInput } from "../lib/compile.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { parseKernelOption, parseParams, printDiagnostics, throwIfEntryUnreadable } from "./output.js";

export interface EvalCommandOptions {
  preset?: string;
  param: string[];
  kernel?: string;
  format: string;
  color: boolean;
}

export async function runEval(policy: string | undefined, query: readonly string[], opts: EvalCommandOptions): Promise<number> {
  if ((policy === undefined) === (opts.preset === undefined)) throw new UsageError("name a policy file or a --preset, not both and not neither");
  const cwd = process.cwd();
  const input: CompileInput = policy !== undefined ? { kind: "file", path: policy } : { kind: "preset", name: opts.preset! };
  const explicit = parseParams(opts.param);
  const kernel = parseKernelOption(opts.kernel);
  const r = evalPolicy(input, { params: explicit, cwd, ...(kernel !== undefined ? { kernel } : {}) });
  if (policy !== undefined) throwIfEntryUnreadable(r);
  if (!r.ir) {
    printDiagnostics(r.diagnostics, { format: opts.format === "json" ? "json" : "human", color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  let answer: EvalAnswer;
  try {
    answer = evalQuery(r.ir, query, cwd);
  } catch (e) {
    if (e instanceof EvaluationError) throw new UsageError(e.message);
    throw e;
  }
  process.stdout.write(opts.format === "json" ? JSON.stringify(answer, null, 2) + "\n" : renderAnswer(answer));
  return EXIT_OK;
}
