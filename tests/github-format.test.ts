// `--format github`: GitHub Actions workflow commands, read back the way the Actions runner parses them
// (`::name k=v,k=v::data`, then unescaping), so that escaping is tested by round trip, not by spelling.

import type { Option } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../cli/main.js";
import { DIAGNOSTIC_FORMATS } from "../cli/output.js";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { escapeData, escapeProperty, toGithubCommand } from "../diagnostics/github.js";
import { Source } from "../diagnostics/source.js";
import { ensureBuilt, sbc } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

interface Command {
  name: string;
  props: Record<string, string>;
  data: string;
}

/** The runner's parser (actions/runner ActionCommand.TryParseV2): split, then unescape each part. */
function parseCommand(line: string): Command {
  const m = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/s.exec(line);
  if (!m) throw new Error(`not a workflow command: ${line}`);
  const unData = (s: string) => s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
  const unProp = (s: string) => unData(s.replace(/%3A/g, ":").replace(/%2C/g, ","));
  const props: Record<string, string> = {};
  for (const kv of (m[2] ?? "").split(",").filter(Boolean)) {
    const eq = kv.indexOf("=");
    props[kv.slice(0, eq)] = unProp(kv.slice(eq + 1));
  }
  return { name: m[1]!, props, data: unData(m[3]!) };
}

describe("escaping", () => {
  const tricky = ["100% sure", "a:b,c", "::error::forged", "line\nbreak", "cr\r\nlf", "%0A literally", "%25", "é ✓ `x`", ""];

  it("round-trips through the runner's unescaping, in data and in properties", () => {
    for (const s of tricky) {
      expect(parseCommand(`::error::${escapeData(s)}`).data).toBe(s);
      expect(parseCommand(`::error title=${escapeProperty(s)}::x`).props.title).toBe(s);
    }
  });

  it("leaves no raw CR, LF, or (in a property) `:` or `,` that could end the value or the line", () => {
    for (const s of tricky) {
      expect(escapeData(s)).not.toMatch(/[\r\n]/);
      expect(escapeProperty(s)).not.toMatch(/[\r\n:,]/);
    }
  });
});

describe("toGithubCommand", () => {
  const src = new Source("dir/a,b:c.yaml", "sbc: 1\nfilesystem:\n  - allow: read\n    path: /usr//lib\n");
  const base = new Source("./presets/base.yaml", "line one\nline two\n");

  it("a warning on one line: file, line, columns (end inclusive), title, message and help", () => {
    const d = diag("pathNormalized", "path `/usr//lib` was normalized to `/usr/lib` — 100%, `::`", {
      span: { source: src, start: 45, end: 54 },
      help: "write `/usr/lib`",
    });
    const c = parseCommand(toGithubCommand(d));
    expect(c).toEqual({
      name: "warning",
      props: { file: "dir/a,b:c.yaml", line: "4", col: "11", endLine: "4", endColumn: "19", title: "SBC0306 path-normalized" },
      data: "path `/usr//lib` was normalized to `/usr/lib` — 100%, `::`\nhelp: write `/usr/lib`",
    });
  });

  it("a span over several lines has no columns, and one ending at a line start ends on the line before", () => {
    const d = diag("testFailed", "test 1 failed", { span: { source: base, start: 0, end: 18 }, labels: [{ span: { source: base, start: 14, end: 17 }, message: "decided here" }] });
    const c = parseCommand(toGithubCommand(d));
    expect(c.name).toBe("error");
    expect(c.props).toEqual({ file: "presets/base.yaml", line: "1", endLine: "2", title: "SBC1001 test-failed" });
    expect(c.data).toBe("test 1 failed\npresets/base.yaml:2:6: decided here");
  });

  it("a diagnostic without a span names the file it belongs to, or none", () => {
    const d: Diagnostic = diag("unknownPreset", "`nope` is not a preset");
    expect(parseCommand(toGithubCommand(d)).props).toEqual({ title: "SBC0503 unknown-preset" });
    expect(parseCommand(toGithubCommand(d, () => "p.yaml")).props).toEqual({ file: "p.yaml", title: "SBC0503 unknown-preset" });
  });

  it("a message with a raw newline (a Diagnostic built by hand) still makes one line", () => {
    const d: Diagnostic = { code: "SBC0306", name: "path-normalized", severity: "warning", message: "a\nb\r\n::error::x", labels: [] };
    const line = toGithubCommand(d);
    expect(line.split("\n")).toHaveLength(1);
    expect(parseCommand(line).data).toBe("a\nb\r\n::error::x");
  });
});

let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = writeFiles(tempDir("sbc-github-"), {
    "warns.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /usr//lib\n",
    "broken.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: relative/path\n",
    "agent.yaml": "sbc: 1\nextends: workspace-write\ntests:\n  - write: ${workspace}/.git/config\n    expect: allow\n",
  });
}, 180_000);

describe("--format github on the command line", () => {
  it("sbc check: one command per diagnostic on stdout, then the summary; exit 1 on errors", async () => {
    const r = await sbc(["check", "./warns.yaml", "broken.yaml", "agent.yaml", "--format", "github"], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.at(-1)).toBe("2 errors, 3 warnings");
    // Lint findings (SBC30xx: agent.yaml's preset makes secrets readable) are other tests' business.
    const cmds = lines.slice(0, -1).map(parseCommand).filter((c) => !c.props.title!.startsWith("SBC30"));
    expect(cmds.map((c) => [c.name, c.props.file, c.props.title])).toEqual([
      ["warning", "warns.yaml", "SBC0306 path-normalized"],
      ["error", "broken.yaml", "SBC0301 relative-path"],
      ["error", "agent.yaml", "SBC1001 test-failed"],
    ]);
    expect(cmds[2]!.data).toContain("\npresets/workspace-write.yaml:");
  });

  it("--quiet drops warnings; a clean run prints nothing", async () => {
    const q = await sbc(["check", "warns.yaml", "--format", "github", "--quiet"], { cwd: dir });
    expect(q).toMatchObject({ code: 0, stdout: "" });
  });

  it("sbc compile: the commands go to stderr, the artifact to stdout", async () => {
    const r = await sbc(["compile", "warns.yaml", "-t", "ir", "--format", "github"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toBeTypeOf("object");
    expect(parseCommand(r.stderr.split("\n")[0]!).props.title).toBe("SBC0306 path-normalized");
  });

  it("is offered by every command that takes --format for diagnostics, the list output.ts prints", () => {
    // `diff`'s --format chooses its report (human, json, markdown, sarif: docs/diff.md), not a diagnostics format.
    const withDiagnostics = buildProgram().commands.filter(
      (c) => c.name() !== "diff" && (c.options as readonly Option[]).some((o) => o.long === "--format" && o.argChoices?.includes("sarif")),
    );
    expect(withDiagnostics.map((c) => c.name()).sort()).toEqual(["build", "check", "compile", "convert", "fmt", "import"]);
    for (const c of withDiagnostics) {
      expect((c.options as readonly Option[]).find((o) => o.long === "--format")!.argChoices, c.name()).toEqual([...DIAGNOSTIC_FORMATS]);
    }
  });
});
