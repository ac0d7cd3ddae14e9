// The library's compile() against the CLI: for every target, the bytes `sbc compile` writes (stdout, or -o for
// binary targets) equal compile()'s output, on a preset and on a policy that extends a file and a preset and
// takes a parameter. Also what compile() reports (files read, diagnostics, ok) and the usage errors it throws.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, TARGET_NAMES, UsageError, type CompileInput, type CompileTargetOptions } from "../lib/index.js";
import { BIN, childEnv, ensureBuilt, REPO } from "./support/cli.js";

let dir = "";
let policy = "";
let base = "";

const BASE = `sbc: 1
name: api-base
extends: workspace-write
filesystem:
  - deny: read
    path: \${home}/.ssh
network: on
syscalls:
  rules:
    - syscalls: [socket]
      action: { errno: EAFNOSUPPORT }
      args: ["arg0 != AF_INET", "arg0 != AF_INET6", "arg0 != AF_UNIX"]
    - syscalls: [ptrace]
      action: { errno: EPERM }
`;

const POLICY = `sbc: 1
name: api-fixture
extends: [./base.yaml]
params:
  output:
    description: where results go
filesystem:
  - allow: read-write
    path: \${output}
  - deny: write
    path: \${output}/locked
network:
  rules:
    - allow: connect
      ports: 443
`;

beforeAll(() => {
  ensureBuilt();
  dir = realpathSync(mkdtempSync(join(tmpdir(), "sbc-api-")));
  base = join(dir, "base.yaml");
  policy = join(dir, "policy.yaml");
  writeFileSync(base, BASE);
  writeFileSync(policy, POLICY);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `sbc compile ARGS -o FILE`, the file's bytes; and the same on stdout for text targets (they must agree). */
function cli(args: readonly string[]): { status: number | null; bytes: Buffer; stderr: string } {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = spawnSync(process.execPath, [BIN, "compile", ...args, "-o", out], { cwd: process.cwd(), env: childEnv(), encoding: "buffer", timeout: 30_000 });
  let bytes = Buffer.alloc(0);
  try {
    bytes = readFileSync(out);
  } catch {
    // nothing written (an error): compared as empty
  }
  rmSync(out, { force: true });
  return { status: r.status, bytes, stderr: r.stderr.toString("utf8") };
}

function cliStdout(args: readonly string[]): Buffer {
  const r = spawnSync(process.execPath, [BIN, "compile", ...args], { cwd: process.cwd(), env: childEnv(), encoding: "buffer", timeout: 30_000, maxBuffer: 64 << 20 });
  expect(r.status, r.stderr.toString("utf8")).toBe(0);
  return r.stdout;
}

const BOUND = { workspace: "/work/ws", tmpdir: "/tmp/t", home: "/home/u", output: "/srv/out" };

const bytesOf = (output: string | Uint8Array | undefined): Buffer => (typeof output === "string" ? Buffer.from(output, "utf8") : Buffer.from(output ?? new Uint8Array()));

/** The CLI flags of a compile() call, for the cases below. */
function flags(input: CompileInput, o: CompileTargetOptions): string[] {
  const args = input.kind === "file" ? [input.path] : input.kind === "preset" ? ["--preset", input.name] : [];
  args.push("-t", o.target!);
  for (const [k, v] of Object.entries(o.params ?? {})) args.push("--param", `${k}=${v}`);
  if (o.arch) args.push("--arch", typeof o.arch === "string" ? o.arch : o.arch.join(","));
  if (o.abi !== undefined) args.push("--abi", String(o.abi));
  if (o.compat) args.push("--compat", o.compat);
  return args;
}

/** Per target, a second case with the options that target takes: several arches, an older ABI. */
function optionsFor(target: string): Partial<CompileTargetOptions> {
  if (target.startsWith("seccomp") || target === "oci-seccomp") return { arch: ["x86_64", "aarch64"] };
  if (target.startsWith("landlock")) return { abi: 3, compat: "best-effort" };
  if (target === "linux") return { abi: 4, compat: "best-effort", arch: "aarch64" };
  return {};
}

describe("compile() gives the CLI's bytes", () => {
  it("covers every target the CLI knows", () => {
    const r = spawnSync(process.execPath, [BIN, "compile", "--preset", "read-only", "-t", "no-such-target"], { env: childEnv(), encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`targets: ${TARGET_NAMES.join(", ")}`);
    expect(TARGET_NAMES.length).toBeGreaterThanOrEqual(11);
  });

  for (const target of TARGET_NAMES) {
    it(`target ${target}: a preset, and a policy with extends and params`, async () => {
      // sbpl writes paths into the profile, so it needs every parameter bound; the others keep them symbolic.
      const builtins: Record<string, string> = target === "sbpl" ? { workspace: "/work/ws", tmpdir: "/tmp/t", home: "/home/u" } : {};
      const cases: [CompileInput, CompileTargetOptions][] = [
        [{ kind: "preset", name: "workspace-write" }, { target, params: builtins }],
        [{ kind: "file", path: policy }, { target, params: { ...builtins, output: "/srv/out" } }],
        [{ kind: "file", path: policy }, { target, params: { ...builtins, output: "/srv/out" }, ...optionsFor(target) }],
      ];
      for (const [i, [input, options]] of cases.entries()) {
        const r = await compile(input, options);
        expect(r.ok, JSON.stringify(r.diagnostics.map((d) => d.message))).toBe(true);
        expect(r.output).toBeDefined();
        // Binary targets give bytes, text targets strings.
        expect(typeof r.output === "string").toBe(target !== "seccomp");
        const c = cli(flags(input, options));
        expect(c.status, c.stderr).toBe(0);
        expect(c.bytes.length).toBeGreaterThan(0);
        expect(bytesOf(r.output).equals(c.bytes), `${target} ${flags(input, options).join(" ")}`).toBe(true);
        if (i === 0 && target !== "seccomp") expect(bytesOf(r.output).equals(cliStdout(flags(input, options)))).toBe(true);
      }
    }, 60_000);
  }
});

describe("compile() results", () => {
  it("lists every file read: the policy, the file it extends and the presets, absolute", async () => {
    const r = await compile({ kind: "file", path: policy }, { target: "ir", params: { output: "/srv/out" } });
    const presets = ["workspace-write", "read-only", "safe-commands"].map((p) => join(REPO, "presets", `${p}.yaml`));
    expect([...r.files].sort()).toEqual([policy, base, ...presets].sort());
    expect(new Set(r.files).size).toBe(r.files.length);
    const p = await compile({ kind: "preset", name: "read-only" }, { target: "ir" });
    expect(p.files).toContain(join(REPO, "presets", "read-only.yaml"));
    expect(p.files).not.toContain(policy);
  });

  it("text input: the files it extends, resolved from its name's folder, and the same artifact as the file", async () => {
    const name = join(dir, "inline.yaml");
    const r = await compile({ kind: "text", text: POLICY, syntax: "yaml", path: name }, { target: "sbpl", params: BOUND });
    expect(r.ok).toBe(true);
    expect(r.files).toContain(base);
    expect(r.files).not.toContain(name);
    const f = await compile({ kind: "file", path: policy }, { target: "sbpl", params: BOUND });
    expect(r.output).toBe(f.output);
  });

  it("the files an erroneous policy read are listed too (a depfile must rebuild when they are fixed)", async () => {
    const broken = join(dir, "broken-base.yaml");
    const entry = join(dir, "uses-broken.yaml");
    writeFileSync(broken, "sbc: 1\nname: broken\nfilesystem:\n  - allow: read-wrte\n    path: /x\n");
    writeFileSync(entry, "sbc: 1\nname: uses-broken\nextends: ./broken-base.yaml\n");
    const r = await compile({ kind: "file", path: entry }, { target: "seccomp" });
    expect(r.ok).toBe(false);
    expect(r.files).toEqual(expect.arrayContaining([entry, broken]));
  });

  it("a bad policy: ok false, no output, the error diagnostics with code and place", async () => {
    const r = await compile({ kind: "text", text: "sbc: 1\nname: bad\nfilesystem:\n  - allow: read-wrte\n    path: /x\n", syntax: "yaml", path: "bad.yaml" }, { target: "landlock" });
    expect(r.ok).toBe(false);
    expect(r.output).toBeUndefined();
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.code).toMatch(/^SBC\d{4}$/);
    expect(errors[0]!.span?.source.path).toBe("bad.yaml");
    expect(errors[0]!.message).toContain("read-wrte");
  });

  it("a parameter without a value for a target that needs one: ok false, as the CLI exits 1", async () => {
    const r = await compile({ kind: "file", path: policy }, { target: "sbpl", params: { workspace: "/w", tmpdir: "/t", home: "/h" } });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.some((d) => d.severity === "error" && d.message.includes("output"))).toBe(true);
    expect(cli(flags({ kind: "file", path: policy }, { target: "sbpl", params: { workspace: "/w", tmpdir: "/t", home: "/h" } })).status).toBe(1);
  });

  it("a missing file is a diagnostic (SBC0101), not a throw", async () => {
    const r = await compile({ kind: "file", path: join(dir, "nope.yaml") }, { target: "ir" });
    expect(r.ok).toBe(false);
    expect(r.files).toEqual([]);
    expect(r.diagnostics.map((d) => d.code)).toContain("SBC0101");
  });

  it("DSL text parses as the DSL", async () => {
    const r = await compile({ kind: "text", text: "sbc 1\npolicy dsl-text {\n}\n", syntax: "sbc" }, { target: "ir" });
    // Whether or not this tiny policy is complete, it must be read by the DSL parser: no YAML diagnostics.
    expect(r.diagnostics.every((d) => !/yaml/i.test(d.message)), JSON.stringify(r.diagnostics.map((d) => d.message))).toBe(true);
  });
});

describe("compile() usage errors", () => {
  const preset: CompileInput = { kind: "preset", name: "read-only" };
  const cases: [string, CompileInput, CompileTargetOptions, RegExp][] = [
    ["an unknown target, with a guess", preset, { target: "secomp" }, /unknown target `secomp`/],
    ["an unknown arch", preset, { target: "seccomp", arch: "vax" as never }, /unknown arch `vax`/],
    ["an empty arch list", preset, { target: "seccomp", arch: [] }, /at least one arch/],
    ["an ABI past the newest", preset, { target: "landlock", abi: 99 }, /Landlock ABI must be from 1 to/],
    ["ABI 0", preset, { target: "landlock", abi: 0 }, /Landlock ABI/],
    ["a fractional ABI", preset, { target: "landlock", abi: 2.5 }, /Landlock ABI/],
    ["an unknown compat level", preset, { target: "landlock", compat: "lenient" as never }, /unknown compatibility level `lenient`/],
    ["a bad kernel version", preset, { target: "seccomp", kernel: "9.9.9" }, /kernel/],
    ["text named for the other syntax", { kind: "text", text: "sbc: 1\nname: x\n", syntax: "yaml", path: "x.sbc" }, { target: "ir" }, /not a name for `yaml` syntax/],
    ["an unknown syntax", { kind: "text", text: "", syntax: "toml" as never }, { target: "ir" }, /unknown syntax `toml`/],
    ["a parameter value that is not a string", preset, { target: "ir", params: { workspace: 42 as never } }, /parameter `workspace` must be a string \(a path\), found number/],
    ["an unknown input kind", { kind: "url", path: "x" } as never, { target: "ir" }, /unknown input kind `url`/],
  ];
  for (const [what, input, options, message] of cases) {
    it(what, async () => {
      const e = await compile(input, options).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toMatch(message);
    });
  }
  it("the guess for a misspelt target", async () => {
    const e = (await compile({ kind: "preset", name: "read-only" }, { target: "secomp" }).catch((x: unknown) => x)) as UsageError;
    expect(e.help).toBe("did you mean `seccomp`?");
    expect(e.name).toBe("UsageError");
  });
});
