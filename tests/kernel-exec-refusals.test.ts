// A policy that cannot be enforced as written on this machine: `sbc exec` says so with a coded diagnostic at
// the rule that asks for it, exits 125 before the command runs, and leaves nothing behind in the workspace —
// through the Node CLI and through bin/sbc's fast path alike (the loader's check fails there, and the CLI
// explains). The machine's shortcomings are simulated under an outer sandbox: a policy that extends
// full-access with one syscall refused (unshare: no namespace can be had; landlock_create_ruleset: no
// Landlock), applied by `sbc exec` of that policy around the inner `sbc exec`.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { childEnv, ensureBuilt } from "./support/cli.js";
import { describeLoader } from "./support/loader.js";
import { itKernel } from "./support/kernel.js";

const REPO = join(import.meta.dirname, "..");
const SBC = join(REPO, "bin", "sbc");
let dir = "";

/** `sbc exec ARGS -- sh -c 'echo ran > ran'` in `ws`, optionally inside an outer `sbc exec OUTER`. */
function exec(ws: string, args: readonly string[], outer?: string, env: Record<string, string> = {}) {
  const inner = [SBC, "exec", ...args, "--", "sh", "-c", "echo ran > ran"];
  const argv = outer ? [SBC, "exec", outer, "--", ...inner] : inner;
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ws, encoding: "utf8", env: childEnv(env), timeout: 60_000 });
  return { status: r.status, err: r.stderr };
}

function workspace(): string {
  const ws = realpathSync(mkdtempSync(join(dir, "ws-")));
  spawnSync("git", ["init", "-q"], { cwd: ws });
  return ws;
}

/** Nothing ran and nothing was made: no `ran` file, no mount point left (`.codex`, `.agents`). */
function untouched(ws: string, before: readonly string[]): void {
  expect(existsSync(join(ws, "ran"))).toBe(false);
  expect(readdirSync(ws).sort()).toEqual([...before].sort());
}

describeLoader("sbc exec refuses what this machine cannot enforce as written (SBC25xx, exit 125)", () => {
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync("/var/tmp/sbc-refusals-");
    const outer = (name: string, syscall: string, errno: string) =>
      writeFileSync(join(dir, `${name}.yaml`), `sbc: 1\nname: ${name}\nextends: full-access\nsyscalls:\n  rules:\n    - syscalls: [${syscall}]\n      action: { errno: ${errno} }\n`);
    outer("no-unshare", "unshare", "EPERM");
    outer("no-landlock", "landlock_create_ruleset", "ENOSYS");
    writeFileSync(join(dir, "require.yaml"), "sbc: 1\nname: require\nextends: workspace-write\nlinux:\n  namespaces: require\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itKernel("SBC2501: a protected `.git` that is a link to nowhere, at the `protect:` entry, through both paths", () => {
    const ws = workspace();
    rmSync(join(ws, ".git"), { recursive: true });
    symlinkSync("meta/missing.git", join(ws, ".git"));
    for (const env of [{}, { SBC_NO_FAST_PATH: "1" }] as Record<string, string>[]) {
      const r = exec(ws, ["--preset", "workspace-write"], undefined, env);
      expect(r.status, r.err).toBe(125);
      expect(r.err).toContain(`error[SBC2501]: ${ws}/.git is a symlink to ${ws}/meta/missing.git, which does not exist: sbc cannot protect what it points at`);
      expect(r.err).toMatch(/--> presets\/workspace-write\.yaml:\d+:\d+\n/);
      expect(r.err).toMatch(/protect: \[\.git, \.codex, \.agents\]\n\s+\|\s+\^\^\^\^/);
      untouched(ws, [".git"]);
    }
    // With Landlock alone the same link is refused the same way.
    const never = exec(ws, ["--preset", "workspace-write", "--namespaces", "never"]);
    expect(never.status).toBe(125);
    expect(never.err).toContain("error[SBC2501]");
    untouched(ws, [".git"]);
  });

  itKernel("SBC2502: `require` where no namespace can be had — the policy's setting, or the run's flag", () => {
    const ws = workspace();
    const byPolicy = exec(ws, [join(dir, "require.yaml")], join(dir, "no-unshare.yaml"));
    expect(byPolicy.status, byPolicy.err).toBe(125);
    expect(byPolicy.err).toContain("error[SBC2502]: the policy (`linux.namespaces: require`) requires a mount namespace, and none can be created here: unshare failed with EPERM; the command is not run");
    expect(byPolicy.err).toMatch(/--> .*require\.yaml:5:15\n/);
    untouched(ws, [".git"]);
    const byFlag = exec(ws, ["--preset", "workspace-write", "--namespaces", "require"], join(dir, "no-unshare.yaml"));
    expect(byFlag.status, byFlag.err).toBe(125);
    expect(byFlag.err).toContain("error[SBC2502]: `--namespaces require` requires a mount namespace");
    expect(byFlag.err).not.toContain("-->");
    untouched(ws, [".git"]);
    // `auto`, the default, runs with Landlock alone and says so in one line.
    // `auto`, the default, runs with Landlock alone and says so in one line; the command then meets the cost it
    // names (`sh` cannot create a file at the top of the workspace: exit 2).
    const auto = exec(ws, ["--preset", "workspace-write"], join(dir, "no-unshare.yaml"));
    expect(auto.status, auto.err).toBe(2);
    const lines = auto.err.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sbc: no mount namespace here \(unshare: EPERM\); running with Landlock alone: nothing new can be created directly in /);
    expect(lines[1]).toMatch(/cannot create ran: Permission denied/);
    expect(existsSync(join(ws, "ran"))).toBe(false);
  });

  itKernel("SBC2503: a kernel without Landlock and the default hard requirement, at a filesystem rule", () => {
    const ws = workspace();
    const r = exec(ws, ["--preset", "workspace-write"], join(dir, "no-landlock.yaml"));
    expect(r.status, r.err).toBe(125);
    expect(r.err).toContain("error[SBC2503]: this kernel has no Landlock (the policy restricts the filesystem); the command is not run");
    expect(r.err).toMatch(/--> presets\/read-only\.yaml:\d+:\d+\n/);
    untouched(ws, [".git"]);
  });
});
