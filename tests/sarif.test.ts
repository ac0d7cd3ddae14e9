// `--format sarif` against the OASIS SARIF 2.1.0 schemas (fixtures/data/sarif/), and against what GitHub code
// scanning needs beyond the schema: a rule index and a location on every result, rule help, relative paths.

import type { ValidateFunction } from "ajv";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { allCodes, CODES } from "../diagnostics/codes.js";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { DOCS_BASE_URL, helpUri, isLintCode } from "../diagnostics/docs-url.js";
import { toSarif, type SarifLog } from "../diagnostics/sarif.js";
import { Source } from "../diagnostics/source.js";
import { specifiedRules } from "../compiler/lint/index.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { ensureBuilt, REPO, sbc } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

// ajv is CommonJS; its default export (draft-07) through require, as tests/published-schema.test.ts does.
const require = createRequire(import.meta.url);
const Ajv = require("ajv") as typeof import("ajv").default;
type Ajv = InstanceType<typeof Ajv>;

const SCHEMA_DIR = join(REPO, "fixtures", "data", "sarif");

/** ajv without ajv-formats: the three formats the schema names, checked with the URL parser and Date. */
function ajvWithFormats(unicodeRegExp = true): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp });
  ajv.addFormat("uri", (s: string) => URL.canParse(s));
  ajv.addFormat("uri-reference", (s: string) => URL.canParse(s, "http://base.invalid/"));
  ajv.addFormat("date-time", (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)));
  return ajv;
}

function loadSchemas(): { name: string; validate: ValidateFunction }[] {
  const errata = JSON.parse(readFileSync(join(SCHEMA_DIR, "sarif-schema-2.1.0.json"), "utf8")) as Record<string, unknown>;
  // Draft-04's `id` is draft-07's `$id`; the schema uses no other draft-04 keyword (fixtures/data/sarif/README.md).
  const { id, $schema: _draft04, ...rest } = errata as { id: string; $schema: string };
  const draft07 = JSON.parse(readFileSync(join(SCHEMA_DIR, "sarif-schema-2.1.0.draft-07.json"), "utf8")) as object;
  return [
    { name: "errata01 (draft-04)", validate: ajvWithFormats().compile({ $id: id, ...rest }) },
    // Its language-tag pattern (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, fixed in the errata) is not a valid
    // Unicode-mode regular expression; without the `u` flag the stray `]` is a literal, as the authors' tools read it.
    { name: "draft-07", validate: ajvWithFormats(false).compile(draft07) },
  ];
}

let schemas: { name: string; validate: ValidateFunction }[];

function expectValid(log: unknown): void {
  for (const s of schemas) {
    const ok = s.validate(log);
    expect(ok ? [] : s.validate.errors, `${s.name} schema`).toEqual([]);
  }
}

/** What GitHub code scanning needs of every result, beyond the schema. */
function expectUsefulToGithub(log: SarifLog): void {
  const run = log.runs[0]!;
  const rules = run.tool.driver.rules;
  expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  for (const r of rules) {
    expect(r.shortDescription.text.length).toBeGreaterThan(0);
    expect(r.fullDescription.text.length).toBeLessThanOrEqual(1024);
    expect(r.help.text).toContain(r.helpUri);
    expect(r.helpUri.startsWith(DOCS_BASE_URL)).toBe(true);
    expect(["error", "warning"]).toContain(r.defaultConfiguration.level);
  }
  for (const result of run.results) {
    expect(rules[result.ruleIndex]!.id).toBe(result.ruleId);
    expect(["error", "warning"]).toContain(result.level);
    expect(result.message.text.length).toBeGreaterThan(0);
    expect(result.locations.length).toBeGreaterThanOrEqual(1);
    for (const loc of [...result.locations, ...(result.relatedLocations ?? [])]) {
      const a = loc.physicalLocation.artifactLocation;
      expect(a.uri, "a relative path, resolved against %SRCROOT%").not.toMatch(/^(\/|[a-z]+:)/i);
      expect(a.uriBaseId).toBe("%SRCROOT%");
      expect(loc.physicalLocation.region?.startLine).toBeGreaterThanOrEqual(1);
    }
  }
  expect(run.results.length).toBeLessThanOrEqual(5000); // GitHub keeps at most 5,000 results per run
  expect((run as { automationDetails?: unknown }).automationDetails, "left to upload-sarif's category").toBeUndefined();
}

let dir: string;

beforeAll(() => {
  ensureBuilt();
  schemas = loadSchemas();
  dir = writeFiles(tempDir("sbc-sarif-"), {
    "clean.yaml": "sbc: 1\nname: clean\nfilesystem:\n  - allow: read\n    path: /usr\n",
    "errors.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: relative/path\n  - allow: read\n    path: /usr//lib\nnetwork:\n  rules:\n    - allow: connect\n      ports: [70000]\n",
    "policies/base.yaml": "sbc: 1\nfilesystem:\n  - deny: modify\n    path: /srv/data\n",
    "policies/child.yaml":
      "sbc: 1\nextends: ./base.yaml\nfilesystem:\n  - allow: read\n    path: /srv\ntests:\n  - write: /srv/data/x\n    expect: allow\n",
    "labels.yaml": "sbc: 1\nextends: workspace-write\ntests:\n  - write: ${workspace}/.git/config\n    expect: allow\n",
  });
}, 180_000);

async function sarifOf(args: string[]): Promise<{ log: SarifLog; code: number | null }> {
  const r = await sbc(["check", "--format", "sarif", ...args], { cwd: dir });
  expect(r.stderr).not.toMatch(/internal error/);
  return { log: JSON.parse(r.stdout) as SarifLog, code: r.code };
}

describe("sbc check --format sarif", () => {
  it("a clean run is a valid log with every catalog code as a rule and no results", async () => {
    const { log, code } = await sarifOf(["clean.yaml"]);
    expect(code).toBe(0);
    expectValid(log);
    expectUsefulToGithub(log);
    expect(log.runs[0]!.results).toEqual([]);
    expect(log.runs[0]!.tool.driver.rules.map((r) => r.id)).toEqual(allCodes().map((c) => c.code));
    expect(log.runs[0]!.originalUriBaseIds?.["%SRCROOT%"]?.uri).toMatch(/^file:\/\/\/.*\/$/);
  });

  it("errors and warnings with spans: levels, regions in UTF-16 columns, end exclusive", async () => {
    const { log, code } = await sarifOf(["errors.yaml"]);
    expect(code).toBe(1);
    expectValid(log);
    expectUsefulToGithub(log);
    const results = log.runs[0]!.results;
    expect(results.map((r) => [r.ruleId, r.level])).toEqual([
      ["SBC0301", "error"],
      ["SBC0306", "warning"],
      ["SBC0701", "error"],
    ]);
    expect(results[0]!.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: "errors.yaml", uriBaseId: "%SRCROOT%" },
      region: { startLine: 4, startColumn: 11, endLine: 4, endColumn: 24 },
    });
    expect(results[0]!.message.text).toMatch(/^path `relative\/path` is relative \(help: /);
    expect(log.runs[0]!.columnKind).toBe("utf16CodeUnits");
  });

  it("several files, one extending another: paths relative to the working directory, labels as related locations", async () => {
    const { log } = await sarifOf(["policies/child.yaml", "labels.yaml"]);
    expectValid(log);
    expectUsefulToGithub(log);
    const results = log.runs[0]!.results;
    const files = new Set(results.flatMap((r) => [...r.locations, ...(r.relatedLocations ?? [])].map((l) => l.physicalLocation.artifactLocation.uri)));
    expect(files).toContain("policies/child.yaml");
    expect(files).toContain("policies/base.yaml");
    const failed = results.find((r) => r.ruleId === "SBC1001" && r.locations[0]!.physicalLocation.artifactLocation.uri === "labels.yaml");
    expect(failed?.relatedLocations?.[0]).toMatchObject({ id: 1, message: { text: "decided by this rule (deny)" } });
    expect(failed?.relatedLocations?.[0]?.physicalLocation.artifactLocation.uri).toBe("presets/workspace-write.yaml");
  });

  it("a diagnostic that belongs to no file (an unknown --preset) is a configuration notification, not a result without a location", async () => {
    const { log, code } = await sarifOf(["clean.yaml", "--preset", "no-such-preset"]);
    expect(code).toBe(1);
    expectValid(log);
    expectUsefulToGithub(log);
    expect(log.runs[0]!.results).toEqual([]);
    const n = log.runs[0]!.invocations![0]!.toolConfigurationNotifications;
    expect(n.map((x) => [x.descriptor.id, x.level])).toEqual([["SBC0503", "error"]]);
    expect(log.runs[0]!.tool.driver.rules[n[0]!.descriptor.index]!.id).toBe("SBC0503");
  });

  it("--quiet leaves the warnings out of the results", async () => {
    const { log } = await sarifOf(["errors.yaml", "--quiet"]);
    expect(log.runs[0]!.results.map((r) => r.level)).toEqual(["error", "error"]);
  });
});

describe("toSarif", () => {
  const src = new Source("dir/pol icy.yaml", "sbc: 1\nname: x\n");
  const other = new Source("/elsewhere/base.yaml", "sbc: 1\n");

  it("a span-less diagnostic takes the file the command says it belongs to", () => {
    const d = diag("unknownParam", "`--param` names `nope`, which is not a parameter");
    const log = toSarif([d], { toolVersion: "1.2.3", fileOf: () => "dir/pol icy.yaml" });
    expectValid(log);
    expect(log.runs[0]!.results[0]!.locations[0]!.physicalLocation).toEqual({ artifactLocation: { uri: "dir/pol%20icy.yaml", uriBaseId: "%SRCROOT%" }, region: { startLine: 1 } });
    expect(log.runs[0]!.invocations).toBeUndefined();
  });

  it("an absolute path outside the working directory is a file URI without a base", () => {
    const d = diag("pathNormalized", "m", { span: { source: other, start: 0, end: 3 } });
    const log = toSarif([d], { toolVersion: "1.2.3" });
    expectValid(log);
    expect(log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation).toEqual({ uri: "file:///elsewhere/base.yaml" });
  });

  it("a fix becomes a SARIF fix with UTF-16 offsets; messages with markup and newlines stay valid", () => {
    const d: Diagnostic = diag("pathNormalized", "a `%` and a \n newline, `::` and `,`", {
      span: { source: src, start: 8, end: 12 },
      help: "write `name: y`",
      fix: { description: "rename it", edits: [{ span: { source: src, start: 14, end: 15 }, text: "y" }] },
    });
    const log = toSarif([d], { toolVersion: "1.2.3", cwd: "/work/project" });
    expectValid(log);
    expectUsefulToGithub(log);
    const r = log.runs[0]!.results[0]!;
    expect(r.message.text).toBe("a `%` and a \\x0a newline, `::` and `,` (help: write `name: y`)");
    expect(r.fixes).toEqual([
      {
        description: { text: "rename it" },
        artifactChanges: [{ artifactLocation: { uri: "dir/pol%20icy.yaml", uriBaseId: "%SRCROOT%" }, replacements: [{ deletedRegion: { charOffset: 14, charLength: 1 }, insertedContent: { text: "y" } }] }],
      },
    ]);
    expect(log.runs[0]!.originalUriBaseIds).toEqual({ "%SRCROOT%": { uri: "file:///work/project/" } });
  });

  it("a code missing from the catalog is a bug, not a result with a wrong rule", () => {
    const d = { ...diag("pathNormalized", "m"), code: "SBC9999" };
    expect(() => toSarif([d], { toolVersion: "1" })).toThrow(/SBC9999/);
  });

  it("security-tagged codes carry GitHub's security-severity; lint codes link to docs/lint.md by rule id", () => {
    const rules = [
      { code: "SBC3001", name: "secret-access", severity: "error" as const, summary: "A secret is readable.", tags: ["security"] },
      { code: "SBC3002", name: "unused-param", severity: "warning" as const, summary: "A parameter is unused." },
    ];
    const log = toSarif([], { toolVersion: "1", rules });
    expectValid(log);
    const [a, b] = log.runs[0]!.tool.driver.rules;
    expect(a).toMatchObject({ helpUri: `${DOCS_BASE_URL}lint.md#secret-access`, properties: { tags: ["sbc", "lint", "security"], "security-severity": "7.5" } });
    expect(b!.properties).toEqual({ tags: ["sbc", "lint"], precision: "very-high" });
  });
});

describe("every golden fixture's diagnostics", () => {
  it("make a valid log that GitHub can use (each policy file as `sbc check` in its folder would report it)", () => {
    const fixtures = join(REPO, "fixtures");
    let results = 0;
    for (const c of readdirSync(fixtures).filter((d) => /^(ok|err)-/.test(d)).sort()) {
      const dir = join(fixtures, c);
      const paramsFile = join(dir, "params.json");
      const params = existsSync(paramsFile) ? (JSON.parse(readFileSync(paramsFile, "utf8")) as Record<string, string>) : {};
      const r = compilePolicy({ kind: "file", path: "policy.yaml" }, { cwd: dir, params, runTests: true });
      const log = toSarif(r.diagnostics, { toolVersion: "0.0.0", cwd: dir, fileOf: () => "policy.yaml" });
      expectValid(log);
      expectUsefulToGithub(log);
      results += log.runs[0]!.results.length;
    }
    expect(results).toBeGreaterThan(100);
  });
});

describe("rule metadata", () => {
  it("every code outside the lint family links to its own anchor in docs/diagnostics.md", () => {
    const doc = readFileSync(join(REPO, "docs", "diagnostics.md"), "utf8");
    for (const c of allCodes().filter((x) => !isLintCode(x))) {
      const anchor = helpUri(c).split("#")[1]!;
      expect(doc, c.code).toContain(`<a id="${anchor}"></a>`);
    }
  });

  it("each lint rule's catalog entry is in family 30 (or tagged `lint`: SBC0405 kept its code) and named by the rule's id (SARIF name, docs/lint.md anchor)", () => {
    for (const rule of specifiedRules) {
      const info = CODES[rule.code];
      if (!info.tags?.includes("lint")) expect(info.code, rule.id).toMatch(/^SBC30\d\d$/);
      expect(info.name, rule.code).toBe(rule.id);
      expect(helpUri(info)).toBe(`${DOCS_BASE_URL}lint.md#${rule.id}`);
    }
  });
});
