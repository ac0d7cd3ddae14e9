// `sbc exec` says what `sbc compile` says before it runs anything, and refuses what compile refuses: a widening
// the policy does not accept (SBC2210, UDP on this ABI 7 kernel) stops the run at the rule; a narrowing
// (SBC2201) is printed, the command runs, and the plan cache keeps the warning, so the next run — bin/sbc's
// fast path, no Node — prints it too.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { childEnv, ensureBuilt } from "./support/cli.js";
import { itKernel } from "./support/kernel.js";
import { probeLoader } from "./support/loader.js";

const REPO = join(import.meta.dirname, "..");
const SBC = join(REPO, "bin", "sbc");

let ws = "";
let cache = "";

/** Runs `bin/sbc exec POLICY -- sh -c SCRIPT` in the workspace, with a plan cache of this file's own. */
function exec(policy: string, script: string, env: Record<string, string> = {}) {
  const r = spawnSync(SBC, ["exec", policy, "--", "sh", "-c", script], { cwd: ws, encoding: "utf8", env: childEnv({ SBC_CACHE_DIR: cache, ...env }), timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe("sbc exec prints the compile diagnostics", () => {
  beforeAll(() => {
    ensureBuilt();
    ws = mkdtempSync("/var/tmp/sbc-exec-diag-");
    cache = mkdtempSync("/var/tmp/sbc-exec-diag-cache-");
    writeFileSync(
      join(ws, "udp.yaml"),
      ["sbc: 1", "extends: read-only", "network:", "  rules:", "    - allow: [connect]", "      protocol: udp", "      hosts: [10.0.0.2]", "      ports: [53]", ""].join("\n"),
    );
    writeFileSync(join(ws, "udp-accepted.yaml"), [...["sbc: 1", "extends: read-only", "network:", "  rules:", "    - allow: [connect]", "      protocol: udp", "      ports: [53]"], "linux:", "  accept-widening: [udp]", ""].join("\n"));
    // A TCP rule for some hosts: narrowed (its port stays closed), a warning.
    writeFileSync(join(ws, "hosts.yaml"), ["sbc: 1", "extends: read-only", "network:", "  rules:", "    - allow: [connect]", "      hosts: [10.0.0.0/8]", "      ports: [443]", ""].join("\n"));
  });
  afterAll(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  itKernel("refuses a UDP rule the kernel's Landlock cannot see (SBC2210, at the rule), and runs nothing", () => {
    if (probeLoader().landlockAbi >= 10) return; // ABI 10 enforces the port: no widening to refuse
    const r = exec("udp.yaml", "echo ran");
    expect(r.status).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("error[SBC2210]: Landlock ABI");
    expect(r.err).toContain("--> udp.yaml:5:7");
    expect(r.err).not.toContain("read-only.yaml");
  });

  itKernel("with --compat best-effort or soft-requirement runs it anyway, and says what is not enforced", () => {
    if (probeLoader().landlockAbi >= 10) return;
    const best = spawnSync(SBC, ["exec", "udp.yaml", "--compat", "best-effort", "--", "sh", "-c", "echo ran"], { cwd: ws, encoding: "utf8", env: childEnv({ SBC_CACHE_DIR: cache }) });
    expect([best.status, best.stdout]).toEqual([0, "ran\n"]);
    expect(best.stderr).toMatch(/running with what ABI \d+ enforces \(compatibility: best-effort\); UDP is not restricted/);
    const soft = spawnSync(SBC, ["exec", "udp.yaml", "--compat", "soft-requirement", "--", "sh", "-c", "echo ran"], { cwd: ws, encoding: "utf8", env: childEnv({ SBC_CACHE_DIR: cache }) });
    expect([soft.status, soft.stdout]).toEqual([0, "ran\n"]);
    expect(soft.stderr).toContain("running WITHOUT Landlock (compatibility: soft-requirement)");
  });

  itKernel("runs a policy that accepts the UDP widening", () => {
    const r = exec("udp-accepted.yaml", "echo ran");
    expect(r).toMatchObject({ status: 0, out: "ran\n" });
    expect(r.err).not.toContain("SBC2210");
  });

  itKernel("prints a narrowing before the command runs, and again when the cached plan runs without Node", () => {
    const first = exec("hosts.yaml", "echo ran");
    expect(first).toMatchObject({ status: 0, out: "ran\n" });
    expect(first.err).toContain("warning[SBC2201]: Landlock sees TCP ports, not hosts");
    expect(first.err).toContain("--> hosts.yaml:5:7");
    // The second run takes the plan cache (bin/sbc's fast path: the loader itself), which says the same. With no
    // `node` on PATH the Node CLI cannot be the one that runs it.
    const bin = join(cache, "bin");
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, "sh"))) symlinkSync("/bin/sh", join(bin, "sh"));
    const second = exec("hosts.yaml", "echo ran", { PATH: bin });
    expect(second).toMatchObject({ status: 0, out: "ran\n" });
    expect(second.err).toBe(first.err);
  });
});
