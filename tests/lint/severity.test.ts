// Rule severities: defaults, per-rule configuration (`error`, `warning`, `off`), the validator a config
// loader uses, and the rule metadata that SARIF and the docs read.

import { describe, expect, it } from "vitest";
import { CODES } from "../../diagnostics/codes.js";
import { checkLintRuleSetting, lintRuleMetadata, specifiedRules, validateRuleSeverities } from "../../compiler/lint/index.js";
import { findingsOf, lint } from "./support.js";

const ROOT_WRITABLE = "sbc: 1\nfilesystem:\n  - allow: read-write\n    path: /\n";

describe("severities", () => {
  it("each rule reports at its default severity unless configured", () => {
    const ds = lint(ROOT_WRITABLE);
    expect(findingsOf(ds, "broad-write").map((d) => d.severity)).toEqual(["error"]);
    expect(lint(ROOT_WRITABLE, { rules: { "broad-write": "warning" } }).filter((d) => d.name === "broad-write").map((d) => d.severity)).toEqual(["warning"]);
  });

  it("`off` turns a rule off and leaves the others alone", () => {
    const ds = lint(ROOT_WRITABLE, { rules: { "broad-write": "off", "secret-access": "off" } });
    expect(findingsOf(ds, "broad-write")).toEqual([]);
    expect(findingsOf(ds, "secret-access")).toEqual([]);
    expect(findingsOf(ds, "persistence-write")).toHaveLength(1);
  });

  it("ids the linter does not know (a config file may also name compiler warnings) are ignored by the runner", () => {
    expect(lint(ROOT_WRITABLE, { rules: { "dead-rule": "off" } }).map((d) => d.name).sort()).toEqual(lint(ROOT_WRITABLE).map((d) => d.name).sort());
  });
});

describe("validateRuleSeverities", () => {
  it("accepts rule ids with `error`, `warning` or `off`, and the unused-directive setting", () => {
    expect(validateRuleSeverities({ "secret-access": "warning", "broad-write": "off", "lint-unused-directive": "error" })).toEqual({
      rules: { "secret-access": "warning", "broad-write": "off", "lint-unused-directive": "error" },
      problems: [],
    });
  });

  it("names an unknown rule with a suggestion, and a bad severity with the allowed words", () => {
    const r = validateRuleSeverities({ "secret-acces": "error", "broad-write": "warn", "persistence-write": 2, "dangerous-syscall": "error" });
    expect(r.rules).toEqual({ "dangerous-syscall": "error" });
    expect(r.problems).toEqual([
      { id: "secret-acces", message: "unknown lint rule `secret-acces`", help: "did you mean `secret-access`?" },
      { id: "broad-write", message: "the severity of `broad-write` must be `error`, `warning` or `off`, not `warn`", help: "did you mean `warning`?" },
      { id: "persistence-write", message: "the severity of `persistence-write` must be `error`, `warning` or `off`, not a number" },
    ]);
    expect(checkLintRuleSetting("broad-write", "off")).toBeUndefined();
  });

  it("refuses settings that are not a mapping", () => {
    expect(validateRuleSeverities({ "dead-rule": "off" }).problems.map((p) => p.message)).toEqual(["unknown lint rule `dead-rule`"]);
    expect(validateRuleSeverities({ "dead-rule": "off" }, { alsoAccept: ["dead-rule"] })).toEqual({ rules: { "dead-rule": "off" }, problems: [] });
    for (const v of [null, [], "error", 3]) expect(validateRuleSeverities(v).problems.map((p) => p.message)).toEqual(["lint rule settings must be a mapping from rule ids to `error`, `warning` or `off`"]);
  });
});

describe("rule metadata", () => {
  it("every rule has a unique id, a code whose name is the id, and a docs anchor", () => {
    const meta = lintRuleMetadata();
    expect(meta.length).toBe(specifiedRules.length);
    expect(new Set(meta.map((m) => m.id)).size).toBe(meta.length);
    expect(new Set(meta.map((m) => m.code)).size).toBe(meta.length);
    for (const m of meta) {
      expect(m.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(m.code).toMatch(/^SBC\d{4}$/);
      expect(Object.values(CODES).find((c) => c.code === m.code)!.name).toBe(m.id);
      expect(m.docs).toBe(`docs/lint.md#${m.id}`);
      expect(["error", "warning"]).toContain(m.defaultSeverity);
      expect(m.description.length).toBeGreaterThan(20);
    }
    expect(meta.find((m) => m.id === "secret-access")).toMatchObject({ code: "SBC3001", defaultSeverity: "error", fixable: true });
  });
});
