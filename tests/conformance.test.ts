// Peer conformance: libseccomp's `tests/*-sim-*` cases and Kafel's tests, translated to sbc policies
// (fixtures/conformance/, format in docs/conformance.md). Each policy is compiled as `sbc compile -t seccomp`
// compiles it (compilePolicy, then the CLI's seccomp target for the fixture's arches, bytes decoded), and every upstream vector is run
// through the BPF interpreter and through the IR's reference semantics: both must give the upstream verdict,
// action and data. A fixture marked pending must still fail to compile, and one marked known-failure must
// still get a vector wrong, so flipping a mark is a deliberate step the day sbc changes.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { compilePolicy } from "../lib/index.js";
import { ARCHES, ARCH_INFO, syscallNumber, type Arch } from "../linux-abi/index.js";
import { actionValue } from "../targets/seccomp/actions.js";
import { prepareFilter } from "../targets/seccomp/interpreter.js";
import { AUDIT_ARCH, expectedAction } from "../targets/seccomp/semantics.js";
import { compileLikeCli, FIXTURE_FILES, loadSuites, type Fixture, type Vector } from "./support/conformance.js";

/**
 * What a pending feature looks like to today's compiler: the diagnostic codes its syntax draws, and what their
 * messages name. A pending fixture failing any other way is a broken fixture, not a missing feature.
 */
const PENDING: Readonly<Record<string, { readonly codes: readonly string[]; readonly message: RegExp }>> = {
  // None today: syscall numbers (`x86_64:1000`, SBC0801 before) and `trace` (SBC0201/0203/0204) landed with
  // issue 12. A new feature adds its codes here with the fixtures it blocks.
};

const suites = loadSuites();
const hex = (n: number) => "0x" + (n >>> 0).toString(16).padStart(8, "0");

export interface Outcome {
  /** Vectors run, per filter. */
  readonly run: number;
  /** Vectors whose syscall name does not exist on the vector's arch (libseccomp resolves it to a pseudo number). */
  readonly noSuchSyscall: number;
  readonly mismatches: readonly string[];
  readonly failingLines: readonly number[];
}

function compile(f: Fixture): { ir?: IR; errors: Diagnostic[]; filesRead: readonly string[] } {
  const r = compilePolicy({ kind: "file", path: "policy.yaml" }, { cwd: f.dir });
  return { ...(r.ir ? { ir: r.ir } : {}), errors: r.diagnostics.filter((d) => d.severity === "error"), filesRead: r.filesRead };
}

/**
 * The number the kernel presents: a number as written, or the name's table number plus the arch's run-time
 * base (`__X32_SYSCALL_BIT` on x32), as libseccomp's `scmp_sys_resolver` resolves names for its simulator.
 */
function nrOf(v: Vector, arch: Arch): number | undefined {
  if (typeof v.syscall === "number") return v.syscall;
  const nr = syscallNumber(arch, v.syscall);
  return nr === undefined ? undefined : (nr | ARCH_INFO[arch].nrBase) >>> 0;
}

/**
 * Run every vector of the filter's arches, and of the arches it names as foreign, through the compiled program
 * and the reference semantics.
 */
async function runFilterVectors(f: Fixture, ir: IR, arches: readonly Arch[], foreign: readonly Arch[]): Promise<Outcome> {
  const out = await compileLikeCli(ir, arches);
  if (!out.program) return { run: 0, noSuchSyscall: 0, failingLines: [], mismatches: [`[${arches}] does not compile: ${out.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`] };
  const run = prepareFilter(out.program);
  const mismatches: string[] = [];
  const failingLines: number[] = [];
  let n = 0;
  let missing = 0;
  for (const v of f.vectors) {
    if (!(arches as readonly string[]).includes(v.arch) && !(foreign as readonly string[]).includes(v.arch)) continue;
    const arch = v.arch as Arch;
    const nr = nrOf(v, arch);
    if (nr === undefined) {
      missing++;
      continue;
    }
    n++;
    byArch[arch] = (byArch[arch] ?? 0) + 1;
    const event = { arch: AUDIT_ARCH[arch], nr, args: v.args };
    const got = run({ ...event, byteOrder: out.endianness }).ret >>> 0;
    const sem = actionValue(expectedAction(ir, arches, event)) >>> 0;
    if (got !== v.ret || sem !== v.ret) {
      const args = v.args.map((a) => "0x" + a.toString(16)).join(",");
      failingLines.push(v.line);
      mismatches.push(`vectors.tsv:${v.line} [${arches}] ${arch} ${v.syscall}(${args}): want ${v.expect} ${hex(v.ret)}, filter ${hex(got)}, semantics ${hex(sem)}`);
    }
  }
  return { run: n, noSuchSyscall: missing, mismatches, failingLines };
}

const isArch = (a: string): a is Arch => (ARCHES as readonly string[]).includes(a);

/** Totals for the summary and docs/conformance.md. */
const totals = { fixtures: 0, pass: 0, pending: 0, knownFailure: 0, refused: 0, rows: 0, vectors: 0, run: 0, pendingArchFilters: 0, noSuchSyscall: 0, filters: 0, multiArchFilters: 0 };
/** Event × filter runs per arch of the event. */
const byArch: Partial<Record<Arch, number>> = {};

for (const suite of suites) {
  describe(`${suite.name} (${suite.repo}@${suite.commit.slice(0, 12)})`, () => {
    it("lists every upstream case, each translated or with the reason it is not", () => {
      const names = suite.fixtures.map((f) => f.name);
      const referenced = suite.cases.flatMap((c) => c.fixtures ?? []);
      for (const c of suite.cases) {
        expect(!!c.fixtures?.length !== !!c.notApplicable, `${c.case}: either fixtures or not-applicable`).toBe(true);
      }
      expect([...referenced].sort(), "fixtures named in UPSTREAM.yaml = fixture directories").toEqual([...names].sort());
      expect(new Set(referenced).size).toBe(referenced.length);
    });

    for (const f of suite.fixtures) {
      it(`${f.name}${f.status.kind === "pass" ? "" : ` (${f.status.kind}: ${f.status.kind === "pending" ? f.status.feature : f.status.reason})`}`, async () => {
        totals.fixtures++;
        totals.rows += f.rows;
        totals.vectors += f.vectors.length;
        const c = compile(f);
        const stray = readdirSync(f.dir).filter((x) => !FIXTURE_FILES.has(x) && !c.filesRead.includes(join(f.dir, x)));
        expect(stray, `files in ${f.dir} that no test reads`).toEqual([]);
        for (const v of f.vectors) {
          expect(f.filters.some((fl) => fl.arches.includes(v.arch) || fl.foreign.includes(v.arch)), `vectors.tsv:${v.line}: no filter has arch ${v.arch}`).toBe(true);
        }

        if (f.status.kind === "pending") {
          totals.pending++;
          const want = PENDING[f.status.feature];
          expect(want, `unknown pending feature ${f.status.feature}`).toBeDefined();
          expect(c.errors.length, `${f.name} is marked pending (${f.status.feature}) but compiles now: remove the mark`).toBeGreaterThan(0);
          for (const d of c.errors) {
            expect(want!.codes, `${f.name}: ${d.code} ${d.message}`).toContain(d.code);
            expect(d.message, `${f.name}: ${d.code} is about something else than ${f.status.feature}`).toMatch(want!.message);
          }
          return;
        }
        if (f.status.kind === "refused") {
          totals.refused++;
          expect(c.errors.map((d) => d.code), `${f.name} is marked refused (${f.status.code})`).toEqual([f.status.code]);
          return;
        }
        expect(c.errors.map((d) => `${d.code} ${d.message}`)).toEqual([]);
        const mismatches: string[] = [];
        const failingLines = new Set<number>();
        for (const spec of f.filters) {
          if (spec.pending) {
            totals.pendingArchFilters++;
            expect(spec.arches.every(isArch), `${f.name}: filter [${spec.arches}] is marked pending (${spec.pending}) but every arch is supported now: remove the mark`).toBe(false);
            continue;
          }
          expect([...spec.arches, ...spec.foreign].every(isArch), `${f.name}: unsupported arch in [${spec.arches}] or its foreign arches without a pending mark`).toBe(true);
          const o = await runFilterVectors(f, c.ir!, spec.arches as Arch[], spec.foreign as Arch[]);
          expect(o.run, `${f.name}: filter [${spec.arches}] ran no vector: a test that cannot fail`).toBeGreaterThan(0);
          totals.run += o.run;
          totals.filters++;
          if (spec.arches.length > 1) totals.multiArchFilters++;
          totals.noSuchSyscall += o.noSuchSyscall;
          mismatches.push(...o.mismatches);
          o.failingLines.forEach((l) => failingLines.add(l));
        }
        if (f.status.kind === "known-failure") {
          totals.knownFailure++;
          expect(mismatches.length, `${f.name} is marked known-failure but every vector passes now: remove the mark`).toBeGreaterThan(0);
          expect([...failingLines].sort((a, b) => a - b), `${f.name}: the vectors.tsv lines that fail`).toEqual([...f.status.lines].sort((a, b) => a - b));
        } else {
          totals.pass++;
          expect(mismatches.slice(0, 20), `${mismatches.length} vectors disagree`).toEqual([]);
        }
      });
    }
  });
}

describe("summary", () => {
  it("prints the counts", () => {
    // Runs after the fixtures (vitest keeps file order): docs/conformance.md quotes these numbers.
    console.log(`conformance: ${JSON.stringify(totals)} by arch: ${JSON.stringify(byArch)}`);
    expect(totals.fixtures).toBe(suites.reduce((n, s) => n + s.fixtures.length, 0));
  });
});
