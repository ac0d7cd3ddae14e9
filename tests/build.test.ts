// `sbc build` as a library (lib/build/): the config's `build` section with its errors at file:line:col, writing
// only what changed, `check`, depfiles, and outputs that are the same bytes wherever the project lives.

import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBuildConfig, runBuild, depfileText, escapeDepPath, type BuildConfig } from "../lib/build/index.js";
import { compile, TARGET_NAMES } from "../lib/compile.js";
import { formatLocation } from "../diagnostics/source.js";
import { tempDir, writeFiles } from "./support/tmp.js";

const BASE = "sbc: 1\nname: base\nextends: workspace-write\nfilesystem:\n  - allow: read-write\n    path: /opt/tools\n";
const WS = "sbc: 1\nname: ws\nextends: ./base.yaml\n";
const CONFIG = `build:
  - policy: policies/ws.yaml
    params: { workspace: /src, tmpdir: /tmp }
    outputs:
      - { path: build/ws.bpf, target: seccomp, arch: x86_64 }
      - { path: include/ws-seccomp.h, target: seccomp-c }
      - { path: dist/ws.sb, target: sbpl, depfile: build/ws.sb.d }
      - { path: build/ws-landlock.json, target: landlock }
`;

function project(config = CONFIG, extra: Record<string, string> = {}): string {
  return writeFiles(tempDir("sbc-build-"), { "sbc.config.yaml": config, "policies/base.yaml": BASE, "policies/ws.yaml": WS, "unrelated.txt": "x\n", ...extra });
}

function load(dir: string): BuildConfig {
  const r = loadBuildConfig(dir);
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  return r.config!;
}

/** Errors of the config in `dir` as `code file:line:col message`. */
function configErrors(dir: string): string[] {
  return loadBuildConfig(dir).diagnostics.map((d) => `${d.code} ${d.span ? formatLocation(d.span) : "-"} ${d.message}`);
}

function recorder() {
  const written: string[] = [];
  const write = (p: string, data: string | Uint8Array) => {
    written.push(p);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  };
  return { written, write };
}

describe("the build section", () => {
  it("resolves paths against the config's directory, not the working directory", () => {
    const dir = project();
    const c = load(join(dir, "policies")); // found upward
    expect(c.file).toBe(join(dir, "sbc.config.yaml"));
    expect(c.policies[0]!.input).toEqual({ kind: "file", path: join(dir, "policies/ws.yaml") });
    expect(c.policies[0]!.outputs.map((o) => o.path)).toEqual(["build/ws.bpf", "include/ws-seccomp.h", "dist/ws.sb", "build/ws-landlock.json"].map((p) => join(dir, p)));
    expect(c.policies[0]!.outputs[2]!.depfile).toBe(join(dir, "build/ws.sb.d"));
  });

  it("binds relative parameter values from the config's directory", () => {
    const dir = project("build:\n  - preset: workspace-write\n    params: { workspace: src }\n    outputs: [{ path: out.json, target: ir }]\n");
    expect(load(dir).policies[0]!.params).toEqual({ workspace: join(dir, "src") });
  });

  it("reports each mistake with its code at file:line:col", () => {
    const dir = project(`build:
  - policy: policies/ws.yaml
    output: []
  - preset: read-only
    outputs:
      - { path: a.bpf, target: secomp }
      - { path: b.sb, target: sbpl, arch: x86_64 }
      - { path: c.json, target: landlock, abi: 99 }
      - { path: a.bpf, target: seccomp-c }
      - { path: sbc.config.yaml, target: ir }
      - { path: d.bpf, target: seccomp, arch: [x86_64, mips] }
`);
    expect(configErrors(dir)).toEqual([
      "SBC1301 sbc.config.yaml:3:5 unknown key `output` in a build entry",
      "SBC1301 sbc.config.yaml:2:5 a build entry needs `outputs`: a non-empty list of `{ path, target }`",
      "SBC1302 sbc.config.yaml:6:32 unknown target `secomp`",
      "SBC1303 sbc.config.yaml:7:37 `arch` does not go with target `sbpl`",
      "SBC1301 sbc.config.yaml:8:48 `abi` must be a Landlock ABI from 1 to 10",
      "SBC1301 sbc.config.yaml:11:56 unknown arch `mips`",
      "SBC1304 sbc.config.yaml:9:17 `a.bpf` is also written as the path of output `a.bpf`",
      "SBC1305 sbc.config.yaml:10:17 `sbc.config.yaml` is the config file itself",
    ]);
  });

  it("reads the section from the `sbc` key of package.json, with positions", () => {
    const dir = writeFiles(tempDir(), { "package.json": JSON.stringify({ name: "x", sbc: { build: [{ preset: "read-only", outputs: [{ path: "o.bpf", target: "seccomp", abi: 3 }] }] } }, null, 2) });
    expect(configErrors(dir)).toEqual(["SBC1303 package.json:11:13 `abi` does not go with target `seccomp`"]);
  });

  it("takes a kernel version only as a string, since YAML reads 5.10 as 5.1", () => {
    const dir = project("build:\n  - preset: read-only\n    kernel: 5.10\n    outputs: [{ path: o.bpf, target: seccomp }]\n");
    expect(configErrors(dir)).toEqual(["SBC1301 sbc.config.yaml:3:13 `kernel` must be a version string `X.Y`"]);
    const ok = project('build:\n  - preset: read-only\n    kernel: "5.10"\n    outputs: [{ path: o.bpf, target: seccomp }]\n');
    expect(load(ok).policies[0]!.kernel).toBe("5.10");
  });

  it("says when there is no build section, or no config at all", () => {
    const dir = writeFiles(tempDir(), { "sbc.config.json": '{ "rules": {} }' });
    expect(loadBuildConfig(dir).diagnostics.map((d) => d.code)).toEqual(["SBC1300"]);
    const bad = project("build:\n  policy: x.yaml\n");
    expect(configErrors(bad)).toEqual(["SBC1301 sbc.config.yaml:2:3 `build` must be a non-empty list of policies, each with its `outputs`"]);
  });
});

describe("runBuild", () => {
  it("writes every output with the bytes of compile(), then nothing until an input changes", async () => {
    const dir = project();
    const config = load(dir);
    const first = recorder();
    const r1 = await runBuild(config, { base: dir, write: first.write });
    expect(r1.ok).toBe(true);
    expect(r1.files.map((f) => `${f.action} ${f.shown}`)).toEqual(["wrote build/ws.bpf", "wrote include/ws-seccomp.h", "wrote dist/ws.sb", "wrote build/ws.sb.d", "wrote build/ws-landlock.json"]);
    const direct = await compile({ kind: "file", path: join(dir, "policies/ws.yaml") }, { target: "seccomp-c", params: { workspace: "/src", tmpdir: "/tmp" } });
    expect(readFileSync(join(dir, "include/ws-seccomp.h"), "utf8")).toBe(direct.output);

    const second = recorder();
    const r2 = await runBuild(config, { base: dir, write: second.write });
    expect(second.written).toEqual([]);
    expect(r2.files.every((f) => f.action === "unchanged")).toBe(true);

    // A change that reaches only the filesystem rules: the seccomp outputs keep their bytes and are not written.
    writeFileSync(join(dir, "policies/base.yaml"), BASE.replace("/opt/tools", "/opt/other"));
    const third = recorder();
    await runBuild(load(dir), { base: dir, write: third.write });
    expect(third.written.sort()).toEqual([join(dir, "build/ws-landlock.json"), join(dir, "dist/ws.sb")]);
  });

  it("binds the config's top-level params (shared with sbc check) where the entry's own do not", async () => {
    const dir = project("params: { workspace: /srv/a, tmpdir: /tmp }\nbuild:\n  - preset: workspace-write\n    params: { workspace: /srv/b }\n    outputs: [{ path: ws.sb, target: sbpl }]\n");
    const r = await runBuild(load(dir), { base: dir, write: recorder().write });
    expect(r.diagnostics.map((d) => d.message)).toEqual([]);
    const profile = readFileSync(join(dir, "ws.sb"), "utf8");
    expect(profile).toContain('"/srv/b"');
    expect(profile).not.toContain("/srv/a");
  });

  it("check writes nothing and names stale and missing outputs", async () => {
    const dir = project();
    const config = load(dir);
    const none = recorder();
    const r0 = await runBuild(config, { base: dir, check: true, write: none.write });
    expect(r0.ok).toBe(false);
    expect(r0.files.map((f) => `${f.action} ${f.shown}`)).toEqual(["missing build/ws.bpf", "missing include/ws-seccomp.h", "missing dist/ws.sb", "missing build/ws-landlock.json"]);
    await runBuild(config, { base: dir, write: recorder().write });
    const fresh = await runBuild(config, { base: dir, check: true, write: none.write });
    expect(fresh.ok).toBe(true);
    writeFileSync(join(dir, "dist/ws.sb"), "(version 1)\n");
    const stale = await runBuild(config, { base: dir, check: true, write: none.write });
    expect(stale.ok).toBe(false);
    expect(stale.files.filter((f) => f.action !== "unchanged").map((f) => `${f.action} ${f.shown}`)).toEqual(["stale dist/ws.sb"]);
    expect(none.written).toEqual([]);
  });

  it("writes nothing of a policy with an error, and still builds the others", async () => {
    const dir = project(`${CONFIG}  - policy: policies/broken.yaml
    outputs: [{ path: build/broken.json, target: ir }]
`, { "policies/broken.yaml": "sbc: 1\nname: broken\nfilesystem:\n  - allow: sideways\n    path: /x\n" });
    const rec = recorder();
    const r = await runBuild(load(dir), { base: dir, write: rec.write, depfile: join(dir, "build/all.d") });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.some((d) => d.severity === "error" && d.span?.source.path.endsWith("broken.yaml"))).toBe(true);
    expect(r.files.find((f) => f.shown === "build/broken.json")!.action).toBe("not-built");
    expect(rec.written).toContain(join(dir, "build/ws.bpf"));
    expect(rec.written).not.toContain(join(dir, "build/broken.json"));
    // The run-wide depfile would be missing the broken policy's inputs: left alone.
    expect(rec.written).not.toContain(join(dir, "build/all.d"));
  });

  it("refuses an output that overwrites a file the build reads", async () => {
    const dir = project("build:\n  - policy: policies/ws.yaml\n    params: { workspace: /src }\n    outputs: [{ path: policies/base.yaml, target: ir }]\n");
    const rec = recorder();
    const r = await runBuild(load(dir), { base: dir, write: rec.write });
    expect(r.diagnostics.map((d) => d.code)).toContain("SBC1305");
    expect(rec.written).toEqual([]);
    expect(readFileSync(join(dir, "policies/base.yaml"), "utf8")).toBe(BASE);
  });

  it("refuses a run-wide depfile that would overwrite an input or an output", async () => {
    const dir = project();
    for (const [depfile, code] of [["sbc.config.yaml", "SBC1305"], ["policies/base.yaml", "SBC1305"], ["dist/ws.sb", "SBC1304"], ["build/ws.sb.d", "SBC1304"]] as const) {
      const rec = recorder();
      const r = await runBuild(load(dir), { base: dir, write: rec.write, depfile: join(dir, depfile) });
      expect([r.ok, r.diagnostics.map((d) => d.code)], depfile).toEqual([false, [code]]);
      expect(rec.written).not.toContain(join(dir, depfile));
    }
    expect(readFileSync(join(dir, "sbc.config.yaml"), "utf8")).toBe(CONFIG);
    expect(readFileSync(join(dir, "dist/ws.sb"), "utf8")).toMatch(/^\(version 1\)/m);
  });

  it("gives the same bytes, for every target, wherever the project lives and whatever the time", async () => {
    const every = `build:\n  - policy: policies/ws.yaml\n    params: { workspace: /src, tmpdir: /tmp }\n    outputs:\n${TARGET_NAMES.map((t) => `      - { path: out/${t}, target: ${t} }\n`).join("")}`;
    const a = project(every);
    const b = project(every);
    utimesSync(join(b, "policies/base.yaml"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const ra = await runBuild(load(a), { base: a, write: recorder().write });
    expect(ra.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    await runBuild(load(b), { base: b, write: recorder().write });
    expect(TARGET_NAMES.length).toBeGreaterThanOrEqual(11);
    for (const t of TARGET_NAMES) {
      const bytes = readFileSync(join(a, "out", t));
      expect(bytes.equals(readFileSync(join(b, "out", t))), t).toBe(true);
      // Neither the project's directory nor the temp root appear in an artifact.
      expect(bytes.includes(a), t).toBe(false);
      expect(bytes.includes("sbc-build-"), t).toBe(false);
    }
  });
});

describe("depfiles", () => {
  it("lists the policy, every file it extends and the config, relative to the base directory", async () => {
    const dir = project();
    await runBuild(load(dir), { base: dir, write: recorder().write, depfile: join(dir, "build/sbc.d") });
    const lines = readFileSync(join(dir, "build/sbc.d"), "utf8").trimEnd().split("\n");
    expect(lines.map((l) => l.slice(0, l.indexOf(":")))).toEqual(["build/ws.bpf", "include/ws-seccomp.h", "dist/ws.sb", "build/ws-landlock.json"]);
    const deps = lines[0]!.slice(lines[0]!.indexOf(": ") + 2).split(" ");
    expect(deps.slice(0, 2)).toEqual(["policies/ws.yaml", "policies/base.yaml"]);
    expect(deps.at(-1)).toBe("sbc.config.yaml");
    expect(deps.some((d) => d.endsWith("presets/workspace-write.yaml"))).toBe(true);
    expect(deps).not.toContain("unrelated.txt");
    expect(readFileSync(join(dir, "build/ws.sb.d"), "utf8")).toBe(lines[2] + "\n");
  });

  it("is written only when its content changes", async () => {
    const dir = project();
    const config = load(dir);
    await runBuild(config, { base: dir, write: recorder().write, depfile: join(dir, "build/sbc.d") });
    const before = statSync(join(dir, "build/sbc.d")).mtimeMs;
    const rec = recorder();
    const r = await runBuild(config, { base: dir, write: rec.write, depfile: join(dir, "build/sbc.d") });
    expect(rec.written).toEqual([]);
    expect(r.files.find((f) => f.kind === "depfile" && f.shown === "build/sbc.d")!.action).toBe("unchanged");
    expect(statSync(join(dir, "build/sbc.d")).mtimeMs).toBe(before);
  });

  it("escapes what make and ninja would misread", () => {
    expect(escapeDepPath("my dir/a#1$x.yaml")).toBe("my\\ dir/a\\#1$$x.yaml");
    expect(escapeDepPath("back\\ slash")).toBe("back\\\\\\ slash");
    expect(escapeDepPath("a\nb")).toBeUndefined();
    expect(depfileText([{ target: "/p/x.h", deps: ["/p/bad\nname.yaml"] }], "/p")).toEqual({ unwritable: "bad\nname.yaml" });
    expect(depfileText([{ target: "/p/out dir/x.h", deps: ["/p/a.yaml", "/elsewhere/b.yaml", "/p/a.yaml"] }], "/p")).toBe("out\\ dir/x.h: a.yaml /elsewhere/b.yaml\n");
  });
});
