// Every valid YAML fixture has a DSL twin (`policy.sbc` beside `policy.yaml`) that must compile to the same
// bytes for every target `sbc compile` offers, and give the same diagnostics apart from where they point.
// This is the proof that the two surfaces say the same things: a target added later is compared too.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TARGETS } from "../lib/targets.js";
import { compilePolicy } from "../compiler/passes/index.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures");
const cases = readdirSync(FIXTURES).filter((c) => c.startsWith("ok-")).sort();

async function compileAll(dir: string, file: string) {
  const paramsFile = join(dir, "params.json");
  const params = existsSync(paramsFile) ? (JSON.parse(readFileSync(paramsFile, "utf8")) as Record<string, string>) : {};
  const r = compilePolicy({ kind: "file", path: file }, { cwd: dir, params, runTests: true });
  // Spans differ between the twins by construction; codes, messages and help must not.
  const diagnostics = r.diagnostics.map((d) => `${d.code} ${d.message}${d.help ? ` (${d.help})` : ""}`);
  const outputs: Record<string, string> = {};
  if (r.ir) {
    for (const [name, target] of Object.entries(TARGETS)) {
      const o = await target.emit(r.ir, { arches: undefined, withSpans: false });
      const bytes = o.output === undefined ? "(no output)" : typeof o.output === "string" ? o.output : Buffer.from(o.output).toString("base64");
      outputs[name] = `${bytes}\n${o.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n")}`;
    }
  }
  return { compiled: r.ir !== undefined, diagnostics, outputs };
}

describe("DSL twins of the valid fixtures", () => {
  it("covers every valid fixture", () => {
    const missing = cases.filter((c) => !existsSync(join(FIXTURES, c, "policy.sbc")));
    expect(missing).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(c, async () => {
      const dir = join(FIXTURES, c);
      const yaml = await compileAll(dir, "policy.yaml");
      const dsl = await compileAll(dir, "policy.sbc");
      expect(yaml.compiled, "the YAML fixture compiles").toBe(true);
      expect(dsl.diagnostics).toEqual(yaml.diagnostics);
      expect(Object.keys(dsl.outputs)).toEqual(Object.keys(TARGETS));
      for (const name of Object.keys(TARGETS)) expect(dsl.outputs[name], `target ${name}`).toBe(yaml.outputs[name]);
    });
  }
});
