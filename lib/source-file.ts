// Reading a policy (or a profile to import) from a file the way the compiler reads one: size-limited, without
// trusting what the path names, decoded as UTF-8 with its byte order mark dropped. For commands that work on
// a file's text (format, convert, import) rather than compile it by path.

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { decodeSource } from "../compiler/passes/load-file.js";
import { readInputFile } from "../compiler/passes/read-file.js";
import { UsageError } from "./errors.js";

export type ReadText = { readonly text: string; readonly diagnostics: Diagnostic[] } | { readonly text?: undefined; readonly diagnostics: Diagnostic[] };

/**
 * The text of `path`. A file that cannot be read at all throws UsageError (a bad command line, exit 2); one too
 * large or not valid UTF-8 gives diagnostics and no text (a finding, exit 1).
 */
export function readTextFile(path: string): ReadText {
  const read = readInputFile(path);
  if (!("bytes" in read)) {
    if (!read.tooLarge) throw new UsageError(`cannot read \`${path}\`: ${read.reason}`);
    return { diagnostics: [diag("fileTooLarge", `cannot read \`${path}\`: ${read.reason}`)] };
  }
  const decoded = decodeSource(path, read.bytes);
  return decoded.source ? { text: decoded.source.text, diagnostics: decoded.diagnostics } : { diagnostics: decoded.diagnostics };
}
