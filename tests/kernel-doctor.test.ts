// `sbc doctor`: what this machine offers `sbc exec`, from the loader's real trial, on this kernel (Landlock ABI
// 7, namespaces) and under an outer sandbox that takes namespaces away (a filter refusing unshare), where it
// must say so, say what exec will do instead, and exit 1.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { childEnv, ensureBuilt } from "./support/cli.js";
import { itKernel } from "./support/kernel.js";
import { describeLoader } from "./support/loader.js";

const REPO = join(import.meta.dirname, "..");
const SBC = join(REPO, "bin", "sbc");
let dir = "";

function doctor(args: readonly string[] = [], outer?: string) {
  const argv = outer ? [SBC, "exec", outer, "--", SBC, "doctor", ...args] : [SBC, "doctor", ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: "utf8", env: childEnv({ SBC_CACHE_DIR: join(dir, "cache") }), timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describeLoader("sbc doctor", () => {
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync("/var/tmp/sbc-doctor-");
    writeFileSync(join(dir, "no-unshare.yaml"), "sbc: 1\nextends: full-access\nsyscalls:\n  rules:\n    - syscalls: [unshare]\n      action: { errno: EPERM }\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itKernel("on this machine: Landlock, seccomp, a namespace (CAP_SYS_ADMIN as root, else a user namespace), and exec uses all three", () => {
    const r = doctor();
    expect(r.status, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^landlock {5}ABI [1-9]\d*$/m);
    expect(r.out).toMatch(/^seccomp {6}filters available$/m);
    expect(r.out).toMatch(/^namespaces {3}available \((CAP_SYS_ADMIN|an unprivileged user namespace)\)$/m);
    expect(r.out).toMatch(/^io_uring {5}\S/m);
    expect(r.out).toMatch(/^sbc exec {5}a private mount namespace \(.*\) \+ Landlock ABI \d+ \+ seccomp$/m);
    expect(r.out).not.toMatch(/^ {2}! /m);
    const json = JSON.parse(doctor(["--format", "json"]).out) as { namespaces: { available: boolean }; landlockAbi: number; exec: { uses: string[]; problems: string[] } };
    expect(json.namespaces.available).toBe(true);
    expect(json.landlockAbi).toBeGreaterThan(0);
    expect(json.exec.problems).toEqual([]);
  });

  itKernel("where unshare is refused: namespaces unavailable with the step and errno, the fallback named, exit 1", () => {
    const r = doctor([], join(dir, "no-unshare.yaml"));
    expect(r.status, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/^namespaces {3}unavailable: creating a namespace is refused \(a container's seccomp profile, or a security module\)$/m);
    expect(r.out).toMatch(/^sbc exec {5}Landlock ABI \d+ \+ seccomp$/m);
    expect(r.out).toMatch(/^ {2}! no mount namespace: .*falls back to Landlock alone.*`--namespaces require` refuses instead/m);
  });
});
