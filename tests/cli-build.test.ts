// `sbc build` from the command line: the listing and exit codes, --check for CI, --watch in a short-lived child,
// and the acceptance test of issue 14: a tiny C project whose Makefile includes the depfile and embeds the
// generated seccomp header, rebuilt by make exactly when a file the policy extends changes.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readBuildSection } from "../lib/build/index.js";
import { BIN, childEnv, ensureBuilt, REPO, sbc, STACK_TRACE } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

beforeAll(() => ensureBuilt(), 180_000);

const BASE = `sbc: 1
name: base
syscalls:
  rules:
    - syscalls: [ptrace]
      action: { errno: EPERM }
`;
const WS = "sbc: 1\nname: ws\nextends: ./base.yaml\n";
const CONFIG = `build:
  - policy: policies/ws.yaml
    outputs:
      - { path: include/ws-seccomp.h, target: seccomp-c, arch: x86_64 }
      - { path: build/ws.bpf, target: seccomp }
`;

function project(extra: Record<string, string> = {}): string {
  return writeFiles(tempDir("sbc-cli-build-"), { "sbc.config.yaml": CONFIG, "policies/base.yaml": BASE, "policies/ws.yaml": WS, "README.txt": "not an input\n", ...extra });
}

describe("sbc build", () => {
  it("lists what it wrote, then what it left, and --check passes on a fresh tree", async () => {
    const dir = project();
    const first = await sbc(["build"], { cwd: dir });
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("wrote include/ws-seccomp.h\nwrote build/ws.bpf\n");
    expect(first.code).toBe(0);
    const again = await sbc(["build"], { cwd: dir });
    expect(again.stdout).toBe("unchanged include/ws-seccomp.h\nunchanged build/ws.bpf\n");
    const check = await sbc(["build", "--check"], { cwd: dir });
    expect([check.code, check.stdout]).toEqual([0, "2 outputs are up to date\n"]);
  });

  it("--check writes nothing and exits 1 naming each stale or missing output", async () => {
    const dir = project();
    await sbc(["build"], { cwd: dir });
    writeFileSync(join(dir, "policies/base.yaml"), BASE.replace("ptrace", "ptrace, kexec_load"));
    const before = readFileSync(join(dir, "include/ws-seccomp.h"));
    const r = await sbc(["build", "--check"], { cwd: dir, env: { CI: "true" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("stale include/ws-seccomp.h\nstale build/ws.bpf\n");
    expect(readFileSync(join(dir, "include/ws-seccomp.h")).equals(before)).toBe(true);
    const missing = project();
    const m = await sbc(["build", "--check"], { cwd: missing });
    expect([m.code, m.stdout]).toEqual([1, "missing include/ws-seccomp.h\nmissing build/ws.bpf\n"]);
    expect(existsSync(join(missing, "include"))).toBe(false);
  });

  it("reports a bad build section at file:line:col and exits 1, with no stack trace; no config at all is exit 2", async () => {
    const dir = project({ "sbc.config.yaml": CONFIG.replace("target: seccomp }", "target: seccom }") });
    const r = await sbc(["build"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[SBC1302\]: unknown target `seccom`\n --> sbc\.config\.yaml:5:39\n/);
    expect(r.stderr).toContain("did you mean `seccomp`?");
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(existsSync(join(dir, "include"))).toBe(false);
    const none = await sbc(["build"], { cwd: tempDir() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("SBC1300");
  });

  it("shows a policy's error at its path from the working directory, and writes nothing of that policy", async () => {
    const dir = project({ "policies/base.yaml": BASE.replace("errno: EPERM", "errno: EPERMX"), "sub/keep.txt": "" });
    const r = await sbc(["build"], { cwd: join(dir, "sub") });
    expect(r.code).toBe(1);
    // The compiler's convention: beneath the working directory relative, else absolute.
    expect(r.stderr).toContain(` --> ${join(dir, "policies/base.yaml")}:6:24\n`);
    expect((await sbc(["build"], { cwd: dir })).stderr).toContain(" --> policies/base.yaml:6:24\n");
    expect(r.stdout).toBe("not built ../include/ws-seccomp.h\nnot built ../build/ws.bpf\n");
    expect(existsSync(join(dir, "build")) || existsSync(join(dir, "include"))).toBe(false);
  });

  it("--config names the config; --depfile is relative to the working directory", async () => {
    const dir = project();
    const r = await sbc(["build", "--config", join(dir, "sbc.config.yaml"), "--depfile", "deps.d"], { cwd: join(dir, "policies") });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("wrote ../include/ws-seccomp.h\nwrote ../build/ws.bpf\nwrote deps.d (depfile)\n");
    // Beneath the working directory: relative; the others absolute, which make resolves just the same.
    const deps = readFileSync(join(dir, "policies/deps.d"), "utf8");
    expect(deps.split("\n")[0]).toMatch(new RegExp(`^${join(dir, "include/ws-seccomp.h").replace(/[.]/g, "\\.")}: ws\\.yaml base\\.yaml ${join(dir, "sbc.config.yaml").replace(/[.]/g, "\\.")}$`));
  });

  it("--watch rebuilds when a file the policy extends changes, and stops on SIGINT", async () => {
    const dir = project();
    const child = spawn(process.execPath, [BIN, "build", "--watch"], { cwd: dir, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const ended = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const until = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!pred()) throw new Error(`timed out waiting for ${what}; stdout: ${stdout}; stderr: ${stderr}`);
    };
    try {
      await until(() => /watching 3 files/.test(stderr), "the first build");
      expect(stdout).toBe("wrote include/ws-seccomp.h\nwrote build/ws.bpf\n");
      const header = readFileSync(join(dir, "include/ws-seccomp.h"), "utf8");
      // Saved the way editors do: a new file renamed over the old one.
      writeFiles(dir, { "policies/.base.yaml.swp": BASE.replace("ptrace", "ptrace, kexec_load") });
      execFileSync("mv", [join(dir, "policies/.base.yaml.swp"), join(dir, "policies/base.yaml")]);
      await until(() => (stdout.match(/wrote include\/ws-seccomp\.h/g) ?? []).length === 2, "the rebuild");
      expect(readFileSync(join(dir, "include/ws-seccomp.h"), "utf8")).not.toBe(header);
      // The config is watched too: a new output is built.
      writeFileSync(join(dir, "sbc.config.yaml"), CONFIG + "      - { path: build/ws.json, target: seccomp-json }\n");
      await until(() => stdout.includes("wrote build/ws.json\n"), "the rebuild after the config changed");
      // An unrelated file is not watched: no rebuild.
      const lines = stdout;
      writeFileSync(join(dir, "README.txt"), "changed\n");
      await new Promise((r) => setTimeout(r, 600));
      expect(stdout).toBe(lines);
    } finally {
      child.kill("SIGINT");
    }
    expect(await ended).toBe(0);
    expect(stderr).toContain("stopped");
  }, 40_000);
});

const MAKEFILE = `SBC ?= sbc
prog: main.c include/ws-seccomp.h
\t$(CC) -o $@ main.c
include/ws-seccomp.h: sbc.config.yaml
\t$(SBC) build --depfile build/sbc.d
-include build/sbc.d
`;
const MAIN_C = `#include <stdio.h>
#include "include/ws-seccomp.h"
int main(void) { printf("%u\\n", (unsigned)sbc_ws_prog.len); return 0; }
`;

const haveTools = ["make", "cc"].every((t) => spawnSync(t, ["--version"], { stdio: "ignore" }).status === 0);
const required = process.env.CI === "true" || process.env.SBC_REQUIRE_KERNEL === "1";
if (!haveTools && !required) console.warn("cli-build: skipping the Make acceptance test: `make` or `cc` is missing (scripts/install-test-deps.sh installs them)");

describe.skipIf(!haveTools && !required)("a C project built with make and the depfile", () => {
  it("regenerates the header when a file the policy extends changes, and only then", () => {
    const dir = project({ Makefile: MAKEFILE, "main.c": MAIN_C });
    const sbcCmd = `${process.execPath} ${BIN}`;
    const make = (...args: string[]) => spawnSync("make", [`SBC=${sbcCmd}`, ...args], { cwd: dir, env: childEnv(), encoding: "utf8" });
    const upToDate = () => make("-q", "prog").status === 0;
    const mtime = (f: string) => statSync(join(dir, f)).mtimeMs;
    // make compares modification times: set them explicitly (in the past, so that files written later are
    // newer) instead of sleeping.
    const T = Math.floor(Date.now() / 1000) - 100;
    const setTime = (f: string, t: number) => utimesSync(join(dir, f), t, t);

    const first = make("prog");
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain("wrote include/ws-seccomp.h");
    const len = Number(execFileSync(join(dir, "prog"), { encoding: "utf8" }));
    expect(len).toBeGreaterThan(0);
    expect(readFileSync(join(dir, "build/sbc.d"), "utf8")).toMatch(/^include\/ws-seccomp\.h: policies\/ws\.yaml policies\/base\.yaml sbc\.config\.yaml\n/m);
    for (const f of ["sbc.config.yaml", "policies/ws.yaml", "policies/base.yaml", "README.txt", "main.c", "Makefile"]) setTime(f, T);
    for (const f of ["include/ws-seccomp.h", "build/ws.bpf", "build/sbc.d"]) setTime(f, T + 1);
    setTime("prog", T + 2);
    expect(upToDate()).toBe(true);

    // A file nothing depends on: make has nothing to do.
    setTime("README.txt", T + 3);
    expect(upToDate()).toBe(true);
    expect(make("-n", "prog").stdout).not.toMatch(/build --depfile|-o prog/);

    // The extended file: make regenerates; with the same content the header is left as it was, so prog is not relinked.
    setTime("policies/base.yaml", T + 4);
    expect(upToDate()).toBe(false);
    expect(make("-n", "prog").stdout).toContain("build --depfile build/sbc.d");
    const header = mtime("include/ws-seccomp.h");
    const prog = mtime("prog");
    const same = make("prog");
    expect(same.stdout).toContain("unchanged include/ws-seccomp.h");
    expect(mtime("include/ws-seccomp.h")).toBe(header);
    expect(mtime("prog")).toBe(prog);

    // A real change to the extended file: the header changes and prog is rebuilt with it.
    writeFileSync(join(dir, "policies/base.yaml"), BASE.replace("ptrace", "ptrace, kexec_load"));
    const changed = make("prog");
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.stdout).toContain("wrote include/ws-seccomp.h");
    expect(changed.stdout).toMatch(/-o prog main\.c/);
    expect(Number(execFileSync(join(dir, "prog"), { encoding: "utf8" }))).toBeGreaterThan(len);
  }, 60_000);
});

/** The fenced blocks of docs/build.md in one language, with their first line (`# policies/ws.yaml`, `/* main.c *\/`). */
function docBlocks(language: string): { first: string; text: string }[] {
  const doc = readFileSync(join(REPO, "docs", "build.md"), "utf8");
  return [...doc.matchAll(new RegExp("^```" + language + "\\n([\\s\\S]*?)^```", "gm"))].map((m) => ({ first: m[1]!.split("\n")[0]!, text: m[1]! }));
}

describe("docs/build.md", () => {
  it("its config reference example is a valid build section", () => {
    const example = docBlocks("yaml").find((b) => b.first === "# sbc.config.yaml" && b.text.includes("preset: read-only"))!;
    const dir = writeFiles(tempDir(), { "sbc.config.yaml": example.text });
    const r = readBuildSection(join(dir, "sbc.config.yaml"), "sbc.config.yaml");
    expect(r.diagnostics.map((d) => d.message)).toEqual([]);
    expect(r.config!.policies.flatMap((p) => p.outputs.map((o) => o.target))).toEqual(["seccomp", "seccomp", "seccomp-c", "landlock", "sbpl"]);
  });

  it.skipIf(!haveTools && !required)("its C program builds with its Makefile and runs under the embedded filter", () => {
    const files: Record<string, string> = {};
    for (const b of docBlocks("yaml")) {
      const name = /^# (\S+\.yaml)$/.exec(b.first)?.[1];
      if (name && !(name === "sbc.config.yaml" && b.text.includes("preset:"))) files[name] = b.text;
    }
    files["main.c"] = docBlocks("c").find((b) => b.first === "/* main.c */")!.text;
    files.Makefile = docBlocks("make").find((b) => b.text.includes("-include build/sbc.d"))!.text;
    expect(Object.keys(files).sort()).toEqual(["Makefile", "main.c", "policies/base.yaml", "policies/ws.yaml", "sbc.config.yaml"]);
    const dir = writeFiles(tempDir(), files);
    const made = spawnSync("make", [`SBC=${process.execPath} ${BIN}`], { cwd: dir, env: childEnv(), encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    expect(execFileSync(join(dir, "prog"), { encoding: "utf8" })).toBe("ptrace: Operation not permitted\n");
  }, 60_000);
});
