// Questions the security rules ask the reference evaluator: "may the sandbox write here?", asked of a few
// representative paths per risky place, and the grouping of the answers by the rule that decided them, so one
// broad grant (`/`) is one finding that names every place it opens, not twenty.

import type { Span } from "../../diagnostics/source.js";
import { evaluateFsNormalized } from "../../ir/evaluator/evaluate.js";
import type { FsRule, IR } from "../../ir/types.js";
import type { Access } from "../../ir/access.js";
import { TEST_PARAM_VALUES } from "../passes/run-tests.js";

/**
 * The access classes that change a place: writing an existing file, or creating one where none is yet (a
 * missing `~/.bashrc` or `~/.ssh/authorized_keys` is as good as a writable one).
 */
export const CHANGE_ACCESSES: readonly Access[] = ["write", "create-file"];

/** The value of a built-in parameter in the bound IR, or its test stand-in when no rule mentions it. */
export function paramValue(ir: IR, name: "home" | "workspace" | "tmpdir"): string {
  return ir.params.find((p) => p.name === name)?.value ?? TEST_PARAM_VALUES[name]!;
}

/** A probe path as written in a rule's table (`${home}/.ssh/id_ed25519`), made absolute for the bound IR. */
export function resolveProbe(ir: IR, path: string): string {
  const m = /^\$\{(home|workspace|tmpdir)\}(.*)$/.exec(path);
  if (!m) return path;
  const head = paramValue(ir, m[1] as "home" | "workspace" | "tmpdir");
  return head === "/" ? m[2] || "/" : head + m[2];
}

/** The rule that allows any of `accesses` at any of `paths`, or undefined when every one is denied. */
export function allowingRule(ir: IR, accesses: readonly Access[], paths: readonly string[]): FsRule | undefined {
  for (const p of paths) {
    const abs = resolveProbe(ir, p);
    for (const a of accesses) {
      // Probe paths are normalized by construction (and parameter values by binding): no parsing needed.
      const v = evaluateFsNormalized(ir, a, abs);
      if (v.decision === "allow" && v.rule) return v.rule;
    }
  }
  return undefined;
}

/** Items grouped by the rule that decided them, in first-seen order. */
export class ByRule<R, T> {
  readonly groups = new Map<R, T[]>();
  add(rule: R, item: T): void {
    const g = this.groups.get(rule);
    if (g) g.push(item);
    else this.groups.set(rule, [item]);
  }
}

/** `a`, `a` and `b`, `a`, `b`, `c` and 4 more: a list of backticked names that stays one short line. */
export function nameList(names: readonly string[], max = 3): string {
  const shown = names.slice(0, max).map((n) => `\`${n}\``);
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(", ")} and ${rest} more`;
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

/** Where a rule was written; rules the compiler made up (none so far) report at the policy file. */
export function ruleSpan(rule: { readonly span?: Span }): Span | undefined {
  return rule.span;
}
