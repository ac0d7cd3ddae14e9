// `sbc diff OLD NEW`: what a policy change widens and narrows, for a reviewer. Compiles both sides (files,
// presets, stdin, `git:REV:path`), hands the IRs to lib/diff and prints the report; exit 1 when anything
// widens (unless --allow-widening), so CI can hold a pull request that opens the sandbox.

import { diffPolicies, type PolicyChange, type PolicyDiff } from "../../lib/diff/index.js";
import { diffToJson, renderDiffHuman, renderDiffMarkdown, spanLine, type DiffNames } from "../../lib/diff/render.js";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { toSarif } from "../diagnostics/sarif.js";
import { packageVersion } from "../package-root.js";
import { compileSide, stdinReader } from "./diff-inputs.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { painter, parseKernelOption, parseParams, printDiagnostics } from "./output.js";

export const DIFF_FORMATS = ["human", "json", "markdown", "sarif"] as const;

export interface DiffCommandOptions {
  param: string[];
  kernel?: string;
  format: string;
  allowWidening?: boolean;
  color: boolean;
}

export async function runDiff(oldWord: string, newWord: string, opts: DiffCommandOptions): Promise<number> {
  if (oldWord === "-" && newWord === "-") throw new UsageError("only one side can be `-` (stdin)");
  if (!(DIFF_FORMATS as readonly string[]).includes(opts.format)) throw new UsageError(`unknown format \`${opts.format}\``, `formats: ${DIFF_FORMATS.join(", ")}`);
  const params = parseParams(opts.param);
  const kernel = parseKernelOption(opts.kernel);
  const options = { params, ...(kernel !== undefined ? { kernel } : {}) };
  const cwd = process.cwd();
  const stdin = stdinReader();
  const a = compileSide(oldWord, options, cwd, stdin);
  const b = compileSide(newWord, options, cwd, stdin);

  const errors = [...a.result.diagnostics, ...b.result.diagnostics].filter((d) => d.severity === "error");
  if (errors.length || !a.result.ir || !b.result.ir) {
    // The policies' own diagnostics, errors only: a diff of a policy that does not compile means nothing.
    const format = opts.format === "json" || opts.format === "sarif" ? opts.format : "human";
    printDiagnostics(errors, { format, color: opts.color, fileOf: () => undefined }, process.stderr);
    return EXIT_FINDINGS;
  }

  const diff = diffPolicies(a.result.ir, b.result.ir);
  const names: DiffNames = { old: a.name, new: b.name };
  process.stdout.write(render(diff, names, opts));
  return diff.counts.widened > 0 && !opts.allowWidening ? EXIT_FINDINGS : EXIT_OK;
}

function render(diff: PolicyDiff, names: DiffNames, opts: DiffCommandOptions): string {
  switch (opts.format) {
    case "json":
      return JSON.stringify(diffToJson(diff, names), null, 2) + "\n";
    case "markdown":
      return renderDiffMarkdown(diff, names);
    case "sarif": {
      const log = toSarif(diffDiagnostics(diff), { toolVersion: packageVersion(), cwd: process.cwd(), fileOf: () => names.new });
      return JSON.stringify(log, null, 2) + "\n";
    }
    default: {
      const p = painter(process.stdout, opts.color);
      return renderDiffHuman(diff, names, p ? { red: p.red, green: (s) => p.cyan(s), yellow: p.yellow, bold: p.bold, dim: p.dim } : undefined);
    }
  }
}

/** Each widening as a diagnostic at the new policy's deciding rule, the old side's rule as a label (SARIF). */
export function diffDiagnostics(diff: PolicyDiff): Diagnostic[] {
  return diff.changes.filter((c) => c.direction === "widened").map((c) => widening(c));
}

function widening(c: PolicyChange): Diagnostic {
  return diag("policyWidened", `${c.section} widened: ${c.summary}`, {
    ...(c.new.span ? { span: c.new.span, spanLabel: c.new.kind === "rule" ? "the rule that decides now" : c.new.text } : {}),
    labels: c.old.span ? [{ span: c.old.span, message: `decided before (${spanLine(c.old.span)})` }] : [],
    help: `before: ${c.old.text}`,
  });
}
