// The SBPL lowering asks targets/sbpl/region-index.ts which rules may share a path with a given one, and then
// decides with `mayOverlap` / `within`. Its output is unchanged by the index only if the index never leaves out
// a rule those predicates would keep: `candidates` must be a superset of the overlapping rules (exactly them
// under the same root), and `enclosing` exactly the rules whose anchor is a prefix, shortest first. Checked
// here on dense random regions (few names, so they nest often), across roots and kinds.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mayOverlap, RegionIndex, startsWith, type Placed } from "../targets/sbpl/region-index.js";

const RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 300);

const regionArb: fc.Arbitrary<Placed> = fc.record({
  kind: fc.constantFrom<Placed["kind"]>("subtree", "exact", "glob"),
  path: fc.record({ root: fc.constantFrom<string | null>(null, null, "workspace", "home") }),
  anchor: fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 4 }),
});

describe("the region index answers supersets of the lowering's overlap predicates", () => {
  it("candidates: every region that may overlap the query, and under the query's root nothing else", () => {
    fc.assert(
      fc.property(fc.array(regionArb, { maxLength: 30 }), regionArb, (regions, q) => {
        const index = new RegionIndex<number>();
        regions.forEach((r, i) => index.add(r, i));
        const got = index.candidates(q);
        expect(new Set(got).size, "no rule twice").toBe(got.length);
        const overlapping = regions.flatMap((r, i) => (mayOverlap(q, r) ? [i] : []));
        expect(got).toEqual(expect.arrayContaining(overlapping));
        const sameRoot = (i: number) => regions[i]!.path.root === q.path.root;
        expect(got.filter(sameRoot).sort((x, y) => x - y)).toEqual(overlapping.filter(sameRoot));
      }),
      { numRuns: RUNS },
    );
  });

  it("enclosing: exactly the regions of that root whose anchor is a prefix of the given one, shortest first", () => {
    fc.assert(
      fc.property(fc.array(regionArb, { maxLength: 30 }), regionArb, (regions, q) => {
        const index = new RegionIndex<number>();
        regions.forEach((r, i) => index.add(r, i));
        const got = index.enclosing(q.path.root, q.anchor);
        const want = regions.flatMap((r, i) => (r.path.root === q.path.root && startsWith(q.anchor, r.anchor) ? [i] : []));
        expect([...got].sort((x, y) => x - y)).toEqual(want);
        const depths = got.map((i) => regions[i]!.anchor.length);
        expect(depths).toEqual([...depths].sort((x, y) => x - y));
      }),
      { numRuns: RUNS },
    );
  });

  it("a different root is never ruled out by the index (a parameter's value is unknown)", () => {
    const index = new RegionIndex<string>();
    index.add({ kind: "subtree", path: { root: "workspace" }, anchor: ["x"] }, "w");
    expect(index.candidates({ kind: "exact", path: { root: null }, anchor: ["a", "b"] })).toEqual(["w"]);
  });
});
