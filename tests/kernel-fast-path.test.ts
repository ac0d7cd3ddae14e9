// The `sbc exec --preset NAME -- CMD` fast path of bin/sbc: the precompiled plans are what `sbc compile -t
// linux` emits today, the fast path is really taken where the loader accepts the plan (no Node in between: the
// command runs in the very process the caller spawned, or — in a mount namespace, where the loader stays as the
// parent to clean up — in its child), it confines exactly like the Node CLI, it falls back to the Node CLI where
// the plan's placement does not hold (a workspace inside /tmp) and takes the plan cache the next time, and both
// paths exit the way the command did, signals included.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnv, ensureBuilt } from "./support/cli.js";
import { describeKernel, itKernel } from "./support/kernel.js";

const REPO = join(import.meta.dirname, "..");
const SBC = join(REPO, "bin", "sbc");
const LOADER = join(REPO, "native", "build", "sbc-loader");

describe("precompiled preset plans", () => {
  it("bin/sbc finds its package through a relative symlink (as npm links it), with CDPATH set", () => {
    const dir = mkdtempSync(join(tmpdir(), "sbc-link-"));
    try {
      mkdirSync(join(dir, ".bin"));
      symlinkSync(relative(join(dir, ".bin"), SBC), join(dir, ".bin", "sbc"));
      // Called as `.bin/sbc` with the directory itself in CDPATH: a `cd` that consults CDPATH prints where it went.
      const r = spawnSync(".bin/sbc", ["--version"], { cwd: dir, encoding: "utf8", env: childEnv({ CDPATH: dir }) });
      expect([r.status, r.stderr]).toEqual([0, ""]);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are byte for byte what `sbc compile --preset NAME -t linux --arch ARCH` emits now", () => {
    ensureBuilt();
    const r = spawnSync(process.execPath, [join(REPO, "scripts", "build-plans.mjs"), "--check"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });
});

let ws = "";
let wsInTmp = "";
let outside = "";
let tmp = "";

/** Runs `bin/sbc exec --preset P -- sh -c SCRIPT`; `pid` is the process the caller spawned. */
function run(cwd: string, script: string, env: Record<string, string | undefined> = {}, preset = "workspace-write") {
  const r = spawnSync(SBC, ["exec", "--preset", preset, "--", "sh", "-c", script], { cwd, encoding: "utf8", env: childEnv({ TMPDIR: tmp, ...env }), timeout: 30_000 });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr, pid: r.pid };
}

const PROBE = `echo hi > src/a.txt; echo src=$?; touch .git/x 2>/dev/null; echo git=$?; (echo x > OUTSIDE/x) 2>/dev/null; echo out=$?; echo $$ $PPID $(cat /proc/$PPID/comm)`;

/**
 * How the command was started, from its last line `$$ $PPID COMM-OF-PPID`: as the process the caller spawned
 * (the loader exec'd it), as the child of that loader (a namespace), or through Node.
 */
function launcher(r: { out: string; pid: number | undefined }): "itself" | "its child" | "node" {
  const [pid, ppid, parent] = r.out.trim().split("\n").pop()!.split(" ");
  return Number(pid) === r.pid ? "itself" : Number(ppid) === r.pid && parent === "sbc-loader" ? "its child" : "node";
}

describeKernel("the fast path of `sbc exec --preset`", () => {
  beforeAll(() => {
    ensureBuilt();
    if (!existsSync(LOADER)) spawnSync(process.execPath, [join(REPO, "scripts", "build-native.mjs")], { stdio: "inherit" });
    // Apart from /tmp and from each other: the placement the precompiled workspace-write plan assumes.
    ws = mkdtempSync("/var/tmp/sbc-fast-ws-");
    tmp = mkdtempSync("/var/tmp/sbc-fast-tmp-");
    outside = mkdtempSync("/var/tmp/sbc-fast-out-");
    wsInTmp = mkdtempSync("/tmp/sbc-fast-ws-");
    for (const w of [ws, wsInTmp]) {
      mkdirSync(join(w, ".git"));
      mkdirSync(join(w, "src"));
      writeFileSync(join(w, "src", "a.txt"), "");
    }
  });
  afterAll(() => {
    for (const d of [ws, tmp, outside, wsInTmp]) if (d) rmSync(d, { recursive: true, force: true });
  });

  itKernel("runs the command without Node, in the loader's mount namespace, confined like the Node CLI", () => {
    const fast = run(ws, PROBE.replace("OUTSIDE", outside));
    expect(fast.status, fast.err).toBe(0);
    const lines = fast.out.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual(["src=0", "git=1", "out=2"]);
    // No Node in between: the loader the caller spawned stays as the parent of the command.
    expect(launcher(fast)).toBe("its child");
    expect(existsSync(join(ws, ".git", "x"))).toBe(false);
    expect(existsSync(join(outside, "x"))).toBe(false);

    const slow = run(ws, PROBE.replace("OUTSIDE", outside), { SBC_NO_FAST_PATH: "1" });
    expect(slow.status, slow.err).toBe(0);
    const slowLines = slow.out.trim().split("\n");
    expect(slowLines.slice(0, 3)).toEqual(lines.slice(0, 3));
    expect(launcher(slow)).toBe("node");
  });

  itKernel("read-only takes it too; full-access, which restricts nothing, execs the command in the spawned process", () => {
    const ro = run(ws, "echo > src/b.txt 2>/dev/null; echo w=$?; cat /etc/hostname >/dev/null; echo r=$?; echo $$ $PPID $(cat /proc/$PPID/comm)", {}, "read-only");
    expect(ro.out.trim().split("\n").slice(0, 2)).toEqual(["w=2", "r=0"]);
    expect(launcher(ro)).toBe("its child");
    const full = run(ws, `echo x > ${outside}/full && echo w=$?; echo $$ $PPID $(cat /proc/$PPID/comm)`, {}, "full-access");
    expect(full.out.trim().split("\n")[0]).toBe("w=0");
    expect(launcher(full)).toBe("itself");
    expect(existsSync(join(outside, "full"))).toBe(true);
  });

  itKernel("falls back to the Node CLI where the plan's placement does not hold (a workspace inside /tmp), then takes the plan it cached", () => {
    const r = run(wsInTmp, PROBE.replace("OUTSIDE", outside));
    expect(r.status, r.err).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual(["src=0", "git=1", "out=2"]);
    expect(launcher(r)).toBe("node");
    expect(r.err).toBe("");
    const again = run(wsInTmp, PROBE.replace("OUTSIDE", outside));
    expect(again.out.trim().split("\n").slice(0, 3)).toEqual(lines.slice(0, 3));
    expect(launcher(again)).toBe("its child");
    expect(again.err).toBe("");
  });

  itKernel("exits the way the command did on both paths: its status, or the signal that killed it", () => {
    for (const env of [{}, { SBC_NO_FAST_PATH: "1" }]) {
      expect(run(ws, "exit 7", env).status).toBe(7);
      const killed = run(ws, "kill -TERM $$", env);
      expect({ status: killed.status, signal: killed.signal }).toEqual({ status: null, signal: "SIGTERM" });
    }
  });

  itKernel("other forms and unknown presets go to the Node CLI", () => {
    const r = spawnSync(SBC, ["exec", "--preset", "no-such-preset", "--", "true"], { cwd: ws, encoding: "utf8", env: childEnv() });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown preset `no-such-preset`/);
    const v = spawnSync(SBC, ["--version"], { encoding: "utf8", env: childEnv() });
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
