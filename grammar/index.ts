// The DSL front end: `.sbc` text to the DSL AST (for the printer) and to the same document tree a YAML file
// gives (for the compiler). Importing this module is cheap: chevrotain is loaded and the parser built only
// when the first DSL file is parsed.

import { diag, sortDiagnostics, type Diagnostic } from "../compiler/diagnostics/diagnostic.js";
import { span, type Source } from "../compiler/diagnostics/source.js";
import { MAX_NESTING, type YamlDocument } from "../compiler/language/yaml-source.js";
import type { DslFile } from "./ast.js";
import { cstToAst } from "./cst-to-ast.js";
import { lexDsl } from "./lexer.js";
import { dslParser } from "./parser.js";
import { syntaxDiagnostics } from "./syntax-messages.js";
import { dslToDocument } from "./to-document.js";

export type * from "./ast.js";
export { dslToDocument } from "./to-document.js";
export { KEYWORDS, WORD_PATTERN, decodeString } from "./lexer.js";

/** The file extension of DSL policies. */
export const DSL_EXTENSION = ".sbc";

export function isDslPath(path: string): boolean {
  return path.endsWith(DSL_EXTENSION);
}

export interface DslParseResult {
  /** Present when the text is free of lexical and syntax errors. */
  readonly ast?: DslFile;
  /** Present when there are no errors at all (the document tree the schema check reads). */
  readonly doc?: YamlDocument;
  readonly diagnostics: Diagnostic[];
}

export function parseDsl(source: Source): DslParseResult {
  const lexed = lexDsl(source);
  const diagnostics = [...lexed.diagnostics];
  // A recursive-descent parser would exhaust the stack on absurd nesting; refuse it before parsing, as the
  // YAML reader does.
  let depth = 0;
  for (const tok of lexed.tokens) {
    const n = tok.tokenType.name;
    if (n === "LBracket" || n === "LCurly") {
      if (++depth > MAX_NESTING) {
        diagnostics.push(
          diag("dslTooDeep", `the file nests deeper than ${MAX_NESTING} levels`, {
            span: span(source, tok.startOffset, tok.startOffset + 1),
            help: "a policy needs only a few levels; this looks like generated or damaged input",
          }),
        );
        return { diagnostics };
      }
    } else if (n === "RBracket" || n === "RCurly") depth = Math.max(0, depth - 1);
  }
  const parser = dslParser();
  parser.input = lexed.tokens;
  const cst = parser.file();
  diagnostics.push(...syntaxDiagnostics(source, parser.errors));
  if (diagnostics.length) return { diagnostics: sortDiagnostics(diagnostics) };
  const ast = cstToAst(source, cst, lexed.comments);
  const d = dslToDocument(ast);
  return d.doc ? { ast, doc: d.doc, diagnostics: d.diagnostics } : { ast, diagnostics: d.diagnostics };
}
