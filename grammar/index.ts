// The DSL front end: `.sbc` text to the DSL AST (for the printer) and to the same document tree a YAML file
// gives (for the compiler). Importing this module is cheap: chevrotain is loaded and the parser built only
// when the first DSL file is parsed.

import { diag, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { span, type Source } from "../diagnostics/source.js";
import { MAX_NESTING, type YamlDocument } from "../language/yaml-source.js";
import { CODES } from "../diagnostics/codes.js";
import type { DslFile } from "./ast.js";
import { cstToAst } from "./cst-to-ast.js";
import { lexDsl } from "./lexer.js";
import { MAX_SYNTAX_ERRORS, parseDslTokens } from "./parser.js";
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
  const diagnostics = lexed.diagnostics.slice(0, MAX_SYNTAX_ERRORS);
  if (lexed.diagnostics.length > MAX_SYNTAX_ERRORS) {
    diagnostics.push(
      diag("dslSyntax", `too many errors; stopped after ${MAX_SYNTAX_ERRORS}`, {
        span: diagnostics[diagnostics.length - 1]!.span ?? span(source, 0, 0),
        help: "this does not look like a DSL policy; is it the right file?",
      }),
    );
    return { diagnostics };
  }
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
  const { cst, errors } = parseDslTokens(lexed.tokens);
  diagnostics.push(...syntaxDiagnostics(source, errors));
  if (!cst) {
    const last = diagnostics.filter((d) => d.code === CODES.dslSyntax.code).pop();
    diagnostics.push(
      diag("dslSyntax", `too many errors; stopped after ${MAX_SYNTAX_ERRORS}`, {
        span: last?.span ?? span(source, 0, 0),
        help: "fix the first errors and run again; later ones are often consequences of them",
      }),
    );
  }
  if (diagnostics.length || !cst) return { diagnostics: sortDiagnostics(diagnostics) };
  const ast = cstToAst(source, cst, lexed.comments);
  const d = dslToDocument(ast);
  return d.doc ? { ast, doc: d.doc, diagnostics: d.diagnostics } : { ast, diagnostics: d.diagnostics };
}
