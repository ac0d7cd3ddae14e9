// spawnSandboxed: the command it would run on each platform (checked anywhere), the errors it throws before
// running anything, and on a Linux kernel with Landlock a real run under workspace-write, observed through the
// returned ChildProcess: a write in the workspace succeeds, one to /etc fails.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyError, SandboxUnavailableError, UsageError, sandboxedCommand, spawnSandboxed, type SandboxedProcess } from "../lib/index.js";
import { kernelSupport } from "./support/kernel.js";

const REPO = join(import.meta.dirname, "..");
const LOADER = join(REPO, "native", "build", "sbc-loader");

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

function collect(child: SandboxedProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("sandboxedCommand: what spawnSandboxed runs", () => {
  beforeAll(() => {
    // The Linux cases need the loader to exist (else they stop at SandboxUnavailableError, tested below).
    if (process.platform === "linux" && !existsSync(LOADER)) spawnSync(process.execPath, [join(REPO, "scripts", "build-native.mjs")], { stdio: "inherit" });
  });

  it("macOS: /usr/bin/sandbox-exec -p with the sbpl profile, paths of the workspace written in", async () => {
    const ws = "/Users/me/project";
    const cmd = await sandboxedCommand({ kind: "preset", name: "workspace-write" }, ["make", "test"], { platform: "darwin", cwd: ws });
    expect(cmd.file).toBe("/usr/bin/sandbox-exec");
    expect(cmd.args[0]).toBe("-p");
    expect(cmd.args.slice(2)).toEqual(["--", "make", "test"]);
    expect(cmd.args[1]).toMatch(/^; Seatbelt profile for the sbc policy `workspace-write`/);
    expect(cmd.args[1]).toContain(`"${ws}"`);
    expect(cmd.plan).toBeUndefined();
  });

  it("Linux: the loader with the linux target's plan on fd 3, the run's namespaces choice passed on", async () => {
    const cmd = await sandboxedCommand({ kind: "preset", name: "workspace-write" }, ["sh", "-c", "true"], { platform: "linux", arch: "x64", namespaces: "never" });
    if (!existsSync(LOADER)) return; // the loader-missing case is the next test
    expect(cmd.file).toBe(LOADER);
    expect(cmd.args).toEqual(["--namespaces", "never", "--plan-fd", "3", "--", "sh", "-c", "true"]);
    expect(cmd.plan?.fd).toBe(3);
    expect(cmd.plan?.text).toMatch(/^sbc-loader-plan 2\n/);
    expect(cmd.files).toContain(join(REPO, "presets", "workspace-write.yaml"));
  });

  it("Linux: more stdio entries move the plan to the first descriptor after them", async () => {
    const cmd = await sandboxedCommand({ kind: "preset", name: "read-only" }, ["true"], { platform: "linux", arch: "x64", stdio: ["pipe", "pipe", "pipe", "ignore", "pipe"] });
    if (!existsSync(LOADER)) return;
    expect(cmd.plan?.fd).toBe(5);
    expect(cmd.args).toContain("5");
  });

  it("without the native loader, Linux is refused with SandboxUnavailableError and a hint", async () => {
    if (existsSync(LOADER)) return; // covered only where the loader is missing
    const e = await rejection(sandboxedCommand({ kind: "preset", name: "read-only" }, ["true"], { platform: "linux", arch: "x64" }));
    expect(e).toBeInstanceOf(SandboxUnavailableError);
    expect((e as SandboxUnavailableError).help).toContain("build-native.mjs");
  });

  it("other systems, and arches seccomp has no table for, are refused with SandboxUnavailableError", async () => {
    const win = await rejection(sandboxedCommand({ kind: "preset", name: "read-only" }, ["cmd"], { platform: "win32" }));
    expect(win).toBeInstanceOf(SandboxUnavailableError);
    expect((win as Error).message).toMatch(/Linux .* and macOS .*; this is win32/);
    const mips = await rejection(sandboxedCommand({ kind: "preset", name: "read-only" }, ["true"], { platform: "linux", arch: "mips" }));
    expect(mips).toBeInstanceOf(SandboxUnavailableError);
    expect((mips as Error).message).toContain("mips");
  });

  it("a policy with errors is a PolicyError carrying the diagnostics, and nothing is spawned", async () => {
    const e = await rejection(spawnSandboxed({ kind: "text", text: "sbc: 1\nname: bad\nfilesystem:\n  - allow: read-wrte\n    path: /x\n", syntax: "yaml" }, ["true"]));
    expect(e).toBeInstanceOf(PolicyError);
    const d = (e as PolicyError).diagnostics.filter((x) => x.severity === "error");
    expect(d.length).toBeGreaterThan(0);
    expect(d[0]!.message).toContain("read-wrte");
  });

  it("a parameter left without a value is a PolicyError naming it (SBC0403)", async () => {
    const text = "sbc: 1\nname: needs-out\nextends: read-only\nparams:\n  out:\n    description: where results go\nfilesystem:\n  - allow: read-write\n    path: ${out}\n";
    const e = await rejection(sandboxedCommand({ kind: "text", text, syntax: "yaml" }, ["true"], { platform: "linux", arch: "x64" }));
    if (!existsSync(LOADER)) return;
    expect(e).toBeInstanceOf(PolicyError);
    expect((e as PolicyError).message).toContain("`out`");
    expect((e as PolicyError).diagnostics.some((d) => d.code === "SBC0403")).toBe(true);
    const ok = await sandboxedCommand({ kind: "text", text, syntax: "yaml" }, ["true"], { platform: "linux", arch: "x64", params: { out: "/srv/out" } });
    expect(ok.plan?.text).toContain("/srv/out");
  });

  it("an empty argv and a bad namespaces mode are usage errors", async () => {
    expect(await rejection(sandboxedCommand({ kind: "preset", name: "read-only" }, []))).toBeInstanceOf(UsageError);
    expect(await rejection(sandboxedCommand({ kind: "preset", name: "read-only" }, ["true"], { platform: "linux", namespaces: "maybe" as never }))).toBeInstanceOf(UsageError);
  });
});

/** Whether a sandboxed run can happen here: seccomp (kernelSupport), the loader, and Landlock (the loader's probe). */
function landlockSupport(): { ok: true } | { ok: false; reason: string } {
  const k = kernelSupport();
  if (!k.ok) return k;
  if (!existsSync(LOADER)) spawnSync(process.execPath, [join(REPO, "scripts", "build-native.mjs")], { stdio: "inherit" });
  if (!existsSync(LOADER)) return { ok: false, reason: "the native loader could not be built" };
  const probe = spawnSync(LOADER, ["--probe"], { encoding: "utf8" });
  const abi = Number(/landlock-abi=(\d+)/.exec(probe.stdout ?? "")?.[1] ?? 0);
  return abi > 0 ? { ok: true } : { ok: false, reason: `this kernel has no Landlock (${(probe.stdout || probe.stderr || "no probe answer").trim()})` };
}

const support = process.platform === "linux" ? landlockSupport() : ({ ok: false, reason: `not Linux (${process.platform})` } as const);
const runs = support.ok ? describe : process.env.SBC_REQUIRE_KERNEL === "1" ? describe : describe.skip;
if (!support.ok) console.warn(`spawnSandboxed kernel test ${process.env.SBC_REQUIRE_KERNEL === "1" ? "fails" : "skipped"}: ${support.reason}`);

runs("spawnSandboxed on the kernel (Landlock + seccomp through the loader)", () => {
  let ws = "";
  let outside = "";
  beforeAll(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), "sbc-spawn-ws-")));
    // Writable by this user without a sandbox (unlike /etc for a non-root user), and no preset makes it writable.
    outside = realpathSync(mkdtempSync("/var/tmp/sbc-spawn-outside-"));
  });
  afterAll(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it("workspace-write: writing in the workspace succeeds, writing /etc fails", async () => {
    if (!support.ok) throw new Error(`SBC_REQUIRE_KERNEL=1 but the test cannot run: ${support.reason}`);
    const script = 'echo hi > "$WS/a"; echo first=$?; echo x > /etc/sbc-nope; echo second=$?; echo y > "$OUT/b"; echo third=$?';
    const child = await spawnSandboxed({ kind: "preset", name: "workspace-write" }, ["sh", "-c", script], { cwd: ws, env: { ...process.env, WS: ws, OUT: outside } });
    const r = await collect(child);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("first=0\nsecond=2\nthird=2\n");
    expect(r.stderr).toMatch(/\/etc\/sbc-nope: (Read-only file system|Permission denied)/);
    expect(readFileSync(join(ws, "a"), "utf8")).toBe("hi\n");
    expect(existsSync("/etc/sbc-nope")).toBe(false);
    expect(existsSync(join(outside, "b"))).toBe(false);
    // The same script outside the sandbox writes there: the policy refused it, not the file's permissions.
    const free = spawnSync("sh", ["-c", script.replace("/etc/sbc-nope", "/dev/null")], { cwd: ws, env: { ...process.env, WS: ws, OUT: outside }, encoding: "utf8" });
    expect(free.stdout).toBe("first=0\nsecond=0\nthird=0\n");
  }, 30_000);

  it("read-only: the same write in the workspace fails, so it was the policy that allowed it above", async () => {
    if (!support.ok) throw new Error(`SBC_REQUIRE_KERNEL=1 but the test cannot run: ${support.reason}`);
    const child = await spawnSandboxed({ kind: "preset", name: "read-only" }, ["sh", "-c", 'echo hi > "$WS/b"; echo first=$?'], { cwd: ws, env: { ...process.env, WS: ws } });
    const r = await collect(child);
    expect(r.stdout).toBe("first=2\n");
    expect(existsSync(join(ws, "b"))).toBe(false);
  }, 30_000);

  it("stdio inherit/ignore and the exit status of the command come through; the plan's descriptor is closed", async () => {
    if (!support.ok) throw new Error(`SBC_REQUIRE_KERNEL=1 but the test cannot run: ${support.reason}`);
    const child = await spawnSandboxed({ kind: "preset", name: "workspace-write" }, ["sh", "-c", "test -e /proc/self/fd/3 && exit 9; exit 7"], { cwd: ws, stdio: "ignore" });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(7);
  }, 30_000);
});
