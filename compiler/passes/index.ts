// The compiler as an explicit list of named stages. `compilePolicy` runs them in order and stops after the
// first stage that reports an error — or, with `allErrors` (`sbc check`), goes on with what is sound, so that
// one run reports every error that can be found; `stopAfter` returns the state after a named stage (for
// debugging and for tools that only need the IR).

import { dedupeDiagnostics, sortDiagnostics, type Diagnostic } from "../../diagnostics/diagnostic.js";
import type { IR, PolicyTest } from "../../ir/types.js";
import type { PolicyFile } from "../../language/ast.js";
import { buildIr, type Bindings } from "./build-ir.js";
import { argValueWidths } from "../../ir/arg-value-widths.js";
import { deadFsRules } from "./checks/dead-fs-rules.js";
import { shadowedDenyGlobs } from "./checks/shadowed-deny-globs.js";
import { unsatisfiableSyscallRules } from "./checks/unsatisfiable-syscall-rules.js";
import { loadPolicyTree, type PolicyInput } from "./resolve-extends.js";
import { runPolicyTests } from "./run-tests.js";

export type { PolicyInput } from "./resolve-extends.js";
export type { Bindings } from "./build-ir.js";

/** Semantic checks on the IR, in the order they run. Each returns its findings. */
export const IR_CHECKS: readonly { readonly name: string; readonly run: (ir: IR) => Diagnostic[] }[] = [
  { name: "dead-fs-rules", run: deadFsRules },
  { name: "shadowed-deny-globs", run: shadowedDenyGlobs },
  { name: "unsatisfiable-syscall-rules", run: unsatisfiableSyscallRules },
  { name: "arg-value-widths", run: argValueWidths },
];

export const STAGES = ["load", "build-ir", "check", "test"] as const;
export type Stage = (typeof STAGES)[number];

export interface CompileOptions {
  readonly params?: Bindings;
  readonly cwd?: string;
  /** Run the policy's own `tests:` (the `check` command does; `compile` does not). */
  readonly runTests?: boolean;
  readonly stopAfter?: Stage;
  /** `--kernel X.Y` (already validated): overrides the policy's `syscalls.kernel`. */
  readonly kernel?: string;
  /**
   * Keep going past errors. `load` keeps every file that parsed, without the rules the schema rejects;
   * `build-ir` builds the IR without the rules in error; the IR checks run on that IR (leaving rules out can
   * hide a finding, never invent one). The policy's tests — and lint and target fidelity, which callers run
   * only when `sound` — need the whole policy: on a half-built one they would fail for rules that are merely
   * missing, so they run only when no stage before them reported an error.
   */
  readonly allErrors?: boolean;
  /** Bindings for the parameters a policy declares, ignored for the others (a config file's `params`). */
  readonly defaultParams?: Bindings;
}

export interface CompileResult {
  readonly ir?: IR;
  readonly files?: readonly PolicyFile[];
  readonly diagnostics: Diagnostic[];
  readonly filesRead: readonly string[];
  /**
   * No stage reported an error, so `ir` is the whole policy. With `allErrors`, `ir` may be present while
   * this is false: then it is the part that could be built, good for reporting and nothing else.
   */
  readonly sound: boolean;
}

/** The sections of the policy a test's verdict depends on (what the evaluator reads to answer it). */
const TEST_DEPENDS_ON: Readonly<Record<PolicyTest["kind"], readonly string[]>> = {
  fs: ["filesystem"],
  net: ["network"],
  // Binding a socket creates a file, which the filesystem rules decide.
  unix: ["network", "filesystem"],
  // The network section implies the socket calls' verdicts.
  syscall: ["syscalls", "network"],
  command: ["commands"],
};

/** Sections whose errors no test's verdict can depend on. */
const NO_TEST_DEPENDS_ON = new Set(["name", "description", "linux"]);
const SECTIONS = new Set(Object.values(TEST_DEPENDS_ON).flat());

/**
 * On a half-built IR, a test runs only when nothing it depends on lost a part. Any other error holds back
 * every test: one in `params` or `tests` (whose numbering would be off), outside any section, or in a key
 * that is no section at all (`extend:` is a misspelt `extends:`, so a layer may be missing).
 */
function testCanRun(t: PolicyTest, incomplete: ReadonlySet<string>): boolean {
  for (const s of incomplete) if (!SECTIONS.has(s) && !NO_TEST_DEPENDS_ON.has(s)) return false;
  return TEST_DEPENDS_ON[t.kind].every((s) => !incomplete.has(s));
}

/** The sections the errors of `build-ir` are in, found by the AST node that holds their span (`*`: none). */
function sectionsInError(diagnostics: readonly Diagnostic[], files: readonly PolicyFile[]): Set<string> {
  const out = new Set<string>();
  const within = (d: Diagnostic, s: { start: number; end: number; source: unknown } | undefined) =>
    s !== undefined && d.span !== undefined && d.span.source === s.source && s.start <= d.span.start && d.span.start < Math.max(s.end, s.start + 1);
  for (const d of diagnostics) {
    if (d.severity !== "error") continue;
    const f = files.find((x) => x.source === d.span?.source);
    const section = !f
      ? "*"
      : f.filesystem.some((r) => within(d, r.span))
        ? "filesystem"
        : within(d, f.network?.span)
          ? "network"
          : within(d, f.syscalls?.span)
            ? "syscalls"
            : f.commands?.rules.some((r) => within(d, r.span))
              ? "commands"
              : f.tests.some((t) => within(d, t.span))
                ? "tests"
                : "*";
    out.add(section);
  }
  return out;
}

export function compilePolicy(input: PolicyInput, options: CompileOptions = {}): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const finish = (r: Omit<CompileResult, "diagnostics" | "sound">, sound = !failed()): CompileResult => ({ ...r, diagnostics: sortDiagnostics(dedupeDiagnostics(diagnostics)), sound });
  const failed = () => diagnostics.some((d) => d.severity === "error");
  const keepGoing = options.allErrors === true;

  const loaded = loadPolicyTree(input, { ...(options.cwd ? { cwd: options.cwd } : {}), partial: keepGoing });
  diagnostics.push(...loaded.diagnostics);
  if (!loaded.files || (failed() && !keepGoing) || options.stopAfter === "load") return finish({ ...(loaded.files ? { files: loaded.files } : {}), filesRead: loaded.filesRead });

  const built = buildIr(loaded.files, options.params ?? {}, {
    ...(options.kernel !== undefined ? { kernel: options.kernel } : {}),
    ...(options.defaultParams ? { defaultParams: options.defaultParams } : {}),
    partial: keepGoing,
  });
  diagnostics.push(...built.diagnostics);
  if (!built.ir || (failed() && !keepGoing) || options.stopAfter === "build-ir") return finish({ ...(built.ir ? { ir: built.ir } : {}), files: loaded.files, filesRead: loaded.filesRead });

  for (const check of IR_CHECKS) diagnostics.push(...check.run(built.ir));
  // A failing test does not make the IR unsound: it is the whole policy, and lint may judge it.
  const sound = !failed();
  if (options.runTests && options.stopAfter !== "check") {
    if (sound) diagnostics.push(...runPolicyTests(built.ir));
    else if (keepGoing) {
      // Tests whose verdict cannot depend on what is missing still run.
      const incomplete = new Set([...(loaded.incomplete ?? ["*"]), ...sectionsInError(built.diagnostics, loaded.files)]);
      diagnostics.push(...runPolicyTests(built.ir, (t) => testCanRun(t, incomplete)));
    }
  }
  return finish({ ir: built.ir, files: loaded.files, filesRead: loaded.filesRead }, sound);
}
