// Golden tests over fixtures/<case>/: policy.yaml is compiled (with its own tests run) and every expected
// output beside it is compared byte for byte: ir.json and seccomp.x86_64.txt (the filter's disassembly) when
// it compiles (for the ok-preset-* cases also seccomp.<arch>.txt for every other supported arch), landlock.json (the ABI 7 table, with the test stand-ins for unbound parameters),
// landlock.abi8.json … landlock.abi10.json (where a later ABI's table differs: UDP rights, RESOLVE_UNIX), profile.sb
// (the Seatbelt profile, paths inline, from the same bound IR), and
// diagnostics.txt when there are diagnostics (the compiler's and the targets'). `npm run test:update` rewrites the goldens; read that diff like code. A file in a case folder
// that no test reads is an error, so stale goldens cannot linger.

import { lowerDomainRules } from "../ir/backend.js";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderHumanAll } from "../diagnostics/render.js";
import { irToJson } from "../ir/serialize.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { sortDiagnostics } from "../diagnostics/diagnostic.js";
import { disassemble } from "../targets/seccomp/disassemble.js";
import { compileSeccomp } from "../targets/seccomp/index.js";
import { ARCHES } from "../linux-abi/index.js";
import { bindIr } from "../ir/bind.js";
import { testBindings } from "../compiler/passes/run-tests.js";
import { tableToJson } from "../targets/landlock/emit.js";
import { lowerLandlock } from "../targets/landlock/lower.js";
import { compileSbpl } from "../targets/sbpl/index.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";

/** Inputs a case may have besides the files its policy reads. */
const INPUTS = new Set(["policy.yaml", "policy.sbc", "params.json", "README.md"]);
/** The presets' filters are kept for every supported arch (seccomp.<arch>.txt); other cases only for x86_64. */
const ARCH_OUTPUTS = ARCHES.filter((a) => a !== "x86_64").map((a) => `seccomp.${a}.txt`);
const OUTPUTS = ["ir.json", "diagnostics.txt", "seccomp.x86_64.txt", "landlock.json", "landlock.abi8.json", "landlock.abi9.json", "landlock.abi10.json", "profile.sb", ...ARCH_OUTPUTS] as const;
const allArches = (dir: string) => /\/ok-preset-[^/]*$/.test(dir);
/** The later ABIs: a case gets `landlock.abiN.json` where its table for ABI N differs from the ABI 7 one in more than `abi`. */
const LATER_ABIS = [8, 9, 10] as const;

interface Outcome {
  outputs: Partial<Record<string, string>>;
  read: Set<string>;
  errors: number;
}

function compileCase(dir: string): Outcome {
  const paramsFile = join(dir, "params.json");
  const params = existsSync(paramsFile) ? (JSON.parse(readFileSync(paramsFile, "utf8")) as Record<string, string>) : {};
  const r = compilePolicy({ kind: "file", path: "policy.yaml" }, { cwd: dir, params, runTests: true });
  const outputs: Outcome["outputs"] = {};
  const diagnostics = [...r.diagnostics];
  if (r.ir && !r.diagnostics.some((d) => d.severity === "error")) {
    outputs["ir.json"] = irToJson(r.ir);
    // Rules by domain as each target's compile() lowers them: refused (SBC1410) or widened where accepted (SBC1411).
    const linuxLowered = lowerDomainRules(r.ir, "linux", true);
    diagnostics.push(...linuxLowered.diagnostics);
    const refused = linuxLowered.diagnostics.some((d) => d.severity === "error");
    const s = refused ? { diagnostics: [], filter: undefined } : compileSeccomp(linuxLowered.ir, ["x86_64"]);
    diagnostics.push(...s.diagnostics);
    if (s.filter) outputs["seccomp.x86_64.txt"] = disassemble(s.filter.program, { comment: (pc) => s.filter!.comments.get(pc) });
    for (const arch of allArches(dir) && !refused ? ARCHES.filter((a) => a !== "x86_64") : []) {
      const f = compileSeccomp(linuxLowered.ir, [arch]).filter;
      if (f) outputs[`seccomp.${arch}.txt`] = disassemble(f.program, { comment: (pc) => f.comments.get(pc), endianness: f.endianness });
    }
    // Landlock needs concrete paths: the policy-test stand-ins bind whatever is still symbolic.
    const bound = bindIr(r.ir, testBindings(r.ir)).ir!;
    const linuxBound = lowerDomainRules(bound, "linux", true).ir;
    const l = refused ? { diagnostics: [], table: undefined } : lowerLandlock(linuxBound, { abi: 7 });
    diagnostics.push(...l.diagnostics);
    if (l.table) outputs["landlock.json"] = tableToJson(l.table);
    // ABI 8–10 (model-tested: this kernel runs ABI 7): only where they change the table (UDP rights, RESOLVE_UNIX).
    const at7 = l.table ? tableToJson({ ...l.table, abi: 0 }) : undefined;
    for (const abi of LATER_ABIS) {
      const t = lowerLandlock(linuxBound, { abi }).table;
      if (t && tableToJson({ ...t, abi: 0 }) !== at7) outputs[`landlock.abi${abi}.json`] = tableToJson(t);
    }
    // The Seatbelt profile, paths inline, from the same bound IR.
    const sbplLowered = lowerDomainRules(bound, "sbpl", false);
    diagnostics.push(...sbplLowered.diagnostics);
    const sb = sbplLowered.diagnostics.length ? { diagnostics: [], profile: undefined } : compileSbpl(bound, { params: "inline" });
    diagnostics.push(...sb.diagnostics);
    if (sb.profile !== undefined) outputs["profile.sb"] = sb.profile;
  }
  if (diagnostics.length) outputs["diagnostics.txt"] = renderHumanAll(sortDiagnostics(diagnostics));
  const read = new Set(r.filesRead.filter((f) => f.startsWith(dir + "/")).map((f) => f.slice(dir.length + 1)));
  return { outputs, read, errors: r.diagnostics.filter((d) => d.severity === "error").length };
}

/** fixtures/data/ holds inputs that are not policies (peer filters, foreign profiles), each with a provenance note. */
const DATA_DIR = "data";
/** fixtures/format/ holds the formatter's input/output pairs (tests/fmt.test.ts). */
const FORMAT_DIR = "format";
/** fixtures/conformance/ holds the peer suites translated to sbc (tests/conformance.test.ts). */
const CONFORMANCE_DIR = "conformance";

const cases = existsSync(FIXTURES)
  ? readdirSync(FIXTURES, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== DATA_DIR && e.name !== FORMAT_DIR && e.name !== CONFORMANCE_DIR)
      .map((e) => e.name)
      .sort()
  : [];

describe("golden fixtures", () => {
  it("names every case ok-* (compiles) or err-* (does not)", () => {
    for (const c of cases) {
      const o = compileCase(join(FIXTURES, c));
      expect(c.startsWith(o.errors ? "err-" : "ok-"), `${c}: ${o.errors ? "has errors" : "compiles"}`).toBe(true);
    }
  });

  it("has the promised coverage: ≥30 valid and ≥40 invalid cases", () => {
    let valid = 0;
    let invalid = 0;
    for (const c of cases) {
      const o = compileCase(join(FIXTURES, c));
      if (o.errors) invalid++;
      else valid++;
    }
    expect(valid).toBeGreaterThanOrEqual(30);
    expect(invalid).toBeGreaterThanOrEqual(40);
  });

  for (const c of cases) {
    it(c, () => {
      const dir = join(FIXTURES, c);
      expect(existsSync(join(dir, "policy.yaml")), `${c} has no policy.yaml`).toBe(true);
      const first = compileCase(dir);
      const again = compileCase(dir);
      expect(again.outputs, "compiling twice gives the same bytes").toEqual(first.outputs);

      for (const name of OUTPUTS) {
        const file = join(dir, name);
        const want = first.outputs[name];
        if (UPDATE) {
          if (want === undefined) rmSync(file, { force: true });
          else writeFileSync(file, want);
          continue;
        }
        if (want === undefined) expect(existsSync(file), `${c}/${name} exists but the case produces no ${name}`).toBe(false);
        else {
          expect(existsSync(file), `${c}/${name} is missing; run npm run test:update and review it`).toBe(true);
          expect(want).toBe(readFileSync(file, "utf8"));
        }
      }

      const stray = readdirSync(dir).filter((f) => !INPUTS.has(f) && !(OUTPUTS as readonly string[]).includes(f) && !first.read.has(f));
      expect(stray, `files in fixtures/${c} that no test reads`).toEqual([]);
    });
  }
});
