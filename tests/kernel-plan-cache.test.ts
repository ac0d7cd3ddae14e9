// The plan cache end to end, through the `sbc` command as an agent harness runs it: the first `sbc exec
// POLICY` of a policy compiles it with Node and stores the plan; the next one runs it without Node (the
// loader is the command's parent); editing the policy or a file it extends makes the stored plan stale, so
// Node compiles the new one; another working directory, parameter or --namespaces is another entry; a cache
// directory others could write to is neither read nor written; --no-cache and SBC_NO_CACHE skip it.

import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { childEnv, ensureBuilt } from "./support/cli.js";
import { itKernel } from "./support/kernel.js";
import { describeLoader } from "./support/loader.js";

const SBC = join(import.meta.dirname, "..", "bin", "sbc");
let dir = "";
let cache = "";
let ws = "";

/**
 * `sbc exec ARGS -- sh -c SCRIPT`: what the script printed, and who started it — the loader bin/sbc exec'd
 * (the command is that very process, or in a namespace its child), or Node (whose loader is its child).
 */
function run(args: readonly string[], script: string, env: Record<string, string> = {}, cwd = ws) {
  const r = spawnSync(SBC, ["exec", ...args, "--", "sh", "-c", `${script}; echo "$$ $PPID $(cat /proc/$PPID/comm)"`], { cwd, encoding: "utf8", env: childEnv({ SBC_CACHE_DIR: cache, ...env }), timeout: 60_000 });
  const lines = r.stdout.trim().split("\n");
  const [pid, ppid, parent] = lines.pop()!.split(" ");
  const fast = Number(pid) === r.pid || (Number(ppid) === r.pid && parent === "sbc-loader");
  return { status: r.status, err: r.stderr, lines, by: fast ? "loader" : "node" };
}

const entries = () => (existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith(".plan")) : []);

describeLoader("the plan cache of `sbc exec POLICY`", () => {
  beforeAll(() => {
    ensureBuilt();
    dir = realpathSync(mkdtempSync("/var/tmp/sbc-plan-cache-"));
    cache = join(dir, "cache", "plans");
    ws = join(dir, "ws");
    mkdirSync(ws);
    spawnSync("git", ["init", "-q"], { cwd: ws });
    writeFileSync(join(dir, "base.yaml"), "sbc: 1\nextends: workspace-write\n");
    writeFileSync(join(dir, "policy.yaml"), "sbc: 1\nname: cached\nextends: ./base.yaml\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itKernel("the first run compiles and stores the plan (mode 0600 in a 0700 directory); the second runs it without Node, confined alike", () => {
    const first = run([join(dir, "policy.yaml")], "echo x > top.txt && echo wrote; touch .git/x; echo git=$?");
    expect(first.status, first.err).toBe(0);
    expect(first.lines).toEqual(["wrote", "git=1"]);
    expect(first.by).toBe("node");
    expect(entries()).toHaveLength(1);
    const file = join(cache, entries()[0]!);
    expect(readFileSync(file, "utf8")).toMatch(/^cache-key [0-9a-f]{64}$/m);
    expect(readFileSync(file, "utf8")).toContain(`\ndep ${join(dir, "policy.yaml")} `);
    expect(readFileSync(file, "utf8")).toContain(`\ndep ${join(dir, "base.yaml")} `);
    expect(spawnSync("stat", ["-c", "%a", file, cache], { encoding: "utf8" }).stdout.split("\n").slice(0, 2)).toEqual(["600", "700"]);

    const second = run([join(dir, "policy.yaml")], "echo y > top2.txt && echo wrote; touch .git/y; echo git=$?");
    expect(second.status, second.err).toBe(0);
    expect(second.lines).toEqual(["wrote", "git=1"]);
    expect(second.by).toBe("loader");
    expect(second.err).toMatch(/^touch: cannot touch '\.git\/y': Read-only file system\n$/);
  });

  itKernel("editing a file the policy extends makes the stored plan stale: Node compiles the new policy", () => {
    run([join(dir, "policy.yaml")], "true");
    expect(run([join(dir, "policy.yaml")], "true").by).toBe("loader");
    // The base now lets the agent write .git: a stale plan would still refuse it.
    writeFileSync(join(dir, "base.yaml"), "sbc: 1\nextends: workspace-write\nfilesystem:\n  - allow: read-write\n    path: ${workspace}/.git\n");
    const edited = run([join(dir, "policy.yaml")], "touch .git/edited; echo git=$?");
    expect(edited.by).toBe("node");
    expect(edited.lines).toEqual(["git=0"]);
    expect(run([join(dir, "policy.yaml")], "touch .git/edited2; echo git=$?")).toMatchObject({ by: "loader", lines: ["git=0"] });
    writeFileSync(join(dir, "base.yaml"), "sbc: 1\nextends: workspace-write\n");
  });

  itKernel("another working directory, parameter or --namespaces is another entry", () => {
    const other = join(dir, "other-ws");
    mkdirSync(other, { recursive: true });
    const before = entries().length;
    expect(run([join(dir, "policy.yaml")], "true", {}, other).by).toBe("node");
    expect(run([join(dir, "policy.yaml"), "--namespaces", "never"], "true").by).toBe("node");
    expect(run([join(dir, "policy.yaml"), "--namespaces", "never"], "true").by).toBe("loader");
    expect(run(["-p", `home=${dir}`, join(dir, "policy.yaml")], "true").by).toBe("node");
    expect(entries().length).toBe(before + 3);
  });

  itKernel("a cache directory others can write to is neither read nor written", () => {
    run([join(dir, "policy.yaml")], "true");
    expect(run([join(dir, "policy.yaml")], "true").by).toBe("loader");
    chmodSync(cache, 0o777);
    try {
      const r = run([join(dir, "policy.yaml")], "true");
      expect(r.by).toBe("node");
      expect(r.err).toMatch(/^sbc: not caching the plan: .* is not safe for plans: it is writable by others$/m);
    } finally {
      chmodSync(cache, 0o700);
    }
  });

  itKernel("--no-cache and SBC_NO_CACHE skip the cache both ways", () => {
    const fresh = join(dir, "fresh.yaml");
    writeFileSync(fresh, "sbc: 1\nextends: workspace-write\n");
    const before = entries().length;
    expect(run(["--no-cache", fresh], "true").by).toBe("node");
    expect(run([fresh], "true", { SBC_NO_CACHE: "1" }).by).toBe("node");
    expect(entries().length).toBe(before);
    run([fresh], "true");
    expect(run([fresh], "true").by).toBe("loader");
    expect(run(["--no-cache", fresh], "true").by).toBe("node");
    expect(run([fresh], "true", { SBC_NO_CACHE: "1" }).by).toBe("node");
  });
});
