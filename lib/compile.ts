// The library's one entry point for compiling: a policy (file, preset or text) to any target's artifact, the
// bytes `sbc compile` writes, with every diagnostic and every file read. The CLI's `compile` is a shell
// around it; build scripts and `sbc build` call it directly.

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { closest } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { ARCHES, type Arch } from "../linux-abi/index.js";
import { checkKernelVersion } from "../linux-abi/syscall-versions.js";
import { compilePolicy, type PolicyInput } from "../compiler/passes/index.js";
import { isDslPath } from "../grammar/index.js";
import { MAX_ABI } from "../targets/landlock/abi.js";
import { UsageError } from "./errors.js";
import { TARGETS } from "./targets.js";

export type { IR } from "../ir/types.js";
export type { PolicyInput } from "../compiler/passes/index.js";

export type PolicySyntax = "yaml" | "sbc";

/** What to compile: a policy file, a built-in preset, or policy text (named `path` in diagnostics). */
export type CompileInput =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "preset"; readonly name: string }
  | { readonly kind: "text"; readonly text: string; readonly syntax: PolicySyntax; readonly path?: string };

export interface CompileOptions {
  /** A target of `sbc compile -t` (TARGET_NAMES); default `ir`. */
  readonly target?: string;
  /** Arches for seccomp targets; each target has its default when absent. */
  readonly arch?: Arch | readonly Arch[];
  /** Landlock ABI to build for (1..MAX_ABI); default MAX_ABI. */
  readonly abi?: number;
  readonly compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  readonly strict?: boolean;
  /** Values of the policy's parameters (`--param name=path`). */
  readonly params?: Readonly<Record<string, string>>;
  /** Values for the parameters the policy declares, where `params` gives none (the config file's `params`). */
  readonly defaultParams?: Readonly<Record<string, string>>;
  /** `--kernel X.Y`: the oldest kernel the policy must run on (overrides `syscalls.kernel`). */
  readonly kernel?: string;
  /** `ir` target: keep source spans. */
  readonly withSpans?: boolean;
  /** `sbpl` targets: sbc's egress proxy runs on localhost:proxyPort; rules by domain may reach only it (1–65535). */
  readonly proxyPort?: number;
  /** Stop after a front-end stage (`sbc compile --stop-after`): the `ir` target then shows that stage's IR. */
  readonly stopAfter?: "build-ir" | "check";
  /** Directory `extends:` and relative file paths are resolved from (default: the process's). */
  readonly cwd?: string;
}

export interface CompileOutput {
  /** The artifact: bytes for binary targets (`seccomp`), text for the others. Absent when there are errors. */
  readonly output?: string | Uint8Array;
  /** Every diagnostic of the front end and of the target, errors and warnings. */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Every file read, as absolute paths with links resolved, each once: the policy file and every file it
   * extends, presets included (they live in the package's presets/ folder), also when the policy has errors
   * (for depfiles: fixing an extended file must trigger a rebuild). Text input is not a file: only the files
   * it extends are listed. A file that could not be read (missing, unreadable) is not listed.
   */
  readonly files: readonly string[];
  /** The policy's IR, when it was built. */
  readonly ir?: IR;
  /** True when `output` is present and no diagnostic is an error. */
  readonly ok: boolean;
}

export const TARGET_NAMES: readonly string[] = Object.keys(TARGETS);

const COMPAT_LEVELS: readonly string[] = ["best-effort", "soft-requirement", "hard-requirement"];

/** The binding of a `CompileInput` to the front end's input. */
export function policyInput(input: CompileInput): PolicyInput {
  switch (input.kind) {
    case "file":
      if (typeof input.path !== "string" || input.path === "") throw new UsageError("a `file` input needs a `path`");
      return { kind: "file", path: input.path };
    case "preset":
      if (typeof input.name !== "string") throw new UsageError("a `preset` input needs a `name`");
      return { kind: "preset", name: input.name };
    case "text": {
      if (typeof input.text !== "string") throw new UsageError("a `text` input needs its `text` as a string");
      if (input.syntax !== "yaml" && input.syntax !== "sbc") throw new UsageError(`unknown syntax \`${String(input.syntax)}\``, "syntaxes: yaml, sbc");
      // The front end picks the parser by the name's extension, so a name that says otherwise would parse the
      // text with the wrong one.
      if (input.path !== undefined && isDslPath(input.path) !== (input.syntax === "sbc")) {
        throw new UsageError(`the text is named \`${input.path}\`, which is not a name for \`${input.syntax}\` syntax`, input.syntax === "sbc" ? "name DSL text `*.sbc`" : "name YAML text `*.yaml` (a `.sbc` name means the DSL)");
      }
      return { kind: "text", path: input.path ?? `<text>.${input.syntax === "sbc" ? "sbc" : "yaml"}`, text: input.text };
    }
    default:
      throw new UsageError(`unknown input kind \`${String((input as { kind?: unknown }).kind)}\``, "inputs: file, preset, text");
  }
}

/** Check the options a caller gave, the way the CLI checks its flags; throws UsageError. */
export function checkCompileOptions(options: CompileOptions): void {
  const target = options.target ?? "ir";
  if (!Object.hasOwn(TARGETS, target)) {
    const guess = closest(target, TARGET_NAMES);
    throw new UsageError(`unknown target \`${target}\``, guess ? `did you mean \`${guess}\`?` : `targets: ${TARGET_NAMES.join(", ")}`);
  }
  const list = arches(options);
  if (list && !list.length) throw new UsageError("`arch` needs at least one arch", `arches: ${ARCHES.join(", ")}`);
  for (const a of list ?? []) {
    if (!(ARCHES as readonly string[]).includes(a)) throw new UsageError(`unknown arch \`${a}\``, `arches: ${ARCHES.join(", ")}`);
  }
  if (options.abi !== undefined && (!Number.isInteger(options.abi) || options.abi < 1 || options.abi > MAX_ABI)) {
    throw new UsageError(`the Landlock ABI must be from 1 to ${MAX_ABI}, found \`${options.abi}\``);
  }
  if (options.compat !== undefined && !COMPAT_LEVELS.includes(options.compat)) {
    throw new UsageError(`unknown compatibility level \`${String(options.compat)}\``, `levels: ${COMPAT_LEVELS.join(", ")}`);
  }
  if (options.stopAfter !== undefined && options.stopAfter !== "build-ir" && options.stopAfter !== "check") {
    throw new UsageError(`cannot stop after \`${String(options.stopAfter)}\``, "stages: build-ir, check");
  }
  for (const [k, v] of Object.entries(options.params ?? {})) {
    if (typeof v !== "string") throw new UsageError(`the value of parameter \`${k}\` must be a string (a path), found ${v === null ? "null" : typeof v}`);
  }
  if (options.proxyPort !== undefined && !(Number.isInteger(options.proxyPort) && options.proxyPort >= 1 && options.proxyPort <= 65535)) {
    throw new UsageError(`\`proxyPort\` is a port, 1–65535, found \`${options.proxyPort}\``);
  }
  if (options.proxyPort !== undefined && !(options.target ?? "ir").startsWith("sbpl")) throw new UsageError("`proxyPort` goes with the sbpl targets", "on Linux, `sbc exec` and the `linux` target run the proxy themselves");
  if (options.kernel !== undefined) {
    const bad = checkKernelVersion(options.kernel);
    if (bad) throw new UsageError(`kernel: ${bad.message}`, bad.help);
  }
}

function arches(options: CompileOptions): readonly Arch[] | undefined {
  if (options.arch === undefined) return undefined;
  return typeof options.arch === "string" ? [options.arch] : [...new Set(options.arch)];
}

/** Compile `input` for `options.target`: the same bytes as `sbc compile`. Bad options throw UsageError. */
export async function compile(input: CompileInput, options: CompileOptions = {}): Promise<CompileOutput> {
  checkCompileOptions(options);
  const source = policyInput(input);
  const target = TARGETS[options.target ?? "ir"]!;
  const result = compilePolicy(source, {
    ...(options.params ? { params: options.params } : {}),
    ...(options.defaultParams ? { defaultParams: options.defaultParams } : {}),
    ...(options.kernel !== undefined ? { kernel: options.kernel } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.stopAfter ? { stopAfter: options.stopAfter } : {}),
  });
  const files = [...result.filesRead];
  const failed = !result.ir || result.diagnostics.some((d) => d.severity === "error");
  if (failed) return { diagnostics: result.diagnostics, files, ...(result.ir ? { ir: result.ir } : {}), ok: false };
  const emitted = await target.emit(result.ir!, {
    arches: arches(options),
    withSpans: Boolean(options.withSpans),
    ...(options.abi !== undefined ? { abi: options.abi } : {}),
    ...(options.compat ? { compat: options.compat } : {}),
    ...(options.strict ? { strict: true } : {}),
    ...(options.proxyPort !== undefined ? { proxyPort: options.proxyPort } : {}),
  });
  const diagnostics = [...result.diagnostics, ...emitted.diagnostics];
  const ok = emitted.output !== undefined && !diagnostics.some((d) => d.severity === "error");
  return { ...(ok ? { output: emitted.output! } : {}), diagnostics, files, ir: result.ir!, ok };
}
