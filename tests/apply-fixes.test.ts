// `sbc check --fix` as library functions: applyFixes (all edits of a fix or none, conflicts skipped in a
// deterministic order) and the fix loop, driven by a synthetic rule that offers fixes (the real rules land
// separately; the loop must not depend on any of them).

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { runCheck, type CheckCommandOptions } from "../cli/check-command.js";
import type { CodeKey } from "../diagnostics/codes.js";
import type { Fix } from "../diagnostics/diagnostic.js";
import { Source, span } from "../diagnostics/source.js";
import { applyFixes, fixPolicyText, MAX_FIX_PASSES } from "../compiler/lint/apply-fixes.js";
import type { LintRule } from "../compiler/lint/rule.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { tempDir } from "./support/tmp.js";

const src = new Source("t.yaml", "0123456789");
const edit = (start: number, end: number, text: string) => ({ span: span(src, start, end), text });
const fix = (description: string, ...edits: ReturnType<typeof edit>[]): Fix => ({ description, edits });

describe("applyFixes", () => {
  it("applies non-overlapping fixes whatever order they come in, each edit at its own offsets", () => {
    const r = applyFixes("0123456789", [fix("b", edit(7, 9, "XY-")), fix("a", edit(1, 2, ""), edit(4, 4, "+"))]);
    expect(r.text).toBe("023+456XY-9");
    expect(r.applied.map((f) => f.description)).toEqual(["a", "b"]);
    expect(r.skipped).toEqual([]);
  });

  it("skips a fix that overlaps an earlier one, and applies none of its edits", () => {
    const a = fix("a", edit(1, 2, "A"), edit(6, 8, "A"));
    const c = fix("c", edit(3, 4, "C"), edit(7, 9, "C")); // its second edit overlaps a's
    const r = applyFixes("0123456789", [c, a]);
    expect(r.text).toBe("0A2345A89");
    expect(r.applied).toEqual([a]);
    expect(r.skipped).toEqual([c]);
  });

  it("is deterministic: the fix that starts first wins, ties go to the order given", () => {
    const x = fix("x", edit(2, 4, "X"));
    const y = fix("y", edit(2, 5, "Y"));
    expect(applyFixes("0123456789", [x, y]).text).toBe("01X456789");
    expect(applyFixes("0123456789", [y, x]).text).toBe("01Y56789");
  });

  it("treats two edits at one offset as a conflict (which goes first would be a guess), touching ranges not", () => {
    const r = applyFixes("0123456789", [fix("ins", edit(3, 3, "I")), fix("rep", edit(3, 5, "R")), fix("next", edit(5, 6, "N"))]);
    expect(r.applied.map((f) => f.description)).toEqual(["ins", "next"]);
    expect(r.text).toBe("012I34N6789");
  });

  it("skips fixes with an edit out of range, reversed, or overlapping its own edits", () => {
    const bad = [fix("past-end", edit(8, 11, "")), { description: "reversed", edits: [{ span: { source: src, start: 5, end: 3 }, text: "" }] }, fix("self", edit(1, 4, ""), edit(3, 5, "")), fix("empty")];
    const r = applyFixes("0123456789", bad);
    expect(r.text).toBe("0123456789");
    expect(r.skipped.map((f) => f.description).sort()).toEqual(["empty", "past-end", "reversed", "self"]);
  });

  it("uses UTF-16 offsets: an edit after an emoji lands after it", () => {
    const text = "a😀b";
    const r = applyFixes(text, [fix("b→c", { span: span(new Source("t", text), 3, 4), text: "c" })]);
    expect(r.text).toBe("a😀c");
  });
});

/** A rule for the tests: every `read-write` in the checked file should be `read-only`, and it offers that fix. */
function readWriteRule(where: "entry" | "base" = "entry"): LintRule {
  return {
    id: "test-read-write",
    code: "deadRule" as CodeKey,
    defaultSeverity: "warning",
    description: "test rule",
    fixable: true,
    run(ctx) {
      const file = where === "entry" ? ctx.file : ctx.files[0]!;
      const text = file.source.text;
      for (let i = text.indexOf("read-write"); i >= 0; i = text.indexOf("read-write", i + 1)) {
        const at = span(file.source, i, i + "read-write".length);
        ctx.report({ message: "`read-write` here", span: at, fix: { description: "make it read-only", edits: [{ span: at, text: "read-only" }] } });
      }
    },
  };
}

const POLICY = `sbc: 1
filesystem:
  - allow: read-write
    path: /srv/a
  - allow: [read-write]
    path: /srv/b
`;

describe("the fix loop", () => {
  it("applies every fix, re-checks, and reports what remains (nothing); the result compiles", () => {
    const r = fixPolicyText("p.yaml", POLICY, { ruleSet: [readWriteRule()] });
    expect(r.fixed).toBe(2);
    expect(r.text).toBe(POLICY.replaceAll("read-write", "read-only"));
    expect(r.diagnostics).toEqual([]);
    expect(r.reverted).toBe(false);
    expect(compilePolicy({ kind: "text", path: "p.yaml", text: r.text }).diagnostics).toEqual([]);
  });

  it("leaves the text alone when the rule is off", () => {
    const r = fixPolicyText("p.yaml", POLICY, { ruleSet: [readWriteRule()], rules: { "test-read-write": "off" } });
    expect(r).toMatchObject({ text: POLICY, fixed: 0, diagnostics: [] });
  });

  it("never edits a file the policy extends: the finding there stays", () => {
    const dir = tempDir("sbc-fix-");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "base.yaml"), "sbc: 1\nfilesystem:\n  - allow: read-write\n    path: /srv/base\n");
    const entry = "sbc: 1\nextends: ./base.yaml\n";
    const r = fixPolicyText(join(dir, "p.yaml"), entry, { ruleSet: [readWriteRule("base")] });
    expect(r.fixed).toBe(0);
    expect(r.text).toBe(entry);
    expect(r.diagnostics.map((d) => d.message)).toEqual(["`read-write` here"]);
  });

  it("undoes a pass whose fixes break the policy, and says so", () => {
    const breaking: LintRule = {
      ...readWriteRule(),
      run(ctx) {
        const at = span(ctx.file.source, 0, "sbc: 1".length);
        ctx.report({ message: "version", span: at, fix: { description: "break it", edits: [{ span: at, text: "sbc: 9" }] } });
      },
    };
    const r = fixPolicyText("p.yaml", POLICY, { ruleSet: [breaking] });
    expect(r).toMatchObject({ text: POLICY, fixed: 0, reverted: true });
  });

  it("stops after MAX_FIX_PASSES when a fix keeps offering itself", () => {
    const endless: LintRule = {
      ...readWriteRule(),
      run(ctx) {
        const at = span(ctx.file.source, 0, 0);
        ctx.report({ message: "again", span: at, fix: { description: "add a comment", edits: [{ span: at, text: "# x\n" }] } });
      },
    };
    const r = fixPolicyText("p.yaml", POLICY, { ruleSet: [endless] });
    expect(r.fixed).toBe(MAX_FIX_PASSES);
    expect(r.text).toBe("# x\n".repeat(MAX_FIX_PASSES) + POLICY);
  });
});

describe("sbc check --fix, in process with the synthetic rule", () => {
  // The same path through the binary, with the real fixable rules, is in tests/cli-check.test.ts.
  const options = (extra: Partial<CheckCommandOptions>): CheckCommandOptions => ({ preset: [], param: [], format: "json", color: false, config: false, ...extra });
  const capture = async (f: () => Promise<number>) => {
    const out: string[] = [];
    const err: string[] = [];
    const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
    const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
    try {
      return { code: await f(), stdout: out.join(""), stderr: err.join("") };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  };

  it("rewrites the checked file atomically, reports what remains, and leaves no temp file; --fix-dry-run writes nothing", async () => {
    const dir = tempDir("sbc-fix-cli-");
    writeFileSync(join(dir, "p.yaml"), POLICY);
    writeFileSync(join(dir, "q.yaml"), POLICY);
    const dry = await capture(() => runCheck(["q.yaml"], options({ fixDryRun: true, verbose: true }), { cwd: dir, ruleSet: [readWriteRule()] }));
    expect(dry.code).toBe(0);
    expect(readFileSync(join(dir, "q.yaml"), "utf8")).toBe(POLICY);
    expect(dry.stderr).toMatch(/0 warnings, 2 fixed/);
    const r = await capture(() => runCheck(["p.yaml"], options({ fix: true }), { cwd: dir, ruleSet: [readWriteRule()] }));
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "p.yaml"), "utf8")).toBe(POLICY.replaceAll("read-write", "read-only"));
    expect(JSON.parse(r.stdout).summary).toEqual({ errors: 0, warnings: 0 });
    expect(readdirSync(dir).sort()).toEqual(["p.yaml", "q.yaml"]);
    // Without --fix the same rule only reports.
    const plain = await capture(() => runCheck(["q.yaml"], options({}), { cwd: dir, ruleSet: [readWriteRule()] }));
    expect(JSON.parse(plain.stdout).summary).toEqual({ errors: 0, warnings: 2 });
  });

  it("keeps a byte order mark, which spans do not count", async () => {
    const dir = tempDir("sbc-fix-cli-");
    writeFileSync(join(dir, "p.yaml"), "\ufeff" + POLICY);
    await capture(() => runCheck(["p.yaml"], options({ fix: true }), { cwd: dir, ruleSet: [readWriteRule()] }));
    expect(readFileSync(join(dir, "p.yaml"), "utf8")).toBe("\ufeff" + POLICY.replaceAll("read-write", "read-only"));
  });

  it("does not touch a file the policy extends, even when it is in the project", async () => {
    const dir = tempDir("sbc-fix-cli-");
    writeFileSync(join(dir, "base.yaml"), POLICY);
    writeFileSync(join(dir, "p.yaml"), "sbc: 1\nextends: ./base.yaml\n");
    const r = await capture(() => runCheck(["p.yaml"], options({ fix: true }), { cwd: dir, ruleSet: [readWriteRule("base")] }));
    expect(readFileSync(join(dir, "base.yaml"), "utf8")).toBe(POLICY);
    expect(JSON.parse(r.stdout).summary.warnings).toBe(2);
  });
});
