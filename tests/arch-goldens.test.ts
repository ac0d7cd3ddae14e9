// Docker's default profile on every supported arch: imported for that arch (its `includes.arches` entries)
// with Docker's default capability set, compiled for that arch alone, and compared with the golden
// disassembly in fixtures/data/oci/docker-default/seccomp.<arch>.txt. `npm run test:update` rewrites them.
// The presets' per-arch goldens live beside their fixtures (tests/fixtures.test.ts).

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARCHES } from "../linux-abi/index.js";
import { disassemble } from "../targets/seccomp/disassemble.js";
import { dockerFilter } from "./support/docker.js";

const DIR = join(import.meta.dirname, "..", "fixtures", "data", "oci", "docker-default");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";

describe("Docker's default profile, one golden per arch", () => {
  it.each(ARCHES)("%s", (arch) => {
    const { filter } = dockerFilter(arch);
    const text = disassemble(filter.program, { comment: (pc) => filter.comments.get(pc), endianness: filter.endianness });
    const file = join(DIR, `seccomp.${arch}.txt`);
    if (UPDATE) {
      mkdirSync(DIR, { recursive: true });
      writeFileSync(file, text);
      return;
    }
    expect(existsSync(file), `${file} is missing; run npm run test:update and review it`).toBe(true);
    expect(text).toBe(readFileSync(file, "utf8"));
  });

  it("keeps no file in its folder that this test does not write", () => {
    expect(readdirSync(DIR).sort()).toEqual(ARCHES.map((a) => `seccomp.${a}.txt`).sort());
  });
});
