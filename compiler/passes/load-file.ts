// Stage `load`: one file from bytes to AST — UTF-8 decoding, YAML, the format version, the JSON Schema, and
// the lowering to the AST. Each step stops the file at its first failing step, so a syntax error is not
// followed by a cascade of schema errors.

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { span, Source } from "../diagnostics/source.js";
import type { PolicyFile } from "../language/ast.js";
import { FORMAT_VERSION } from "../language/schema.js";
import { checkSchema } from "../language/schema-check.js";
import { yamlToAst } from "../language/yaml-to-ast.js";
import { parseYaml } from "../language/yaml-source.js";
import { isDslPath, parseDsl } from "../../grammar/index.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decode bytes as UTF-8, or report the first invalid byte. */
export function decodeSource(path: string, bytes: Uint8Array): { source?: Source; diagnostics: Diagnostic[] } {
  try {
    let text = decoder.decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { source: new Source(path, text), diagnostics: [] };
  } catch {
    // Find the offending byte so the message can say where.
    let offset = 0;
    for (let i = 1; i <= bytes.length; i++) {
      try {
        decoder.decode(bytes.subarray(0, i));
        offset = i;
      } catch {
        // A multi-byte sequence may be incomplete here and valid with more bytes; keep the last good prefix.
      }
      if (i - offset > 4) break;
    }
    const good = new Source(path, new TextDecoder().decode(bytes.subarray(0, offset)));
    return {
      diagnostics: [
        diag("notUtf8", `the file is not valid UTF-8 (byte ${offset})`, {
          span: span(good, good.text.length, good.text.length),
          help: "save the policy as UTF-8; non-UTF-8 path names cannot be written in a policy",
        }),
      ],
    };
  }
}

export function loadSource(source: Source): { file?: PolicyFile; diagnostics: Diagnostic[] } {
  // A `.sbc` file is the DSL; it gives the same document tree as YAML, so everything after this line is shared.
  const parsed = isDslPath(source.path) ? parseDsl(source) : parseYaml(source);
  if (!parsed.doc) return { diagnostics: parsed.diagnostics };
  const doc = parsed.doc;
  const root = doc.value;
  if (root !== null && typeof root === "object" && !Array.isArray(root)) {
    const v = (root as Record<string, unknown>).sbc;
    if (v !== undefined && v !== FORMAT_VERSION) {
      return {
        diagnostics: [
          diag("unsupportedVersion", `format version \`${JSON.stringify(v)}\` is not supported`, {
            span: doc.locate(["sbc"]).value,
            help: `this compiler reads \`sbc: ${FORMAT_VERSION}\``,
          }),
        ],
      };
    }
  }
  const schemaDiagnostics = checkSchema(doc);
  if (schemaDiagnostics.length) return { diagnostics: schemaDiagnostics };
  return yamlToAst(doc);
}
