// Landlock tables for every ABI, as goldens: the presets compiled for ABI 1 to 7 (fixtures/data/landlock/),
// so a change in how rights are gated per version shows up as a reviewed diff. `SBC_UPDATE_GOLDENS=1`
// rewrites them; a file in that folder that no test writes is an error. Also each preset with its parameters
// left symbolic.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bindIr } from "../../ir/bind.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { testBindings } from "../../compiler/passes/run-tests.js";
import { ABIS } from "./abi.js";
import { tableToJson } from "./emit.js";
import { lowerLandlock } from "./lower.js";

const DIR = join(import.meta.dirname, "..", "..", "fixtures", "data", "landlock");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";
const PRESETS = ["read-only", "workspace-write", "full-access"];

describe("Landlock tables per ABI (goldens)", () => {
  const expected = new Set<string>(["README.md"]);
  for (const preset of PRESETS) {
    for (const abi of ABIS) {
      const name = `${preset}.abi${abi}.json`;
      expected.add(name);
      it(name, () => {
        const ir = compilePolicy({ kind: "preset", name: preset }).ir!;
        // Older ABIs lack rights some presets need: hard-requirement refuses those (SBC2211), best-effort records them.
        const bound = bindIr(ir, testBindings(ir)).ir!;
        const table = (lowerLandlock(bound, { abi }).table ?? lowerLandlock(bound, { abi, compat: "best-effort" }).table)!;
        const text = tableToJson(table);
        const file = join(DIR, name);
        if (UPDATE) {
          mkdirSync(DIR, { recursive: true });
          writeFileSync(file, text);
        } else {
          expect(existsSync(file), `${name} is missing; run npm run test:update`).toBe(true);
          expect(text).toBe(readFileSync(file, "utf8"));
        }
      });
    }
  }
  // The same presets with their parameters left symbolic (ABI 7), as `sbc compile -t landlock` emits them
  // without --param: the grants name `${workspace}` and the table states the placement it assumes.
  for (const preset of PRESETS) {
    const name = `${preset}.symbolic.json`;
    expected.add(name);
    it(name, () => {
      const ir = compilePolicy({ kind: "preset", name: preset }).ir!;
      const text = tableToJson(lowerLandlock(ir, { abi: 7 }).table!);
      const file = join(DIR, name);
      if (UPDATE) writeFileSync(file, text);
      else {
        expect(existsSync(file), `${name} is missing; run npm run test:update`).toBe(true);
        expect(text).toBe(readFileSync(file, "utf8"));
      }
    });
  }
  it("holds no file that no test writes", () => {
    if (UPDATE) return;
    expect(readdirSync(DIR).filter((f) => !expected.has(f))).toEqual([]);
  });
});
