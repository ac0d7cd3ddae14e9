// repo-without-protect: a write grant over the workspace that leaves `.git/config` or `.git/hooks` writable,
// and its fix (`protect: [.git]`, in YAML and in the DSL).

import { describe, expect, it } from "vitest";
import { lintPolicyText } from "../../compiler/lint/index.js";
import { repoWithoutProtect } from "../../compiler/lint/rules/repo-without-protect.js";
import { applyFix, lintWith } from "./lint-test-support.js";

const rule = repoWithoutProtect;

/** The fix applied, the policy still compiles, and the finding is gone. */
function fixed(text: string, path = "policy.yaml"): string {
  const f = lintWith(rule, text, path);
  expect(f).toHaveLength(1);
  const out = applyFix(text, f[0]!.diagnostic);
  expect(lintPolicyText(out, { path }).filter((d) => d.severity === "error")).toEqual([]);
  expect(lintWith(rule, out, path)).toEqual([]);
  return out;
}

describe("repo-without-protect", () => {
  it("reports a read-write workspace without protect, at the rule, with a fix", () => {
    const text = `sbc: 1
extends: read-only
filesystem:
  - allow: read-write
    path: \${workspace}
    reason: the agent edits the project
`;
    const f = lintWith(rule, text);
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3052", 4]]);
    expect(f[0]!.message).toContain("`.git/config` and `.git/hooks`");
    expect(fixed(text)).toBe(`sbc: 1
extends: read-only
filesystem:
  - allow: read-write
    path: \${workspace}
    protect: [.git]
    reason: the agent edits the project
`);
  });

  it("extends an existing inline protect list, and fixes a flow mapping", () => {
    expect(fixed("sbc: 1\nfilesystem:\n  - allow: write\n    path: ${cwd}\n    protect: [.codex]\n")).toBe("sbc: 1\nfilesystem:\n  - allow: write\n    path: ${cwd}\n    protect: [.codex, .git]\n");
    expect(fixed("sbc: 1\nfilesystem:\n  - {allow: read-write, path: \"${workspace}\"}\n")).toBe('sbc: 1\nfilesystem:\n  - {allow: read-write, path: "${workspace}", protect: [.git]}\n');
  });

  it("fixes the DSL", () => {
    const text = `sbc 1
policy {
  filesystem {
    allow read-write path "\${workspace}" reason "edits"
    allow read-write path "/tmp" protect [".x"]
  }
}
`;
    const f = lintWith(rule, text, "policy.sbc");
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3052", 4]]);
    expect(fixed(text, "policy.sbc")).toContain(`allow read-write path "\${workspace}" protect [".git"] reason "edits"`);
    const listed = `sbc 1\npolicy {\n  filesystem {\n    allow write path "\${workspace}" protect [".codex"]\n  }\n}\n`;
    expect(fixed(listed, "policy.sbc")).toContain(`protect [".codex", ".git"]`);
  });

  it("reports an ancestor grant without a fix", () => {
    const text = `sbc: 1
filesystem:
  - allow: read-write
    path: \${home}
`;
    const f = lintWith(rule, text);
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3052", 3]]);
    expect(f[0]!.diagnostic.fix).toBeUndefined();
  });

  it("works with the workspace bound to `/`", () => {
    const f = lintWith(rule, "sbc: 1\nfilesystem:\n  - allow: write\n    path: ${workspace}\n", "policy.yaml", { workspace: "/" });
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3052", 3]]);
  });

  it("reports a grant inherited from a preset at the extends line", () => {
    const f = lintWith(rule, "sbc: 1\nextends: full-access\n");
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3052", 2]]);
  });

  it("is quiet when .git is protected, or only read, or opened explicitly inside .git", () => {
    expect(lintWith(rule, "sbc: 1\nextends: workspace-write\n")).toEqual([]);
    expect(lintWith(rule, "sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /\n")).toEqual([]);
    const explicit = `sbc: 1
extends: workspace-write
filesystem:
  - allow: read-write
    path: \${workspace}/.git
  - deny: modify
    path: \${workspace}/.git/hooks
`;
    expect(lintWith(rule, explicit)).toEqual([]);
    const denied = `sbc: 1
filesystem:
  - allow: read-write
    path: \${workspace}
  - deny: modify
    path: \${workspace}/.git
`;
    expect(lintWith(rule, denied)).toEqual([]);
  });
});
