// .pre-commit-hooks.yaml, run the way pre-commit runs a hook: read the manifest, pick the repository's files by
// `files`/`exclude`/`types`, append them to the hook's `entry` (here through bin/sbc, the installed command),
// and fail the hook on a non-zero exit or on files the hook modified. The real pre-commit is not used: its
// `language: node` installs the package from the network, which tests must not need.

import { spawnSync } from "node:child_process";
import { lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { childEnv, ensureBuilt, REPO } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

interface Hook {
  id: string;
  name: string;
  entry: string;
  language: string;
  files?: string;
  exclude?: string;
  types?: string[];
  types_or?: string[];
  args?: string[];
  pass_filenames?: boolean;
  description?: string;
}

const MANIFEST = join(REPO, ".pre-commit-hooks.yaml");
const hooks = parse(readFileSync(MANIFEST, "utf8")) as Hook[];
const hook = (id: string): Hook => {
  const h = hooks.find((x) => x.id === id);
  if (!h) throw new Error(`no hook ${id}`);
  return h;
};

/** pre-commit's file filter: `re.search` on the repo-relative path, `exclude` likewise, then identify's tags. */
function select(h: Hook, repo: string, files: readonly string[]): string[] {
  const include = new RegExp(h.files ?? "");
  const exclude = new RegExp(h.exclude ?? "^$");
  return files.filter((f) => {
    if (!include.test(f) || exclude.test(f)) return false;
    // identify tags a regular file `file`, a symlink `symlink` (never `file`); the hooks ask for nothing else.
    const tags = lstatSync(join(repo, f)).isFile() ? ["file"] : ["symlink"];
    return (h.types ?? ["file"]).every((t) => tags.includes(t)) && (!h.types_or?.length || h.types_or.some((t) => tags.includes(t)));
  });
}

/** Run a hook as pre-commit does: entry, args, then the files; failed when the exit status is not 0 or a file changed. */
function runHook(h: Hook, repo: string, files: readonly string[]): { status: number | null; stdout: string; stderr: string; modified: string[]; failed: boolean } {
  const [command, ...entryArgs] = h.entry.split(/\s+/);
  expect(command).toBe("sbc");
  const before = new Map(files.map((f) => [f, readFileSync(join(repo, f), "utf8")]));
  const r = spawnSync(join(REPO, "bin", "sbc"), [...entryArgs, ...(h.args ?? []), ...(h.pass_filenames === false ? [] : files)], {
    cwd: repo,
    env: childEnv(),
    encoding: "utf8",
    timeout: 60_000,
  });
  const modified = files.filter((f) => readFileSync(join(repo, f), "utf8") !== before.get(f));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, modified, failed: r.status !== 0 || modified.length > 0 };
}

function walk(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), root) : [relative(root, join(dir, e.name))]));
}

const GOOD_YAML = "sbc: 1\nname: good\nfilesystem:\n  - allow: read\n    path: /usr\ntests:\n  - read: /usr/bin/env\n    expect: allow\n";
const FAILING_TEST = "sbc: 1\nname: failing\nfilesystem:\n  - allow: read\n    path: /usr\ntests:\n  - write: /usr/bin/env\n    expect: allow\n";
const UNFORMATTED_SBC = 'sbc 1\n\n\n\npolicy agent {\n  filesystem {\n    allow read path "/usr"\n\n\n  }\n}\n';
const FORMATTED_SBC = 'sbc 1\n\npolicy agent {\n  filesystem {\n    allow read path "/usr"\n  }\n}\n';

let repo: string;
let all: string[];

beforeAll(() => {
  ensureBuilt();
  repo = writeFiles(tempDir("sbc-pre-commit-"), {
    "policies/good.yaml": GOOD_YAML,
    "policies/nested/also-good.yml": GOOD_YAML,
    "sandbox.sbc.yaml": GOOD_YAML,
    "agent.sbc": FORMATTED_SBC,
    // YAML that is no policy: a workflow and a compose file must never reach sbc.
    ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    "docker-compose.yaml": "services:\n  web:\n    image: nginx\n",
    "README.md": "# project\n",
    "src/policies.ts": "export {};\n",
  });
  all = walk(repo).sort();
}, 180_000);

describe(".pre-commit-hooks.yaml", () => {
  it("declares sbc-check and sbc-fmt with what pre-commit's manifest schema requires", () => {
    expect(hooks.map((h) => h.id)).toEqual(["sbc-check", "sbc-fmt"]);
    for (const h of hooks) {
      for (const k of ["id", "name", "entry", "language"] as const) expect(typeof h[k], `${h.id}.${k}`).toBe("string");
      expect(h.language).toBe("node"); // pre-commit installs the repository's package.json, which provides `sbc`
      expect(() => new RegExp(h.files!)).not.toThrow();
    }
    expect(hook("sbc-check").entry).toBe("sbc check");
    expect(hook("sbc-fmt").entry).toBe("sbc fmt --write");
    // `language: node` installs this package; its bin must be the `sbc` the entries run.
    expect((JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { bin: Record<string, string> }).bin.sbc).toBe("bin/sbc");
  });

  it("selects .sbc files, *.sbc.yaml and YAML under policies/, and no other YAML", () => {
    for (const h of hooks) {
      expect(select(h, repo, all), h.id).toEqual(["agent.sbc", "policies/good.yaml", "policies/nested/also-good.yml", "sandbox.sbc.yaml"]);
    }
  });
});

describe("sbc-check", () => {
  it("passes on good policies", () => {
    const r = runHook(hook("sbc-check"), repo, select(hook("sbc-check"), repo, all));
    expect(r.stderr).toBe("");
    expect(r).toMatchObject({ status: 0, failed: false, modified: [] });
  });

  it("fails on a policy whose own test fails, naming the file and the code", () => {
    writeFiles(repo, { "policies/failing.yaml": FAILING_TEST });
    try {
      const r = runHook(hook("sbc-check"), repo, select(hook("sbc-check"), repo, walk(repo)));
      expect(r.status).toBe(1);
      expect(r.failed).toBe(true);
      expect(r.stdout).toMatch(/error\[SBC1001\]/);
      expect(r.stdout).toContain("policies/failing.yaml:7:5");
    } finally {
      writeFileSync(join(repo, "policies/failing.yaml"), GOOD_YAML);
    }
  });

  it("takes args from .pre-commit-config.yaml after the entry (--max-warnings 0 fails on a warning)", () => {
    writeFiles(repo, { "policies/warns.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /usr//lib\n" });
    try {
      const h = { ...hook("sbc-check"), args: ["--max-warnings", "0"] };
      const r = runHook(h, repo, ["policies/warns.yaml"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("sbc: 1 warning exceeds --max-warnings 0");
    } finally {
      writeFileSync(join(repo, "policies/warns.yaml"), GOOD_YAML);
    }
  });
});

describe("sbc-fmt", () => {
  it("rewrites an unformatted file, so pre-commit fails the run; the next run passes", () => {
    writeFiles(repo, { "agent.sbc": UNFORMATTED_SBC });
    const files = select(hook("sbc-fmt"), repo, walk(repo));
    const first = runHook(hook("sbc-fmt"), repo, files);
    expect(first.status).toBe(0);
    expect(first.modified).toEqual(["agent.sbc"]);
    expect(first.failed).toBe(true);
    expect(readFileSync(join(repo, "agent.sbc"), "utf8")).toBe(FORMATTED_SBC);
    const second = runHook(hook("sbc-fmt"), repo, files);
    expect(second).toMatchObject({ status: 0, modified: [], failed: false });
  });

  it("fails without touching a file that does not parse", () => {
    const broken = "sbc 1\npolicy x {\n  filesystem {\n";
    writeFiles(repo, { "broken.sbc": broken });
    try {
      const r = runHook(hook("sbc-fmt"), repo, ["broken.sbc"]);
      expect(r.status).toBe(1);
      expect(r.modified).toEqual([]);
      expect(readFileSync(join(repo, "broken.sbc"), "utf8")).toBe(broken);
    } finally {
      writeFileSync(join(repo, "broken.sbc"), FORMATTED_SBC);
    }
  });
});
