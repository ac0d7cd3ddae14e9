// The raw filter bytes are what `bwrap --seccomp FD` reads: compile presets with `sbc compile -t seccomp`,
// hand the file to Debian's bubblewrap, and watch a real program inside hit the filter (Python's socket()
// gets EPERM where the policy's network section forbids it, and works where it does not).

import { spawnSync } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect } from "vitest";
import { describeKernel, itKernel } from "./support/kernel.js";
import { ensureBuilt, sbc } from "./support/cli.js";
import { tempDir } from "./support/tmp.js";

function bwrap(): string | undefined {
  const r = spawnSync("sh", ["-c", "command -v bwrap"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const PROBE = [
  "import errno, os, socket",
  "def attempt(family):",
  "    try:",
  "        socket.socket(family, socket.SOCK_STREAM).close(); return 'ok'",
  "    except OSError as e:",
  "        return errno.errorcode.get(e.errno, str(e.errno))",
  "print('inet', attempt(socket.AF_INET), 'unix', attempt(socket.AF_UNIX), 'ppid', os.getppid() > 0)",
].join("\n");

const BWRAP = bwrap();
const REQUIRED = process.env.SBC_REQUIRE_KERNEL === "1";
if (!BWRAP && !REQUIRED) console.warn("bwrap tests skipped: bubblewrap is not installed (scripts/install-test-deps.sh installs it)");

(BWRAP || REQUIRED ? describeKernel : describe.skip)("bwrap --seccomp with sbc's raw filters", () => {
  beforeAll(() => ensureBuilt());

  for (const [preset, expected] of [
    ["read-only", "inet EPERM unix EPERM ppid True"],
    ["workspace-write", "inet EPERM unix EPERM ppid True"],
    ["full-access", "inet ok unix ok ppid True"],
  ] as const) {
    itKernel(`${preset}: ${expected}`, async () => {
      const bin = BWRAP;
      if (!bin) throw new Error("SBC_REQUIRE_KERNEL=1 but bubblewrap is not installed (scripts/install-test-deps.sh installs it)");
      const dir = tempDir();
      const file = join(dir, `${preset}.bpf`);
      const c = await sbc(["compile", "--preset", preset, "-t", "seccomp", "-o", file]);
      expect(c.code, c.stderr).toBe(0);
      const fd = openSync(file, "r");
      try {
        const r = spawnSync(bin, ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--seccomp", "3", "--", "python3", "-c", PROBE], {
          stdio: ["ignore", "pipe", "pipe", fd],
          encoding: "utf8",
          timeout: 20_000,
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(expected);
      } finally {
        closeSync(fd);
      }
    });
  }
});
