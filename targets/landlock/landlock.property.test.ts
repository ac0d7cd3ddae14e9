// The Landlock lowering against the IR: random policies over a small tree, a random filesystem at launch,
// random accesses. Landlock must never allow what the IR denies; where it denies what the IR allows, the
// compiler must have said so (SBC2201), or the path is the root of a grant (creating or removing a granted
// directory itself needs rights on its parent, which is documented), and a policy without globs, exact
// rules or carve-outs must be enforced exactly.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateFs } from "../../compiler/evaluator/evaluate.js";
import { ACCESS_CLASSES, type Access } from "../../compiler/language/access.js";
import type { FsRule } from "../../compiler/ir/types.js";
import { makeIr } from "../../tests/support/ir.js";
import { ABIS, abiMasks, ACCESS_FS } from "./abi.js";
import { lowerLandlock, RIGHTS_OF } from "./lower.js";
import { expandTable, landlockAllows, type Snapshot } from "./model.js";

const NAMES = ["a", "b", ".git"];
const pathArb = fc.array(fc.constantFrom(...NAMES), { minLength: 0, maxLength: 3 }).map((xs) => (xs.length ? "/" + xs.join("/") : "/"));
const ruleArb = (kinds: readonly FsRule["kind"][]): fc.Arbitrary<FsRule> =>
  fc.record({
    effect: fc.constantFrom("allow" as const, "deny" as const),
    access: fc.subarray([...ACCESS_CLASSES], { minLength: 1 }),
    kind: fc.constantFrom(...kinds),
    path: pathArb,
    ifMissing: fc.constant("skip" as const),
    layer: fc.integer({ min: 0, max: 1 }),
  }).map((r) => (r.kind === "glob" ? { ...r, path: r.path === "/" ? "/*" : r.path + "/*" } : r));

/** Every path of the small tree, some of them existing at launch (directories where they have children). */
const snapshotArb: fc.Arbitrary<Snapshot> = fc.subarray(
  ["/a", "/b", "/.git", "/a/a", "/a/b", "/a/.git", "/b/a", "/a/.git/a", "/a/a/b"],
).map((xs) => {
  const m = new Map<string, "dir" | "file">([["/", "dir"]]);
  for (const x of xs) {
    const parts = x.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = "/" + parts.slice(0, i).join("/");
      m.set(p, i < parts.length ? "dir" : (m.get(p) ?? (Math.random() < 0.7 ? "dir" : "file")));
    }
  }
  return m;
});

function check(rules: FsRule[], fs: Snapshot, exact: boolean) {
  const ir = makeIr({ filesystem: [...rules].sort((x, y) => x.layer - y.layer) });
  const lowered = lowerLandlock(ir, { abi: 7 });
  const table = lowered.table!;
  const applied = expandTable(table, fs);
  const announced = lowered.diagnostics.some((d) => d.code === "SBC2201");
  const grantRoots = new Set(table.fs.map((g) => g.path));
  const paths = ["/", "/a", "/b", "/.git", "/a/a", "/a/b", "/a/.git", "/b/a", "/a/.git/a", "/a/a/b", "/a/a/new", "/new"];
  for (const p of paths) {
    // Nothing can exist beneath a file.
    const parts = p.split("/").filter(Boolean);
    if (parts.some((_, i) => i < parts.length - 1 && fs.get("/" + parts.slice(0, i + 1).join("/")) === "file")) continue;
    for (const cls of ACCESS_CLASSES as readonly Access[]) {
      // A file right asked of a directory means nothing to the kernel; ask it of files and new paths only.
      if ((RIGHTS_OF[cls] & (ACCESS_FS.read_file | ACCESS_FS.write_file | ACCESS_FS.execute | ACCESS_FS.truncate | ACCESS_FS.ioctl_dev)) && fs.get(p) === "dir") continue;
      if (cls === "list" && fs.get(p) === "file") continue;
      const want = evaluateFs(ir, cls, p).decision === "allow";
      for (let bit = 1; bit <= 1 << 15; bit <<= 1) {
        if (!(RIGHTS_OF[cls] & bit)) continue;
        const got = landlockAllows(table, applied, p, bit);
        const where = `${cls} ${p} (right 0x${bit.toString(16)}) rules=${JSON.stringify(rules)} fs=${JSON.stringify([...fs])} table=${JSON.stringify(table.fs)}`;
        if (got && !want) expect.fail(`Landlock allows what the IR denies: ${where}`);
        if (!got && want) {
          // Creating or removing a granted path itself needs the right on its parent (documented).
          const rootOfGrant = (bit & 0x3ff0) !== 0 && grantRoots.has(p);
          // A grant on a path missing at launch is skipped: nothing beneath it can be granted.
          const missingRoot = table.fs.some((g) => !fs.has(g.path) && (p === g.path || p.startsWith(g.path + "/")));
          if (missingRoot) continue;
          if (exact && !rootOfGrant) expect.fail(`not enforced exactly: ${where}`);
          if (!announced && !rootOfGrant) expect.fail(`an unannounced narrowing: ${where}`);
        }
      }
    }
  }
}

describe("Landlock lowering = the IR, or narrower and announced", () => {
  it("subtree rules only: exact where nothing is carved out", () => {
    fc.assert(
      fc.property(fc.array(ruleArb(["subtree"]), { maxLength: 6 }), snapshotArb, (rules, snapshot) => {
        // A rule can only be put on a path that exists at launch (a missing one is skipped, or an error):
        // for exactness every rule's path exists, as a directory.
        const fs = new Map(snapshot);
        for (const r of rules) {
          const parts = r.path.split("/").filter(Boolean);
          for (let i = 1; i <= parts.length; i++) fs.set("/" + parts.slice(0, i).join("/"), "dir");
        }
        const carves = lowerLandlock(makeIr({ filesystem: rules }), { abi: 7 }).table!.fs.some((g) => g.mode === "children");
        check(rules, fs, !carves);
      }),
      { numRuns: 1000 },
    );
  });
  it("subtree, exact and glob rules: never wider, narrower only when announced", () => {
    fc.assert(
      fc.property(fc.array(ruleArb(["subtree", "exact", "glob"]), { maxLength: 6 }), snapshotArb, (rules, fs) => check(rules, fs, false)),
      { numRuns: 1000 },
    );
  });
});

describe("regressions found by the properties", () => {
  it("an exact allow tied with an exact deny on the same file grants nothing (deny wins the tie)", () => {
    const rules: FsRule[] = [
      { effect: "deny", access: ["read", "create-special"], kind: "exact", path: "/b/a", ifMissing: "skip", layer: 0 },
      { effect: "allow", access: ["read", "create-dir"], kind: "exact", path: "/b/a", ifMissing: "skip", layer: 0 },
    ];
    check(rules, new Map([["/", "dir"], ["/b", "dir"], ["/b/a", "file"]]), false);
  });
});

describe("ABI masks", () => {
  it("are cumulative: every ABI has everything the one before had", () => {
    for (const v of ABIS.slice(1)) {
      const a = abiMasks(v - 1);
      const b = abiMasks(v);
      for (const k of ["fs", "net", "scoped", "restrictFlags"] as const) expect((a[k] & b[k]) >>> 0).toBe(a[k]);
    }
  });
  it("add exactly the documented rights at each version", () => {
    expect(abiMasks(1).fs).toBe(0x1fff);
    expect(abiMasks(2).fs).toBe(0x3fff);
    expect(abiMasks(3).fs).toBe(0x7fff);
    expect(abiMasks(4)).toMatchObject({ fs: 0x7fff, net: 0x3, scoped: 0 });
    expect(abiMasks(5).fs).toBe(0xffff);
    expect(abiMasks(6)).toMatchObject({ scoped: 0x3 });
    expect(abiMasks(7)).toMatchObject({ fs: 0xffff, net: 0x3, scoped: 0x3, restrictFlags: 0x7 });
  });
  it("a table never handles or grants a right its ABI does not have", () => {
    fc.assert(
      fc.property(fc.array(ruleArb(["subtree", "exact"]), { maxLength: 5 }), fc.constantFrom(...ABIS), (rules, abi) => {
        const t = lowerLandlock(makeIr({ filesystem: rules, unix: "deny" }), { abi }).table!;
        const m = abiMasks(abi);
        expect(t.handledAccessFs & ~m.fs).toBe(0);
        expect(t.handledAccessNet & ~m.net).toBe(0);
        expect(t.scoped & ~m.scoped).toBe(0);
        for (const g of t.fs) {
          expect(g.access & ~t.handledAccessFs, JSON.stringify(g)).toBe(0);
          expect(g.access).not.toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
