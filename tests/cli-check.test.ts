// `sbc check` as linters are used: directories, globs, stdin, config files found upward, severities from the
// config, --fix, every phase's errors in one run, and the --max-warnings and --verbose lines. Runs the built
// CLI (bin/sbc.js → dist/).

import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, childEnv, ensureBuilt, sbc, STACK_TRACE, type RunResult } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

beforeAll(() => ensureBuilt());

const GOOD = "sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /usr\n";
const GOOD_DSL = 'sbc 1\n\npolicy dsl {\n  filesystem {\n    allow read-only path "/opt"\n  }\n}\n';
/** One warning: an unused parameter (SBC0405, `unused-param`). */
const ONE_WARNING = "sbc: 1\nparams:\n  cache: /var/cache\n";
const TWO_WARNINGS = "sbc: 1\nparams:\n  cache: /var/cache\n  other: /opt\n";
const BAD = "sbc: 1\nfilesystem:\n  - allow: read-only\n    path: relative/path\n";

/** `sbc check` with `input` on stdin. */
function sbcStdin(args: readonly string[], input: string, cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: childEnv(), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), ms: performance.now() - started }),
    );
    child.stdin.end(input);
  });
}

/** The `file:line:col` locations printed in human output, in order. */
const locations = (out: string) => [...out.matchAll(/--> (\S+)/g)].map((m) => m[1]);

describe("sbc check: inputs", () => {
  it("`sbc check policies/` walks the directory: .yaml, .yml and .sbc policies, sorted; skips YAML that is not a policy, node_modules and .git", async () => {
    const dir = writeFiles(tempDir(), {
      "policies/b.yaml": ONE_WARNING,
      "policies/a/deep.yml": ONE_WARNING,
      "policies/c.sbc": GOOD_DSL,
      "policies/workflow.yaml": "on: push\njobs: {}\n",
      "policies/notes.txt": "not a policy",
      "policies/node_modules/x.yaml": BAD,
      "policies/.git/y.yaml": BAD,
    });
    const r = await sbc(["check", "policies/", "--verbose"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(locations(r.stdout)).toEqual(["policies/a/deep.yml:3:3", "policies/b.yaml:3:3"]);
    expect(r.stderr).toMatch(/^sbc: checked 3 policies in \d+ ms: 0 errors, 2 warnings, 0 fixed\n$/);
  });

  it("a directory with an error exits 1; a YAML file that is not a policy is checked when named", async () => {
    const dir = writeFiles(tempDir(), { "p/bad.yaml": BAD, "p/ok.yaml": GOOD, "workflow.yaml": "on: push\n" });
    const r = await sbc(["check", "p", "workflow.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("p/bad.yaml:4:11");
    expect(r.stdout).toMatch(/workflow\.yaml.*\n?[\s\S]*missing `sbc`|the policy is missing `sbc`/);
  });

  it("quoted globs match files in nested folders; a pattern or directory that matches nothing is a usage error unless allowed", async () => {
    const dir = writeFiles(tempDir(), { "policies/x/one.yaml": ONE_WARNING, "policies/two.yaml": ONE_WARNING, "policies/three.yml": BAD, "empty/.keep": "" });
    const r = await sbc(["check", "policies/**/*.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(locations(r.stdout)).toEqual(["policies/two.yaml:3:3", "policies/x/one.yaml:3:3"]);
    const none = await sbc(["check", "nothing/*.yaml"], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no files match the pattern: `nothing/*.yaml`");
    const emptyDir = await sbc(["check", "empty"], { cwd: dir });
    expect(emptyDir.code).toBe(2);
    expect(emptyDir.stderr).toContain("no policy files in the directory: `empty`");
    const allowed = await sbc(["check", "nothing/*.yaml", "--no-error-on-unmatched-pattern"], { cwd: dir });
    expect(allowed).toMatchObject({ code: 0, stdout: "" });
  });

  it("`-` reads stdin; --stdin-filename names it in messages and picks the config that applies to it", async () => {
    const dir = writeFiles(tempDir(), { "sub/sbc.config.json": JSON.stringify({ rules: { "unused-param": "error" } }) });
    const plain = await sbcStdin(["check", "-"], BAD, dir);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain("<stdin>:4:11");
    const named = await sbcStdin(["check", "-", "--stdin-filename", "sub/p.yaml"], ONE_WARNING, dir);
    expect(named.code).toBe(1);
    expect(named.stdout).toContain("error[SBC0405]");
    expect(named.stdout).toContain("sub/p.yaml:3:3");
    const orphan = await sbc(["check", "x.yaml", "--stdin-filename", "y.yaml"], { cwd: dir });
    expect(orphan.code).toBe(2);
  });
});

describe("sbc check: config files", () => {
  it("is found upward from the checked file, nearest first; severities change exit codes; --no-config ignores it", async () => {
    const dir = writeFiles(tempDir(), {
      "sbc.config.yaml": "rules:\n  unused-param: error\n",
      "a/b/p.yaml": ONE_WARNING,
      "quiet/sbc.config.json": '{ "rules": { "unused-param": "off" } }',
      "quiet/q.yaml": ONE_WARNING,
    });
    const r = await sbc(["check", "a/b/p.yaml", "quiet/q.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("error[SBC0405]: parameter `cache` is never used\n --> a/b/p.yaml:3:3");
    expect(locations(r.stdout)).toEqual(["a/b/p.yaml:3:3"]);
    const none = await sbc(["check", "a/b/p.yaml", "quiet/q.yaml", "--no-config"], { cwd: dir });
    expect(none.code).toBe(0);
    expect(none.stdout.match(/warning\[SBC0405\]/g)).toHaveLength(2);
  });

  it("an `sbc` key in package.json is a config; a package.json without one is passed over", async () => {
    const dir = writeFiles(tempDir(), {
      "package.json": JSON.stringify({ name: "x", sbc: { rules: { "unused-param": "error" } } }, null, 2),
      "pkg/package.json": JSON.stringify({ name: "inner" }),
      "pkg/p.yaml": ONE_WARNING,
    });
    const r = await sbc(["check", "pkg/p.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("error[SBC0405]");
  });

  it("--config names the file to use; `files` says what a bare `sbc check` checks, `ignore` what it skips, `params` binds, `maxWarnings` limits", async () => {
    const dir = writeFiles(tempDir(), {
      "conf/strict.json": JSON.stringify({ rules: { "unused-param": "error" } }),
      "sbc.config.json": JSON.stringify({ files: ["policies/**/*.yaml"], ignore: ["vendor", "*.generated.yaml"], params: { cache: "/var/cache/x" }, maxWarnings: 0 }),
      "policies/uses.yaml": "sbc: 1\nparams:\n  cache: {}\nfilesystem:\n  - allow: read-only\n    path: ${cache}\ntests:\n  - read: /var/cache/x/f\n    expect: allow\n",
      "policies/warn.yaml": ONE_WARNING,
      "policies/vendor/bad.yaml": BAD,
      "policies/x.generated.yaml": BAD,
      "p.yaml": ONE_WARNING,
    });
    const bare = await sbc(["check", "--verbose"], { cwd: dir });
    // uses.yaml passes only with the config's binding of `cache`; warn.yaml's warning exceeds maxWarnings 0.
    expect(bare.stdout).not.toContain("SBC1001");
    expect(bare.stdout).not.toContain("bad.yaml");
    expect(locations(bare.stdout)).toEqual(["policies/warn.yaml:3:3"]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain("sbc: checked 2 policies in");
    expect(bare.stderr).toContain("sbc: 1 warning exceeds maxWarnings 0 (sbc.config.json)\n");
    const explicit = await sbc(["check", "p.yaml", "--config", "conf/strict.json"], { cwd: dir });
    expect(explicit.code).toBe(1);
    expect(explicit.stdout).toContain("error[SBC0405]");
  });

  it("a broken config is reported with code and file:line:col on stderr, exits 2 and checks nothing; `build` is reserved", async () => {
    const dir = writeFiles(tempDir(), {
      "sbc.config.json": '{\n  "build": { "anything": 1 },\n  "rulez": {},\n  "rules": { "unused-parm": "warn", "yaml-syntax": "off" }\n}\n',
      "p.yaml": BAD,
    });
    const r = await sbc(["check", "p.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("error[SBC0121]: unknown key `rulez` in the config\n --> sbc.config.json:3:3");
    expect(r.stderr).toContain("did you mean `rules`?");
    expect(r.stderr).toContain("error[SBC0122]: unknown rule `unused-parm`");
    expect(r.stderr).toContain("did you mean `unused-param`?");
    expect(r.stderr).toContain("the severity of `unused-parm` must be `error`, `warning` or `off`");
    expect(r.stderr).toContain("`yaml-syntax` is an error and cannot be configured");
    expect(r.stderr).not.toMatch(STACK_TRACE);
    const syntax = writeFiles(tempDir(), { "sbc.config.yaml": "rules: [\n", "p.yaml": GOOD });
    const s = await sbc(["check", "p.yaml"], { cwd: syntax });
    expect(s.code).toBe(2);
    expect(s.stderr).toContain("error[SBC0120]");
    expect(s.stderr).toContain("sbc.config.yaml:");
  });

  it("two config files in one directory are ambiguous (exit 2)", async () => {
    const dir = writeFiles(tempDir(), { "sbc.config.json": "{}", "sbc.config.yaml": "{}", "p.yaml": GOOD });
    const r = await sbc(["check", "p.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error[SBC0123]");
  });
});

describe("sbc check: reporting", () => {
  it("reports the errors of three phases in one run: schema (load), unknown parameter (build-ir), failing test", async () => {
    const dir = writeFiles(tempDir(), {
      "multi.yaml": [
        "sbc: 1",
        "network:",
        "  rules:",
        "    - allow: connect",
        "      ports: [443]",
        "      proto: tcp", // SBC0201, in network: only network (and syscall) tests are held back
        "filesystem:",
        "  - allow: read-write",
        "    path: ${wrkspace}/src", // SBC0401, in filesystem
        "commands:",
        "  rules:",
        "    - prefix: git status",
        "      decision: allow",
        "tests:",
        "  - command: git status", // SBC1001: commands lost nothing, so this test runs
        "    expect: forbidden",
        "  - read: /usr/bin/ls", // depends on filesystem, which is incomplete: not run
        "    expect: allow",
        "",
      ].join("\n"),
    });
    const r = await sbc(["check", "multi.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect([...r.stdout.matchAll(/^error\[(SBC\d+)\]/gm)].map((m) => m[1])).toEqual(["SBC0201", "SBC0401", "SBC1001"]);
    expect(r.stdout).toContain("3 errors, 0 warnings");
    // `compile` still stops at the first failing stage.
    const c = await sbc(["compile", "multi.yaml", "-t", "ir"], { cwd: dir });
    expect(c.stderr.match(/^error\[/gm)).toHaveLength(1);
  });

  it("the --max-warnings line goes to stderr with the right number", async () => {
    const dir = writeFiles(tempDir(), { "one.yaml": ONE_WARNING, "two.yaml": TWO_WARNINGS });
    const one = await sbc(["check", "one.yaml", "--max-warnings", "0", "--format", "json"], { cwd: dir });
    expect(one.code).toBe(1);
    expect(one.stderr).toBe("sbc: 1 warning exceeds --max-warnings 0\n");
    expect(JSON.parse(one.stdout).summary).toEqual({ errors: 0, warnings: 1 });
    const two = await sbc(["check", "two.yaml", "--max-warnings", "1"], { cwd: dir });
    expect(two.code).toBe(1);
    expect(two.stderr).toBe("sbc: 2 warnings exceed --max-warnings 1\n");
  });

  it("--fix leaves a file without fixable findings byte for byte, writes no temp file, and with `-` prints the policy to stdout", async () => {
    const dir = writeFiles(tempDir(), { "p.yaml": ONE_WARNING });
    const r = await sbc(["check", "p.yaml", "--fix", "--verbose"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "p.yaml"), "utf8")).toBe(ONE_WARNING);
    expect(readdirSync(dir)).toEqual(["p.yaml"]);
    expect(r.stderr).toMatch(/1 warning, 0 fixed/);
    const s = await sbcStdin(["check", "-", "--fix", "--stdin-filename", "s.yaml"], ONE_WARNING, dir);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe(ONE_WARNING);
    expect(s.stderr).toContain("s.yaml:3:3");
  });

  it("--fix through the binary with the real rules: the file is rewritten, what remains is reported, and the fixed policy checks clean", async () => {
    const before = "sbc: 1\nname: p\nfilesystem:\n  - allow: read-write\n    path: ${workspace}\n  - allow: read\n    path: ${home}\n";
    const dir = writeFiles(tempDir(), { "p.yaml": before });
    const dry = await sbc(["check", "p.yaml", "--fix-dry-run", "--target", "none", "--verbose"], { cwd: dir });
    expect(readFileSync(join(dir, "p.yaml"), "utf8")).toBe(before);
    expect(dry.stderr).toMatch(/0 errors, 0 warnings, [1-9]\d* fixed/);
    const r = await sbc(["check", "p.yaml", "--fix", "--target", "none", "--verbose"], { cwd: dir });
    expect(r.code, r.stdout).toBe(0);
    const after = readFileSync(join(dir, "p.yaml"), "utf8");
    // repo-without-protect protects .git; secret-access denies reading the secrets beneath the home grant.
    expect(after).toContain("protect: [.git]");
    expect(after).toContain('  - deny: read\n    path: "${home}/.ssh"\n');
    expect(readdirSync(dir)).toEqual(["p.yaml"]);
    const again = await sbc(["check", "p.yaml", "--target", "none"], { cwd: dir });
    expect(again).toMatchObject({ code: 0, stdout: "" });
    const ir = await sbc(["eval", "p.yaml", "read", "/home/user/.ssh/id_rsa", "-p", "home=/home/user", "-p", "workspace=/home/user/w"], { cwd: dir });
    expect(ir.stdout).toMatch(/deny/);
  });
});
