// secret-access (SBC3001): credentials writable (error) or readable (warning), judged by the evaluator, one
// finding per deciding rule, with a fix that appends deny rules in YAML and in the DSL.

import { describe, expect, it } from "vitest";
import { evaluateFs } from "../../ir/evaluator/evaluate.js";
import { bindIr } from "../../ir/bind.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { testBindings } from "../../compiler/passes/run-tests.js";
import { applyFix, decidedAt, expectCompiled, findingsOf, lineOf, lint, where } from "./support.js";

const RULE = "secret-access";

describe("secret-access", () => {
  it("a writable ~/.ssh is an error and a readable one a warning, at the rule that grants it (YAML)", () => {
    const ds = lint(`sbc: 1
filesystem:
  - allow: read-write
    path: \${workspace}/src
  - allow: read-write
    path: \${home}/.ssh
`);
    expectCompiled(ds);
    const f = findingsOf(ds, RULE);
    expect(f.map((d) => [d.code, d.severity, lineOf(d), d.message])).toEqual([["SBC3001", "error", 5, "a secret is writable: `${home}/.ssh`"]]);
    // Writable and readable through one rule is one finding, whose fix denies both.
    expect(f[0]!.fix!.edits[0]!.text).toContain("- deny: read-write\n    path: \"${home}/.ssh\"");
  });

  it("readable through one rule and writable through another: a warning and an error", () => {
    const ds = lint(`sbc: 1
filesystem:
  - allow: read-only
    path: /
  - allow: [write]
    path: \${home}/.ssh
`);
    expect(findingsOf(ds, RULE).map((d) => [d.severity, lineOf(d), d.message])).toEqual([
      ["warning", 3, expect.stringMatching(/^secrets are readable: `\$\{home\}\/\.ssh`, /)],
      ["error", 5, "a secret is writable: `${home}/.ssh`"],
    ]);
  });

  it("the same in the DSL, at the DSL rule's line", () => {
    const ds = lint(
      `sbc 1
policy p {
  filesystem {
    allow read-write path "\${workspace}/src"
    allow read path "\${home}/.aws"
  }
}
`,
      { path: "policy.sbc" },
    );
    expectCompiled(ds);
    expect(findingsOf(ds, RULE).map((d) => [d.severity, lineOf(d), d.message])).toEqual([["warning", 5, "a secret is readable: `${home}/.aws`"]]);
  });

  it("a grant of `/` counts, and is one finding for every secret it opens, not one per secret", () => {
    const ds = lint(`sbc: 1
filesystem:
  - allow: read-only
    path: /
`);
    const f = findingsOf(ds, RULE);
    expect(f).toHaveLength(1);
    expect(f[0]!.message).toMatch(/^secrets are readable: `\$\{home\}\/\.ssh`, `\$\{home\}\/\.aws`, `\$\{home\}\/\.config\/gcloud` and \d+ more$/);
    expect(f[0]!.help).toContain("`${home}/.netrc`");
    expect(f[0]!.help).toContain("`${workspace}/**/.env`");
    expect(lineOf(f[0]!)).toBe(3);
  });

  it("passes a policy that grants only what the work needs", () => {
    const ds = lint(`sbc: 1
filesystem:
  - allow: read-write
    path: \${workspace}/src
  - allow: read-only
    path: /usr
`);
    expectCompiled(ds);
    expect(findingsOf(ds, RULE)).toEqual([]);
  });

  it("passes when deny rules keep the secrets out of a broad read grant", () => {
    const ds = lint(`sbc: 1
filesystem:
  - allow: read-only
    path: /
  - deny: read
    path: \${home}
  - deny: read
    glob: \${workspace}/**/.env
`);
    expectCompiled(ds);
    expect(findingsOf(ds, RULE)).toEqual([]);
  });

  it("a `.env` file in the workspace is a secret to read, not to write", () => {
    const ds = lint(`sbc: 1
filesystem:
  - allow: read-write
    path: \${workspace}
`);
    expect(findingsOf(ds, RULE).map((d) => [d.severity, d.message])).toEqual([["warning", "a secret is readable: `${workspace}/**/.env`"]]);
  });

  it("workspace-write gives warnings only, located in the presets that grant the reads", () => {
    const ds = lint("sbc: 1\nextends: workspace-write\n");
    const f = findingsOf(ds, RULE);
    expect(f.map((d) => [d.severity, where(d), decidedAt(d)]).sort((a, b) => (a[2]! < b[2]! ? -1 : 1))).toEqual([
      ["warning", "policy.yaml:2", "read-only.yaml:9"],
      ["warning", "policy.yaml:2", "workspace-write.yaml:10"],
    ]);
  });

  it("a configured severity applies to every finding of the rule", () => {
    const text = "sbc: 1\nfilesystem:\n  - allow: read\n    path: ${home}/.kube\n  - allow: write\n    path: ${home}/.aws\n";
    expect(findingsOf(lint(text, { rules: { [RULE]: "warning" } }), RULE).map((d) => d.severity)).toEqual(["warning", "warning"]);
    expect(findingsOf(lint(text, { rules: { [RULE]: "error" } }), RULE).map((d) => d.severity)).toEqual(["error", "error"]);
  });

  for (const [syntax, path, text] of [
    ["YAML", "policy.yaml", "sbc: 1\nextends: workspace-write\nfilesystem:\n  - allow: read-write\n    path: ${home}/.cache\n"],
    ["YAML without a filesystem section", "policy.yaml", "sbc: 1\nextends: workspace-write\n"],
    ["the DSL", "policy.sbc", 'sbc 1\npolicy p {\n  extends workspace-write\n  filesystem {\n    allow read-write path "${home}/.cache"\n  }\n}\n'],
    ["the DSL without a filesystem section", "policy.sbc", "sbc 1\npolicy p {\n  extends workspace-write\n}\n"],
  ] as const) {
    it(`the fix in ${syntax} compiles, clears the finding and only narrows`, () => {
      let current: string = text;
      // One fix per finding; apply them one after the other, as `check --fix` does over passes.
      for (let pass = 0; pass < 4; pass++) {
        const f = findingsOf(lint(current, { path }), RULE);
        if (!f.length) break;
        expect(f[0]!.fix).toBeDefined();
        current = applyFix(current, f[0]!.fix!);
      }
      const after = lint(current, { path });
      expectCompiled(after);
      expect(findingsOf(after, RULE)).toEqual([]);
      const before = compilePolicy({ kind: "text", path, text }).ir!;
      const fixed = compilePolicy({ kind: "text", path, text: current }).ir!;
      const b = bindIr(before, testBindings(before)).ir!;
      const a = bindIr(fixed, testBindings(fixed)).ir!;
      for (const [access, p] of [
        ["read", "/home/user/project/src/main.ts"],
        ["write", "/home/user/project/src/main.ts"],
        ["read", "/etc/passwd"],
        ["read", "/home/user/.ssh/id_ed25519"],
        ["read", "/home/user/project/.env"],
      ] as const) {
        if (evaluateFs(b, access, p).decision === "deny") expect(evaluateFs(a, access, p).decision).toBe("deny");
      }
      expect(evaluateFs(a, "read", "/home/user/project/src/main.ts").decision).toBe("allow");
      expect(evaluateFs(a, "read", "/home/user/.ssh/id_ed25519").decision).toBe("deny");
    });
  }

  it("offers no fix where the file's layout cannot be extended with certainty (flow-style YAML)", () => {
    const f = findingsOf(lint("sbc: 1\nfilesystem: [{allow: read, path: '${home}/.ssh'}]\n"), RULE);
    expect(f).toHaveLength(1);
    expect(f[0]!.fix).toBeUndefined();
  });
});
