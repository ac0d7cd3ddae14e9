// The raw filter bytes are what `bwrap --seccomp FD` reads: compile presets with `sbc compile -t seccomp`,
// hand the file to Debian's bubblewrap, and watch a real program inside hit the filter (Python's socket()
// gets EPERM where the policy's network section forbids it, and works where it does not; a socket pair,
// which reaches nothing outside the sandbox, works under `network: off`).

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
  "def pair(kind):",
  "    try:",
  "        a, b = socket.socketpair(socket.AF_UNIX, kind)",
  "        a.send(b'x'); got = b.recv(1); a.close(); b.close()",
  "        return 'ok' if got == b'x' else 'lost'",
  "    except OSError as e:",
  "        return errno.errorcode.get(e.errno, str(e.errno))",
  "print('inet', attempt(socket.AF_INET), 'unix', attempt(socket.AF_UNIX), 'pair', pair(socket.SOCK_STREAM), 'ppid', os.getppid() > 0)",
].join("\n");

/**
 * What `network: off` leaves to local IPC: stream pairs, not datagram pairs (which could send to any named
 * socket) nor unix sockets of their own; and asyncio, whose event loop wakes itself through a socket pair.
 */
const IPC_PROBE = [
  "import asyncio, errno, socket",
  "def outcome(make):",
  "    try:",
  "        for s in make(): s.close()",
  "        return 'ok'",
  "    except OSError as e:",
  "        return errno.errorcode.get(e.errno, str(e.errno))",
  "async def main():",
  "    await asyncio.sleep(0)",
  "    return 'ok'",
  "print('stream-pair', outcome(lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)),",
  "      'dgram-pair', outcome(lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)),",
  "      'unix-socket', outcome(lambda: [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)]),",
  "      'asyncio', asyncio.run(main()))",
].join("\n");

const BWRAP = bwrap();
const REQUIRED = process.env.SBC_REQUIRE_KERNEL === "1";
if (!BWRAP && !REQUIRED) console.warn("bwrap tests skipped: bubblewrap is not installed (scripts/install-test-deps.sh installs it)");

(BWRAP || REQUIRED ? describeKernel : describe.skip)("bwrap --seccomp with sbc's raw filters", () => {
  beforeAll(() => ensureBuilt());

  /** Run a Python program under bwrap with the preset's compiled filter; its stdout, trimmed. */
  async function underFilter(preset: string, program: string): Promise<string> {
    const bin = BWRAP;
    if (!bin) throw new Error("SBC_REQUIRE_KERNEL=1 but bubblewrap is not installed (scripts/install-test-deps.sh installs it)");
    const dir = tempDir();
    const file = join(dir, `${preset}.bpf`);
    const c = await sbc(["compile", "--preset", preset, "-t", "seccomp", "-o", file]);
    expect(c.code, c.stderr).toBe(0);
    const fd = openSync(file, "r");
    try {
      const r = spawnSync(bin, ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--seccomp", "3", "--", "python3", "-c", program], {
        stdio: ["ignore", "pipe", "pipe", fd],
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim();
    } finally {
      closeSync(fd);
    }
  }

  for (const [preset, expected] of [
    ["read-only", "inet EPERM unix EPERM pair ok ppid True"],
    ["workspace-write", "inet EPERM unix EPERM pair ok ppid True"],
    ["full-access", "inet ok unix ok pair ok ppid True"],
  ] as const) {
    itKernel(`${preset}: ${expected}`, async () => {
      expect(await underFilter(preset, PROBE)).toBe(expected);
    });
  }

  itKernel("read-only: a stream socket pair works, a datagram pair and socket(AF_UNIX) are EPERM, asyncio.run works", async () => {
    expect(await underFilter("read-only", IPC_PROBE)).toBe("stream-pair ok dgram-pair EPERM unix-socket EPERM asyncio ok");
  });
});
