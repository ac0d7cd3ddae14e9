// The terminal a sandboxed command shares with its caller: under read-only and workspace-write it may not push
// characters into that terminal's input (TIOCSTI), which would type commands into the caller's shell once the
// command ends — an escape Landlock cannot see, since the terminal is an inherited descriptor. Other terminal
// ioctls (TCGETS: is this a terminal, echo off for a password prompt) keep working.

import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { BIN, childEnv, ensureBuilt } from "./support/cli.js";
import { itKernel } from "./support/kernel.js";
import { describeLoader } from "./support/loader.js";

// In a new session whose controlling terminal is a fresh pty (pty.fork), run `sbc exec ARGS -- python3 -c
// PROBE`; PROBE prints `TCGETS ok|ERR` and `TIOCSTI ok|ERR`.
const PROBE = `
import fcntl, termios, errno
def tryit(name, f):
    try:
        f(); print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno))
tryit("TCGETS", lambda: fcntl.ioctl(0, termios.TCGETS, bytes(60)))
tryit("TIOCSTI", lambda: fcntl.ioctl(0, termios.TIOCSTI, b"#"))
`;
const DRIVER = `
import os, pty, sys, json
argv = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
`;

const hasPython = spawnSync("python3", ["-c", "import pty, fcntl, termios"]).status === 0;
const when: typeof itKernel = hasPython ? itKernel : (name, fn, ms) => it.skip(`${name} (skipped: no python3 with pty)`, fn, ms);

function inTerminal(args: readonly string[]): string {
  const argv = [process.execPath, BIN, "exec", ...args, "--", "python3", "-c", PROBE];
  const r = spawnSync("python3", ["-c", DRIVER, JSON.stringify(argv)], { encoding: "utf8", env: childEnv({ TMPDIR: "/tmp" }), timeout: 60_000 });
  return r.stdout.replace(/\r/g, "");
}

describeLoader("the caller's terminal", () => {
  when(
    "under workspace-write and read-only, TIOCSTI is refused (EPERM) and TCGETS works; the control policy shows the escape is real",
    () => {
      ensureBuilt();
      const control = inTerminal(["--preset", "full-access"]);
      if (!/TIOCSTI ok/.test(control)) {
        // dev.tty.legacy_tiocsti = 0 (Linux 6.2+) refuses TIOCSTI to everyone without CAP_SYS_ADMIN already.
        console.warn(`TIOCSTI is refused without a policy here (${control.trim().split("\n").pop()}): only the refusal is checked`);
      }
      for (const preset of ["workspace-write", "read-only"]) {
        const out = inTerminal(["--preset", preset]);
        expect(out, preset).toMatch(/TCGETS ok\n/);
        expect(out, preset).toMatch(/TIOCSTI EPERM\n/);
      }
    },
    120_000,
  );
});
