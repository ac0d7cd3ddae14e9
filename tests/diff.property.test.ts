// Properties of the diff engine over random IRs (tests/support/policy-arbitrary.ts): a policy never differs
// from itself, and swapping the two sides swaps widenings and narrowings, question for question.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { probePolicies, diffPolicies } from "../lib/diff/index.js";
import { singleFileIrArb } from "./support/policy-arbitrary.js";
import { propertyOptions } from "./support/property.js";

const OPTIONS = propertyOptions(20);

describe("diffPolicies (properties)", () => {
  it("a policy against itself: no change", () => {
    fc.assert(
      fc.property(singleFileIrArb, (ir) => {
        expect(diffPolicies(ir, ir).changes).toEqual([]);
      }),
      OPTIONS,
    );
  });

  it("swapping the sides swaps widened and narrowed, for the same questions", () => {
    fc.assert(
      fc.property(singleFileIrArb, singleFileIrArb, (a, b) => {
        const ab = diffPolicies(a, b);
        const ba = diffPolicies(b, a);
        const questions = (d: typeof ab, direction: string) =>
          d.changes
            .filter((c) => c.direction === direction)
            .flatMap((c) => c.probes.map((p) => p.query))
            .sort();
        expect(questions(ba, "narrowed")).toEqual(questions(ab, "widened"));
        expect(questions(ba, "widened")).toEqual(questions(ab, "narrowed"));
        expect(questions(ba, "changed")).toEqual(questions(ab, "changed"));
        // Every changed question is one of the probes, and each probe is counted once.
        const all = probePolicies(a, b);
        const changed = all.filter((r) => r.old.answer !== r.new.answer).map((r) => r.query).sort();
        expect([...questions(ab, "widened"), ...questions(ab, "narrowed"), ...questions(ab, "changed")].sort()).toEqual(changed);
      }),
      OPTIONS,
    );
  });
});
