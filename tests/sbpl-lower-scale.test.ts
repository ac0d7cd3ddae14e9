// The SBPL lowering indexes rules by region (targets/sbpl/region-index.ts) so that large policies compile in
// near-linear time. Indexing must not change a byte: random policies (the shared policy arbitrary, and dense
// ones whose rules overlap often, across `/`, both spellings of /tmp and parameters) are lowered by both the
// indexed code and a frozen copy of the quadratic one (tests/support/sbpl-lower-reference.ts), in inline and
// param mode, and must give the same profile, defines and diagnostics in the same order. Then the hostile
// shapes that were quadratic compile within a generous bound (it only catches a blow-up).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Source } from "../compiler/diagnostics/source.js";
import type { Effect, FsRule, IR, UnixOp, UnixPathRule } from "../compiler/ir/types.js";
import { ACCESS_CLASSES, ACCESS_GROUPS, type Access } from "../compiler/language/access.js";
import { compileSbpl } from "../targets/sbpl/index.js";
import type { SbplOptions } from "../targets/sbpl/lower.js";
import { makeIr } from "./support/ir.js";
import { singleFileIrArb } from "./support/policy-arbitrary.js";
import { referenceLowerSbpl } from "./support/sbpl-lower-reference.js";

const RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 300);
const MODES: readonly SbplOptions[] = [{ params: "inline" }, { params: "param" }];

function sameAsReference(ir: IR): void {
  for (const options of MODES) expect(compileSbpl(ir, options)).toEqual(referenceLowerSbpl(ir, options));
}

const accessArb: fc.Arbitrary<Access[]> = fc.oneof(
  fc.constantFrom<Access[]>(["read"], ["read", "list"], ["write", "truncate"], ["rename"], ["create-file"], ["execute"]),
  fc.constantFrom(...["read-only", "read-write", "modify", "create", "delete"].map((g) => [...ACCESS_GROUPS[g]!])),
  fc.subarray([...ACCESS_CLASSES], { minLength: 1 }),
);

/** Few names, so regions nest and overlap often; `${workspace}` and `${home}` stay symbolic (param mode). */
const denseRuleArb: fc.Arbitrary<FsRule> = fc
  .record({
    effect: fc.constantFrom<Effect>("allow", "deny"),
    access: accessArb,
    root: fc.constantFrom("/", "/a", "/tmp", "/private/tmp", "/private", "${workspace}", "${home}"),
    names: fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 3 }),
    glob: fc.option(fc.array(fc.constantFrom("*", "**", "[ab]", "a", "b"), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    exact: fc.boolean(),
    layer: fc.integer({ min: 0, max: 2 }),
    protects: fc.option(fc.constantFrom("~/.ssh", "secrets"), { nil: undefined, freq: 6 }),
  })
  .map((g): FsRule => {
    const join = (xs: readonly string[]) => (xs.length ? (g.root === "/" ? "" : g.root) + "/" + xs.join("/") : g.root);
    const globParts = g.glob && g.glob.some((p) => p.includes("*") || p.includes("[")) ? g.glob : undefined;
    const kind = globParts ? "glob" : g.exact ? "exact" : "subtree";
    return {
      effect: g.effect,
      access: g.access,
      kind,
      path: join(globParts ? [...g.names, ...globParts] : g.names),
      ifMissing: "skip",
      layer: g.layer,
      ...(g.protects !== undefined && g.effect === "deny" ? { protects: g.protects } : {}),
    };
  });

/** Unix path rules, as dense: subtrees over the same few names. */
const denseUnixArb: fc.Arbitrary<UnixPathRule> = fc
  .record({
    effect: fc.constantFrom<Effect>("allow", "deny"),
    ops: fc.constantFrom<UnixOp[]>(["connect"], ["bind"], ["bind", "connect"]),
    root: fc.constantFrom("/", "/a", "/tmp", "/private/tmp", "${workspace}"),
    names: fc.array(fc.constantFrom("a", "b"), { maxLength: 2 }),
    layer: fc.integer({ min: 0, max: 2 }),
  })
  .map((g) => ({ effect: g.effect, ops: g.ops, path: g.names.length ? (g.root === "/" ? "" : g.root) + "/" + g.names.join("/") : g.root, layer: g.layer }));

function denseIr(rules: readonly FsRule[], unixPaths: readonly UnixPathRule[] = []): IR {
  const span = (what: string, i: number) => ({ source: new Source(`${what}-${i}`, ""), start: 0, end: 0 });
  const sorted = [...rules].sort((x, y) => x.layer - y.layer).map((r, i) => ({ ...r, span: span("rule", i) }));
  const paths = [...unixPaths].sort((x, y) => x.layer - y.layer).map((r, i) => ({ ...r, span: span("unix", i) }));
  const used = [...sorted, ...paths].map((r) => r.path);
  const params = ["home", "workspace"].filter((p) => used.some((x) => x.startsWith("${" + p + "}"))).map((name) => ({ name, builtin: true, value: null }));
  return { ...makeIr({ filesystem: sorted, unix: { pairs: "deny", abstract: "deny", paths } }), params };
}

describe("the indexed lowering writes what the quadratic one wrote", () => {
  it("for random policies of the shared arbitrary", () => {
    fc.assert(fc.property(singleFileIrArb, sameAsReference), { numRuns: RUNS });
  }, 120_000);

  it("for dense policies whose rules overlap across roots, kinds, layers and parameters", () => {
    fc.assert(fc.property(fc.array(denseRuleArb, { maxLength: 24 }), (rules) => sameAsReference(denseIr(rules))), { numRuns: RUNS });
  }, 120_000);

  it("for dense unix socket rules", () => {
    fc.assert(fc.property(fc.array(denseUnixArb, { maxLength: 16 }), (paths) => sameAsReference(denseIr([], paths))), { numRuns: RUNS });
  }, 120_000);

  it("for the scale shapes below, cut down to a size the reference handles", () => {
    for (const ir of [pathRules(300), denyGlobsOverAllows(150), reopenedInsideDeny(150), unixRules(300)]) sameAsReference(ir);
  }, 60_000);
});

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
