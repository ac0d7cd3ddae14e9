// Railroad syntax diagrams of the DSL, drawn from the parser's own grammar so they cannot drift from it.
// `npm run gen` writes docs/dsl-syntax-diagrams.generated.html and the scripts it needs beside it
// (docs/dsl-diagrams/, copied from the installed chevrotain with their licences), so the page works offline.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { chevrotain } from "./chevrotain.js";
import { dslParser } from "./parser.js";

export const DIAGRAMS_HTML = "docs/dsl-syntax-diagrams.generated.html";
/** Where the page loads its scripts and stylesheet from, relative to docs/. */
const ASSETS = "dsl-diagrams";
/** The files the page loads (chevrotain's names; the page refers to them by these paths). */
const ASSET_FILES = ["diagrams.css", "vendor/railroad-diagrams.js", "src/diagrams_builder.js", "src/diagrams_behavior.js", "src/main.js"];

const BANNER = "<!-- Generated from grammar/parser.ts by `npm run gen` (grammar/diagrams.ts); do not edit. -->";

/** The HTML page: chevrotain's diagram page with every resource local. */
export function diagramsHtml(): string {
  const { createSyntaxDiagramsCode } = chevrotain();
  const grammar = dslParser().getSerializedGastProductions();
  const html = createSyntaxDiagramsCode(grammar, { resourceBase: `./${ASSETS}/`, css: `./${ASSETS}/diagrams.css` });
  const out = html.replace("<!-- This is a generated file -->", BANNER).replace(/[ \t]+$/gm, "").trimStart();
  if (/(?:src|href)=['"](?:https?:)?\/\//.test(out)) throw new Error("the diagrams page refers to a remote resource");
  return out.endsWith("\n") ? out : out + "\n";
}

function chevrotainDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve("chevrotain")), "..", "..");
}

const ASSETS_README = `# Scripts for the DSL syntax diagrams

Copied by \`npm run gen\` (grammar/diagrams.ts) from the installed \`chevrotain\` package (11.2.0,
\`node_modules/chevrotain/diagrams/\`) so that \`docs/dsl-syntax-diagrams.generated.html\` renders without
network access; \`npm run gen:check\` fails when they differ from the installed copy. Do not edit.

- \`src/*.js\`, \`diagrams.css\`: chevrotain's diagram renderer, Apache License 2.0 (\`LICENSE-chevrotain.txt\`).
- \`vendor/railroad-diagrams.js\`: Tab Atkins Jr.'s railroad-diagrams, CC0 1.0 (stated in the file's header).
`;

/** Every file the diagrams need, as generated files (path relative to the repository root, content). */
export function diagramFiles(): { path: string; content: string }[] {
  const dir = chevrotainDir();
  return [
    { path: DIAGRAMS_HTML, content: diagramsHtml() },
    ...ASSET_FILES.map((f) => ({ path: `docs/${ASSETS}/${f}`, content: readFileSync(join(dir, "diagrams", f), "utf8") })),
    { path: `docs/${ASSETS}/LICENSE-chevrotain.txt`, content: readFileSync(join(dir, "LICENSE.txt"), "utf8") },
    { path: `docs/${ASSETS}/README.md`, content: ASSETS_README },
  ];
}
