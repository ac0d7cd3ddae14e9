// The library's one entry point for compiling: a policy (file, preset or text) to any target's artifact, the
// bytes `sbc compile` writes, with every diagnostic and every file read. The CLI's `compile` is a shell
// around it; build scripts and `sbc build` call it directly.

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { closest } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { ARCHES, type Arch } from "../linux-abi/index.js";
import { checkKernelVersion } from "../linux-abi/syscall-versions.js";
import { compilePolicy, type PolicyInput } from "../compiler/passes/index.js";
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
  /** `--kernel X.Y`: the oldest kernel the policy must run on (overrides `syscalls.kernel`). */
  readonly kernel?: string;
  /** `ir` target: keep source spans. */
  readonly withSpans?: boolean;
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
  /** Every file read: the policy and each file it extends (as given or resolved), for depfiles. */
  readonly files: readonly string[];
  /** The policy's IR, when it was built. */
  readonly ir?: IR;
  /** True when `output` is present and no diagnostic is an error. */
  readonly ok: boolean;
}

export const TARGET_NAMES: readonly string[] = Object.keys(TARGETS);

/** The binding of a `CompileInput` to the front end's input. */
export function policyInput(input: CompileInput): PolicyInput {
  if (input.kind !== "text") return input;
  const path = input.path ?? `<text>.${input.syntax === "sbc" ? "sbc" : "yaml"}`;
  return { kind: "text", path, text: input.text };
}

/** Check the options a caller gave, the way the CLI checks its flags; throws UsageError. */
export function checkCompileOptions(options: CompileOptions): void {
  const target = options.target ?? "ir";
  if (!Object.hasOwn(TARGETS, target)) {
    const guess = closest(target, TARGET_NAMES);
    throw new UsageError(`unknown target \`${target}\``, guess ? `did you mean \`${guess}\`?` : `targets: ${TARGET_NAMES.join(", ")}`);
  }
  for (const a of arches(options) ?? []) {
    if (!(ARCHES as readonly string[]).includes(a)) throw new UsageError(`unknown arch \`${a}\``, `arches: ${ARCHES.join(", ")}`);
  }
  if (options.abi !== undefined && (!Number.isInteger(options.abi) || options.abi < 1 || options.abi > MAX_ABI)) {
    throw new UsageError(`the Landlock ABI must be from 1 to ${MAX_ABI}, found \`${options.abi}\``);
  }
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
  const target = TARGETS[options.target ?? "ir"]!;
  const result = compilePolicy(policyInput(input), {
    ...(options.params ? { params: options.params } : {}),
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
  });
  const diagnostics = [...result.diagnostics, ...emitted.diagnostics];
  const ok = emitted.output !== undefined && !diagnostics.some((d) => d.severity === "error");
  return { ...(ok ? { output: emitted.output! } : {}), diagnostics, files, ir: result.ir!, ok };
}
