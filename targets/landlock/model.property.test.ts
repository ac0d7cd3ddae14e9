// The model against the IR over random trees with symlinks (in and out of the grant roots, to `/`, to `..`, to
// siblings, to a `.git`, dangling, looping) and gitfiles, for random policies with protect-like rules, in both
// modes of the loader:
//   (i)   never wider: a call the model lets succeed is allowed by the IR at the path it was made with and at
//         the real path of what it touched;
//   (ii)  narrower only where announced: SBC2201/SBC2202, the plan's fallback note (Landlock alone), or a
//         refusal to run;
//   (iii) exact in a namespace where the policy is subtree rules only and every carve-out is the mount layer's.
// Besides single calls on the tree at launch, random sequences of calls that succeed explore what the command
// can make of the tree (rename a directory away and re-create it, …), and every entry a protected name
// resolves through must stay in place. SBC_PROPERTY_SEED / SBC_PROPERTY_RUNS vary the runs.

import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  COMMONDIRS,
  compileRules,
  GITDIRS,
  LINK_TARGETS,
  linkTargetPaths,
  POLICY_PATHS,
  policyRules,
  probeOps,
  probePaths,
  TREE_PATHS,
  treeSpec,
  type Compiled,
  type PolicyRule,
  type TreeEntry,
} from "../../tests/support/landlock-model.js";
import { propertyOptions } from "../../tests/support/property.js";
import { FsModel, attempt, launch, tookEffect, type Op, type Outcome, type Sandbox } from "./model.js";
import { joinPath, walkLexical } from "./model-fs.js";
import { irVerdict, originsAtLaunch } from "./model-ir.js";
import { evaluateFs } from "../../ir/evaluator/evaluate.js";
import { lowerMounts } from "./mounts.js";
import { classRegions } from "./regions.js";
import { Checker, GAPS, showOp } from "../../tests/support/model-check.js";

const ROOT = "/t";
const OUTSIDE = "/o";

const treeArb: fc.Arbitrary<TreeEntry[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ path: fc.constantFrom(...TREE_PATHS), kind: fc.constantFrom("dir" as const, "file" as const) }) },
    { weight: 3, arbitrary: fc.record({ path: fc.constantFrom(...TREE_PATHS), kind: fc.constant("symlink" as const), target: fc.constantFrom(...LINK_TARGETS) }) },
    { weight: 1, arbitrary: fc.record({ path: fc.constantFrom(".git", "a/.git", "b/.git", "b/a/.git"), kind: fc.constant("gitfile" as const), gitdir: fc.constantFrom(...GITDIRS) }) },
    { weight: 1, arbitrary: fc.record({ path: fc.constantFrom("m/r.git/commondir", "a/commondir"), kind: fc.constant("commondir" as const), commondir: fc.constantFrom(...COMMONDIRS) }) },
  ),
  { maxLength: 12 },
);

const ACCESS_WORDS = ["read-only", "read-write", "modify", "read", "write", "execute", "list", "create", "delete", "rename", "create-dir", "create-file", "delete-file", "delete-dir", "truncate"];
const policyRuleArb = (paths: readonly (typeof POLICY_PATHS)[number][]): fc.Arbitrary<PolicyRule> =>
  fc.record({
    effect: fc.constantFrom("allow" as const, "deny" as const),
    access: fc.oneof(fc.constantFrom(["read-write"], ["read-only"], ["modify"], ["write"]), fc.subarray(ACCESS_WORDS, { minLength: 1, maxLength: 3 })),
    path: fc.constantFrom(...paths),
    layer: fc.integer({ min: 0, max: 1 }),
    protect: fc.subarray([".git", "a"], { maxLength: 2 }),
  });
const policyArb = fc.array(policyRuleArb(POLICY_PATHS), { minLength: 1, maxLength: 5 });


interface Case {
  readonly c: Compiled;
  readonly fs: FsModel;
  readonly checker: Checker;
  readonly describe: () => string;
}

function makeCase(entries: readonly TreeEntry[], policy: readonly PolicyRule[], namespaces?: "never"): Case {
  const spec = treeSpec(entries, ROOT, OUTSIDE);
  const fs = FsModel.fromSpec(spec);
  const rules = policyRules(policy, ROOT, OUTSIDE);
  const c = compileRules(rules, namespaces ? { namespaces } : {});
  return { c, fs, checker: new Checker(c, fs), describe: () => `tree:\n${fs.describe()}\nrules: ${JSON.stringify(rules.map((r) => `${r.effect} ${r.access.join(",")} ${r.path}`))}\nplan:\n${c.planText}` };
}

function probes(fs: FsModel): Op[] {
  const paths = [...new Set([...probePaths(fs, ROOT, { maxDepth: 3, limit: 40 }), ...linkTargetPaths(fs, ROOT), `${OUTSIDE}/f`, `${OUTSIDE}/new`])];
  return probeOps(fs, paths, { moves: 2 });
}

function run(sb: Sandbox, op: Op): { out: Outcome; after: Sandbox } {
  const after: Sandbox = { ...sb, fs: sb.fs.clone() };
  return { out: attempt(after, op), after };
}


// ---- (i) never wider ----

/** How often each accepted widening and known gap was met, over all properties (printed at the end). */
const met = new Map<string, number>();
afterAll(() => {
  if (met.size) console.info(`never-wider exemptions met:\n${[...met].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${n}× ${k}`).join("\n")}`);
});
function tally(k: Case) {
  for (const [key, n] of k.checker.met) met.set(key, (met.get(key) ?? 0) + n);
  k.checker.met.clear();
}

/** A sandbox as a run has made it so far, with where each inode came from. */
interface State {
  readonly sb: Sandbox;
  readonly origins: Map<number, string[]>;
  /** The calls that succeeded before, for the failure message. */
  readonly history: readonly string[];
}

/** Make `op` in `st`, hold its success to the IR, and return the state after it (the same when it failed). */
function checkCall(k: Case, st: State, op: Op): State {
  const { out, after } = run(st.sb, op);
  if (!tookEffect(op, out, after.fs)) return st;
  const v = k.checker.violation(st.sb, st.sb.fs, op, st.origins);
  if (v) expect.fail(`${v}${st.history.length ? `\nafter: ${st.history.join("; ")}` : ""}\n${k.describe()}`);
  const origins = new Map(st.origins);
  if (op.op.startsWith("create-")) {
    const r = after.fs.lookup(op.path, false);
    if ("node" in r) origins.set(r.node.ino, [after.fs.pathOf(r.node)]);
  }
  return { sb: after, origins, history: [...st.history, showOp(op)] };
}

function checkAll(k: Case, st: State, ops: readonly Op[]): void {
  for (const op of ops) checkCall(k, st, op);
}

/**
 * What a command could do to a protected name that resolves through other entries: move one of them away,
 * re-create the way to the name with directories of its own, and create in it. Each step is a call checked
 * like any other, so the last one fails the property if the model lets it through.
 */
function checkRedirects(k: Case, st0: State): void {
  const protectedNames = k.c.ir.filesystem.filter((r) => r.effect === "deny" && r.access.some((a) => a !== "read" && a !== "list")).map((r) => r.path);
  const fs = st0.sb.fs;
  // A grant named by a symlink that leads above its own path covers the way to it (§4.1): a known gap.
  const namedUp = k.c.ir.filesystem
    .filter((r) => r.effect === "allow")
    .map((r) => ({ path: r.path, real: fs.realpath(r.path) }))
    .filter((g): g is { path: string; real: string } => typeof g.real === "string" && g.real !== g.path && within(g.path, g.real));
  for (const name of protectedNames) {
    const chain = new Set<string>();
    const w = walkLexical(fs, "/", name.slice(1));
    for (const s of [...w.links, ...w.dirs]) chain.add(s.path);
    for (let p = w.real; p !== "/" && p.startsWith(ROOT); p = p.slice(0, p.lastIndexOf("/")) || "/") chain.add(p);
    for (const e of chain) {
      if (!e.startsWith(ROOT + "/")) continue;
      if (namedUp.some((g) => within(e, g.real) && within(name, g.path))) {
        met.set(`gap: ${GAPS.namedUp}`, (met.get(`gap: ${GAPS.namedUp}`) ?? 0) + 1);
        continue;
      }
      let st = checkCall(k, st0, { op: "rename", path: e, to: `${e}-moved` });
      if (st === st0) continue;
      for (let step = 0; step < 6; step++) {
        // Make the first directory missing on the way to the name.
        const r = st.sb.fs.lookup(name, true);
        const at = "missing" in r ? r : "errno" in r ? r.missingAt : undefined;
        if (!at) break;
        const next = checkCall(k, st, { op: "create-dir", path: `${st.sb.fs.pathOf(at.parent)}/${at.name}` });
        if (next === st) break;
        st = next;
      }
      checkCall(k, st, { op: "create-file", path: `${name}/x` });
      checkCall(k, st, { op: "write", path: name });
    }
  }
}

const within = (p: string, base: string) => base === "/" || p === base || p.startsWith(base + "/");

function launched(k: Case, mode: "namespace" | "landlock"): State | undefined {
  const sb = launch(k.c.plan, k.fs, { mode });
  return sb.refused === undefined ? { sb, origins: originsAtLaunch(sb.fs), history: [] } : undefined;
}

describe("the model never allows what the IR denies", () => {
  it("single calls on the tree at launch, both modes", () => {
    fc.assert(
      fc.property(treeArb, policyArb, (entries, policy) => {
        const k = makeCase(entries, policy);
        for (const mode of ["namespace", "landlock"] as const) {
          const st = launched(k, mode);
          if (st) checkAll(k, st, probes(st.sb.fs));
        }
        tally(k);
      }),
      propertyOptions(150),
    );
  });

  it("what a protected name resolves through stays in place: moving it away and re-creating the way gains nothing", () => {
    fc.assert(
      fc.property(treeArb, policyArb, (entries, policy) => {
        const k = makeCase(entries, policy);
        for (const mode of ["namespace", "landlock"] as const) {
          const st = launched(k, mode);
          if (st) checkRedirects(k, st);
        }
        tally(k);
      }),
      propertyOptions(300),
    );
  });

  it("random sequences of calls that succeed never reach what the IR denies", () => {
    fc.assert(
      fc.property(treeArb, policyArb, fc.array(fc.nat(), { minLength: 4, maxLength: 12 }), (entries, policy, picks) => {
        const k = makeCase(entries, policy);
        for (const mode of ["namespace", "landlock"] as const) {
          let st = launched(k, mode);
          if (!st) continue;
          for (const pick of picks) {
            // Only calls that change something move the sequence on; the others are checked at the end.
            const ops = probes(st.sb.fs).filter((o) => !["read", "list", "write", "truncate", "execute", "map-exec", "chmod"].includes(o.op));
            st = checkCall(k, st, ops[pick % ops.length]!);
          }
          checkAll(k, st, probes(st.sb.fs));
        }
        tally(k);
      }),
      propertyOptions(100),
    );
  });
});

// ---- (ii) narrower only where announced, (iii) exact in a namespace ----

/** Outcomes that deny an access, as opposed to facts about the tree (missing, exists, not a directory, …). */
const DENIALS = new Set<Outcome>(["EACCES", "EROFS", "EPERM", "EXDEV", "EBUSY"]);

/** How often each explanation of a narrowing was met (printed at the end). */
const narrowings = new Map<string, number>();
afterAll(() => {
  if (narrowings.size) console.info(`narrowings met:\n${[...narrowings].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${n}× ${k}`).join("\n")}`);
});

/**
 * Why a call the IR allows is denied: announced (SBC2201, SBC2202, the fallback note), documented, or what the
 * design chose (named). Undefined: an unannounced narrowing.
 */
function explainNarrowing(k: Case, st: State, op: Op, out: Outcome, exact: boolean): string | undefined {
  const sb = st.sb;
  const fs = sb.fs;
  const codes = new Set(k.c.diagnostics.map((d) => d.code));
  const entry = (p: string, follow: boolean) => {
    const r = fs.lookup(p, follow);
    return "node" in r ? fs.pathOf(r.node) : "missing" in r ? `${fs.pathOf(r.parent)}/${r.name}`.replace("//", "/") : undefined;
  };
  const follows = ["read", "list", "write", "truncate", "execute", "map-exec", "chmod"].includes(op.op);
  const reals = [entry(op.path, follows), ..."to" in op ? [entry(op.to, false)] : []].filter((x): x is string => x !== undefined);
  const parentOf = (p: string) => p.slice(0, p.lastIndexOf("/")) || "/";
  // What a denied name resolves to is carved (§4.3) or mounted read-only (§2): the design.
  const denyAlias = reals.some((r) => k.checker.aliases(fs, r).some((a) => !a.allow) || k.checker.aliases(fs, parentOf(r)).some((a) => !a.allow));
  if (denyAlias) return "what a denied name resolves to is protected (§2, §4.3)";
  // What a link beneath a read-denied name leads to is carved too (native/loader/landlock.c, scan_denied) —
  // everything beneath it, so a link to `/` there leaves nothing readable: the design, fail-closed.
  const ledOut = sb.report.map((l) => /^denied \S+ leads out to (\S+)$/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
  if (reals.some((r) => ledOut.some((t) => within(r, t)))) return "what a link beneath a read-denied name leads to is protected (§4.3)";
  // execve opens the file for reading: Landlock asks READ_FILE as well as EXECUTE (and so does map-exec).
  if ((op.op === "execute" || op.op === "map-exec") && out === "EACCES" && evaluateFs(k.c.ir, "read", reals[0] ?? "/").decision === "deny") return "unannounced: running a file needs `read` too (execve opens it for reading)";
  // A grant expanded entry by entry needs a directory: on a file (a protected name beneath a file) it is skipped.
  if (k.c.plan.grants.some((g) => g.kind === "fs-children" && reals.some((r) => within(r, g.path)) && fs.lookup(g.path, true) && (() => { const x = fs.lookup(g.path, true); return "node" in x && x.node.kind !== "dir"; })())) return "unannounced: a grant expanded entry by entry is skipped when its path is a file";
  if (out === "EXDEV") return "a move across mounts, or one that would gain rights (EXDEV: mv copies instead)";
  if (out === "EBUSY") return "unannounced: a pinned entry, or a mount point, cannot be moved or removed (EBUSY)";
  // Creating or removing the root of a grant needs rights on its parent (documented); a grant missing at
  // launch is skipped, so nothing beneath it is granted (documented).
  const roots = k.c.ir.filesystem.filter((r) => r.effect === "allow").map((r) => r.path);
  if (!follows && reals.some((r) => roots.includes(r))) return "documented: creating or removing the root of a grant needs rights on its parent";
  if (reals.some((r) => sb.skipped.some((g) => within(r, g)))) return "documented: a grant missing at launch is skipped";
  // SBC2202: changes allowed without `write` stay read-only; a missing read-only name is held.
  const mountNarrowings = lowerMounts(k.c.ir, (cls) => classRegions(k.c.ir, cls)).narrowings;
  if (sb.mode === "namespace" && out === "EROFS" && codes.has("SBC2202") && mountNarrowings.some((n) => reals.some((r) => within(r, n.path)))) return "SBC2202";
  if (sb.mode === "namespace" && sb.created.some((c) => reals.some((r) => within(r, c)))) return codes.has("SBC2202") ? "SBC2202" : "a missing read-only name is held by a mount point";
  // SBC2201 (or the fallback note, for carve-outs the mount layer would have kept): an expanded grant gives
  // nothing to entries made in it afterwards, nor to the names it carves.
  const announcedExpansion = codes.has("SBC2201") || (sb.mode === "landlock" && /nothing new can be created/.test(k.c.plan.fallbackNote ?? ""));
  if (!exact && announcedExpansion && reals.some((r) => sb.expanded.some((g) => within(r, g)))) return "SBC2201 or the fallback note: an expanded grant";
  // In a namespace, a `!` entry whose mount line could not be applied (beneath a file, a missing noexec path)
  // is carved by Landlock after all: its grant is expanded, and only --report says so.
  if (sb.mode === "namespace" && k.c.plan.grants.some((g) => g.except.some((e) => e.mountEnforced && !sb.appliedInFull.has(joinPath(g.path, e.rel)))) && reals.some((r) => sb.expanded.some((g) => within(r, g)))) return "unannounced: a `!` carve-out whose mount line was not applied is expanded by Landlock (only --report says so)";
  return undefined;
}

function checkNarrowings(k: Case, st: State, ops: readonly Op[], exact: boolean): void {
  for (const op of ops) {
    const { out, after } = run(st.sb, op);
    if (!DENIALS.has(out) || tookEffect(op, out, after.fs)) continue;
    // execve of what is not a regular file is EACCES, a hard link to a directory EPERM, whatever the policy.
    if (op.op === "execute" || op.op === "map-exec" || op.op === "link") {
      const r = st.sb.fs.lookup(op.path, op.op !== "link");
      if ("node" in r && (op.op !== "link" ? r.node.kind !== "file" : r.node.kind === "dir")) continue;
    }
    const v = irVerdict(k.c.ir, st.sb.fs, op, st.origins);
    if (!v.allowed || !v.checks.length) continue;
    const why = explainNarrowing(k, st, op, out, exact);
    if (!why) expect.fail(`${st.sb.mode}: ${showOp(op)} is denied (${out}), the IR allows it, and nothing announced it\n${k.describe()}`);
    narrowings.set(why, (narrowings.get(why) ?? 0) + 1);
  }
}

describe("the model is narrower than the IR only where announced", () => {
  it("both modes, on the tree at launch", () => {
    fc.assert(
      fc.property(treeArb, policyArb, (entries, policy) => {
        const k = makeCase(entries, policy);
        for (const mode of ["namespace", "landlock"] as const) {
          const st = launched(k, mode);
          if (st) checkNarrowings(k, st, probes(st.sb.fs), false);
        }
      }),
      propertyOptions(150),
    );
  });

  it("exact in a namespace where the policy is subtree rules and every carve-out is the mount layer's (top-level creates work)", () => {
    let exactCases = 0;
    fc.assert(
      fc.property(treeArb, policyArb, (entries, policy) => {
        const k = makeCase(entries, policy);
        // Every except entry is `!` (the plan leaves no carve-out to Landlock in a namespace).
        if (k.c.plan.grants.some((g) => g.except.some((e) => !e.mountEnforced))) return;
        const st = launched(k, "namespace");
        if (!st) return;
        exactCases++;
        checkNarrowings(k, st, probes(st.sb.fs), true);
      }),
      propertyOptions(300),
    );
    expect(exactCases).toBeGreaterThan(0);
  });
});
