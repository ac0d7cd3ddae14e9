// Every rule of `specifiedRules` has its section in docs/lint.md (alphabetical, under `## Rules`, naming its
// code and default severity), a link in the index table, and a test file here. Examples in docs/lint.md
// tagged `# expect-lint: RULE` get a finding of that rule; those tagged `# expect-no-lint: RULE` get none.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CODES } from "../../diagnostics/codes.js";
import { specifiedRules } from "../../compiler/lint/index.js";
import { packageRoot } from "../../compiler/package-root.js";
import { expectCompiled, findingsOf, lint } from "./support.js";

const root = packageRoot();
const doc = readFileSync(join(root, "docs/lint.md"), "utf8");
const rulesPart = doc.slice(doc.indexOf("\n## Rules\n"));

describe("docs/lint.md and tests/lint/ cover every rule", () => {
  it("has a `## Rules` part whose sections are in alphabetical order", () => {
    expect(doc).toContain("\n## Rules\n");
    const ids = [...rulesPart.matchAll(/^### `?([a-z0-9-]+)`?$/gm)].map((m) => m[1]!);
    expect(ids).toEqual([...ids].sort());
  });

  for (const rule of specifiedRules) {
    it(`\`${rule.id}\`: a section with its code and default severity, an index row, a test file`, () => {
      const heading = new RegExp(`\n### \`?${rule.id}\`?\n`).exec(rulesPart);
      expect(heading, `no section \`### ${rule.id}\` under \`## Rules\``).not.toBeNull();
      const start = heading!.index;
      const next = rulesPart.indexOf("\n### ", start + 1);
      const section = rulesPart.slice(start, next < 0 ? undefined : next);
      expect(section).toContain(`\`${CODES[rule.code].code}\``);
      expect(section).toContain(rule.defaultSeverity);
      expect(doc).toContain(`[\`${rule.id}\`](#${rule.id})`);
      expect(existsSync(join(root, "tests/lint", `${rule.id}.test.ts`)), `tests/lint/${rule.id}.test.ts`).toBe(true);
    });
  }

  const examples = [...doc.matchAll(/```(yaml|sbc)\n# (expect-lint|expect-no-lint): (\S+)\n([\s\S]*?)```/g)];
  it("has tagged examples", () => expect(examples.length).toBeGreaterThanOrEqual(10));
  for (const [, syntax, expectation, id, text] of examples) {
    it(`example: ${expectation} ${id} (${text!.split("\n").slice(1, 4).join(" ").slice(0, 60)}…)`, () => {
      const ds = lint(text!, { path: syntax === "sbc" ? "example.sbc" : "example.yaml" });
      expectCompiled(ds);
      if (expectation === "expect-lint") expect(findingsOf(ds, id!).length).toBeGreaterThan(0);
      else expect(findingsOf(ds, id!)).toEqual([]);
    });
  }
});
