// Shared by the model's tests (targets/landlock/*.test.ts) and the kernel differential test: compile rules the
// way `sbc compile -t linux` does (lowerLandlock + buildPlan, concrete paths), launch the model in either mode,
// list the lexical paths worth probing in a tree (through its symlinks too), and the calls to make on them.

import type { FsRule, IR } from "../../compiler/ir/types.js";
import { expandAccess } from "../../compiler/language/access.js";
import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import { lowerLandlock, type LandlockTable } from "../../targets/landlock/lower.js";
import { buildPlan } from "../../targets/landlock/plan.js";
import { joinPath } from "../../targets/landlock/model-fs.js";
import { FsModel, launch, parsePlan, SINGLE_OPS, type Amendments, type Op, type ParsedPlan, type Sandbox } from "../../targets/landlock/model.js";
import { makeIr } from "./ir.js";

export const rule = (effect: "allow" | "deny", access: string[], path: string, kind: FsRule["kind"] = "subtree", layer = 0): FsRule => ({
  effect,
  access: expandAccess(access),
  kind,
  path,
  ifMissing: "skip",
  layer,
});

export interface Compiled {
  readonly ir: IR;
  readonly table: LandlockTable;
  readonly diagnostics: readonly Diagnostic[];
  readonly planText: string;
  readonly plan: ParsedPlan;
}

/** Rules (sorted by layer, as the IR keeps them) → IR → table → plan text → the plan as the loader reads it. */
export function compileRules(rules: readonly FsRule[], options: { namespaces?: "auto" | "require" | "never" } = {}): Compiled {
  const ir = makeIr({ filesystem: [...rules].sort((x, y) => x.layer - y.layer) });
  const lowered = lowerLandlock(ir, { abi: 7, ...(options.namespaces ? { namespaces: options.namespaces } : {}) });
  if (!lowered.table) throw new Error(`no table: ${lowered.diagnostics.map((d) => d.message).join("; ")}`);
  const planText = buildPlan(lowered.table, undefined, { namespaces: options.namespaces ?? "auto" }).text;
  return { ir, table: lowered.table, diagnostics: lowered.diagnostics, planText, plan: parsePlan(planText) };
}

export function launchBoth(c: Compiled, fs: FsModel, amendments?: Partial<Amendments>): { namespace: Sandbox; landlock: Sandbox } {
  return {
    namespace: launch(c.plan, fs, { mode: "namespace", ...(amendments ? { amendments } : {}) }),
    landlock: launch(c.plan, fs, { mode: "landlock", ...(amendments ? { amendments } : {}) }),
  };
}

/**
 * The lexical paths to probe beneath `root`: every entry reachable by name from it, through symlinks too (a
 * link to a directory is descended as the kernel would), up to `maxDepth` components below `root`, plus one
 * new name in each directory reached. At most `limit` paths, breadth first.
 */
export function probePaths(fs: FsModel, root: string, options: { maxDepth?: number; limit?: number; newName?: string } = {}): string[] {
  const maxDepth = options.maxDepth ?? 4;
  const limit = options.limit ?? 120;
  const newName = options.newName ?? "new";
  const out: string[] = [root];
  const queue: { path: string; depth: number }[] = [{ path: root, depth: 0 }];
  while (queue.length && out.length < limit) {
    const { path, depth } = queue.shift()!;
    const r = fs.lookup(path, true);
    if (!("node" in r) || r.node.kind !== "dir" || depth >= maxDepth) continue;
    for (const name of [...r.node.children!.keys()].sort()) {
      const p = joinPath(path, name);
      out.push(p);
      queue.push({ path: p, depth: depth + 1 });
    }
    out.push(joinPath(path, newName));
  }
  return out.slice(0, limit);
}

/** Every single-path call on every path, then renames and links from each existing entry to a few new names. */
export function probeOps(fs: FsModel, paths: readonly string[], options: { moves?: number } = {}): Op[] {
  const ops: Op[] = [];
  for (const path of paths) for (const op of SINGLE_OPS) ops.push({ op, path });
  const newNames = paths.filter((p) => !("node" in fs.lookup(p, false)));
  const existing = paths.filter((p) => "node" in fs.lookup(p, false));
  const moves = options.moves ?? 3;
  for (let i = 0; i < existing.length; i++) {
    for (let k = 0; k < Math.min(moves, newNames.length); k++) {
      const to = newNames[(i * 7 + k * 13) % newNames.length]!;
      ops.push({ op: "rename", path: existing[i]!, to }, { op: "link", path: existing[i]!, to });
    }
  }
  return ops;
}
