// `sbc diff` from the command line: exit codes, the four formats (Markdown against a golden file, JSON's
// shape, SARIF against the OASIS schemas), `git:REV:path` inputs in a temporary repository, errors.

import type { ValidateFunction } from "ajv";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SarifLog } from "../diagnostics/sarif.js";
import { BIN, childEnv, ensureBuilt, REPO, sbc } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";
import { parse as parseYaml } from "yaml";
import type { Command } from "commander";
import { parseDiffInput } from "../lib/diff/inputs.js";
import { buildProgram } from "../cli/main.js";
import { readmePolicy, withSshReadWrite } from "./support/readme-policy.js";

const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";
const GOLDEN = join(REPO, "fixtures", "data", "diff", "readme-ssh.md");

const require = createRequire(import.meta.url);
const Ajv = require("ajv") as typeof import("ajv").default;

/** The SARIF 2.1.0 schema (draft-07 copy), as tests/sarif.test.ts loads it. */
function sarifValidator(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  ajv.addFormat("uri", (s: string) => URL.canParse(s));
  ajv.addFormat("uri-reference", (s: string) => URL.canParse(s, "http://base.invalid/"));
  ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
  return ajv.compile(JSON.parse(readFileSync(join(REPO, "fixtures", "data", "sarif", "sarif-schema-2.1.0.draft-07.json"), "utf8")) as object);
}

let dir: string;
const OLD = readmePolicy();
const NEW = withSshReadWrite(OLD);
const NEW_RULE_LINE = NEW.split("\n").indexOf("    path: ${home}/.ssh"); // 1-based line of `- allow:` above it

beforeAll(() => {
  ensureBuilt();
  dir = writeFiles(tempDir("sbc-diff-"), {
    "old.yaml": OLD,
    "new.yaml": NEW,
    "broken.yaml": "sbc: 1\nfilesystem:\n  - allow: reed\n    path: /x\n",
    "param-old.yaml": "sbc: 1\nname: p\nparams:\n  data:\n    description: the data\nfilesystem:\n  - allow: read\n    path: ${data}\n",
    "param-new.yaml": "sbc: 1\nname: p\nfilesystem:\n  - allow: read\n    path: /srv\n",
    "udp-old.yaml": "sbc: 1\nname: u\nextends: workspace-write\nlinux:\n  accept-widening: [udp]\n",
    "udp-new.yaml":
      "sbc: 1\nname: u\nextends: workspace-write\nlinux:\n  accept-widening: [udp]\nnetwork:\n  rules:\n    - allow: connect\n      protocol: udp\n      hosts: [1.1.1.1/32]\n      ports: [53]\n",
  });
}, 180_000);

describe("sbc diff: exit codes and the human format", () => {
  it("the README's policy against the same with ${home}/.ssh read-write: that widening, exit 1", async () => {
    const r = await sbc(["diff", "old.yaml", "new.yaml"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.stdout.match(/^widened /gm)).toHaveLength(1);
    expect(r.stdout).toContain("widened filesystem: modify, ioctl at `${home}/.ssh` and beneath: deny → allow");
    expect(r.stdout).toContain(`new: new.yaml:${NEW_RULE_LINE}: allow: read-write path: \${home}/.ssh`);
    expect(r.stdout).toMatch(/old\.yaml → new\.yaml: 1 widening, 0 narrowings\n$/);
  });

  it("identical policies: exit 0, no change", async () => {
    const r = await sbc(["diff", "old.yaml", "old.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^no change/);
  });

  it("a narrowing only: exit 0", async () => {
    const r = await sbc(["diff", "new.yaml", "old.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^narrowed filesystem:/m);
  });

  it("--allow-widening: exit 0 with the same report", async () => {
    const r = await sbc(["diff", "--allow-widening", "old.yaml", "new.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^widened filesystem:/m);
  });

  it("presets and stdin are inputs too", async () => {
    const r = await sbc(["diff", "preset:workspace-write", "preset:workspace-write"], { cwd: dir });
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/^no change/)]);
    const s = spawnSync(process.execPath, [BIN, "diff", "preset:read-only", "-"], {
      cwd: dir,
      env: childEnv(),
      input: "sbc: 1\nname: x\nextends: read-only\nfilesystem:\n  - allow: write\n    path: /srv\n",
      encoding: "utf8",
    });
    expect(s.status).toBe(1);
    expect(s.stdout).toContain("new: <stdin>:5: allow: write path: /srv");
  });

  it("a policy with errors: its diagnostics, exit 1; an unreadable file or a bad input: exit 2", async () => {
    const r = await sbc(["diff", "old.yaml", "broken.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/error\[SBC0\d{3}\].*\n --> broken\.yaml:3:/);
    const missing = await sbc(["diff", "old.yaml", "nope.yaml"], { cwd: dir });
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("cannot read `nope.yaml`")]);
    const badGit = await sbc(["diff", "git:HEAD", "old.yaml"], { cwd: dir });
    expect([badGit.code, badGit.stderr]).toEqual([2, expect.stringContaining("is not `git:REV:path`")]);
    const twoStdin = await sbc(["diff", "-", "-"], { cwd: dir });
    expect(twoStdin.code).toBe(2);
    const format = await sbc(["diff", "--format", "yaml", "old.yaml", "new.yaml"], { cwd: dir });
    expect(format.code).toBe(2);
  });
});

describe("sbc diff --param", () => {
  it("binds a parameter where a side declares it; one neither side declares is a usage error", async () => {
    const r = await sbc(["diff", "-p", "data=/srv/data", "param-old.yaml", "param-new.yaml"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    // `/srv/data` was readable and still is: only the rest of `/srv` widens.
    expect(r.stdout).toContain("widened filesystem: read at `/srv` and beneath: deny → allow");
    const typo = await sbc(["diff", "-p", "dta=/srv/data", "param-old.yaml", "param-new.yaml"], { cwd: dir });
    expect([typo.code, typo.stderr]).toEqual([2, expect.stringContaining("`--param dta` binds a parameter neither policy has")]);
  });
});

describe("sbc diff: formats", () => {
  it("markdown: the golden report (SBC_UPDATE_GOLDENS=1 rewrites it)", async () => {
    const r = await sbc(["diff", "--format", "markdown", "old.yaml", "new.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    if (UPDATE) writeFileSync(GOLDEN, r.stdout);
    expect(r.stdout).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("json: counts, and each change with both deciders and its questions", async () => {
    const r = await sbc(["diff", "--format", "json", "old.yaml", "new.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(["old", "new", "counts", "probes", "changes"]);
    expect(j.counts).toEqual({ widened: 1, narrowed: 0, changed: 0 });
    expect(j.changes).toHaveLength(1);
    const c = j.changes[0];
    expect(c).toMatchObject({
      direction: "widened",
      section: "filesystem",
      old: { kind: "default", text: "no rule (default deny)", location: null },
      new: { kind: "rule", text: "allow: read-write path: ${home}/.ssh", location: { file: "new.yaml", line: NEW_RULE_LINE, column: 5 } },
    });
    expect(c.probes[0]).toEqual({ query: "write ${home}/.ssh", old: "deny", new: "allow" });
  });

  it("sarif: schema-valid, one result at the new policy's rule", async () => {
    const r = await sbc(["diff", "--format", "sarif", "old.yaml", "new.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    const log = JSON.parse(r.stdout) as SarifLog;
    const validate = sarifValidator();
    expect(validate(log) ? [] : validate.errors).toEqual([]);
    const results = log.runs[0]!.results;
    expect(results).toHaveLength(1);
    expect(results[0]!.ruleId).toBe("SBC1320");
    expect(results[0]!.locations[0]!.physicalLocation).toMatchObject({ artifactLocation: { uri: "new.yaml", uriBaseId: "%SRCROOT%" }, region: { startLine: NEW_RULE_LINE } });
    const none = JSON.parse((await sbc(["diff", "--format", "sarif", "new.yaml", "old.yaml"], { cwd: dir })).stdout) as SarifLog;
    expect(validate(none) ? [] : validate.errors).toEqual([]);
    expect(none.runs[0]!.results).toEqual([]);
  });
});

describe("sbc diff --target", () => {
  it("reports where a target's model answers otherwise than the IR, tagged with the target and ABI", async () => {
    const r = await sbc(["diff", "--target", "landlock", "old.yaml", "new.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    // Landlock grants rights beneath a directory: creating `.ssh` itself stays denied (it needs rights on ${home}).
    expect(r.stdout).toMatch(/^unchanged on landlock \(ABI 10, in a mount namespace\), widened on the IR: filesystem: `create-file \$\{home\}\/\.ssh`/m);
    expect(r.stdout).toContain("; 1 target difference");
  });

  it("a widening only a target shows fails the run and is an SBC1321 result in SARIF", async () => {
    // Below Landlock ABI 10 nothing sees UDP hosts or ports: allowing one UDP endpoint (accepted by the policy)
    // opens every one on Linux, where the IR opens one.
    const args = ["diff", "--target", "landlock", "--abi", "9", "udp-old.yaml", "udp-new.yaml"];
    const r = await sbc(args, { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^widened on landlock \(ABI 9, in a mount namespace\), unchanged on the IR: network: `connect udp 1\.1\.1\.1:1`/m);
    const s = await sbc([...args, "--format", "sarif"], { cwd: dir });
    const log = JSON.parse(s.stdout) as SarifLog;
    const validate = sarifValidator();
    expect(validate(log) ? [] : validate.errors).toEqual([]);
    expect(log.runs[0]!.results.map((x) => x.ruleId)).toContain("SBC1321");
    const ir = await sbc(["diff", "udp-old.yaml", "udp-new.yaml", "--format", "json"], { cwd: dir });
    expect(JSON.parse(ir.stdout).targets, "no targets without --target").toBeUndefined();
  });

  it("--arch or --abi without --target, or an unknown target: usage errors", async () => {
    expect((await sbc(["diff", "--abi", "9", "old.yaml", "new.yaml"], { cwd: dir })).code).toBe(2);
    const r = await sbc(["diff", "--target", "bpf", "old.yaml", "new.yaml"], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining("unknown target `bpf` for diff")]);
  });
});

describe("sbc diff: git:REV:path", () => {
  let repo: string;
  beforeAll(() => {
    repo = tempDir("sbc-diff-git-");
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo, stdio: "pipe" });
    git("init", "-q");
    writeFiles(repo, {
      "policies/agent.yaml": "sbc: 1\nname: agent\nextends: ./base.yaml\n",
      "policies/base.yaml": "sbc: 1\nname: base\nextends: workspace-write\n",
    });
    git("add", ".");
    git("commit", "-qm", "v1");
    // v2 widens the extended file only; the entry file is the same in both revisions.
    writeFiles(repo, { "policies/base.yaml": "sbc: 1\nname: base\nextends: workspace-write\nfilesystem:\n  - allow: read-write\n    path: ${home}/.ssh\n" });
    git("commit", "-qam", "v2");
    // The working tree goes back to v1's base: a diff of revisions must not read it.
    writeFiles(repo, { "policies/base.yaml": "sbc: 1\nname: base\nextends: workspace-write\n" });
  });

  it("reads the entry and what it extends from each revision, and names them git:REV:path", async () => {
    const r = await sbc(["diff", "git:HEAD~1:policies/agent.yaml", "git:HEAD:policies/agent.yaml"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("new: git:HEAD:policies/base.yaml:5: allow: read-write path: ${home}/.ssh");
    expect(r.stdout).toContain("git:HEAD~1:policies/agent.yaml → git:HEAD:policies/agent.yaml: 1 widening");
  });

  it("a revision against the working tree; `./` paths are relative to the current directory, as git reads them", async () => {
    const r = await sbc(["diff", "git:HEAD:./agent.yaml", "agent.yaml"], { cwd: join(repo, "policies") });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^narrowed filesystem:/m);
    expect(r.stdout).toContain("old: git:HEAD:policies/base.yaml:5:");
  });

  it("an unknown revision or a path not in it: exit 2, said in one line", async () => {
    const rev = await sbc(["diff", "git:no-such-rev:policies/agent.yaml", "git:HEAD:policies/agent.yaml"], { cwd: repo });
    expect([rev.code, rev.stderr]).toEqual([2, "sbc: cannot read `git:no-such-rev:policies/agent.yaml`: unknown revision `no-such-rev`\n"]);
    const path = await sbc(["diff", "git:HEAD:policies/nope.yaml", "git:HEAD:policies/agent.yaml"], { cwd: repo });
    expect([path.code, path.stderr]).toEqual([2, "sbc: cannot read `git:HEAD:policies/nope.yaml`: no file `policies/nope.yaml` in revision `HEAD`\n"]);
  });

  it("an error in a revision's file is reported at git:REV:path", async () => {
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: repo, stdio: "pipe" });
    writeFiles(repo, { "policies/base.yaml": "sbc: 1\nname: base\nextends: no-such-preset\n" });
    git("commit", "-qam", "v3");
    const r = await sbc(["diff", "git:HEAD~1:policies/agent.yaml", "git:HEAD:policies/agent.yaml"], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--> git:HEAD:policies/base.yaml:3:");
  });
});

/** Shell words of one command line: double and single quotes, `$VAR` expanded from `vars`; stops at `>`. */
function shellWords(line: string, vars: Readonly<Record<string, string>>): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(>)|([^\s"'>]+)/g)) {
    if (m[3]) break;
    const raw = m[1] ?? m[2] ?? m[4]!;
    words.push(m[2] !== undefined ? raw : raw.replace(/\$(\w+)|\$\{(\w+)\}/g, (_, a: string, b: string) => vars[a ?? b] ?? `$${a ?? b}`));
  }
  return words;
}

describe("the GitHub Actions example (docs/examples/policy-diff.yml)", () => {
  const file = readFileSync(join(REPO, "docs", "examples", "policy-diff.yml"), "utf8");
  const workflow = parseYaml(file) as { on: unknown; jobs: Record<string, { steps: { run?: string; env?: Record<string, string>; id?: string }[] }> };

  it("is the workflow docs/diff.md shows", () => {
    expect(readFileSync(join(REPO, "docs", "diff.md"), "utf8")).toContain("```yaml\n" + file + "```");
  });

  it("runs `sbc diff` with a command line sbc accepts: two inputs, markdown, the base revision as git:REV:PATH", () => {
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    const step = steps.find((x) => x.run?.includes("sbc diff"));
    expect(step, "a step runs sbc diff").toBeDefined();
    const line = step!.run!.split("\n").find((l) => l.includes("sbc diff"))!;
    const vars = Object.fromEntries(Object.keys(step!.env ?? {}).map((k) => [k, "0123456789abcdef0123456789abcdef01234567"]));
    const words = shellWords(line, vars);
    expect(words.slice(0, 3)).toEqual(["npx", "sbc", "diff"]);
    const diff = (buildProgram().commands as Command[]).find((c) => c.name() === "diff")!;
    const parsed = diff.parseOptions(words.slice(3));
    expect(parsed.unknown).toEqual([]);
    expect(parsed.operands).toHaveLength(2);
    const [oldInput, newInput] = parsed.operands.map(parseDiffInput);
    expect(oldInput).toEqual({ kind: "git", rev: "0123456789abcdef0123456789abcdef01234567", path: "policies/agent.yaml" });
    expect(newInput).toEqual({ kind: "file", path: "policies/agent.yaml" });
    expect(diff.opts().format).toBe("markdown");
    // The exit status reaches the step that fails the check.
    expect(steps.some((x) => x.run?.includes("exit 1"))).toBe(true);
    expect(step!.id).toBe("diff");
  });
});
