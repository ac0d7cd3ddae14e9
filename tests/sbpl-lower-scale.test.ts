// The SBPL lowering indexes rules by region (targets/sbpl/region-index.ts) so that large policies compile in
// near-linear time: the shapes that were quadratic compile within a generous bound (it only catches a
// blow-up). That the index changes no byte rests on its contract (tests/sbpl-region-index.test.ts) and on the
// goldens; when the index landed, a frozen copy of the quadratic lowering gave byte-identical output on random
// and dense policies (commit 1b0c5c5 and the test file's history).

import { describe, expect, it } from "vitest";
import type { Effect, FsRule, IR, UnixPathRule } from "../ir/types.js";
import { ACCESS_CLASSES, type Access } from "../ir/access.js";
import { compileSbpl } from "../targets/sbpl/index.js";
import { makeIr } from "./support/ir.js";

// ---- scale ---------------------------------------------------------------------------------------------------

const rule = (effect: Effect, kind: FsRule["kind"], path: string, access: readonly Access[] = ["read"]): FsRule => ({ effect, access, kind, path, ifMissing: "skip", layer: 0 });

/** `/tmp/fs10k.yaml` of the issue: n allows `read` on `/d/pN`. */
function pathRules(n: number): IR {
  return makeIr({ filesystem: Array.from({ length: n }, (_, i) => rule("allow", "subtree", `/d/p${i}`)) });
}

/** n allows `/d/pN/q` and n read-deny globs `/d/pN/**\/x` over them (move guards with exemptions). */
function denyGlobsOverAllows(n: number): IR {
  const allows = Array.from({ length: n }, (_, i) => rule("allow", "subtree", `/d/p${i}/q`));
  const denies = Array.from({ length: n }, (_, i) => rule("deny", "glob", `/d/p${i}/**/x`));
  return makeIr({ filesystem: [...allows, ...denies] });
}

/** A read-write `/`, n read denies `/d/pN` and n allows `/d/pN/q` reopened inside them. */
function reopenedInsideDeny(n: number): IR {
  const rw = [...ACCESS_CLASSES];
  const fs = [rule("allow", "subtree", "/", rw)];
  for (let i = 0; i < n; i++) fs.push(rule("deny", "subtree", `/d/p${i}`), rule("allow", "subtree", `/d/p${i}/q`, rw));
  return makeIr({ filesystem: fs });
}

/** n unix allows `/s/pN` for binding and connecting, each with a deny `/s/pN/x` carved out of it. */
function unixRules(n: number): IR {
  const paths: UnixPathRule[] = [];
  for (let i = 0; i < n; i++) paths.push({ effect: "allow", ops: ["bind", "connect"], path: `/s/p${i}`, layer: 0 }, { effect: "deny", ops: ["bind", "connect"], path: `/s/p${i}/x`, layer: 0 });
  return makeIr({ unix: { pairs: "deny", abstract: "deny", paths } });
}

/** Lowers `ir` inline, prints the time (the benchmark line in docs/benchmarks.md), and returns the profile. */
function timed(name: string, ir: IR): string {
  const start = performance.now();
  const out = compileSbpl(ir, { params: "inline" });
  const ms = performance.now() - start;
  console.log(`sbpl lowering, ${name}: ${ms.toFixed(0)} ms`);
  expect(out.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return out.profile!;
}

/** Terms (one comment per allow kept) in the profile's filesystem section. */
const terms = (profile: string, re: RegExp) => profile.split("\n").filter((l) => re.test(l)).length;

describe("large policies compile in near-linear time (bounds only catch a quadratic blow-up)", () => {
  it("10,000 path rules", () => {
    const profile = timed("10,000 path rules", pathRules(10_000));
    expect(profile).toContain("(subpath \"/d/p9999\")");
    expect(terms(profile, /; rule 9999: allow \[read\] path `\/d\/p9999`/)).toBeGreaterThan(0);
  }, 10_000);

  it("5,000 allows under 5,000 read-deny globs", () => {
    const profile = timed("5,000 allows + 5,000 deny globs", denyGlobsOverAllows(5_000));
    expect(profile).toContain("(subpath \"/d/p4999/q\")");
    // Each allow is deeper than the glob over it, so nothing is carved out of it.
    expect(profile).toMatch(/\n +\(subpath "\/d\/p4999\/q"\)/);
    expect(profile).not.toContain('(require-all (subpath "/d/p4999/q")');
  }, 10_000);

  it("5,000 unix allows with 5,000 unix denies inside them", () => {
    const profile = timed("5,000 unix allows + 5,000 unix denies", unixRules(5_000));
    expect(profile).toContain('(require-not (remote unix-socket (subpath "/s/p4999/x")))');
  }, 10_000);

  it("5,000 allows reopened inside 5,000 read denies under a read-write `/`", () => {
    const profile = timed("read-write / + 5,000 denies + 5,000 reopened allows", reopenedInsideDeny(5_000));
    expect(profile).toContain("(require-not (subpath \"/d/p4999\"))");
  }, 10_000);
});
