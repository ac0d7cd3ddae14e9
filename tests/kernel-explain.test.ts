// `sbc exec --explain` on the real kernel: the loader traces the command from outside the sandbox, and every
// refusal comes back named by layer and by the rule that decided it (lib/explain.ts). Issue 15's acceptance:
// under workspace-write, writing `.git/config`, writing outside the workspace, a TCP connect and ptrace give
// four explained denials, each with its file:line; and the command sees the same errors as without --explain.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BIN, childEnv, ensureBuilt } from "./support/cli.js";
import { itKernel } from "./support/kernel.js";
import { describeLoader } from "./support/loader.js";
import type { Denial } from "../lib/explain.js";
import { lintPolicyText } from "../compiler/lint/index.js";

const hasPython = spawnSync("python3", ["-c", "import ctypes"]).status === 0;

// Each access prints `NAME ok` or `NAME ERRNO`; ptrace(PTRACE_TRACEME) through libc.
const SCRIPT = `
import os, socket, ctypes, errno, sys
def tryit(name, f):
    try:
        f(); print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno))
tryit("git-config", lambda: open(".git/config", "a").write("x"))
tryit("outside", lambda: open(sys.argv[1], "w").write("x"))
def conn():
    s = socket.socket(); s.settimeout(1); s.connect(("127.0.0.1", 9))
tryit("connect", conn)
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(0, 0, 0, 0)
print("ptrace", "ok" if r == 0 else errno.errorcode.get(ctypes.get_errno()))
`;

let dir = "";
let ws = "";

function run(args: readonly string[]) {
  const outside = join(dir, "outside.txt");
  const r = spawnSync(process.execPath, [BIN, "exec", ...args, "--preset", "workspace-write", "--", "python3", join(dir, "probe.py"), outside], {
    cwd: ws,
    encoding: "utf8",
    env: childEnv({ TMPDIR: "/tmp" }),
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr, outside };
}

describeLoader("sbc exec --explain", () => {
  beforeAll(() => {
    ensureBuilt();
    // Outside /tmp: workspace-write lets the command write /tmp and $TMPDIR.
    dir = realpathSync(mkdtempSync("/var/tmp/sbc-explain-"));
    ws = join(dir, "ws");
    mkdirSync(join(ws, ".git"), { recursive: true });
    writeFileSync(join(ws, ".git", "config"), "[core]\n");
    writeFileSync(join(dir, "probe.py"), SCRIPT);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The acceptance command is a Python script (ctypes for ptrace); without python3 these two are skipped, said in the name.
  const accept: typeof itKernel = hasPython ? itKernel : (name, fn, ms) => it.skip(`${name} (skipped: no python3 with ctypes)`, fn, ms);

  accept(
    "the four denials of issue 15, each with the layer, the deciding rule and its file:line",
    () => {
      const plain = run([]);
      const r = run(["--explain", "--format", "json"]);
      expect(r.status, r.err).toBe(0);
      // The command sees exactly what it sees without --explain (the tracer completes seccomp's denials).
      expect(r.out).toBe(plain.out);
      expect(r.out).toMatch(/^git-config (EROFS|EACCES)\noutside (EROFS|EACCES)\nconnect EPERM\nptrace EPERM\n$/);
      expect(existsSync(r.outside)).toBe(false);
      const last = r.err.trim().split("\n").pop()!;
      const denials = (JSON.parse(last) as { denials: Denial[] }).denials;
      const find = (f: (d: Denial) => boolean) => {
        const d = denials.find(f);
        expect(d, JSON.stringify(denials, null, 2)).toBeDefined();
        return d!;
      };
      const git = find((d) => d.path === join(ws, ".git", "config"));
      expect(git.layer).toMatch(/^(mount|landlock)$/);
      expect(git.operation).toBe("write");
      expect(git.decidedBy).toBe("protect: .git");
      expect(git.location).toMatch(/^presets\/workspace-write\.yaml:\d+:\d+$/);
      expect(git.dangerous?.length).toBeGreaterThan(0);

      const out = find((d) => d.path === r.outside);
      expect(out.operation).toBe("create-file");
      expect(out.decidedBy).toMatch(/^no rule grants `create-file` here \(default deny\)/);
      expect(out.location).toMatch(/^presets\/read-only\.yaml:\d+:\d+$/);
      expect(out.suggestion).toBe(`filesystem:\n  - allow: [create-file]\n    path: ${dir}`);

      const net = find((d) => d.syscall === "socket");
      expect(net.layer).toBe("seccomp");
      expect(net.errno).toBe("EPERM");
      expect(net.decidedBy).toMatch(/^the network section/);
      expect(net.location).toMatch(/^presets\/read-only\.yaml:\d+:\d+$/);

      const pt = find((d) => d.syscall === "ptrace");
      expect(pt).toMatchObject({ layer: "seccomp", operation: "call", errno: "EPERM" });
      expect(pt.decidedBy).toContain("@debug");
      expect(pt.location).toMatch(/^presets\/read-only\.yaml:\d+:\d+$/);
      expect(pt.dangerous?.[0]).toContain("dangerous-syscall");

      // Every suggestion that is YAML (not a comment) compiles when added to the policy.
      for (const d of denials) {
        if (!d.suggestion || d.suggestion.startsWith("#")) continue;
        const diags = lintPolicyText(`sbc: 1\nname: s\nextends: workspace-write\n${d.suggestion}\n`, { path: join(dir, "s.yaml") });
        expect(diags.filter((x) => x.severity === "error" && !x.code.startsWith("SBC30")), d.suggestion).toEqual([]);
      }
    },
    120_000,
  );

  accept(
    "the human report names each layer and rule; a run without --explain says nothing of it",
    () => {
      const r = run(["--explain"]);
      expect(r.err).toMatch(/sbc explain: the sandbox refused \d+ distinct accesses/);
      expect(r.err).toMatch(/- seccomp: ptrace\(\) → EPERM\n {2}decided by: syscalls: \["@debug"\] at presets\/read-only\.yaml:\d+:\d+/);
      expect(r.err).toContain(`decided by: protect: .git at presets/workspace-write.yaml:`);
      const plain = run([]);
      expect(plain.err).not.toContain("sbc explain");
    },
    120_000,
  );

  itKernel(
    "a grandchild's refusal, Landlock alone: the exit status passes through and the layer is landlock",
    () => {
      const r = spawnSync(process.execPath, [BIN, "exec", "--explain", "--format", "json", "--namespaces", "never", "--preset", "workspace-write", "--", "sh", "-c", "(echo x > .git/config) 2>/dev/null; sh -c 'exit 7'"], {
        cwd: ws,
        encoding: "utf8",
        env: childEnv({ TMPDIR: "/tmp" }),
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(7);
      const denials = (JSON.parse(r.stderr.trim().split("\n").pop()!) as { denials: Denial[] }).denials;
      const git = denials.find((d) => d.path === join(ws, ".git", "config"));
      expect(git, JSON.stringify(denials)).toMatchObject({ layer: "landlock", errno: "EACCES", decidedBy: "protect: .git" });
    },
    120_000,
  );

  itKernel(
    "a command killed by a signal: sbc exec --explain ends by the same signal",
    () => {
      const r = spawnSync(process.execPath, [BIN, "exec", "--explain", "--preset", "workspace-write", "--", "sh", "-c", "kill -TERM $$"], { cwd: ws, encoding: "utf8", env: childEnv(), timeout: 60_000 });
      expect(r.signal, r.stderr).toBe("SIGTERM");
    },
    120_000,
  );

  accept(
    "a TCP connect Landlock refuses (ports limited, sockets allowed): the address, the network section, a port snippet",
    () => {
      writeFileSync(join(dir, "net.yaml"), "sbc: 1\nname: net\nextends: workspace-write\nnetwork:\n  rules:\n    - allow: connect\n      ports: [443]\n");
      const py = "import socket\ns = socket.socket()\ntry:\n    s.connect(('127.0.0.1', 9)); print('ok')\nexcept OSError as e:\n    print(e.errno)\n";
      const r = spawnSync(process.execPath, [BIN, "exec", "--explain", "--format", "json", join(dir, "net.yaml"), "--", "python3", "-c", py], { cwd: ws, encoding: "utf8", env: childEnv(), timeout: 60_000 });
      expect(r.stdout).toBe("13\n"); // EACCES: Landlock, not ECONNREFUSED
      const denials = (JSON.parse(r.stderr.trim().split("\n").pop()!) as { denials: Denial[] }).denials;
      const d = denials.find((x) => x.syscall === "connect");
      expect(d, JSON.stringify(denials)).toMatchObject({ layer: "landlock", operation: "connect", address: "127.0.0.1:9", errno: "EACCES" });
      expect(d!.location).toMatch(/^(\/.*\/net\.yaml|presets\/read-only\.yaml):\d+:\d+$/);
      expect(d!.suggestion).toBe("network:\n  rules:\n    - allow: connect\n      hosts: [127.0.0.1]\n      ports: [9]");
    },
    120_000,
  );

  itKernel("`--format` without `--explain` is a usage error (exit 2), nothing runs", () => {
    const r = spawnSync(process.execPath, [BIN, "exec", "--format", "json", "--preset", "workspace-write", "--", "sh", "-c", "echo ran"], { cwd: ws, encoding: "utf8", env: childEnv(), timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("`--format` is the format of the `--explain` report");
  });

  itKernel(
    "SIGTERM to sbc reaches the traced command through the tracer, and the report still follows",
    async () => {
      const ready = join(ws, "ready");
      rmSync(ready, { force: true });
      const child = spawn(process.execPath, [BIN, "exec", "--explain", "--preset", "workspace-write", "--", "sh", "-c", `trap 'echo got TERM; kill $!; exit 9' TERM; touch ${ready}; sleep 20 & wait`], { cwd: ws, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (b: Buffer) => (out += b.toString()));
      child.stderr.on("data", (b: Buffer) => (err += b.toString()));
      for (let i = 0; i < 300 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(ready), err).toBe(true);
      child.kill("SIGTERM");
      const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
      expect(code, err).toBe(9);
      expect(out).toBe("got TERM\n");
      expect(err).toContain("sbc explain: the sandbox refused nothing");
      rmSync(ready, { force: true });
    },
    60_000,
  );
});
