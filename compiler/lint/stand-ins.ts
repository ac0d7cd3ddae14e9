// Paths a lint rule asks the evaluator about are spelled through parameters (`${home}/.ssh`). A policy that
// never mentions `${home}` has no `home` in its IR, yet its rules still decide `/home/user/.ssh`: such paths
// resolve to the parameter's bound value when the IR has one, else to the stand-in the policy's tests use.

import type { IR } from "../../ir/types.js";
import { TEST_PARAM_VALUES } from "../passes/run-tests.js";
import { parsePath } from "../../ir/paths.js";

/** `${param}/rest` → an absolute path (bound value, else test stand-in, else `/unbound/param`). */
export function standInPath(boundIr: IR, path: string): string {
  const t = parsePath(path).template;
  if (!t) throw new Error(`not a path: ${path}`);
  if (t.param === null) return "/" + t.components.join("/");
  const head = boundIr.params.find((p) => p.name === t.param)?.value ?? TEST_PARAM_VALUES[t.param] ?? `/unbound/${t.param}`;
  const parts = [...(head === "/" ? [] : head.slice(1).split("/")), ...t.components];
  return "/" + parts.join("/");
}
