// Issue 12's acceptance as a test: Docker's default profile, imported with Docker's default capabilities,
// gives libseccomp 2.5.4's verdict on every syscall number of x86_64 and aarch64 (libseccomp reading the
// profile itself, bench/seccomp/libseccomp-gen.py --profile), with no x32 or i386 bypass, in ≤ 80
// instructions and a mean path ≤ 10 on x86_64. `npm run bench` runs the same comparison on every arch and
// records it; this keeps later changes to the importer and the backend (peephole pass …) honest.
// Needs Debian's python3-seccomp: skipped with a printed reason without it, failed when SBC_REQUIRE_LIBSECCOMP=1.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agreementEvents, bypassChecks, compareArch } from "../bench/seccomp/docker-arches.js";
import { syscallTable } from "../linux-abi/index.js";

const PROFILE = join(import.meta.dirname, "..", "fixtures", "data", "oci", "moby-seccomp-default.json");
const haveLibseccomp = spawnSync("/usr/bin/python3", ["-c", "import seccomp"], { stdio: "ignore" }).status === 0;
const dir = mkdtempSync(join(tmpdir(), "sbc-docker-libseccomp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the events of the agreement check", () => {
  const profile = { syscalls: [] as { names: string[]; action: string; args?: { index: number; value: number; valueTwo?: number; op: string }[] }[] };
  profile.syscalls.push({ names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 38, op: "SCMP_CMP_LT" }] });
  profile.syscalls.push({ names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 2114060288, op: "SCMP_CMP_MASKED_EQ" }] });

  it("cover every number, −1, the x32 forms and the values that flip each condition", () => {
    const events = agreementEvents("x86_64", profile);
    const max = Math.max(...Object.values(syscallTable("x86_64")));
    const plain = new Set(events.filter((e) => e.args.every((a) => a === 0n)).map((e) => e.nr));
    for (let nr = 0; nr <= max + 64; nr++) {
      expect(plain.has(nr)).toBe(true);
      expect(plain.has((nr | 0x40000000) >>> 0)).toBe(true);
    }
    expect(plain.has(-1)).toBe(true);
    const domains = new Set(events.filter((e) => e.name === "socket").map((e) => e.args[0]));
    for (let d = 0n; d <= 45n; d++) expect(domains.has(d)).toBe(true);
    const clone = events.filter((e) => e.name === "clone").map((e) => e.args[0]!);
    expect(clone.some((f) => (f & 0x10000000n) !== 0n)).toBe(true);
    expect(clone.some((f) => f !== 0n && (f & 0x10000000n) === 0n)).toBe(true);
    expect(events.every((e) => e.args.every((a) => a <= 0xffffffffn))).toBe(true);
  });
});

const describeLibseccomp = haveLibseccomp ? describe : process.env.SBC_REQUIRE_LIBSECCOMP === "1" ? describe : describe.skip;
if (!haveLibseccomp) process.stderr.write("docker-libseccomp.test.ts: skipped, /usr/bin/python3 cannot `import seccomp` (apt-get install python3-seccomp)\n");

describeLibseccomp("Docker's default profile against libseccomp 2.5.4", () => {
  it("requires python3-seccomp", () => expect(haveLibseccomp).toBe(true));

  for (const arch of ["x86_64", "aarch64"] as const) {
    it(`gives libseccomp's verdict on every ${arch} number`, () => {
      const r = compareArch(PROFILE, arch, dir);
      expect(r.disagreements).toEqual([]);
      expect(r.numbers).toBeGreaterThan(Math.max(...Object.values(syscallTable(arch))) + 64);
      // Differences only where libseccomp 2.5.4 lacks the call, where runc's ENOSYS stub (which the importer
      // reproduces, and runc adds to libseccomp's filter) answers, or for high bits of 32-bit arguments.
      const RUNC = /^runc's (convention: ENOSYS for numbers above|ENOSYS stub answers -1)/;
      for (const d of r.designed) expect(d.reason).toMatch(/^libseccomp 2\.5\.4's table for the arch lacks the call|^runc's /);
      for (const d of r.highBit) expect(d.reason).toMatch(/as 32-bit: sbc compares its low 32 bits/);
      expect(r.designed.filter((d) => RUNC.test(d.reason!)).every((d) => d.sbc === "errno(38)")).toBe(true);
      if (arch === "x86_64") {
        expect(r.designed.filter((d) => !RUNC.test(d.reason!))).toEqual([]);
        expect(r.sizes.sbc.insns).toBeLessThanOrEqual(80);
        expect(r.sizes.sbc.mean).toBeLessThanOrEqual(10);
      }
    });
  }

  it("lets no i386 or x32 socket(AF_ALG), socket(AF_VSOCK) or socketcall(SYS_SOCKET) through", () => {
    const checks = bypassChecks(PROFILE, dir);
    expect(checks.length).toBe(10);
    expect(checks.filter((c) => c.sbc === "allow")).toEqual([]);
  });
});
