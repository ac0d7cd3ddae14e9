// `sbc check`: validate many policies in one run, run the tests written in them, lint them, and report like a
// linter (diagnostics on stdout, a summary, exit 1 on errors or too many warnings). Inputs are files,
// directories, globs and stdin; settings come from the nearest config file (config-file.ts).

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { dedupeDiagnostics, renderHuman, sortDiagnostics, type Diagnostic } from "../lib/report.js";
import { applyRuleSeverities, compilePolicy, fixLoop, lintPolicy, specifiedRules, type CompileResult, type LintRule, type PolicyInput } from "../lib/check.js";
import { expandInputs, matchesIgnore, type CheckInput } from "./check-inputs.js";
import { ConfigFinder, type CheckConfig, type ConfigResult } from "../lib/config-file.js";
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError } from "./exit.js";
import { fidelityOptions, type CheckTargetOptions } from "../lib/check-targets.js";
import { counts, maxWarningsMessage, parseKernelOption, parseParams, printDiagnostics, throwIfEntryUnreadable, writeAtomic } from "./output.js";

export interface CheckCommandOptions extends CheckTargetOptions {
  preset: string[];
  param: string[];
  format: string;
  quiet?: boolean;
  maxWarnings?: number;
  kernel?: string;
  color: boolean;
  /** `--config FILE`, or false for `--no-config`. */
  config?: string | false;
  stdinFilename?: string;
  /** False with `--no-error-on-unmatched-pattern`. */
  errorOnUnmatchedPattern?: boolean;
  fix?: boolean;
  fixDryRun?: boolean;
  verbose?: boolean;
}

interface FileOutcome {
  readonly diagnostics: Diagnostic[];
  readonly fixed: number;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** What the command line cannot change, for embedding and tests: the directory and the lint rules. */
export interface CheckEnvironment {
  readonly cwd?: string;
  /** The lint rules (default: specifiedRules). */
  readonly ruleSet?: readonly LintRule[];
}

export async function runCheck(args: readonly string[], opts: CheckCommandOptions, env: CheckEnvironment = {}): Promise<number> {
  // hrtime, not performance.now(): the first use of the `performance` global loads perf_hooks (several ms).
  const started = process.hrtime.bigint();
  const cwd = env.cwd ?? process.cwd();
  const ruleSet = env.ruleSet ?? specifiedRules;
  const cliParams = parseParams(opts.param);
  const kernel = parseKernelOption(opts.kernel);
  const fixing = opts.fix === true || opts.fixDryRun === true;

  // ---- config: one per directory, the nearest upward; a broken config stops the run (exit 2) ----
  const finder = new ConfigFinder(cwd, ruleSet.map((r) => r.id));
  const configErrors: Diagnostic[] = [];
  const take = (r: ConfigResult | null): CheckConfig | undefined => {
    if (r && r.diagnostics.length) configErrors.push(...r.diagnostics);
    return r?.config;
  };
  const explicit = typeof opts.config === "string" ? take(finder.load(opts.config)) : undefined;
  const configFor = (dir: string): CheckConfig | undefined => (opts.config === false ? undefined : typeof opts.config === "string" ? explicit : take(finder.find(dir)));
  const runConfig = configFor(cwd);
  const stopOnConfigErrors = () => {
    if (!configErrors.length) return;
    for (const d of dedupeDiagnostics(configErrors)) process.stderr.write(renderHuman(d, undefined) + "\n\n");
    throw new ConfigError();
  };

  // ---- inputs ----
  let patterns = args;
  if (args.length === 0 && opts.preset.length === 0) {
    stopOnConfigErrors();
    if (!runConfig?.files?.length) throw new UsageError("name at least one policy file, directory or pattern (or --preset)", "or list them under `files` in sbc.config.json (docs/configuration.md)");
    patterns = runConfig.files.map((p) => join(runConfig.dir, p));
  }
  const isIgnored = (abs: string) => {
    const c = configFor(dirname(abs));
    return c !== undefined && c.ignore.length > 0 && matchesIgnore(c.ignore, c.dir, abs);
  };
  let inputs: CheckInput[];
  try {
    inputs = expandInputs(patterns, {
      cwd,
      errorOnUnmatched: opts.errorOnUnmatchedPattern !== false,
      ...(opts.stdinFilename !== undefined ? { stdinFilename: opts.stdinFilename } : {}),
      isIgnored,
      readStdin: () => readFileSync(0, "utf8"),
    });
  } finally {
    stopOnConfigErrors();
  }
  if (opts.stdinFilename !== undefined && !inputs.some((i) => i.kind === "stdin")) throw new UsageError("--stdin-filename goes with `-` (read the policy from stdin)");
  const stdinFix = fixing && inputs.some((i) => i.kind === "stdin");
  if (stdinFix && inputs.length > 1) throw new UsageError("--fix with `-` checks stdin alone", "its fixed text goes to stdout; check the other files in another run");

  // ---- one policy: compile (every phase that can run), lint when it compiled, fix when asked ----
  const checkPolicy = (input: PolicyInput, config: CheckConfig | undefined): { result: CompileResult; diagnostics: Diagnostic[] } => {
    const result = compilePolicy(input, {
      cwd,
      params: cliParams,
      ...(config && Object.keys(config.params).length ? { defaultParams: config.params } : {}),
      runTests: true,
      allErrors: true,
      ...(kernel !== undefined ? { kernel } : {}),
    });
    const rules = config?.rules ?? {};
    let diagnostics = result.diagnostics;
    // Lint judges a policy that compiled: on a broken or half-built one its findings would be noise.
    if (result.ir && result.files && result.sound) diagnostics = [...diagnostics, ...lintPolicy(result.ir, result.files, { rules, ruleSet, givenParams: Object.keys(cliParams) })];
    // HOOK(fidelity): the targets to report fidelity for are `config?.targets` (or `--target`).
    return { result, diagnostics: sortDiagnostics(applyRuleSeverities(diagnostics, rules)) };
  };

  // ---- target fidelity: `--target`, else the config's `targets`, else every target (check-targets.ts) ----
  const fidelityByConfig = new Map<CheckConfig | undefined, ReturnType<typeof fidelityOptions>>();
  const fidelityFor = (config: CheckConfig | undefined) => {
    const key = opts.target?.length ? undefined : config;
    let f = fidelityByConfig.get(key);
    if (!f) {
      f = fidelityOptions(opts.target?.length || !config?.targets ? opts : { ...opts, target: [config.targets.length ? config.targets.join(",") : "none"] });
      fidelityByConfig.set(key, f);
    }
    return f;
  };
  fidelityFor(runConfig); // a bad --target/--arch/--abi is a usage error before anything is checked
  /** Fidelity findings of a policy that compiled soundly, at the config's severities. */
  const fidelity = async (result: CompileResult, config: CheckConfig | undefined): Promise<Diagnostic[]> =>
    result.sound ? applyRuleSeverities(await fidelityFor(config)(result), config?.rules ?? {}) : [];

  let fixedText: string | undefined;
  const checkInput = async (input: CheckInput): Promise<FileOutcome> => {
    const config = configFor(dirname(input.abs));
    const first =
      input.kind === "stdin"
        ? checkPolicy({ kind: "text", path: input.path, text: input.text }, config)
        : checkPolicy({ kind: "file", path: input.path }, config);
    if (input.kind === "file") throwIfEntryUnreadable(first.result);
    const withFidelity = async (o: { result: CompileResult; diagnostics: Diagnostic[] }) => sortDiagnostics([...o.diagnostics, ...(await fidelity(o.result, config))]);
    if (!fixing) return { diagnostics: await withFidelity(first), fixed: 0 };
    const own = (d: Diagnostic) => d.fix?.edits.every((e) => e.span.source.path === input.path) === true;
    if (!first.diagnostics.some(own)) {
      if (input.kind === "stdin") fixedText = input.text;
      return { diagnostics: await withFidelity(first), fixed: 0 };
    }
    // Only the file checked is rewritten, never a file it extends (ESLint fixes only the files it lints).
    const read = input.kind === "stdin" ? input.text : readFileSync(input.abs, "utf8");
    // Spans are offsets into the text after its byte order mark (load-file.ts drops it); it is kept on writing.
    const bom = read.charCodeAt(0) === 0xfeff ? "\ufeff" : "";
    const original = read.slice(bom.length);
    const r = fixLoop(input.path, original, (text) => checkPolicy({ kind: "text", path: input.path, text }, config).diagnostics, first.diagnostics);
    if (input.kind === "stdin") fixedText = bom + r.text;
    else if (r.text !== original && opts.fix === true && opts.fixDryRun !== true) writeAtomic(input.abs, bom + r.text);
    // Fidelity is judged on the text as fixed (the fix loop compiles and lints only).
    const last = r.text === original ? first : checkPolicy({ kind: "text", path: input.path, text: r.text }, config);
    return { diagnostics: await withFidelity({ result: last.result, diagnostics: r.diagnostics }), fixed: r.fixed };
  };

  const all: Diagnostic[] = [];
  // A diagnostic without a span (a `--param` the policy lacks) belongs to the file being checked: SARIF and
  // GitHub annotations need a file to put it on.
  const owner = new Map<Diagnostic, string>();
  let fixed = 0;
  for (const input of inputs) {
    const r = await checkInput(input);
    for (const d of r.diagnostics) if (!d.span) owner.set(d, input.path);
    all.push(...r.diagnostics);
    fixed += r.fixed;
  }
  for (const p of opts.preset) {
    const r = checkPolicy({ kind: "preset", name: p }, runConfig);
    all.push(...r.diagnostics, ...(await fidelity(r.result, runConfig)));
  }

  // A base file shared by several policies is reported once, not once per policy.
  const unique = dedupeDiagnostics(all);
  // With stdin and --fix, stdout carries the fixed policy (as Prettier and ESLint do); diagnostics go to stderr.
  if (stdinFix) process.stdout.write(fixedText ?? "");
  printDiagnostics(unique, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}), fileOf: (d) => owner.get(d) }, stdinFix ? process.stderr : process.stdout);
  const { errors, warnings } = counts(unique);
  if (opts.verbose) {
    const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    const checked = inputs.length + opts.preset.length;
    const policies = checked === 1 ? "1 policy" : `${checked} policies`;
    process.stderr.write(`sbc: checked ${policies} in ${ms} ms: ${plural(errors, "error")}, ${plural(warnings, "warning")}, ${fixed} fixed\n`);
  }
  if (errors > 0) return EXIT_FINDINGS;
  const maxWarnings = opts.maxWarnings ?? runConfig?.maxWarnings;
  if (maxWarnings !== undefined && maxWarnings >= 0 && warnings > maxWarnings) {
    const limit = opts.maxWarnings !== undefined ? `--max-warnings ${maxWarnings}` : `maxWarnings ${maxWarnings} (${runConfig?.path})`;
    // On stderr, so that --format json/sarif output on stdout stays parseable.
    process.stderr.write(maxWarningsMessage(warnings, maxWarnings, limit) + "\n");
    return EXIT_FINDINGS;
  }
  return EXIT_OK;
}

/** A config file that cannot be used: its diagnostics are printed, and the run ends with exit 2. */
export class ConfigError extends UsageError {
  readonly exitCode = EXIT_USAGE;
  constructor() {
    super("the config file has errors; nothing was checked");
  }
}
