// The `sbc` command line as a user meets it: a child process running bin/sbc.js (the build in dist/), checked
// for exit codes, which stream carries what, determinism, atomic output files, machine-readable diagnostics,
// colour rules, and robustness against garbage input.

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ANSI, ensureBuilt, REPO, sbc, STACK_TRACE, type RunResult } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

const CLEAN = `sbc: 1
name: clean
filesystem:
  - allow: read
    path: /usr
`;
/** One error on line 4, column 11 (a relative path). */
const BROKEN = `sbc: 1
filesystem:
  - allow: read
    path: relative/path
`;
/** A different error, in another section. */
const BROKEN_PORT = `sbc: 1
network:
  rules:
    - allow: connect
      ports: [70000]
`;
/** Only a warning (a path spelled with `//`). */
const WARNS = `sbc: 1
filesystem:
  - allow: read
    path: /usr//lib
`;

let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = writeFiles(tempDir("sbc-cli-"), {
    "clean.yaml": CLEAN,
    "broken.yaml": BROKEN,
    "broken-port.yaml": BROKEN_PORT,
    "warns.yaml": WARNS,
  });
}, 180_000);

/** No stack trace anywhere in the output. */
function noStack(r: RunResult): void {
  expect(r.stdout + "\n" + r.stderr).not.toMatch(STACK_TRACE);
}

describe("basics", () => {
  it("--version prints package.json's version and exits 0", async () => {
    const r = await sbc(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(PACKAGE_VERSION);
    expect(r.stderr).toBe("");
    expect((await sbc(["-V"])).stdout.trim()).toBe(PACKAGE_VERSION);
  });

  it("--help exits 0 and lists the commands", async () => {
    const r = await sbc(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: sbc/);
    expect(r.stdout).toContain("compile");
    expect(r.stdout).toContain("check");
    expect((await sbc(["compile", "--help"])).code).toBe(0);
  });

  it("no arguments prints the help and exits 2", async () => {
    const r = await sbc([]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/Usage: sbc/);
  });

  it("an unknown command or option exits 2", async () => {
    const cmd = await sbc(["frobnicate"]);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toMatch(/unknown command/i);
    const opt = await sbc(["compile", "--preset", "read-only", "-t", "ir", "--frobnicate"]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/unknown option/i);
    expect(opt.stdout).toBe("");
    expect((await sbc(["--frobnicate"])).code).toBe(2);
  });
});

describe("compile", () => {
  it("a preset to IR: exit 0, valid JSON with irVersion 3 on stdout, nothing on stderr", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "ir"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const ir = JSON.parse(r.stdout) as { irVersion: number; name: string; filesystem: unknown[] };
    expect(ir.irVersion).toBe(3);
    expect(ir.name).toBe("workspace-write");
    expect(ir.filesystem.length).toBeGreaterThan(0);
    expect(r.stdout.endsWith("\n")).toBe(true);
  });

  it("is deterministic: the same command twice gives identical bytes", async () => {
    const [a, b] = await Promise.all([sbc(["compile", "--preset", "workspace-write", "-t", "ir"]), sbc(["compile", "--preset", "workspace-write", "-t", "ir"])]);
    expect(a.code).toBe(0);
    expect(Buffer.from(b.stdout).equals(Buffer.from(a.stdout))).toBe(true);
    const [c, d] = await Promise.all([sbc(["compile", "clean.yaml", "-t", "ir"], { cwd: dir }), sbc(["compile", join(dir, "clean.yaml"), "-t", "ir"])]);
    expect(c.code).toBe(0);
    expect(d.stdout).toBe(c.stdout);
  });

  it("an unknown target exits 2 with a did-you-mean", async () => {
    const r = await sbc(["compile", "--preset", "read-only", "-t", "irr"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/did you mean `ir`/);
  });

  it("a missing policy file exits 2 with a message and no stack trace", async () => {
    const r = await sbc(["compile", "no-such-policy.yaml", "-t", "ir"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no-such-policy.yaml");
    noStack(r);
  });

  it("`--param` without `=` exits 2", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "ir", "--param", "bad"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("bad");
    noStack(r);
  });

  it("`--param` binds a built-in into the IR", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "ir", "--param", "workspace=/home/me/project"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("/home/me/project/.git");
  });

  it("a policy with errors exits 1, prints file:line:col diagnostics on stderr and nothing on stdout", async () => {
    const r = await sbc(["compile", "broken.yaml", "-t", "ir"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/broken\.yaml:4:11/);
    expect(r.stderr).toContain("SBC0301");
    noStack(r);
  });

  it("--format json on errors gives parseable JSON with code and location", async () => {
    const r = await sbc(["compile", "broken.yaml", "-t", "ir", "--format", "json"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const parsed = JSON.parse(r.stderr) as { diagnostics: { code: string; severity: string; location?: { file: string; line: number; column: number } }[] };
    expect(parsed.diagnostics).toHaveLength(1);
    const d = parsed.diagnostics[0]!;
    expect(d.code).toBe("SBC0301");
    expect(d.severity).toBe("error");
    expect(d.location).toMatchObject({ file: "broken.yaml", line: 4, column: 11 });
  });
});

describe("compile -o", () => {
  it("writes the artifact to the file, byte-identical to stdout, and leaves no temp files", async () => {
    const out = tempDir("sbc-out-");
    const toFile = await sbc(["compile", "--preset", "read-only", "-t", "ir", "-o", join(out, "out.json")]);
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).toBe("");
    const toStdout = await sbc(["compile", "--preset", "read-only", "-t", "ir"]);
    expect(readFileSync(join(out, "out.json"), "utf8")).toBe(toStdout.stdout);
    expect(readdirSync(out)).toEqual(["out.json"]);
  });

  it("replaces an existing file on success", async () => {
    const out = writeFiles(tempDir("sbc-out-"), { "out.json": "OLD\n" });
    const r = await sbc(["compile", join(dir, "clean.yaml"), "-t", "ir", "-o", join(out, "out.json")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "out.json"), "utf8"))).toMatchObject({ irVersion: 3, name: "clean" });
    expect(readdirSync(out)).toEqual(["out.json"]);
  });

  it("on an erroneous policy leaves an existing output untouched and creates nothing in its directory", async () => {
    const out = writeFiles(tempDir("sbc-out-"), { "out.json": "OLD\n" });
    const r = await sbc(["compile", join(dir, "broken.yaml"), "-t", "ir", "-o", join(out, "out.json")]);
    expect(r.code).toBe(1);
    expect(readFileSync(join(out, "out.json"), "utf8")).toBe("OLD\n");
    expect(readdirSync(out)).toEqual(["out.json"]);
  });

  it("an output path that is a directory exits 2 and leaves no temp files", async () => {
    const out = tempDir("sbc-out-");
    mkdirSync(join(out, "sub"));
    const r = await sbc(["compile", "--preset", "read-only", "-t", "ir", "-o", join(out, "sub")]);
    expect(r.code).toBe(2);
    noStack(r);
    expect(readdirSync(out)).toEqual(["sub"]);
    expect(readdirSync(join(out, "sub"))).toEqual([]);
  });

  it("an output directory that does not exist exits 2 without a stack trace", async () => {
    const out = tempDir("sbc-out-");
    const r = await sbc(["compile", "--preset", "read-only", "-t", "ir", "-o", join(out, "missing", "out.json")]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    noStack(r);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("check", () => {
  it("reports the problems of every file in one run and exits 1", async () => {
    const r = await sbc(["check", "broken.yaml", "broken-port.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    const all = r.stdout + r.stderr;
    expect(all).toMatch(/broken\.yaml:4:11/);
    expect(all).toMatch(/broken-port\.yaml:5:\d+/);
    expect(all).toContain("SBC0301");
    expect(all.match(/error\[SBC\d{4}\]/g)?.length).toBe(2);
  });

  it("clean files exit 0", async () => {
    const r = await sbc(["check", "clean.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/error/);
    expect((await sbc(["check", "--preset", "workspace-write", "--preset", "read-only"])).code).toBe(0);
  });

  it("runs the policy's own tests: a failing expectation is an error", async () => {
    const failing = writeFiles(tempDir(), {
      "p.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /usr\ntests:\n  - write: /usr/x\n    expect: allow\n",
    });
    const r = await sbc(["check", "p.yaml"], { cwd: failing });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("SBC1001");
  });

  it("warnings alone exit 0; with --max-warnings 0 they exit 1", async () => {
    const plain = await sbc(["check", "warns.yaml"], { cwd: dir });
    expect(plain.code).toBe(0);
    expect(plain.stdout + plain.stderr).toContain("SBC0306");
    const strict = await sbc(["check", "warns.yaml", "--max-warnings", "0"], { cwd: dir });
    expect(strict.code).toBe(1);
    const lenient = await sbc(["check", "warns.yaml", "--max-warnings", "1"], { cwd: dir });
    expect(lenient.code).toBe(0);
  });

  it("--quiet hides warnings but not errors", async () => {
    const q = await sbc(["check", "warns.yaml", "--quiet"], { cwd: dir });
    expect(q.code).toBe(0);
    expect(q.stdout + q.stderr).not.toContain("SBC0306");
    expect(q.stdout + q.stderr).not.toMatch(/warning/);
    const e = await sbc(["check", "warns.yaml", "broken.yaml", "--quiet"], { cwd: dir });
    expect(e.code).toBe(1);
    expect(e.stdout + e.stderr).toContain("SBC0301");
    expect(e.stdout + e.stderr).not.toContain("SBC0306");
    const c = await sbc(["compile", "warns.yaml", "-t", "ir", "--quiet"], { cwd: dir });
    expect(c.code).toBe(0);
    expect(c.stderr).toBe("");
  });

  it("--format json lists every file's diagnostics", async () => {
    const r = await sbc(["check", "broken.yaml", "broken-port.yaml", "--format", "json"], { cwd: dir });
    expect(r.code).toBe(1);
    const parsed = JSON.parse(r.stdout) as { diagnostics: { code: string; location: { file: string; line: number; column: number } }[] };
    expect(parsed.diagnostics.map((d) => d.location.file).sort()).toEqual(["broken-port.yaml", "broken.yaml"]);
    for (const d of parsed.diagnostics) {
      expect(typeof d.location.line).toBe("number");
      expect(typeof d.location.column).toBe("number");
    }
  });
});

describe("colour", () => {
  it("output to a pipe has no ANSI escapes", async () => {
    for (const args of [["check", "broken.yaml", "warns.yaml"], ["compile", "broken.yaml", "-t", "ir"], ["--help"]]) {
      const r = await sbc(args, { cwd: dir });
      expect(r.stdout + r.stderr, args.join(" ")).not.toMatch(ANSI);
    }
  });

  it("NO_COLOR wins even over FORCE_COLOR", async () => {
    // Control: FORCE_COLOR alone does colour a pipe, so the absence below means something.
    const forced = await sbc(["check", "broken.yaml"], { cwd: dir, env: { FORCE_COLOR: "1" } });
    expect(forced.stdout + forced.stderr).toMatch(ANSI);
    for (const args of [["check", "broken.yaml", "warns.yaml"], ["compile", "broken.yaml", "-t", "ir"]]) {
      const r = await sbc(args, { cwd: dir, env: { FORCE_COLOR: "1", NO_COLOR: "1" } });
      expect(r.stdout + r.stderr, args.join(" ")).not.toMatch(ANSI);
    }
  });

  it("--no-color wins over FORCE_COLOR", async () => {
    const r = await sbc(["check", "broken.yaml", "--no-color"], { cwd: dir, env: { FORCE_COLOR: "1" } });
    expect(r.stdout + r.stderr).not.toMatch(ANSI);
  });
});

describe("garbage input never produces a stack trace", () => {
  let garbage: string;
  beforeAll(() => {
    garbage = tempDir("sbc-garbage-");
    const nested = "sbc: 1\nname:\n" + Array.from({ length: 10_000 }, (_, i) => " ".repeat(i + 1) + "a:\n").join("");
    const laughs =
      "sbc: 1\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" +
      "bcdefghi"
        .split("")
        .map((c, i) => `${c}: &${c} [${Array.from({ length: 9 }, () => "*" + "abcdefghi"[i]).join(", ")}]\n`)
        .join("");
    writeFiles(garbage, {
      "random.yaml": randomBytes(64 * 1024),
      "brackets.yaml": "[".repeat(1024 * 1024),
      "nested-block.yaml": nested,
      "nested-flow.yaml": "sbc: 1\nfilesystem: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n",
      "laughs.yaml": laughs,
      "nul.yaml": "sbc: 1\0\nname: x\n",
      "empty.yaml": "",
    });
    mkdirSync(join(garbage, "a-directory.yaml"));
    expect(existsSync(join(garbage, "a-directory.yaml"))).toBe(true);
  });

  const cases = ["random.yaml", "brackets.yaml", "nested-block.yaml", "nested-flow.yaml", "laughs.yaml", "nul.yaml", "empty.yaml", "a-directory.yaml"];
  for (const name of cases) {
    it.concurrent(`${name}: compile and check exit 1 or 2, with a message and no stack trace`, { timeout: 60_000 }, async () => {
      const opts = { cwd: garbage, timeoutMs: 55_000 };
      const [c, k] = await Promise.all([sbc(["compile", name, "-t", "ir"], opts), sbc(["check", name], opts)]);
      for (const r of [c, k]) {
        expect(r.signal).toBeNull();
        expect([1, 2]).toContain(r.code);
        noStack(r);
        expect(r.stdout + r.stderr).not.toMatch(/internal error/);
        expect((r.stdout + r.stderr).trim().length).toBeGreaterThan(0);
      }
      expect(c.stdout).toBe("");
    });
  }

  it("one `check` run over several deeply nested files reports each of them", async () => {
    // A 2 KB file of `- - - …` (1,000 nested sequences) makes the YAML parser overflow the stack; the first
    // file is reported as SBC0103, but the second one in the same process must be reported too, not abort it.
    const d = writeFiles(tempDir("sbc-garbage-"), { "deep1.yaml": "- ".repeat(1000), "deep2.yaml": "[".repeat(1000) });
    const r = await sbc(["check", "deep1.yaml", "deep2.yaml"], { cwd: d });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/FATAL ERROR|Native stack trace/);
    noStack(r);
    expect(r.stdout).toMatch(/deep1\.yaml/);
    expect(r.stdout).toMatch(/deep2\.yaml/);
  });

  it("a file of invalid UTF-8 is reported, not thrown", async () => {
    const d = tempDir("sbc-garbage-");
    writeFileSync(join(d, "x.yaml"), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    const r = await sbc(["compile", "x.yaml", "-t", "ir"], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SBC0102");
    noStack(r);
  });
});

describe("sbc eval: unix sockets and the syscalls the network section implies", () => {
  it("answers socketpair, a socket path and an abstract name, naming what decided", async () => {
    const pair = await sbc(["eval", "--preset", "read-only", "unix", "socketpair"], { cwd: dir });
    expect(pair.code, pair.stderr).toBe(0);
    expect(pair.stdout).toBe("allow  unix socketpair\n  decided by the network section: unix pairs: allow at presets/read-only.yaml:16:10\n");
    const docker = await sbc(["eval", "--preset", "read-only", "unix", "connect", "/var/run/docker.sock"], { cwd: dir });
    expect(docker.stdout).toBe("deny  unix connect /var/run/docker.sock\n  decided by the default\n");
    const abstract = await sbc(["eval", "--preset", "full-access", "--format", "json", "unix", "connect", "@/tmp/.X11-unix/X0"], { cwd: dir });
    expect(JSON.parse(abstract.stdout)).toEqual({
      query: "unix connect @/tmp/.X11-unix/X0",
      decision: "allow",
      rule: { section: "network", index: 0, location: "presets/full-access.yaml:11:10", summary: "unix abstract: allow" },
    });
  });

  it("binding asks the filesystem too: the socket file must be creatable", async () => {
    const policy = join(dir, "sockets.yaml");
    writeFileSync(policy, "sbc: 1\nfilesystem:\n  - allow: create-special\n    path: /srv/run\nnetwork:\n  unix:\n    paths:\n      - allow: bind\n        path: /srv\n");
    const ok = await sbc(["eval", policy, "--format", "json", "unix", "bind", "/srv/run/app.sock"], { cwd: dir });
    expect(JSON.parse(ok.stdout)).toMatchObject({ decision: "allow", rule: { section: "filesystem", index: 1 } });
    const noFile = await sbc(["eval", policy, "--format", "json", "unix", "bind", "/srv/app.sock"], { cwd: dir });
    expect(JSON.parse(noFile.stdout)).toMatchObject({ decision: "deny", rule: null });
    const noRule = await sbc(["eval", policy, "--format", "json", "unix", "connect", "/srv/run/app.sock"], { cwd: dir });
    expect(JSON.parse(noRule.stdout)).toMatchObject({ decision: "deny", rule: null });
  });

  it("a syscall answer includes the network section's implied rules, and says so", async () => {
    const r = await sbc(["eval", "--preset", "read-only", "syscall", "socketpair", "AF_UNIX", "SOCK_DGRAM"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      "errno(EPERM)  syscall socketpair(AF_UNIX, SOCK_DGRAM)\n  decided by the network section: implied errno(EPERM) at presets/read-only.yaml:16:10\n  reason: the network section allows no other socket pair\n",
    );
    const stream = await sbc(["eval", "--preset", "read-only", "syscall", "socketpair", "AF_UNIX", "SOCK_STREAM"], { cwd: dir });
    expect(stream.stdout.split("\n")[0]).toBe("allow  syscall socketpair(AF_UNIX, SOCK_STREAM)");
  });

  it("a unix query without its socket, or an abstract bind, is a usage error", async () => {
    for (const q of [["unix"], ["unix", "connect"], ["unix", "bind", "@name"], ["unix", "listen", "/x"]]) {
      const r = await sbc(["eval", "--preset", "read-only", ...q], { cwd: dir });
      expect(r.code, q.join(" ")).toBe(2);
      expect(r.stderr, q.join(" ")).toMatch(/^sbc: /);
      noStack(r);
    }
  });
});

describe("sbc eval and --kernel: syscalls by number and the calls newer than the policy", () => {
  const policy = `sbc: 1
network: on
syscalls:
  default: { errno: EPERM }
  newer: { errno: ENOSYS }
  rules:
    - syscalls: [read, x86_64:59]
      action: allow
`;

  it("answers `syscall ARCH:NR`, says when the arches differ, and names `newer` as what decided", async () => {
    const file = join(dir, "numbered.yaml");
    writeFileSync(file, policy);
    const one = await sbc(["eval", file, "syscall", "x86_64:59"], { cwd: dir });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^allow {2}syscall x86_64:59\(\)\n {2}decided by the syscalls rule allow at /);
    const both = await sbc(["eval", file, "--format", "json", "syscall", "execve"], { cwd: dir });
    const answer = JSON.parse(both.stdout) as { decision: string; byArch: { arch: string; nr: number; decision: string }[] };
    expect(answer.byArch.filter((a) => a.arch === "x86_64" || a.arch === "aarch64").map((a) => [a.arch, a.nr, a.decision])).toEqual([
      ["x86_64", 59, "allow"],
      ["aarch64", 221, "errno(ENOSYS)"],
    ]);
    const newer = await sbc(["eval", file, "syscall", "x86_64:200"], { cwd: dir });
    expect(newer.stdout).toContain("errno(ENOSYS)  syscall x86_64:200()\n  decided by the syscalls section: newer: errno(ENOSYS)");
  });

  it("--kernel decides which calls exist, in eval and compile alike, and a bad one is a usage error", async () => {
    const file = join(dir, "numbered.yaml");
    writeFileSync(file, policy.replace("[read, x86_64:59]", "[read, openat2]"));
    const at = async (kernel: string) => (await sbc(["eval", file, "--kernel", kernel, "syscall", "x86_64:436"], { cwd: dir })).stdout.split("  ")[0];
    expect(await at("5.8")).toBe("errno(ENOSYS)"); // close_range came with 5.9
    expect(await at("5.9")).toBe("errno(EPERM)");
    const ir = await sbc(["compile", file, "-t", "ir", "--kernel", "6.1"], { cwd: dir });
    expect(ir.code, ir.stderr).toBe(0);
    expect(JSON.parse(ir.stdout).syscalls).toMatchObject({ newerAction: { type: "errno", errno: 38 }, kernel: "6.1" });
    const bad = await sbc(["compile", file, "-t", "ir", "--kernel", "4.4"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sbc: --kernel: kernel `4\.4` is older than 5\.0/);
    // The policy lets unix sockets connect anywhere, which the linter reports; that is not what this test is about.
    writeFileSync(join(dir, "sbc.config.json"), JSON.stringify({ rules: { "agent-socket-access": "off" } }));
    const check = await sbc(["check", file, "--kernel", "6.1"], { cwd: dir });
    expect(check.code, check.stdout).toBe(0);
  });
});
