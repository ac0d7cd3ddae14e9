// Reading YAML text: syntax errors, duplicate keys and unsupported features become diagnostics with exact
// spans, and a locator maps a JSON path (as used by the schema validator) back to the YAML node it came from.

import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node, type Pair, type Scalar, type YAMLMap } from "yaml";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { span, type Source, type Span } from "../diagnostics/source.js";

export type PathSegment = string | number;

export interface Located {
  /** The key of a mapping entry, when the path ends at one. */
  readonly key?: Span;
  /** The value (the whole node). */
  readonly value: Span;
  /** The YAML node, for sub-spans inside scalars. */
  readonly node?: Node | undefined;
}

export interface YamlDocument {
  readonly source: Source;
  readonly value: unknown;
  locate(path: readonly PathSegment[]): Located;
  /** A span inside a string scalar (offsets into its value); the whole node when escapes make that unsafe. */
  subSpan(path: readonly PathSegment[], index: number | undefined, length: number | undefined): Span;
}

function tidy(message: string): string {
  const first = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "").replace(/\.$/, "");
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function nodeSpan(source: Source, node: Node | null | undefined, fallback: Span): Span {
  const r = node?.range;
  if (!r) return fallback;
  return span(source, r[0], r[1]);
}

/** Deeper than any real policy (about six levels), far below what would exhaust the parser's stack. */
export const MAX_NESTING = 64;

/**
 * Estimate how deeply the text nests, before parsing it: flow brackets outside quotes, and block indentation
 * levels (a `- ` item marker counts as indentation). A recursive parser that runs out of stack can leave V8
 * unable to compile regular expressions for the rest of the process, so too-deep input is refused up front.
 */
function nestingTooDeep(text: string): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let i = 0;
  while (i < text.length) {
    // Line start: indentation, then compact `- ` markers (each one a level of its own).
    let sp = 0;
    while (text[i] === " ") {
      sp++;
      i++;
    }
    let markers = 0;
    while (text[i] === "-" && (text[i + 1] === " " || text[i + 1] === "\n" || i + 1 === text.length)) {
      markers++;
      i++;
      while (text[i] === " ") i++;
    }
    const blank = i >= text.length || text[i] === "\n" || text[i] === "#";
    if (!blank || markers > 0) {
      while (indents.length && indents[indents.length - 1]! >= sp) indents.pop();
      indents.push(sp);
      if (indents.length + markers + flow > MAX_NESTING) return Math.min(i, text.length - 1);
    }
    // Rest of the line: flow brackets outside quotes and comments.
    let quote: string | undefined;
    for (; i < text.length && (text[i] !== "\n" || quote); i++) {
      const c = text[i]!;
      if (quote) {
        if (c === "\\" && quote === '"') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "#" && (i === 0 || text[i - 1] === " ")) {
        while (i + 1 < text.length && text[i + 1] !== "\n") i++;
      } else if (c === "[" || c === "{") {
        if (++flow + indents.length + markers > MAX_NESTING) return i;
      } else if ((c === "]" || c === "}") && flow > 0) flow--;
    }
    i++;
  }
  return undefined;
}

export function parseYaml(source: Source): { doc?: YamlDocument; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const deep = nestingTooDeep(source.text);
  if (deep !== undefined) {
    return {
      diagnostics: [
        diag("yamlUnsupported", `the document nests deeper than ${MAX_NESTING} levels`, {
          span: span(source, deep, deep + 1),
          help: "a policy needs only a few levels; this looks like generated or damaged input",
        }),
      ],
    };
  }
  // No LineCounter: line and column are computed from the Source, only for the diagnostics shown.
  const docs = parseAllDocuments(source.text, { prettyErrors: false, uniqueKeys: false, strict: true, version: "1.2" });
  const list = Array.isArray(docs) ? docs : [];
  if (list.length > 1) {
    const second = list[1]!;
    const at = second.range?.[0] ?? 0;
    diagnostics.push(
      diag("multipleDocuments", "the file holds more than one YAML document", {
        span: span(source, at, Math.min(source.text.length, at + 3)),
        spanLabel: "a second document starts here",
        help: "put one policy in each file; use `extends:` to share rules between files",
      }),
    );
  }
  const doc = list[0] as Document.Parsed | undefined;
  if (!doc) {
    diagnostics.push(diag("emptyDocument", "the file holds no policy", { span: span(source, 0, 0), help: "a policy starts with `sbc: 1`" }));
    return { diagnostics };
  }
  // The library's own check (`uniqueKeys`) compares every key of a mapping with every other: quadratic, so
  // 200,000 keys took minutes. Duplicates are found here with one Set per mapping.
  diagnostics.push(...duplicateKeys(source, doc));
  const syntax = doc.errors;
  // One syntax error per file: after the first, the parser's view of the structure is a guess and what it
  // reports next is usually a consequence of the first mistake.
  if (syntax.length) diagnostics.push(syntaxError(source, syntax));
  for (const w of doc.warnings) {
    const [start, end] = w.pos;
    const tag = /tag: (\S+)/.exec(w.message)?.[1];
    diagnostics.push(
      diag("yamlUnsupported", tag ? `unknown YAML tag \`${tag}\`` : tidy(w.message), {
        span: span(source, start, end),
        help: "policies are plain YAML without tags; write the value itself",
      }),
    );
  }
  if (diagnostics.length) return { diagnostics };

  const whole = span(source, 0, source.text.length);
  const bad = findUnsupported(doc, source, whole);
  if (bad.length) return { diagnostics: bad };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return {
      diagnostics: [diag("yamlUnsupported", `the document cannot be expanded: ${tidy(String((e as Error).message))}`, { span: span(source, 0, 0) })],
    };
  }
  if (value === null || value === undefined) {
    return { diagnostics: [diag("emptyDocument", "the file holds no policy", { span: span(source, 0, 0), help: "a policy starts with `sbc: 1`" })] };
  }

  const resolve = (n: unknown): Node | undefined => {
    let cur = n as Node | undefined;
    for (let i = 0; i < 100 && cur && isAlias(cur); i++) cur = cur.resolve(doc) as Node | undefined;
    return cur;
  };

  // Each mapping's keys, indexed once: a linear search per lookup made every diagnostic of a mapping with
  // many keys cost the size of the mapping.
  const index = new WeakMap<YAMLMap, Map<string, Pair<Node, Node>>>();
  const pairOf = (map: YAMLMap, key: string): Pair<Node, Node> | undefined => {
    let m = index.get(map);
    if (!m) {
      m = new Map();
      for (const p of map.items as Pair<Node, Node>[]) if (isScalar(p.key) && !m.has(String(p.key.value))) m.set(String(p.key.value), p);
      index.set(map, m);
    }
    return m.get(key);
  };

  const locate = (path: readonly PathSegment[]): Located => {
    let node: Node | undefined = resolve(doc.contents);
    let keySpan: Span | undefined;
    let valueSpan: Span = nodeSpan(source, node, whole);
    for (const seg of path) {
      if (node && isMap(node)) {
        const pair = pairOf(node, String(seg));
        if (!pair) break;
        keySpan = nodeSpan(source, pair.key, valueSpan);
        const v = resolve(pair.value);
        // A key with no value (`filesystem:`): point at the key.
        valueSpan = v ? nodeSpan(source, v, keySpan) : keySpan;
        node = v;
      } else if (node && isSeq(node) && typeof seg === "number") {
        const item = resolve(node.items[seg]);
        if (!item) break;
        keySpan = undefined;
        valueSpan = nodeSpan(source, item, valueSpan);
        node = item;
      } else {
        break;
      }
    }
    return { ...(keySpan ? { key: keySpan } : {}), value: valueSpan, node };
  };

  const subSpan = (path: readonly PathSegment[], index: number | undefined, length: number | undefined): Span => {
    const loc = locate(path);
    const n = loc.node;
    if (index === undefined || !n || !isScalar(n) || typeof n.value !== "string" || !n.range) return loc.value;
    const raw = source.text.slice(n.range[0], n.range[1]);
    const value = n.value;
    let offset: number | undefined;
    if (raw === value) offset = n.range[0];
    else if ((raw === `"${value}"` && !value.includes("\\")) || (raw === `'${value}'` && !value.includes("'"))) offset = n.range[0] + 1;
    if (offset === undefined) return loc.value;
    const start = offset + Math.min(index, value.length);
    const end = Math.min(offset + value.length, start + Math.max(length ?? 0, 1));
    return span(source, start, Math.max(start, end));
  };

  return { doc: { source, value, locate, subSpan }, diagnostics };
}

function syntaxError(source: Source, errors: readonly { code: string; message: string; pos: [number, number] }[]): Diagnostic {
  const text = source.text;
  // An over-indented key shows up as a multi-line implicit key: point at the line that is too deep.
  const multi = errors.find((e) => e.code === "MULTILINE_IMPLICIT_KEY" && text.slice(e.pos[0], e.pos[1]).includes("\n"));
  if (multi) {
    const nl = text.lastIndexOf("\n", multi.pos[1] - 1) + 1;
    let at = nl;
    while (text[at] === " ") at++;
    const end = Math.max(at + 1, Math.min(multi.pos[1], text.indexOf("\n", at) < 0 ? text.length : text.indexOf("\n", at)));
    return diag("yamlSyntax", "this line is indented further than the key before it", {
      span: span(source, at, end),
      help: "keys of one mapping start at the same column",
    });
  }
  const e = errors[0]!;
  let [start, end] = e.pos;
  const quote = /^Missing closing (["'])quote/.exec(e.message)?.[1];
  if (quote) {
    const open = text.lastIndexOf(quote, start - 1);
    if (open >= 0) {
      const lineEnd = text.indexOf("\n", open);
      return diag("yamlSyntax", `unclosed ${quote === '"' ? "double" : "single"}-quoted string`, {
        span: span(source, open, lineEnd < 0 ? text.length : lineEnd),
        spanLabel: "starts here",
        help: `add the closing \`${quote}\``,
      });
    }
  }
  // Point at the first visible character rather than at indentation.
  while (start < text.length && text[start] === " ") start++;
  if (end <= start) end = start + 1;
  return diag("yamlSyntax", tidy(e.message), { span: span(source, start, end) });
}

/** Errors of one kind reported for one file (duplicate keys, schema errors); more say the file is not a policy. */
export const MAX_SCHEMA_DIAGNOSTICS = 100;

/** Every key repeated in a mapping (scalars equal in type and value, as YAML's own check compares them), up to MAX_SCHEMA_DIAGNOSTICS. */
function duplicateKeys(source: Source, doc: Document.Parsed): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visit = (n: unknown): void => {
    if (isMap(n)) {
      const seen = new Map<string, Scalar>();
      for (const p of n.items) {
        const k = p.key;
        if (isScalar(k) && k.range) {
          const id = `${typeof k.value}:${String(k.value)}`;
          const first = seen.get(id);
          if (!first) seen.set(id, k);
          else if (out.length === MAX_SCHEMA_DIAGNOSTICS) {
            out.push(diag("tooManyErrors", `too many errors; stopped after ${MAX_SCHEMA_DIAGNOSTICS}`, { span: span(source, k.range[0], k.range[1]), help: "this does not look like a policy; is it the right file?" }));
          } else if (out.length < MAX_SCHEMA_DIAGNOSTICS) {
            out.push(
              diag("duplicateKey", `duplicate key \`${String(k.value)}\``, {
                span: span(source, k.range[0], k.range[1]),
                spanLabel: "repeated here",
                labels: first.range ? [{ span: span(source, first.range[0], first.range[1]), message: "first defined here" }] : [],
                help: "remove one of them; YAML tools disagree on which one wins",
              }),
            );
          }
        }
        visit(p.value);
      }
    } else if (isSeq(n)) {
      for (const item of n.items) visit(item);
    }
  };
  visit(doc.contents);
  return out;
}

/** Keys must be plain strings: a number or a collection as a key has no meaning in a policy. */
function findUnsupported(doc: Document.Parsed, source: Source, whole: Span): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visit = (n: unknown): void => {
    if (isMap(n)) {
      for (const p of n.items) {
        const k = p.key as Node | null;
        if (k && (!isScalar(k) || typeof k.value !== "string")) {
          out.push(diag("yamlUnsupported", "mapping keys must be strings", { span: nodeSpan(source, k, whole), help: "quote the key if it is meant as text" }));
        }
        visit(p.value);
      }
    } else if (isSeq(n)) {
      for (const item of n.items) visit(item);
    }
  };
  visit(doc.contents);
  return out;
}
