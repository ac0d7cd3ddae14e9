// The Landlock lowering against the IR: random policies over a small tree, a random filesystem at launch,
// random accesses. Landlock must never allow what the IR denies; where it denies what the IR allows, the
// compiler must have said so (SBC2201), or the path is the root of a grant (creating or removing a granted
// directory itself needs rights on its parent, which is documented), and a policy without globs, exact
// rules or carve-outs must be enforced exactly.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateFs } from "../../ir/evaluator/evaluate.js";
import { ACCESS_CLASSES, type Access } from "../../ir/access.js";
import type { FsRule, IR } from "../../ir/types.js";
import { bindIr } from "../../ir/bind.js";
import { makeIr } from "../../tests/support/ir.js";
import { ABIS, abiMasks, ACCESS_FS, SCOPE } from "./abi.js";
import { lowerLandlock, RIGHTS_OF, type LandlockTable } from "./lower.js";
import { expandTable, landlockAllows, resolveTable, type Snapshot } from "./model.js";

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
const SNAPSHOT_PATHS = ["/a", "/b", "/.git", "/a/a", "/a/b", "/a/.git", "/b/a", "/a/.git/a", "/a/a/b"];
// Whether a leaf is a directory (7 in 10) is drawn by fast-check too, so the run's seed decides the whole tree.
const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .tuple(fc.subarray(SNAPSHOT_PATHS), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: SNAPSHOT_PATHS.length, maxLength: SNAPSHOT_PATHS.length }))
  .map(([xs, kinds]) => {
    const m = new Map<string, "dir" | "file">([["/", "dir"]]);
    for (const x of xs) {
      const parts = x.split("/").filter(Boolean);
      for (let i = 1; i <= parts.length; i++) {
        const p = "/" + parts.slice(0, i).join("/");
        m.set(p, i < parts.length ? "dir" : (m.get(p) ?? (kinds[SNAPSHOT_PATHS.indexOf(x)]! < 7 ? "dir" : "file")));
      }
    }
    return m;
  });

/**
 * Whether the table's narrowings in Landlock alone are announced: by SBC2201 at compile time, or — for the
 * carve-outs the mount layer enforces in a namespace (`mountEnforced`), which cost nothing there — by the
 * plan's fallback note, printed when no namespace can be had.
 */
function announced(lowered: ReturnType<typeof lowerLandlock>): boolean {
  return lowered.diagnostics.some((d) => d.code === "SBC2201") || !!lowered.table?.fs.some((g) => g.mountEnforced?.length);
}

function check(rules: FsRule[], fs: Snapshot, exact: boolean) {
  const ir = makeIr({ filesystem: [...rules].sort((x, y) => x.layer - y.layer) });
  const lowered = lowerLandlock(ir, { abi: 7 });
  checkTable(ir, lowered.table!, announced(lowered), fs, exact, JSON.stringify(rules));
}

const PROBES = ["/", "/a", "/b", "/.git", "/a/a", "/a/b", "/a/.git", "/b/a", "/a/.git/a", "/a/a/b", "/a/a/new", "/new", "/c", "/c/d", "/c/d/a", "/c/d/.git", "/c/d/.git/a"];

/** `ir` is bound; `table` is concrete (a symbolic one resolved for the same values). */
function checkTable(ir: IR, table: LandlockTable, announced: boolean, fs: Snapshot, exact: boolean, rules: string) {
  const applied = expandTable(table, fs);
  const grantRoots = new Set(table.fs.map((g) => g.path));
  const paths = PROBES;
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
        const where = `${cls} ${p} (right 0x${bit.toString(16)}) rules=${rules} fs=${JSON.stringify([...fs])} table=${JSON.stringify(table.fs)}`;
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

// Symbolic parameters: the table is lowered once with `${p}` and `${q}` free, then resolved for random values
// the way the loader does. Where the loader accepts the values, the table must be the IR bound to them, or
// narrower and announced; and a table without carve-outs, globs or exact rules must be exact.
const SYMBOLIC_PATHS = ["/", "/a", "/b", "/a/a", "/a/b", "/b/a", "/c", "${p}", "${p}/a", "${p}/.git", "${q}", "${q}/a"];
const VALUES = ["/a", "/b", "/a/a", "/a/b", "/b/a", "/c", "/c/d", "/"];
const symbolicRuleArb = (kinds: readonly FsRule["kind"][]): fc.Arbitrary<FsRule> =>
  fc.record({
    effect: fc.constantFrom("allow" as const, "deny" as const),
    access: fc.subarray([...ACCESS_CLASSES], { minLength: 1 }),
    kind: fc.constantFrom(...kinds),
    path: fc.constantFrom(...SYMBOLIC_PATHS),
    ifMissing: fc.constant("skip" as const),
    layer: fc.integer({ min: 0, max: 1 }),
  }).map((r) => (r.kind === "glob" ? { ...r, path: r.path === "/" ? "/*" : r.path + "/*" } : r));

const SYMBOLIC_RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 1000);

function checkSymbolic(rules: FsRule[], values: { p: string; q: string }, snapshot: Snapshot, exactIfSimple: boolean): boolean {
  const base = makeIr({ filesystem: [...rules].sort((x, y) => x.layer - y.layer) });
  const ir: IR = { ...base, params: [{ name: "p", builtin: false, value: null }, { name: "q", builtin: false, value: null }] };
  const lowered = lowerLandlock(ir, { abi: 7 });
  const resolved = resolveTable(lowered.table!, values);
  if (!resolved.table) return false;
  const bound = bindIr(ir, values).ir!;
  // Every grant's root exists as a directory (a missing one is skipped: not what this checks).
  const fs = new Map(snapshot);
  for (const g of resolved.table.fs) {
    const parts = g.path.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) fs.set("/" + parts.slice(0, i).join("/"), "dir");
  }
  const simple = exactIfSimple && !resolved.table.fs.some((g) => g.mode === "children");
  checkTable(bound, resolved.table, announced(lowered), fs, simple, `${JSON.stringify(rules)} values=${JSON.stringify(values)}`);
  return true;
}

describe("symbolic parameters: the table resolved at launch = the IR bound to the same values", () => {
  const valuesArb = fc.record({ p: fc.constantFrom(...VALUES), q: fc.constantFrom(...VALUES) });
  it("subtree rules: exact where nothing is carved out, whenever the loader accepts the values", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(symbolicRuleArb(["subtree"]), { maxLength: 6 }), valuesArb, snapshotArb, (rules, values, fs) => {
        if (checkSymbolic(rules, values, fs, true)) accepted++;
      }),
      { numRuns: SYMBOLIC_RUNS },
    );
    // The check must not pass by refusing everything.
    expect(accepted).toBeGreaterThan(SYMBOLIC_RUNS / 4);
  });
  it("subtree, exact and glob rules: never wider, narrower only when announced", () => {
    fc.assert(
      fc.property(fc.array(symbolicRuleArb(["subtree", "exact", "glob"]), { maxLength: 6 }), valuesArb, snapshotArb, (rules, values, fs) => {
        checkSymbolic(rules, values, fs, false);
      }),
      { numRuns: SYMBOLIC_RUNS },
    );
  });
  it("refuses a placement that would widen: workspace-write's shape with the workspace inside /tmp", () => {
    const rules: FsRule[] = [
      { effect: "allow", access: [...ACCESS_CLASSES], kind: "subtree", path: "/c", ifMissing: "skip", layer: 0 },
      { effect: "allow", access: [...ACCESS_CLASSES], kind: "subtree", path: "${p}", ifMissing: "skip", layer: 0 },
      { effect: "deny", access: ["write"], kind: "subtree", path: "${p}/.git", ifMissing: "skip", layer: 0 },
    ];
    const ir: IR = { ...makeIr({ filesystem: rules }), params: [{ name: "p", builtin: false, value: null }] };
    const table = lowerLandlock(ir, { abi: 7 }).table!;
    expect(table.params).toEqual([{ name: "p", apart: ["/c"], apartOrSame: [] }]);
    // Inside /c, the /c grant would cover ${p}/.git: the loader must refuse rather than apply it.
    expect(resolveTable(table, { p: "/c/d" }).refused).toBeDefined();
    expect(resolveTable(table, { p: "/a" }).table).toBeDefined();
  });
  it("accepts equality where it changes nothing: two plain read-write roots", () => {
    const rules: FsRule[] = [
      { effect: "allow", access: [...ACCESS_CLASSES], kind: "subtree", path: "/c", ifMissing: "skip", layer: 0 },
      { effect: "allow", access: [...ACCESS_CLASSES], kind: "subtree", path: "${p}", ifMissing: "skip", layer: 0 },
    ];
    const ir: IR = { ...makeIr({ filesystem: rules }), params: [{ name: "p", builtin: false, value: null }] };
    const table = lowerLandlock(ir, { abi: 7 }).table!;
    expect(table.params).toEqual([{ name: "p", apart: [], apartOrSame: ["/c"] }]);
    expect(resolveTable(table, { p: "/c" }).table).toBeDefined();
    expect(resolveTable(table, { p: "/c/d" }).refused).toBeDefined();
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
  it("the abstract-unix scope is set exactly when abstract names are denied and the ABI has scopes (6)", () => {
    fc.assert(
      fc.property(
        fc.record({
          pairs: fc.constantFrom("allow" as const, "deny" as const),
          abstract: fc.constantFrom("allow" as const, "deny" as const),
          paths: fc.array(fc.record({ effect: fc.constantFrom("allow" as const, "deny" as const), ops: fc.subarray(["bind", "connect"] as const, { minLength: 1 }), path: pathArb, layer: fc.constant(0) }), { maxLength: 2 }),
        }),
        fc.constantFrom(...ABIS),
        (unix, abi) => {
          const t = lowerLandlock(makeIr({ unix }), { abi, compat: "best-effort" }).table!;
          expect(t.scoped & SCOPE.abstract_unix_socket).toBe(unix.abstract === "deny" && abi >= 6 ? SCOPE.abstract_unix_socket : 0);
          expect(t.scoped & SCOPE.signal).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });
  it("a table never handles or grants a right its ABI does not have", () => {
    fc.assert(
      fc.property(fc.array(ruleArb(["subtree", "exact"]), { maxLength: 5 }), fc.constantFrom(...ABIS), (rules, abi) => {
        const t = lowerLandlock(makeIr({ filesystem: rules, unix: "deny" }), { abi, compat: "best-effort" }).table!;
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
