// Files generated from the compiler's own tables: the published JSON Schema and the diagnostics catalog.
// `npm run gen` writes them; tests/generated.test.ts fails when a committed copy has drifted.

import { join } from "node:path";
import { allCodes } from "../compiler/diagnostics/codes.js";
import { POLICY_SCHEMA } from "../compiler/language/schema.js";

export const REPO_ROOT = join(import.meta.dirname, "..");

export interface GeneratedFile {
  readonly path: string; // relative to the repo root
  readonly content: string;
}

function diagnosticsDoc(): string {
  const families: Record<string, string> = {
    "01": "Reading the file",
    "02": "Shape (JSON Schema)",
    "03": "Paths",
    "04": "Parameters",
    "05": "Extends",
    "06": "Filesystem rules",
    "07": "Network rules",
    "08": "Syscall rules",
    "09": "Command rules",
    "10": "Tests written in the policy",
  };
  const lines = [
    "<!-- Generated from compiler/diagnostics/codes.ts by `npm run gen`; do not edit. -->",
    "# Diagnostics",
    "",
    "Every problem sbc reports has a stable code. A code keeps its meaning forever; a retired code is never",
    "reused. Errors make `sbc compile` and `sbc check` exit 1; warnings do not, unless `--max-warnings` is",
    "exceeded. Usage errors (a bad command line, a file named on the command line that cannot be read) are not",
    "diagnostics: they print `sbc: …` and exit 2. See `docs/cli.md` for the output formats.",
    "",
  ];
  let family = "";
  for (const c of allCodes()) {
    const f = c.code.slice(3, 5);
    if (f !== family) {
      family = f;
      lines.push(`## ${families[f] ?? f}`, "", "| code | name | severity | meaning |", "| --- | --- | --- | --- |");
    }
    lines.push(`| \`${c.code}\` | \`${c.name}\` | ${c.severity} | ${c.summary.replace(/\|/g, "\\|")} |`);
    const next = allCodes()[allCodes().indexOf(c) + 1];
    if (!next || next.code.slice(3, 5) !== f) lines.push("");
  }
  return lines.join("\n");
}

export function generatedFiles(): GeneratedFile[] {
  return [
    { path: "schema/policy.schema.json", content: JSON.stringify(POLICY_SCHEMA, null, 2) + "\n" },
    { path: "docs/diagnostics.md", content: diagnosticsDoc() },
  ];
}
