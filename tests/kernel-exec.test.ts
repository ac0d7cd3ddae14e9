// sbc exec on the real kernel: the presets and realistic policies, each command run through the native
// loader (Landlock + seccomp). Every check observes the effect (the file written or not, the errno) rather
// than trusting the plan. Work happens in temp directories only; "outside" is a directory under /var/tmp
// that no preset makes writable.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { ensureBuilt, BIN, childEnv } from "./support/cli.js";
import { describeKernel, itKernel } from "./support/kernel.js";

const LOADER = join(import.meta.dirname, "..", "native", "build", "sbc-loader");
let ws = "";
let outside = "";

function exec(args: string[], script: string, cwd = ws) {
  const r = spawnSync(process.execPath, [BIN, "exec", ...args, "--", "sh", "-c", script], { cwd, encoding: "utf8", env: childEnv(), timeout: 30_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describeKernel("sbc exec (Landlock + seccomp through the loader)", () => {
  beforeAll(() => {
    ensureBuilt();
    if (!existsSync(LOADER)) spawnSync(process.execPath, [join(import.meta.dirname, "..", "scripts", "build-native.mjs")], { stdio: "inherit" });
    ws = mkdtempSync("/tmp/sbc-ws-");
    outside = mkdtempSync("/var/tmp/sbc-outside-");
    mkdirSync(join(ws, "src"));
    mkdirSync(join(ws, "lib"));
    writeFileSync(join(ws, "src", "a.txt"), "hello\n");
    writeFileSync(join(ws, "README.md"), "readme\n");
    symlinkSync(outside, join(ws, "src", "escape"));
    spawnSync("git", ["init", "-q"], { cwd: ws });
    spawnSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init"], { cwd: ws });
  });
  afterAll(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  itKernel("the loader was built by the install step", () => {
    expect(existsSync(LOADER)).toBe(true);
  });

  itKernel("workspace-write: writing inside the workspace works, also a truncate and a rename between its directories", () => {
    const r = exec(["--preset", "workspace-write"], "echo more >> src/a.txt && : > README.md && mv src/a.txt lib/a.txt && echo new > lib/b.txt && echo ok");
    expect(r.status, r.err).toBe(0);
    expect(r.out.trim()).toBe("ok");
    expect(readFileSync(join(ws, "lib", "a.txt"), "utf8")).toBe("hello\nmore\n");
    expect(readFileSync(join(ws, "README.md"), "utf8")).toBe("");
  });

  itKernel("workspace-write: writing outside fails (EROFS in the mount namespace, EACCES from Landlock alone) and creates nothing", () => {
    const r = exec(["--preset", "workspace-write"], `echo x > ${outside}/x; echo status=$?`);
    expect(r.out.trim()).toBe("status=2");
    expect(r.err).toMatch(/Read-only file system/);
    const never = exec(["--preset", "workspace-write", "--namespaces", "never"], `echo x > ${outside}/x; echo status=$?`);
    expect(never.out.trim()).toBe("status=2");
    expect(never.err).toMatch(/Permission denied/);
    expect(existsSync(join(outside, "x"))).toBe(false);
  });

  itKernel("workspace-write: a symlink inside the workspace pointing outside grants nothing", () => {
    const r = exec(["--preset", "workspace-write"], "echo x > src/escape/x; echo status=$?");
    expect(r.out.trim()).toBe("status=2");
    expect(existsSync(join(outside, "x"))).toBe(false);
  });

  itKernel("workspace-write: reading system files and executing /usr/bin work", () => {
    const r = exec(["--preset", "workspace-write"], "head -c 1 /etc/passwd >/dev/null && /usr/bin/true && echo ok");
    expect(r.status, r.err).toBe(0);
    expect(r.out.trim()).toBe("ok");
  });

  itKernel("workspace-write: .git stays read-only — git commit is refused, git status reads", () => {
    const r = exec(["--preset", "workspace-write"], "git status --porcelain >/dev/null && echo read-ok; git -c user.email=t@t -c user.name=t commit -q --allow-empty -m x; echo commit=$?; touch .git/x; echo touch=$?");
    expect(r.out).toMatch(/read-ok/);
    expect(r.out).toMatch(/commit=128/);
    expect(r.out).toMatch(/touch=1/);
    expect(existsSync(join(ws, ".git", "x"))).toBe(false);
  });

  itKernel("workspace-write: a new entry directly in the workspace works in the mount namespace; Landlock alone refuses it (its documented cost)", () => {
    const r = exec(["--preset", "workspace-write"], "touch brand-new; echo status=$?; mkdir build && rmdir build && echo dirs-ok");
    expect(r.out.trim().split("\n")).toEqual(["status=0", "dirs-ok"]);
    expect(existsSync(join(ws, "brand-new"))).toBe(true);
    rmSync(join(ws, "brand-new"));
    const never = exec(["--preset", "workspace-write", "--namespaces", "never"], "touch brand-new; echo status=$?");
    expect(never.out.trim()).toBe("status=1");
    expect(never.err).not.toMatch(/no mount namespace/); // chosen, so not announced
    expect(existsSync(join(ws, "brand-new"))).toBe(false);
  });

  itKernel("workspace-write: network off — a TCP socket is refused, and so is AF_UNIX", () => {
    const r = exec(["--preset", "workspace-write"], `python3 -c "
import socket
for fam in (socket.AF_INET, socket.AF_UNIX):
    try:
        socket.socket(fam, socket.SOCK_STREAM); print('ok')
    except OSError as e: print(e.errno)
"`);
    expect(r.out.trim().split("\n")).toEqual(["1", "1"]);
  });

  itKernel("a policy with unix sockets allowed: AF_UNIX works, TCP connect to a port without a rule gets EACCES", () => {
    const policy = join(ws, "..", `unix-${process.pid}.yaml`);
    writeFileSync(policy, "sbc: 1\nextends: workspace-write\nnetwork:\n  unix: allow\n  rules:\n    - allow: connect\n      ports: [443]\n");
    const r = exec([policy], `python3 -c "
import socket
a, b = socket.socketpair(); a.send(b'x'); print(b.recv(1).decode())
s = socket.socket()
try:
    s.connect(('127.0.0.1', 9)); print('connected')
except OSError as e: print(e.errno)
"`);
    rmSync(policy);
    expect(r.out.trim().split("\n")).toEqual(["x", "13"]);
  });

  itKernel("read-only: nothing in the workspace can be written", () => {
    const r = exec(["--preset", "read-only"], "echo x >> src/a.txt 2>/dev/null; echo status=$?; cat README.md >/dev/null && echo read-ok");
    expect(r.out).toMatch(/status=2/);
    expect(r.out).toMatch(/read-ok/);
  });

  itKernel("full-access really is unrestricted", () => {
    const r = exec(["--preset", "full-access"], `echo x > ${outside}/full && python3 -c "import socket; socket.socket(); print('net-ok')"`);
    expect(r.status, r.err).toBe(0);
    expect(r.out.trim()).toBe("net-ok");
    expect(existsSync(join(outside, "full"))).toBe(true);
  });

  itKernel("a realistic policy (fixtures/ok-python-venv): the venv and the cache are writable, the sources are not, HTTPS only", () => {
    const home = mkdtempSync("/var/tmp/sbc-home-");
    const proj = mkdtempSync("/var/tmp/sbc-py-");
    try {
      mkdirSync(join(proj, ".venv"));
      mkdirSync(join(proj, "src"));
      mkdirSync(join(home, ".cache", "pip"), { recursive: true });
      mkdirSync(join(home, "tmp"));
      const policy = join(import.meta.dirname, "..", "fixtures", "ok-python-venv", "policy.yaml");
      const r = exec(
        [policy, "--param", `home=${home}`, "--param", `tmpdir=${join(home, "tmp")}`],
        `echo x > .venv/pyvenv.cfg && echo c > ${home}/.cache/pip/entry && echo ok; echo y > src/main.py; echo src=$?; python3 -c "
import socket
s = socket.socket()
for port in (443, 80):
    try:
        s2 = socket.socket(); s2.settimeout(0.2); s2.connect(('127.0.0.1', port)); print(port, 'connected')
    except OSError as e: print(port, e.errno)
"`,
        proj,
      );
      expect(r.out).toMatch(/^ok$/m);
      expect(r.out).toMatch(/src=2/);
      // 443 passes Landlock (nothing listens: ECONNREFUSED 111); 80 is refused by Landlock (EACCES 13).
      expect(r.out).toMatch(/443 (111|connected)/);
      expect(r.out).toMatch(/80 13/);
      expect(existsSync(join(proj, "src", "main.py"))).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(proj, { recursive: true, force: true });
    }
  });

  itKernel("a realistic policy (fixtures/ok-node-project): node_modules and the npm cache are writable, .npmrc is not", () => {
    const home = mkdtempSync("/var/tmp/sbc-home-");
    const proj = mkdtempSync("/var/tmp/sbc-node-");
    try {
      mkdirSync(join(proj, "node_modules"));
      mkdirSync(join(home, ".npm"));
      mkdirSync(join(home, "tmp"));
      writeFileSync(join(home, ".npmrc"), "registry=https://registry.npmjs.org/\n");
      const policy = join(import.meta.dirname, "..", "fixtures", "ok-node-project", "policy.yaml");
      const r = exec([policy, "--param", `home=${home}`, "--param", `tmpdir=${join(home, "tmp")}`], `mkdir node_modules/left-pad && echo m > node_modules/left-pad/index.js && mkdir ${home}/.npm/_cacache && cat ${home}/.npmrc >/dev/null && echo ok; echo z >> ${home}/.npmrc; echo npmrc=$?`, proj);
      expect(r.out).toMatch(/^ok$/m);
      expect(r.out).toMatch(/npmrc=2/);
      expect(readFileSync(join(home, ".npmrc"), "utf8")).toBe("registry=https://registry.npmjs.org/\n");
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(proj, { recursive: true, force: true });
    }
  });

  itKernel("ahead of time: `sbc compile -t linux` gives a bundle the loader applies without sbc", () => {
    const bundle = join(ws, "..", `ws-${process.pid}.plan`);
    const c = spawnSync(process.execPath, [BIN, "compile", "--preset", "workspace-write", "-t", "linux", "-q", "-o", bundle, "-p", `workspace=${ws}`, "-p", "home=/root", "-p", "tmpdir=/var/tmp/sbc-none"], { encoding: "utf8", env: childEnv() });
    expect(c.status, c.stderr).toBe(0);
    const r = spawnSync("sh", ["-c", `"${LOADER}" --plan-fd 3 -- sh -c 'echo aot > src/aot.txt && echo wrote; touch .git/aot; echo git=$?; echo x > ${outside}/aot; echo out=$?' 3< "${bundle}"`], { cwd: ws, encoding: "utf8" });
    rmSync(bundle);
    expect(r.stdout).toMatch(/wrote/);
    expect(r.stdout).toMatch(/git=1/);
    expect(r.stdout).toMatch(/out=2/);
    expect(existsSync(join(outside, "aot"))).toBe(false);
  });

  itKernel("ahead of time with symbolic params: the loader substitutes them and refuses a placement the table was not built for", () => {
    const bundle = join(outside, "symbolic.plan");
    const c = spawnSync(process.execPath, [BIN, "compile", "--preset", "workspace-write", "-t", "linux", "-q", "-o", bundle], { encoding: "utf8", env: childEnv() });
    expect(c.status, c.stderr).toBe(0);
    expect(readFileSync(bundle, "utf8")).toMatch(/^param workspace .*\/tmp/m);
    const run = (cwd: string, env: NodeJS.ProcessEnv, marker: string) =>
      spawnSync("sh", ["-c", `"${LOADER}" --plan-fd 3 -- sh -c 'echo x > ${marker} && echo wrote; touch .git/sym; echo git=$?' 3< "${bundle}"`], { cwd, encoding: "utf8", env });
    // ws lies under /tmp, which the preset grants as a whole: that grant would cover ws/.git, so the loader
    // must refuse before running anything.
    const refused = run(ws, { ...process.env, TMPDIR: outside }, "refused.txt");
    expect(refused.status).toBe(125);
    expect(refused.stderr).toMatch(/assumes \$\{workspace\} .* neither inside nor around `\/tmp`/);
    expect(refused.stderr).toMatch(/--param workspace=/);
    expect(existsSync(join(ws, "refused.txt"))).toBe(false);
    // A workspace apart from /tmp (and from $TMPDIR) runs, fenced like `sbc exec`.
    const ws2 = mkdtempSync("/var/tmp/sbc-ws-sym-");
    try {
      mkdirSync(join(ws2, ".git"));
      mkdirSync(join(ws2, "src"));
      const tmp2 = mkdtempSync("/var/tmp/sbc-tmp-sym-");
      // (Into src/: new entries directly in the workspace get nothing, the documented cost of the carve-out.)
      const ok = run(ws2, { ...process.env, TMPDIR: tmp2 }, "src/inside.txt");
      rmSync(tmp2, { recursive: true, force: true });
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/wrote/);
      expect(ok.stdout).toMatch(/git=1/);
      expect(existsSync(join(ws2, ".git", "sym"))).toBe(false);
    } finally {
      rmSync(ws2, { recursive: true, force: true });
      rmSync(bundle, { force: true });
    }
  });

  itKernel("the command's exit status is returned", () => {
    expect(exec(["--preset", "workspace-write"], "exit 7").status).toBe(7);
  });

  itKernel("a one-word command after --preset runs (`sbc exec --preset P -- true`)", () => {
    for (const [cmd, want] of [["true", 0], ["false", 1]] as const) {
      const r = spawnSync(process.execPath, [BIN, "exec", "--preset", "workspace-write", "--", cmd], { cwd: ws, encoding: "utf8", env: childEnv() });
      expect(r.status, r.stderr).toBe(want);
    }
  });

  itKernel("sbc debug landlock prints the negotiation, the mount layer, the grants and the expansion, then runs the command", () => {
    const r = spawnSync(process.execPath, [BIN, "debug", "landlock", "--preset", "workspace-write", "--", "true"], { cwd: ws, encoding: "utf8", env: childEnv() });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/kernel Landlock ABI \d/);
    expect(r.stderr).toMatch(/^mount namespace: auto; the kernel offers: (admin|user)$/m);
    expect(r.stderr).toMatch(/^ {2}\/: ro exec$/m);
    expect(r.stderr).toMatch(/\/\.git: ro exec$/m);
    expect(r.stderr).toMatch(/children .* except .*\.git \(mount\)/);
    expect(r.stderr).toMatch(/^granting .* whole: every except entry is mount-enforced$/m);
    expect(r.stderr).toMatch(/applied fs 0x/);
    // Without the namespace, the same plan carves .git out entry by entry.
    const never = spawnSync(process.execPath, [BIN, "debug", "landlock", "--preset", "workspace-write", "--namespaces", "never", "--", "true"], { cwd: ws, encoding: "utf8", env: childEnv() });
    expect(never.status, never.stderr).toBe(0);
    expect(never.stderr).toMatch(/carved out .*\/\.git/);
  });
});
