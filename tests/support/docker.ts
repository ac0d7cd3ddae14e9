// Docker's default seccomp profile as a container gets it: imported for one arch with Docker's default
// capability set (fixtures/data/oci/moby-seccomp-default.json), compiled for that arch.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { importOciSeccomp } from "../../compiler/importers/oci-seccomp.js";
import type { Arch } from "../../linux-abi/index.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { compileSeccomp } from "../../targets/seccomp/index.js";

const DATA = join(import.meta.dirname, "..", "..", "fixtures", "data", "oci");

/** moby's oci/caps/defaults.go: the capabilities a Docker container gets by default. */
export const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
] as const;

/** The imported policy's IR and its filter for `arch` alone. */
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

