// Stage `load`: one file from bytes to AST — UTF-8 decoding, YAML, the format version, the JSON Schema, and
// the lowering to the AST. Each step stops the file at its first failing step, so a syntax error is not
// followed by a cascade of schema errors — except that with `partial`, schema errors prune the broken rules
// (or sections) and the rest is lowered, so one run reports the errors of every part (`sbc check`).

import { diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import { span, Source } from "../../diagnostics/source.js";
import type { PolicyFile } from "../../language/ast.js";
import { FORMAT_VERSION } from "../../language/schema.js";
import { checkSchema, schemaErrorPaths } from "../../language/schema-check.js";
import { yamlToAst } from "../../language/yaml-to-ast.js";
import { parseYaml, type PathSegment, type YamlDocument } from "../../language/yaml-source.js";
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

export interface LoadSourceOptions {
  /** On schema errors, lower what is left after pruning the broken parts (the file then comes with errors). */
  readonly partial?: boolean;
}

export interface LoadedSource {
  readonly file?: PolicyFile;
  readonly diagnostics: Diagnostic[];
  /**
   * With `partial`, when `file` comes with errors: the top-level sections those errors are in (the parts of
   * `file` that are incomplete), `*` for an error in none of them.
   */
  readonly incomplete?: readonly string[];
}

export function loadSource(source: Source, options: LoadSourceOptions = {}): LoadedSource {
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
  if (!schemaDiagnostics.length) {
    const lowered = yamlToAst(doc);
    return options.partial ? { ...lowered, incomplete: sectionsOf(doc, lowered.diagnostics) } : lowered;
  }
  const pruned = options.partial ? pruneSchemaErrors(doc) : undefined;
  if (!pruned) return { diagnostics: schemaDiagnostics };
  const lowered = yamlToAst(pruned);
  const diagnostics = [...schemaDiagnostics, ...lowered.diagnostics];
  return { ...(lowered.file ? { file: lowered.file } : {}), diagnostics, incomplete: sectionsOf(doc, diagnostics) };
}

/** The top-level keys whose text holds an error of `diagnostics` (`*` for an error outside them all). */
function sectionsOf(doc: YamlDocument, diagnostics: readonly Diagnostic[]): string[] {
  const root = doc.value;
  const keys = root !== null && typeof root === "object" && !Array.isArray(root) ? Object.keys(root) : [];
  const ranges = keys.map((k) => {
    const l = doc.locate([k]);
    return { k, start: (l.key ?? l.value).start, end: l.value.end };
  });
  const out = new Set<string>();
  for (const d of diagnostics) {
    if (d.severity !== "error") continue;
    const at = d.span?.start;
    const r = at === undefined ? undefined : ranges.find((x) => x.start <= at && at < x.end);
    out.add(r?.k ?? "*");
  }
  return [...out];
}

/** The lists whose items are independent rules: a broken item is dropped and its siblings kept. */
const RULE_LISTS: readonly (readonly string[])[] = [["filesystem"], ["network", "rules"], ["network", "unix", "paths"], ["syscalls", "rules"], ["commands", "rules"], ["tests"]];

/**
 * The document without the parts the schema rejects: a broken rule or test is left out (as a hole, so that
 * the others keep their index, their spans and their "rule N" in messages), a broken parameter is kept as
 * declared without a default (so references to it do not turn into a cascade of "unknown parameter"), any
 * other broken key is removed with its section. Undefined when that leaves nothing sound to lower: an error
 * at the top, in `sbc` or `extends` (which decides what the layers are), or a remainder that still fails.
 */
function pruneSchemaErrors(doc: YamlDocument): YamlDocument | undefined {
  const root = doc.value;
  if (root === null || typeof root !== "object" || Array.isArray(root)) return undefined;
  const value = structuredClone(root) as Record<string, unknown>;
  const get = (path: readonly PathSegment[]): unknown => path.reduce<unknown>((o, k) => (o as Record<string | number, unknown> | undefined)?.[k], value);
  for (const path of schemaErrorPaths(root)) {
    const top = path[0];
    if (top === undefined || top === "sbc" || top === "extends") return undefined;
    const list = RULE_LISTS.find((l) => l.length < path.length && l.every((k, i) => path[i] === k));
    if (list && typeof path[list.length] === "number") {
      const items = get(list);
      if (Array.isArray(items)) delete items[path[list.length] as number];
      continue;
    }
    if (top === "params" && path.length >= 2) {
      const params = get(["params"]);
      if (params && typeof params === "object") (params as Record<string, unknown>)[String(path[1])] = {};
      continue;
    }
    delete value[top as string];
  }
  // The remainder must be valid, or lowering it would meet shapes it does not expect.
  const compact = JSON.parse(JSON.stringify(value, (_k, v: unknown) => (Array.isArray(v) ? v.filter((x) => x !== undefined) : v))) as unknown;
  if (schemaErrorPaths(compact).length) return undefined;
  return { ...doc, value };
}
