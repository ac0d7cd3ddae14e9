// persistence-write (SBC3002): shell rc files, autostart, crontabs, .git/hooks and PATH directories writable,
// judged by the evaluator, reported at the granting rule, with a fix that appends `deny: modify` rules.

import { describe, expect, it } from "vitest";
import { applyFix, decidedAt, expectCompiled, findingsOf, lineOf, lint, where } from "./support.js";

const RULE = "persistence-write";

describe("persistence-write", () => {
  it("a writable ~/.bashrc is an error at the rule that grants it (YAML)", () => {
    const ds = lint(`sbc: 1
filesystem:
  - allow: read-only
    path: /usr
  - allow: [read, write]
    exact: \${home}/.bashrc
`);
    expectCompiled(ds);
    expect(findingsOf(ds, RULE).map((d) => [d.code, d.severity, lineOf(d), d.message])).toEqual([
      ["SBC3002", "error", 5, "a place that runs code later is writable: `${home}/.bashrc`"],
    ]);
  });

  it("creating a file counts: a writable ~/.local/bin (DSL)", () => {
    const ds = lint(
      `sbc 1
policy p {
  filesystem {
    allow read-only path "/usr"
    allow create-file path "\${home}/.local"
  }
}
`,
      { path: "policy.sbc" },
    );
    expectCompiled(ds);
    expect(findingsOf(ds, RULE).map((d) => [lineOf(d), d.message])).toEqual([[5, "a place that runs code later is writable: `${home}/.local/bin`"]]);
  });

  it("`.git/hooks` writable when the workspace is granted without protecting `.git`", () => {
    const f = findingsOf(lint("sbc: 1\nfilesystem:\n  - allow: read-write\n    path: ${workspace}\n"), RULE);
    expect(f.map((d) => [lineOf(d), d.message])).toEqual([[3, "places that run code later are writable: `${workspace}/.git/hooks` and `${workspace}/.git/config`"]]);
  });

  it("passes workspace-write, whose `protect: [.git]` keeps the hooks unchangeable", () => {
    const ds = lint("sbc: 1\nextends: workspace-write\n");
    expectCompiled(ds);
    expect(findingsOf(ds, RULE)).toEqual([]);
  });

  it("full-access is reported, at the preset's rule", () => {
    const f = findingsOf(lint("sbc: 1\nextends: full-access\n"), RULE);
    expect(f.map((d) => `${where(d)} ${decidedAt(d)}`)).toEqual(["policy.yaml:2 full-access.yaml:8"]);
    expect(f[0]!.message).toMatch(/^places that run code later are writable: `\$\{home\}\/\.bashrc`, .* and \d+ more$/);
  });

  for (const [syntax, path, text] of [
    ["YAML", "policy.yaml", "sbc: 1\nfilesystem:\n  - allow: read-write\n    path: ${home}\n    reason: tools write caches\n"],
    ["the DSL", "policy.sbc", 'sbc 1\npolicy p {\n  filesystem {\n    allow read-write path "${home}" reason "tools write caches"\n  }\n}\n'],
  ] as const) {
    it(`the fix in ${syntax} compiles and clears the finding`, () => {
      const f = findingsOf(lint(text, { path }), RULE);
      expect(f).toHaveLength(1);
      const fixed = applyFix(text, f[0]!.fix!);
      const after = lint(fixed, { path });
      expectCompiled(after);
      expect(findingsOf(after, RULE)).toEqual([]);
    });
  }
});
