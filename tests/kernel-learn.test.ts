// `sbc learn` on the real kernel: a run observed by the loader's tracer (`--trace-learn`) becomes a policy
// under which the same command passes while the keys stay refused (issue 15's acceptance, with `npm test` and
// `python3 -m pytest`); `--extend workspace-write` adds only what the preset refused; `--format json` parses;
// and the same works as an unprivileged user (uid 65534).

import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BIN, childEnv, ensureBuilt } from "./support/cli.js";
import { itKernel } from "./support/kernel.js";
import { describeLoader, NOBODY, SETPRIV_NOBODY } from "./support/loader.js";

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" }).status === 0;
const hasNpm = has("npm", ["--version"]);
const hasPytest = has("python3", ["-m", "pytest", "--version"]);
const hasPython = has("python3", ["-c", "import ctypes"]);
const asRoot = process.getuid?.() === 0 && has("setpriv", ["--version"]);
const when = (ok: boolean, why: string): typeof itKernel => (ok ? itKernel : (name, fn, ms) => it.skip(`${name} (skipped: ${why})`, fn, ms));

// A small Node project: reads and writes files in the workspace, writes in the temp dir, spawns a child.
const TEST_JS = `
const fs = require("fs"), os = require("os"), path = require("path"), cp = require("child_process");
const data = fs.readFileSync("input.txt", "utf8");
fs.mkdirSync("build", { recursive: true });
fs.writeFileSync("build/out.txt", data.toUpperCase());
fs.readdirSync(".");
const tmp = path.join(os.tmpdir(), "sbc-learn-test-" + process.pid);
fs.writeFileSync(tmp, "x");
fs.unlinkSync(tmp);
const r = cp.execFileSync("sh", ["-c", "cat build/out.txt"], { encoding: "utf8" });
if (r !== "HELLO\\n") { console.error("unexpected", JSON.stringify(r)); process.exit(1); }
console.log("node project ok");
`;

// The same for pytest: files (tmp_path, the workspace), a subprocess, asyncio.
const TEST_PY = `
import asyncio, subprocess
def test_files(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    with open("out.txt", "w") as f:
        f.write("x")
    assert open("out.txt").read() == "x"
def test_subprocess():
    assert subprocess.run(["sh", "-c", "echo hi"], capture_output=True, text=True).stdout == "hi\\n"
def test_asyncio():
    async def main():
        p = await asyncio.create_subprocess_exec("true")
        return await p.wait()
    assert asyncio.run(main()) == 0
`;

// npx (which runs vitest) hands its npm settings down (npm_config_cache=~/.npm of the real home): not to npm test.
const NPM_UNSET = Object.fromEntries(Object.keys(process.env).filter((k) => k.toLowerCase().startsWith("npm_")).map((k) => [k, undefined]));

let root = ""; // under /var/tmp: outside the workspace and the temp dir
let home = "";
let ws = "";

function sbc(args: readonly string[], opts: { cwd?: string; nobody?: boolean; home?: string } = {}): SpawnSyncReturns<string> {
  const argv = [...(opts.nobody ? SETPRIV_NOBODY : []), process.execPath, BIN, ...args];
  return spawnSync(argv[0]!, argv.slice(1), {
    cwd: opts.cwd ?? ws,
    encoding: "utf8",
    // HOME is the test's: the learned policy and the ~/.ssh probe both speak of it. npm's update check off.
    env: childEnv({ ...NPM_UNSET, HOME: opts.home ?? home, TMPDIR: "/tmp", npm_config_update_notifier: "false", SBC_CACHE_DIR: undefined, XDG_CACHE_HOME: undefined }),
    timeout: 120_000,
  });
}

function sshProbe(policy: string, opts: { cwd?: string; nobody?: boolean; home?: string } = {}) {
  const h = opts.home ?? home;
  return { r: sbc(["exec", policy, "--", "sh", "-c", 'echo leaked > "$HOME/.ssh/x"'], opts), wrote: existsSync(join(h, ".ssh", "x")) };
}

describeLoader("sbc learn", () => {
  beforeAll(() => {
    ensureBuilt();
    root = realpathSync(mkdtempSync("/var/tmp/sbc-learn-"));
    chmodSync(root, 0o755); // uid 65534 works in a directory beneath it
    home = join(root, "home");
    mkdirSync(join(home, ".ssh"), { recursive: true });
    mkdirSync(join(home, "out"), { recursive: true });
    writeFileSync(join(home, ".netrc"), "machine example.com login me password secret\n");
    ws = realpathSync(mkdtempSync("/tmp/sbc-learn-ws-"));
    writeFileSync(join(ws, "package.json"), JSON.stringify({ name: "learn-me", version: "1.0.0", private: true, scripts: { test: "node test.js" } }));
    writeFileSync(join(ws, "test.js"), TEST_JS);
    writeFileSync(join(ws, "input.txt"), "hello\n");
    writeFileSync(join(ws, "test_learn.py"), TEST_PY);
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(ws, { recursive: true, force: true });
  });

  when(hasNpm, "no npm")(
    "`sbc learn -- npm test` writes a policy under which `npm test` passes and writing ~/.ssh/x is refused",
    () => {
      const policy = join(root, "npm.yaml");
      const learned = sbc(["learn", "-o", policy, "--", "npm", "test"]);
      expect(learned.status, learned.stderr).toBe(0);
      expect(learned.stderr).toContain("with NO sandbox");
      const text = readFileSync(policy, "utf8");
      const doc = parseYaml(text) as { filesystem: { allow?: string[]; path?: string; exact?: string }[]; tests: unknown[]; extends?: string };
      expect(doc.extends).toBeUndefined();
      // Collapsed to subtrees, spelled through the parameters.
      const paths = doc.filesystem.map((r) => r.path ?? r.exact);
      expect(paths).toContain("${workspace}");
      expect(paths).toContain("/usr");
      expect(paths.some((p) => p?.startsWith("${tmpdir}") || p === "/tmp")).toBe(true);
      expect(doc.tests).toContainEqual({ name: "keys stay out of the sandbox", write: "${home}/.ssh/x", expect: "deny" });
      // The policy's own tests pass.
      const check = sbc(["check", policy]);
      expect(check.status, check.stdout + check.stderr).toBe(0);

      rmSync(join(ws, "build"), { recursive: true, force: true });
      const run = sbc(["exec", policy, "--", "npm", "test"]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain("node project ok");
      const ssh = sshProbe(policy);
      expect(ssh.r.status).not.toBe(0);
      expect(ssh.wrote).toBe(false);
    },
    240_000,
  );

  when(hasPytest, "pytest is not installed")(
    "`sbc learn -- python3 -m pytest`: the same pytest passes under the learned policy, ~/.ssh/x is refused",
    () => {
      const policy = join(root, "pytest.yaml");
      const learned = sbc(["learn", "-o", policy, "--", "python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_learn.py"]);
      expect(learned.status, learned.stderr + learned.stdout).toBe(0);
      const run = sbc(["exec", policy, "--", "python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_learn.py"]);
      expect(run.status, run.stderr + run.stdout).toBe(0);
      expect(run.stdout).toMatch(/3 passed/);
      expect(sshProbe(policy).wrote).toBe(false);
    },
    240_000,
  );

  itKernel(
    "--extend workspace-write: a command that writes outside the workspace gets that one grant, and then runs",
    () => {
      const policy = join(root, "extend.yaml");
      const cmd = ["sh", "-c", 'echo a > inside.txt && echo b > "$HOME/out/x.txt" && cat /etc/hostname > /dev/null'];
      const learned = sbc(["learn", "--extend", "workspace-write", "-o", policy, "--", ...cmd]);
      expect(learned.status, learned.stderr).toBe(0);
      const doc = parseYaml(readFileSync(policy, "utf8")) as Record<string, unknown>;
      expect(doc.extends).toBe("workspace-write");
      // Only what the preset refused: not the workspace, not the read, no network or syscall section.
      // Every change in that directory: the targets grant creating, deleting and writing only together.
      expect(doc.filesystem).toEqual([{ allow: ["modify"], path: "${home}/out" }]);
      expect(doc.network).toBeUndefined();
      expect(doc.syscalls).toBeUndefined();

      // Without it the preset refuses the write; with it the command runs.
      rmSync(join(home, "out", "x.txt"), { force: true });
      const refused = sbc(["exec", "--preset", "workspace-write", "--", ...cmd]);
      expect(refused.status).not.toBe(0);
      const run = sbc(["exec", policy, "--", ...cmd]);
      expect(run.status, run.stderr).toBe(0);
      expect(readFileSync(join(home, "out", "x.txt"), "utf8")).toBe("b\n");
      expect(sshProbe(policy).wrote).toBe(false);
    },
    240_000,
  );

  when(hasPython, "no python3 with ctypes")(
    "--extend workspace-write: a call the preset's filter refuses is run while learning and allowed by name",
    () => {
      const py = "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\nr = libc.ptrace(0, 0, 0, 0)\nprint('ptrace', 'ok' if r == 0 else errno.errorcode.get(ctypes.get_errno()))\n";
      const policy = join(root, "ptrace.yaml");
      const learned = sbc(["learn", "--extend", "workspace-write", "-o", policy, "--", "python3", "-c", py]);
      expect(learned.status, learned.stderr).toBe(0);
      // Learning let the call through (the tracer records it and does not skip it) … except that a traced
      // process cannot PTRACE_TRACEME a second tracer: EPERM from the kernel, not from the filter.
      const doc = parseYaml(readFileSync(policy, "utf8")) as { syscalls?: { rules: { syscalls: string[]; action: string }[] }; tests: Record<string, unknown>[] };
      expect(doc.syscalls?.rules).toEqual([{ syscalls: ["ptrace"], action: "allow" }]);
      expect(doc.tests).toContainEqual({ syscall: "ptrace", expect: "allow" });
      expect(readFileSync(policy, "utf8")).toMatch(/^# {3}dangerous: `ptrace` is allowed/m);
    },
    240_000,
  );

  itKernel(
    "--format json: the policy, what was seen, and the secret it used, which the policy does not allow",
    () => {
      const r = sbc(["learn", "--format", "json", "--", "sh", "-c", 'cat "$HOME/.netrc" > /dev/null; echo hi > json-out.txt']);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { policy: string; observed: { files: { path: string; access: string[] }[] }; secrets: { path: string; access: string[]; what: string }[]; findings: string[]; status: number; command: string[] };
      expect(j.command).toEqual(["sh", "-c", 'cat "$HOME/.netrc" > /dev/null; echo hi > json-out.txt']);
      expect(j.status).toBe(0);
      expect(j.observed.files).toContainEqual(expect.objectContaining({ path: join(ws, "json-out.txt"), access: expect.arrayContaining(["create-file", "write"]) }));
      expect(j.secrets).toEqual([{ path: "${home}/.netrc", access: ["read"], what: "passwords for hosts (netrc)" }]);
      expect(j.policy).toMatch(/^# Learned by `sbc learn`/);
      expect(j.policy).toContain("NOT allowed");
      // The policy (YAML) runs the command's other half, and the secret stays unreadable.
      const policy = join(root, "json.yaml");
      writeFileSync(policy, j.policy);
      const cat = sbc(["exec", policy, "--", "sh", "-c", 'cat "$HOME/.netrc"']);
      expect(cat.status).not.toBe(0);
      expect(cat.stdout).toBe("");
      const ok = sbc(["exec", policy, "--", "sh", "-c", "echo hi > json-out.txt"]);
      expect(ok.status, ok.stderr).toBe(0);
    },
    240_000,
  );

  itKernel(
    "--format dsl: the same policy in the DSL, which compiles",
    () => {
      const policy = join(root, "dsl.sbc");
      const r = sbc(["learn", "-o", policy, "--", "sh", "-c", "echo hi > dsl-out.txt"]);
      expect(r.status, r.stderr).toBe(0);
      const text = readFileSync(policy, "utf8");
      expect(text).not.toMatch(/^sbc: 1$/m);
      const check = sbc(["check", policy]);
      expect(check.status, check.stdout + check.stderr).toBe(0);
    },
    240_000,
  );

  itKernel("a command that cannot be started: its status, and no policy written", () => {
    const policy = join(root, "never.yaml");
    const r = sbc(["learn", "-o", policy, "--", "sbc-no-such-command"]);
    expect(r.status).toBe(127);
    expect(r.stderr).toContain("the command did not start: no policy written");
    expect(existsSync(policy)).toBe(false);
  });

  when(asRoot, "needs root to switch to uid 65534")(
    "as uid 65534: learn `npm test`, then run it under the learned policy; ~/.ssh/x stays refused",
    () => {
      const nhome = join(root, "nobody-home");
      const nws = join(root, "nobody-ws");
      for (const d of [nhome, join(nhome, ".ssh"), nws]) {
        mkdirSync(d, { recursive: true });
        chownSync(d, NOBODY, NOBODY);
      }
      const policy = join(nws, "learned.yaml");
      // The Node project where npm is installed (issue 15's command), else a shell doing the same kinds of things.
      for (const f of ["package.json", "test.js", "input.txt"]) {
        writeFileSync(join(nws, f), readFileSync(join(ws, f)));
        chownSync(join(nws, f), NOBODY, NOBODY);
      }
      const cmd = hasNpm ? ["npm", "test"] : ["sh", "-c", "mkdir -p build && echo HELLO > build/out.txt && ls build > /dev/null && cat /etc/hostname > /dev/null"];
      const learned = sbc(["learn", "-o", policy, "--", ...cmd], { cwd: nws, nobody: true, home: nhome });
      expect(learned.status, learned.stderr).toBe(0);
      expect(statSync(policy).uid).toBe(NOBODY);
      rmSync(join(nws, "build"), { recursive: true, force: true });
      const run = sbc(["exec", policy, "--", ...cmd], { cwd: nws, nobody: true, home: nhome });
      expect(run.status, run.stderr).toBe(0);
      expect(readFileSync(join(nws, "build", "out.txt"), "utf8")).toBe("HELLO\n");
      expect(sshProbe(policy, { cwd: nws, nobody: true, home: nhome }).wrote).toBe(false);
    },
    240_000,
  );
});
