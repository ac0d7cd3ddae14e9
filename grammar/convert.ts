// Conversion between the two surfaces of a policy. Both parse to the same document tree, so converting is:
// read the source into (document tree, comments by statement), then write that pair in the other syntax.
// The library (lib/convert.ts) adds the check that the result compiles to the same IR.

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { Source } from "../diagnostics/source.js";
import type { DocumentComments } from "../language/document-comments.js";
import { documentToYaml } from "../language/document-to-yaml.js";
import { yamlComments } from "../language/yaml-comments.js";
import { parseYaml } from "../language/yaml-source.js";
import { dslComments } from "./dsl-comments.js";
import { documentToDsl } from "./from-document.js";
import { parseDsl } from "./index.js";
import { printBuiltDsl } from "./print.js";

export type PolicySyntax = "dsl" | "yaml";

/** The syntax a policy file is written in, by its extension. */
export function syntaxOfPath(path: string): PolicySyntax | undefined {
  if (/\.sbc$/i.test(path)) return "dsl";
  if (/\.ya?ml$/i.test(path)) return "yaml";
  return undefined;
}

export const EXTENSION: Readonly<Record<PolicySyntax, string>> = { dsl: ".sbc", yaml: ".yaml" };

export interface ReadDocument {
  readonly value?: Record<string, unknown>;
  readonly comments?: DocumentComments;
  readonly diagnostics: Diagnostic[];
}

/** A policy's document tree and its comments, or the syntax diagnostics that stop it. */
export function readDocument(source: Source, syntax: PolicySyntax): ReadDocument {
  if (syntax === "dsl") {
    const r = parseDsl(source);
    if (!r.ast || !r.doc) return { diagnostics: r.diagnostics };
    return { value: r.doc.value as Record<string, unknown>, comments: dslComments(r.ast), diagnostics: r.diagnostics };
  }
  const r = parseYaml(source);
  if (!r.doc) return { diagnostics: r.diagnostics };
  return { value: r.doc.value as Record<string, unknown>, comments: yamlComments(r.doc), diagnostics: r.diagnostics };
}

const YAML_MODELINE = /^\s*yaml-language-server:/;

/** A document tree (and its comments) as text in `syntax`. Deterministic: same tree, same bytes. */
export function writeDocument(value: Record<string, unknown>, comments: DocumentComments | undefined, syntax: PolicySyntax): string {
  if (syntax === "yaml") return documentToYaml(value, comments);
  // `# yaml-language-server: $schema=…` tells a YAML editor which schema to use: it means nothing in a `.sbc`
  // file, so it is not carried over (the presets start with one).
  if (comments) comments = { ...comments, head: comments.head.filter((c) => !YAML_MODELINE.test(c)) };
  const built = documentToDsl(value, comments);
  return printBuiltDsl(built.file, built.comments);
}
