// Generated files must match what their generators produce now (the JSON Schema and the diagnostics
// catalog; the Linux ABI tables are checked in linux-abi/linux-abi.test.ts).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedFiles, REPO_ROOT } from "../scripts/generators.js";

describe("generated files", () => {
  for (const f of generatedFiles()) {
    it(`${f.path} is up to date (npm run gen)`, () => {
      const abs = join(REPO_ROOT, f.path);
      expect(existsSync(abs), `${f.path} is missing; run npm run gen`).toBe(true);
      expect(readFileSync(abs, "utf8")).toBe(f.content);
    });
  }
});
