// Docker's default profile on every supported arch: imported for that arch (its `includes.arches` entries)
// with Docker's default capability set, compiled for that arch alone, and compared with the golden
// disassembly in fixtures/data/oci/docker-default/seccomp.<arch>.txt. `npm run test:update` rewrites them.
// The presets' per-arch goldens live beside their fixtures (tests/fixtures.test.ts).

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importOciSeccomp } from "../compiler/importers/oci-seccomp.js";
import { ARCHES, type Arch } from "../compiler/linux-abi/index.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { disassemble } from "../targets/seccomp/disassemble.js";
import { compileSeccomp } from "../targets/seccomp/index.js";

const DATA = join(import.meta.dirname, "..", "fixtures", "data", "oci");
const DIR = join(DATA, "docker-default");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";

/** moby's oci/caps/defaults.go: the capabilities a Docker container gets by default. */
export const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
] as const;

export function dockerFilter(arch: Arch) {
  const json = readFileSync(join(DATA, "moby-seccomp-default.json"), "utf8");
  const imported = importOciSeccomp(json, { path: "moby-seccomp-default.json", arch, caps: [...DOCKER_DEFAULT_CAPS] });
  expect(imported.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const c = compilePolicy({ kind: "text", path: `docker-default.${arch}.yaml`, text: imported.yaml! });
  expect(c.diagnostics).toEqual([]);
  const out = compileSeccomp(c.ir!, [arch]);
  expect(out.filter).toBeDefined();
  return { ir: c.ir!, filter: out.filter!, diagnostics: out.diagnostics };
}

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
