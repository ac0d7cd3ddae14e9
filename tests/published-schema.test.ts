// The schema that ships in the package (schema/policy.schema.json) is what editors validate with, so it is
// tested as a file, with a fresh strict ajv: it must accept every preset and every fixture that compiles,
// and reject the shapes it is responsible for.

import { createRequire } from "node:module";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
const Ajv2020 = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js").default;
const schema = JSON.parse(readFileSync(join(ROOT, "schema/policy.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ strict: true }).compile(schema);

function policies(): { name: string; value: unknown }[] {
  const out: { name: string; value: unknown }[] = [];
  for (const f of readdirSync(join(ROOT, "presets"))) out.push({ name: `presets/${f}`, value: parse(readFileSync(join(ROOT, "presets", f), "utf8")) });
  const fx = join(ROOT, "fixtures");
  for (const c of readdirSync(fx).sort()) {
    // A fixture that compiled has an ir.json beside it; every YAML file in it is then schema-valid.
    if (!existsSync(join(fx, c, "ir.json"))) continue;
    for (const f of readdirSync(join(fx, c)).filter((n) => n.endsWith(".yaml"))) {
      out.push({ name: `fixtures/${c}/${f}`, value: parse(readFileSync(join(fx, c, f), "utf8")) });
    }
  }
  return out;
}

describe("schema/policy.schema.json", () => {
  const all = policies();
  it("covers the presets and at least 30 compiling fixtures", () => {
    expect(all.filter((p) => p.name.startsWith("fixtures/")).length).toBeGreaterThanOrEqual(30);
  });
  for (const p of all) {
    it(`accepts ${p.name}`, () => {
      expect(validate(p.value), JSON.stringify(validate.errors)).toBe(true);
    });
  }
  it.each([
    ["a missing format version", { name: "x" }],
    ["an unknown top-level key", { sbc: 1, filesytem: [] }],
    ["an unknown access word", { sbc: 1, filesystem: [{ allow: "wirte", path: "/" }] }],
    ["an unknown network mode", { sbc: 1, network: "of" }],
    ["a string where a list of rules belongs", { sbc: 1, filesystem: "/" }],
    ["a bad parameter name", { sbc: 1, params: { "9x": "/" } }],
    ["a command rule without a decision", { sbc: 1, commands: { rules: [{ prefix: "ls" }] } }],
  ])("rejects %s", (_label, value) => {
    expect(validate(value)).toBe(false);
  });
});
