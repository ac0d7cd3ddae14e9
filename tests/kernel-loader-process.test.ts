// The loader's process structure on the real kernel: which mode a plan runs in (namespace, or Landlock alone
// with its one-line fallback notice, or the refusal of `require`), simulated where namespaces are unavailable
// (max_user_namespaces = 0 in a throwaway user namespace, or a seccomp filter that denies unshare), and how the
// namespace-mode parent passes signals on and ends the way the command ended.

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { syscallNumber } from "../linux-abi/index.js";
import { ACCESS_FS } from "../targets/landlock/abi.js";
import {
  AUDIT_ARCH_X86_64,
  BPF_ABS,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_RET,
  BPF_W,
  OFFSET_ARCH,
  OFFSET_NR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  encode,
  insn,
} from "../targets/seccomp/bpf.js";
import { NOBODY, NO_USERNS_WRAPPER, describeLoaderAsRoot, encodePath, loaderPath, planText, probeLoader, runLoader, SETPRIV_NOBODY } from "./support/loader.js";

const READ_EXEC = ACCESS_FS.execute | ACCESS_FS.read_file | ACCESS_FS.read_dir;
const WRITE = 0x7ff2;
const UNSHARE = syscallNumber("x86_64", "unshare")!;
const EPERM = 1;
const SECCOMP_RET_KILL_PROCESS = 0x80000000;

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A workspace under /var/tmp with a .git directory, owned by 65534. */
function workspace(): string {
  const d = realpathSync(mkdtempSync("/var/tmp/sbc-proc-"));
  made.push(d);
  mkdirSync(join(d, ".git"));
  mkdirSync(join(d, "src"));
  spawnSync("chown", ["-R", `${NOBODY}:${NOBODY}`, d]);
  // Searchable by root too, which runs without capabilities (no DAC override) under a loader.
  chmodSync(d, 0o755);
  return d;
}

/** workspace-write in miniature: `/` read-only, `w` writable, `w/.git` read-only (mount-enforced). */
function wsPlan(w: string, more: Parameters<typeof planText>[0] = {}): string {
  return planText({
    mounts: [["/", "ro", "exec"], [w, "rw", "exec"], [`${w}/.git`, "ro", "exec"]],
    fs: [[READ_EXEC, "skip", "/"]],
    rules: ["fs-file 0x8006 skip /dev/null", `fs-children 0x${WRITE.toString(16)} skip ${encodePath(w)} !.git`],
    ...more,
  });
}

/** What the command could do: a new top-level file (the mount layer's gain) and a write into .git. */
const PROBE = ["sh", "-c", "touch newtop 2>/dev/null; echo top=$?; touch .git/x 2>/dev/null; echo git=$?; rm -f newtop"];

/** A filter that answers `unshare` with `action` and allows everything else (x86_64). */
function unshareFilter(action: number): Uint8Array {
  return encode([
    insn(BPF_LD | BPF_W | BPF_ABS, OFFSET_ARCH),
    insn(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
    insn(BPF_LD | BPF_W | BPF_ABS, OFFSET_NR),
    insn(BPF_JMP | BPF_JEQ | BPF_K, UNSHARE, 0, 1),
    insn(BPF_RET | BPF_K, action),
    insn(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  ]);
}

/**
 * Runs the loader under another loader whose plan is only a seccomp filter (`action` for unshare): the inner
 * loader reads `plan` from fd 4 and runs `argv`.
 */
function underFilter(action: number, plan: string, argv: readonly string[], innerArgs: readonly string[], cwd: string) {
  const dir = mkdtempSync("/var/tmp/sbc-plan-");
  made.push(dir);
  writeFileSync(join(dir, "inner.plan"), plan);
  const outer = planText({ abi: 0, handledFs: 0, namespaces: "never", seccomp: unshareFilter(action) });
  const wrap = ["sh", "-c", `exec "$@" 4<${join(dir, "inner.plan")}`, "sh"];
  return runLoader(outer, [loaderPath()!, ...innerArgs, "--plan-fd", "4", "--", ...argv], { wrap, cwd });
}

const FALLBACK_DEFAULT = "running with Landlock alone: the mount layer's protections are missing";

describeLoaderAsRoot("sbc-loader modes and process structure", () => {
  it("a plan with mount lines runs in a new mount namespace; `never`, or a plan without mount lines, stays in the caller's", () => {
    const w = workspace();
    const own = readlinkSync("/proc/self/ns/mnt");
    const ns = (plan: string, args: string[] = []) => runLoader(plan, ["readlink", "/proc/self/ns/mnt"], { cwd: w, args }).stdout.trim();
    expect(ns(wsPlan(w))).not.toBe(own);
    expect(ns(wsPlan(w, { namespaces: "never" }))).toBe(own);
    expect(ns(wsPlan(w), ["--namespaces", "never"])).toBe(own);
    expect(ns(planText({ fs: [[READ_EXEC, "skip", "/"]] }))).toBe(own);
    // --namespaces overrides the plan's header both ways.
    expect(ns(wsPlan(w, { namespaces: "never" }), ["--namespaces", "auto"])).not.toBe(own);
  });

  it("in namespace mode the new top-level file works; with Landlock alone it is refused (the documented cost)", () => {
    // As 65534, who owns the workspace (root, without capabilities, could not write into it at all; the
    // namespace tests cover root in a workspace of its own).
    const w = workspace();
    expect(runLoader(wsPlan(w), PROBE, { cwd: w, asNobody: true }).stdout).toBe("top=0\ngit=1\n");
    expect(runLoader(wsPlan(w, { namespaces: "never" }), PROBE, { cwd: w, asNobody: true })).toMatchObject({ stdout: "top=1\ngit=1\n", stderr: "" });
  });

  it("auto, where no user namespace can be made: exactly one line, then Landlock alone", () => {
    const w = workspace();
    const r = runLoader(wsPlan(w), PROBE, { cwd: w, wrap: NO_USERNS_WRAPPER, asNobody: true });
    expect(r).toMatchObject({ status: 0, stdout: "top=1\ngit=1\n", stderr: `sbc: no mount namespace here (unshare: ENOSPC); ${FALLBACK_DEFAULT}\n` });
    // The plan's note, decoded; a byte outside 0x20-0x7e shown as %XX.
    const note = "fallback-note .git%20is%20carved%20by%20Landlock;%0Anew%20top-level%20entries%20are%20refused";
    const n = runLoader(wsPlan(w, { preamble: [note] }), ["true"], { cwd: w, wrap: NO_USERNS_WRAPPER, asNobody: true });
    expect(n.stderr).toBe("sbc: no mount namespace here (unshare: ENOSPC); running with Landlock alone: .git is carved by Landlock;%0Anew top-level entries are refused\n");
  });

  it("require, where no user namespace can be made: status 125 naming the step, nothing run; never: no notice", () => {
    const w = workspace();
    const r = runLoader(wsPlan(w, { namespaces: "require" }), ["sh", "-c", "echo ran > ran.txt"], { cwd: w, wrap: NO_USERNS_WRAPPER, asNobody: true });
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 125,
      stderr:
        "sbc-loader: the policy requires a mount namespace, and none can be created here: unshare: No space left on device\n" +
        "sbc-loader: help: `sbc doctor` shows what this machine lacks\n",
    });
    expect(existsSync(join(w, "ran.txt"))).toBe(false);
    // --namespaces require on the command line does the same to an `auto` plan.
    expect(runLoader(wsPlan(w), ["true"], { cwd: w, wrap: NO_USERNS_WRAPPER, asNobody: true, args: ["--namespaces", "require"] }).status).toBe(125);
    const never = runLoader(wsPlan(w, { namespaces: "never" }), PROBE, { cwd: w, wrap: NO_USERNS_WRAPPER, asNobody: true });
    expect(never).toMatchObject({ status: 0, stdout: "top=1\ngit=1\n", stderr: "" });
  });

  it("--check answers 1 for `require` where no namespace can be made, 0 for `auto`; --probe names the step", () => {
    const w = workspace();
    const check = (plan: string) =>
      spawnSync("sh", ["-c", `exec "$@" 3<&0`, "sh", ...NO_USERNS_WRAPPER, ...SETPRIV_NOBODY, loaderPath()!, "--check", "--plan-fd", "3"], { input: plan, cwd: w, encoding: "utf8" });
    expect(check(wsPlan(w, { namespaces: "require" }))).toMatchObject({ status: 1, stdout: "", stderr: "" });
    expect(check(wsPlan(w))).toMatchObject({ status: 0, stdout: "", stderr: "" });
    expect(probeLoader({ wrap: NO_USERNS_WRAPPER, asNobody: true }).namespaces).toBe("none:unshare:ENOSPC");
    expect(probeLoader({ asNobody: true }).namespaces).toBe("user");
    expect(probeLoader().namespaces).toBe("admin");
  });

  it("a seccomp filter denying unshare: auto falls back with the errno, require refuses, --probe says so", () => {
    const w = workspace();
    const auto = underFilter(SECCOMP_RET_ERRNO | EPERM, wsPlan(w), PROBE, [], w);
    expect(auto).toMatchObject({ status: 0, stdout: "top=1\ngit=1\n", stderr: `sbc: no mount namespace here (unshare: EPERM); ${FALLBACK_DEFAULT}\n` });
    const req = underFilter(SECCOMP_RET_ERRNO | EPERM, wsPlan(w), ["sh", "-c", "echo ran > ran.txt"], ["--namespaces", "require"], w);
    expect(req.status).toBe(125);
    expect(req.stderr).toMatch(/^sbc-loader: the policy requires a mount namespace, and none can be created here: unshare: Operation not permitted\n/);
    expect(existsSync(join(w, "ran.txt"))).toBe(false);
    const probe = runLoader(planText({ abi: 0, handledFs: 0, namespaces: "never", seccomp: unshareFilter(SECCOMP_RET_ERRNO | EPERM) }), [loaderPath()!, "--probe"], { cwd: w });
    expect(probe.stdout).toMatch(/ namespaces=none:unshare:EPERM /);
  });

  it("a set-up child killed by the kernel (SIGSYS from a filter) is a namespace failure: auto falls back", () => {
    const w = workspace();
    const r = underFilter(SECCOMP_RET_KILL_PROCESS, wsPlan(w), PROBE, [], w);
    expect(r).toMatchObject({ status: 0, stdout: "top=1\ngit=1\n", stderr: `sbc: no mount namespace here (child: SIGSYS); ${FALLBACK_DEFAULT}\n` });
  });

  it("the command's exit status, and the signal that killed it, are the loader's", () => {
    const w = workspace();
    expect(runLoader(wsPlan(w), ["sh", "-c", "exit 7"], { cwd: w }).status).toBe(7);
    expect(runLoader(wsPlan(w), ["sh", "-c", "kill -TERM $$"], { cwd: w })).toMatchObject({ status: null, signal: "SIGTERM" });
    expect(runLoader(wsPlan(w), ["sh", "-c", "kill -KILL $$"], { cwd: w, asNobody: true })).toMatchObject({ status: null, signal: "SIGKILL" });
    // A shell reports the re-raised SIGKILL as 128 + 9.
    const viaShell = spawnSync("sh", ["-c", `"$@" 3<&0; echo status=$?`, "sh", loaderPath()!, "--plan-fd", "3", "--", "sh", "-c", "kill -KILL $$"], { input: wsPlan(w), cwd: w, encoding: "utf8" });
    expect(viaShell.stdout).toBe("status=137\n");
  });

  it("a loader started with SIGCHLD ignored still reports the command's status", () => {
    const w = workspace();
    const ignoringChld = ["python3", "-c", "import os, signal, sys\nsignal.signal(signal.SIGCHLD, signal.SIG_IGN)\nos.execvp(sys.argv[1], sys.argv[1:])"];
    expect(runLoader(wsPlan(w), ["sh", "-c", "exit 5"], { cwd: w, wrap: ignoringChld }).status).toBe(5);
  });

  for (const [sig, trap] of [["SIGTERM", "TERM"], ["SIGINT", "INT"], ["SIGHUP", "HUP"], ["SIGUSR1", "USR1"]] as const) {
    it(`${sig} sent to the loader reaches the command`, async () => {
      const w = workspace();
      const r = await runAsync(wsPlan(w), ["sh", "-c", `trap 'echo got-${trap}; exit 3' ${trap}; echo ready; while :; do sleep 0.05; done`], w, (child) => child.kill(sig));
      expect(r).toMatchObject({ code: 3, signal: null });
      expect(r.stdout).toBe(`ready\ngot-${trap}\n`);
    });
  }

  it("a loader killed with SIGKILL takes the command with it", async () => {
    const w = workspace();
    let commandPid = 0;
    const r = await runAsync(wsPlan(w), ["sh", "-c", "echo $$; exec sleep 30"], w, (child, out) => {
      commandPid = Number(out.trim());
      child.kill("SIGKILL");
    });
    expect(r.signal).toBe("SIGKILL");
    await waitFor(() => !alive(commandPid));
    expect(alive(commandPid)).toBe(false);
  });
});

interface AsyncRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** Starts the loader with `plan` on fd 3; when the command's first line arrives, calls `act`; resolves at exit. */
function runAsync(plan: string, argv: readonly string[], cwd: string, act: (child: ReturnType<typeof spawn>, firstLine: string) => void): Promise<AsyncRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(loaderPath()!, ["--plan-fd", "3", "--", ...argv], { cwd, stdio: ["ignore", "pipe", "inherit", "pipe"] });
    const fd3 = child.stdio[3] as NodeJS.WritableStream;
    fd3.end(plan);
    let stdout = "";
    let acted = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (!acted && stdout.includes("\n")) {
        acted = true;
        act(child, stdout);
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout });
    });
  });
}

/** Whether `pid` is a live process (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function waitFor(done: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end && !done(); ) await new Promise((r) => setTimeout(r, 20));
}
