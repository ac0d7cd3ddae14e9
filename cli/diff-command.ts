// `sbc diff OLD NEW`: what a policy change widens and narrows, for a reviewer. Compiles both sides (files,
// presets, stdin, `git:REV:path`), hands the IRs to lib/diff and prints the report; exit 1 when anything
// widens (unless --allow-widening), so CI can hold a pull request that opens the sandbox.

import { MAX_ABI } from "../lib/limits.js";
import { diffPolicies, type PolicyChange, type PolicyDiff } from "../lib/diff/index.js";
import type { TargetChange } from "../lib/diff/targets.js";
import { diffToJson, renderDiffHuman, renderDiffMarkdown, spanLine, type DiffNames } from "../lib/diff/render.js";
import { diag, toSarif, packageVersion, type Diagnostic } from "../lib/report.js";
import { BUILTIN_PARAMS } from "../lib/run-policy.js";
import { compileSide, stdinReader } from "../lib/diff/inputs.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { painter, parseKernelOption, parseParams, printDiagnostics } from "./output.js";
import { parseTargetList, type FidelityOptions } from "../lib/target-fidelity.js";
import { parseArches } from "../lib/targets.js";

export const DIFF_FORMATS = ["human", "json", "markdown", "sarif"] as const;

export interface DiffCommandOptions {
  param: string[];
  /** `--target`, as given (comma-separated, repeatable); absent or empty: the IR only. */
  target?: string[];
  arch?: string;
  abi?: string;
  kernel?: string;
  format: string;
  allowWidening?: boolean;
  color: boolean;
}

export async function runDiff(oldWord: string, newWord: string, opts: DiffCommandOptions): Promise<number> {
  if (oldWord === "-" && newWord === "-") throw new UsageError("only one side can be `-` (stdin)");
  if (!(DIFF_FORMATS as readonly string[]).includes(opts.format)) throw new UsageError(`unknown format \`${opts.format}\``, `formats: ${DIFF_FORMATS.join(", ")}`);
  const fidelity = targetOptions(opts);
  const params = parseParams(opts.param);
  const kernel = parseKernelOption(opts.kernel);
  // A parameter may be declared by one side only (the change adds it): bound where declared, not an error in
  // the other; one that neither side declares is checked below.
  const options = { defaultParams: params, ...(kernel !== undefined ? { kernel } : {}) };
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

  const declared = new Set<string>([...BUILTIN_PARAMS, ...a.result.ir.params.map((p) => p.name), ...b.result.ir.params.map((p) => p.name)]);
  const unknown = Object.keys(params).find((k) => !declared.has(k));
  if (unknown !== undefined) throw new UsageError(`\`--param ${unknown}\` binds a parameter neither policy has`, `parameters: ${[...declared].sort().join(", ")}`);

  const diff = diffPolicies(a.result.ir, b.result.ir);
  // The targets' models are loaded only when asked for (they are most of the time a diff takes).
  const targets = fidelity ? await (await import("../lib/diff/targets.js")).diffOnTargets(a.result.ir, b.result.ir, fidelity) : undefined;
  const names: DiffNames = { old: a.name, new: b.name };
  process.stdout.write(render(diff, names, opts, targets));
  const widened = diff.counts.widened > 0 || (targets ?? []).some((t) => t.direction === "widened");
  return widened && !opts.allowWidening ? EXIT_FINDINGS : EXIT_OK;
}

/** `--target`, `--arch`, `--abi` as `sbc check` reads them; undefined without `--target` (the IR only). */
function targetOptions(opts: DiffCommandOptions): FidelityOptions | undefined {
  if (!opts.target?.length) {
    if (opts.arch !== undefined || opts.abi !== undefined) throw new UsageError("--arch and --abi go with --target", "for example `--target seccomp --arch x86_64,aarch64`");
    return undefined;
  }
  const parsed = parseTargetList(opts.target);
  if ("error" in parsed) throw new UsageError(parsed.error.replace(" for check", " for diff"), parsed.help);
  if (!parsed.targets.length) return undefined;
  const arches = parseArches(opts.arch);
  let abi: number | undefined;
  if (opts.abi !== undefined) {
    if (!/^[1-9]\d*$/.test(opts.abi) || Number(opts.abi) > MAX_ABI) throw new UsageError(`--abi takes a Landlock ABI from 1 to ${MAX_ABI}, found \`${opts.abi}\``);
    abi = Number(opts.abi);
  }
  return { targets: parsed.targets, ...(arches ? { arches } : {}), ...(abi !== undefined ? { abi } : {}) };
}

function render(diff: PolicyDiff, names: DiffNames, opts: DiffCommandOptions, targets: readonly TargetChange[] | undefined): string {
  switch (opts.format) {
    case "json":
      return JSON.stringify(diffToJson(diff, names, targets), null, 2) + "\n";
    case "markdown":
      return renderDiffMarkdown(diff, names, targets);
    case "sarif": {
      const log = toSarif(diffDiagnostics(diff, targets), { toolVersion: packageVersion(), cwd: process.cwd(), fileOf: () => names.new });
      return JSON.stringify(log, null, 2) + "\n";
    }
    default: {
      const p = painter(process.stdout, opts.color);
      return renderDiffHuman(diff, names, p ? { red: p.red, green: (s) => p.cyan(s), yellow: p.yellow, bold: p.bold, dim: p.dim } : undefined, targets);
    }
  }
}

/**
 * Each widening as a diagnostic at the new policy's deciding rule, the old side's rule as a label (SARIF):
 * the IR's (SBC1320), then those only a target's model shows (SBC1321).
 */
export function diffDiagnostics(diff: PolicyDiff, targets: readonly TargetChange[] = []): Diagnostic[] {
  return [
    ...diff.changes.filter((c) => c.direction === "widened").map((c) => widening(c, "policyWidened", `${c.section} widened`)),
    ...targets.filter((t) => t.direction === "widened").map((t) => widening(t, "policyWidenedOnTarget", `${t.section} widened on ${t.where} (the IR: ${t.irDirection})`)),
  ];
}

function widening(c: PolicyChange | TargetChange, code: "policyWidened" | "policyWidenedOnTarget", what: string): Diagnostic {
  return diag(code, `${what}: ${c.summary}`, {
    ...(c.new.span ? { span: c.new.span, spanLabel: c.new.kind === "rule" ? "the rule that decides now" : c.new.text } : {}),
    // A file read from a revision is no file of the checkout that code scanning could show: no location for it.
    labels: c.old.span && !c.old.span.source.path.startsWith("git:") ? [{ span: c.old.span, message: `decided before (${spanLine(c.old.span)})` }] : [],
    help: `before: ${c.old.text}`,
  });
}
