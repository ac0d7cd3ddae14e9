// The config file of `sbc check` as library functions: validation with positions, discovery upward (nearest
// wins, package.json only with an `sbc` key, two in one directory is an error), ignore matching, and the
// examples of docs/configuration.md, which must be valid configs.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { matchesIgnore } from "../cli/check-inputs.js";
import { applyRuleSeverities } from "../lib/check.js";
import { ConfigFinder, readConfigFile } from "../lib/config-file.js";
import { diag } from "../diagnostics/diagnostic.js";
import { tempDir, writeFiles } from "./support/tmp.js";

const read = (dir: string, name: string) => readConfigFile(join(dir, name), { cwd: dir, lintRuleIds: ["secret-access"] });
const where = (r: ReturnType<typeof read>) => r.diagnostics.map((d) => `${d.code} ${d.span ? `${d.span.source.path}:${d.span.source.position(d.span.start).line}:${d.span.source.position(d.span.start).column}` : "-"} ${d.message}`);

describe("config validation", () => {
  it("accepts every key, lint rule ids and compiler warning names, and reserves `build`", () => {
    const dir = writeFiles(tempDir(), {
      "sbc.config.yaml": "rules:\n  secret-access: error\n  dead-rule: off\n  SBC0405: error\ntargets: [seccomp]\nfiles: ['**/*.yaml']\nignore: [vendor]\nparams: { workspace: /srv }\nmaxWarnings: 3\nbuild: { whatever: [1] }\n",
    });
    const r = read(dir, "sbc.config.yaml");
    expect(r.diagnostics).toEqual([]);
    expect(r.config).toMatchObject({ rules: { "secret-access": "error", "dead-rule": "off", SBC0405: "error" }, targets: ["seccomp"], files: ["**/*.yaml"], ignore: ["vendor"], params: { workspace: "/srv" }, maxWarnings: 3, dir });
  });

  it("reports each problem at its line and column, with a code", () => {
    const dir = writeFiles(tempDir(), {
      "sbc.config.json": '{\n  "rules": { "secret-acess": "warn", "yaml-syntax": "off" },\n  "targets": ["landlok"],\n  "files": "x",\n  "ignore": ["a/[b"],\n  "maxWarnings": 1.5,\n  "extra": 1\n}\n',
    });
    expect(where(read(dir, "sbc.config.json"))).toEqual([
      "SBC0121 sbc.config.json:7:3 unknown key `extra` in the config",
      "SBC0122 sbc.config.json:2:14 unknown rule `secret-acess`",
      "SBC0121 sbc.config.json:2:30 the severity of `secret-acess` must be `error`, `warning` or `off`",
      "SBC0122 sbc.config.json:2:38 `yaml-syntax` is an error and cannot be configured",
      "SBC0121 sbc.config.json:3:15 unknown target `landlok`",
      "SBC0121 sbc.config.json:4:12 `files` must be a list of strings",
      "SBC0121 sbc.config.json:5:14 `a/[b` is not a valid pattern: an unclosed `[`",
      "SBC0121 sbc.config.json:6:18 `maxWarnings` must be a whole number",
    ]);
  });

  it("a syntax error is SBC0120 at its place; an empty file is an empty config", () => {
    const dir = writeFiles(tempDir(), { "sbc.config.json": '{ "rules": {\n', "sbc.config.yml": "" });
    const r = read(dir, "sbc.config.json");
    expect(r.config).toBeUndefined();
    expect(r.diagnostics[0]!.code).toBe("SBC0120");
    expect(r.diagnostics[0]!.span?.source.path).toBe("sbc.config.json");
    expect(read(dir, "sbc.config.yml")).toMatchObject({ diagnostics: [], config: { rules: {}, ignore: [], params: {} } });
  });
});

describe("config discovery", () => {
  it("finds the nearest config upward, skips a package.json without `sbc`, and refuses two in one directory", () => {
    const dir = writeFiles(tempDir(), {
      "package.json": JSON.stringify({ name: "root", sbc: { maxWarnings: 1 } }),
      "a/package.json": JSON.stringify({ name: "a" }),
      "a/b/c/.keep": "",
      "two/sbc.config.json": "{}",
      "two/sbc.config.yaml": "{}",
      "near/sbc.config.yml": "maxWarnings: 7",
      "near/deep/.keep": "",
    });
    const finder = new ConfigFinder(dir, []);
    expect(finder.find(join(dir, "a/b/c"))?.config?.maxWarnings).toBe(1);
    expect(finder.find(join(dir, "near/deep"))?.config).toMatchObject({ maxWarnings: 7, dir: join(dir, "near") });
    expect(finder.find(join(dir, "two"))?.diagnostics.map((d) => d.code)).toEqual(["SBC0123"]);
  });
});

describe("ignore patterns", () => {
  it("match names at any depth without `/`, from the config's directory with `/`, and everything beneath a matched directory", () => {
    const at = (p: string) => join("/r", p);
    expect(matchesIgnore(["vendor"], "/r", at("x/vendor/p.yaml"))).toBe(true);
    expect(matchesIgnore(["*.generated.yaml"], "/r", at("a/b/z.generated.yaml"))).toBe(true);
    expect(matchesIgnore(["policies/old"], "/r", at("policies/old/a/p.yaml"))).toBe(true);
    expect(matchesIgnore(["policies/old"], "/r", at("x/policies/old/p.yaml"))).toBe(false);
    expect(matchesIgnore(["vendor"], "/r", at("vendored/p.yaml"))).toBe(false);
    expect(matchesIgnore(["vendor"], "/r", "/elsewhere/vendor/p.yaml")).toBe(false);
  });
});

describe("severities from the config", () => {
  it("turn warnings off or into errors; errors stay errors", () => {
    const w = diag("unusedParam", "parameter `x` is never used");
    const e = diag("testFailed", "test 1 failed");
    expect(applyRuleSeverities([w, e], { "unused-param": "off", "test-failed": "off" })).toEqual([e]);
    expect(applyRuleSeverities([w], { "unused-param": "error" })[0]!.severity).toBe("error");
    expect(applyRuleSeverities([w], {})).toEqual([w]);
  });
});

describe("docs/configuration.md", () => {
  it("every example is a valid config", () => {
    const md = readFileSync(join(import.meta.dirname, "..", "docs", "configuration.md"), "utf8");
    const blocks = [...md.matchAll(/^```(json|yaml)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const b of blocks) {
      const name = b.lang === "yaml" ? "sbc.config.yaml" : b.text.includes('"sbc"') ? "package.json" : "sbc.config.json";
      const dir = writeFiles(tempDir(), { [name]: b.text });
      expect(where(readConfigFile(join(dir, name), { cwd: dir, lintRuleIds: [] })), b.text).toEqual([]);
    }
  });
});
