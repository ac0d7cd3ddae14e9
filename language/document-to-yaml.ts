// A document tree (with comments) written as YAML, in the layout of the presets: keys in the schema's order,
// a blank line before each section, lists of words in flow style, everything else in block style. Used by
// `sbc convert --to yaml`; the output is deterministic and parses back to the same tree.

import { Document, isCollection, isMap, isPair, isScalar, isSeq, Scalar, type Node, type Pair } from "yaml";
import type { DocumentComments } from "./document-comments.js";
import { pathKey, statementPaths } from "./document-comments.js";
import type { PathSegment } from "./yaml-source.js";
import { ACCESS_CLASSES } from "../ir/access.js";

/** Key order of each kind of mapping, as the docs and presets write them. Unknown keys keep their place after. */
const TOP = ["sbc", "name", "description", "extends", "params", "filesystem", "network", "syscalls", "commands", "linux", "tests"];
const FS_RULE = ["allow", "deny", "path", "exact", "glob", "protect", "if-missing", "reason"];
const NET = ["mode", "unix", "rules"];
const NET_RULE = ["allow", "deny", "protocol", "hosts", "domains", "ports", "http-methods", "http-paths", "reason"];
const UNIX = ["pairs", "abstract", "paths"];
const UNIX_PATH_RULE = ["allow", "deny", "path", "reason"];
const SYSCALLS = ["default", "foreign-arch", "newer", "kernel", "rules"];
const SYSCALL_RULE = ["syscalls", "action", "args", "reason"];
const COMMANDS = ["default", "rules"];
const COMMAND_RULE = ["prefix", "decision", "reason"];
const PARAM = ["default", "description"];
const TEST = [...ACCESS_CLASSES, "connect", "bind", "unix", "syscall", "command", "path", "abstract", "protocol", "args", "expect", "name"];
/** Top-level keys that start a section (a blank line before them). */
const SECTIONS = new Set(["params", "filesystem", "network", "syscalls", "commands", "linux", "tests"]);

function keyOrderAt(path: readonly PathSegment[]): readonly string[] | undefined {
  const [a, b, c] = path;
  if (path.length === 0) return TOP;
  if (a === "filesystem" && path.length === 2) return FS_RULE;
  if (a === "tests" && path.length === 2) return TEST;
  if (a === "params" && path.length === 2) return PARAM;
  if (a === "network" && path.length === 1) return NET;
  if (a === "network" && b === "rules" && typeof c === "number" && path.length === 3) return NET_RULE;
  if (a === "network" && b === "unix" && path.length === 2) return UNIX;
  if (a === "network" && b === "unix" && c === "paths" && path.length === 4) return UNIX_PATH_RULE;
  if (a === "syscalls" && path.length === 1) return SYSCALLS;
  if (a === "syscalls" && b === "rules" && typeof c === "number" && path.length === 3) return SYSCALL_RULE;
  if (a === "commands" && path.length === 1) return COMMANDS;
  if (a === "commands" && b === "rules" && typeof c === "number" && path.length === 3) return COMMAND_RULE;
  return undefined;
}

/** A copy of the tree with every mapping's keys in the canonical order. */
export function orderDocument(value: unknown, path: PathSegment[] = []): unknown {
  if (Array.isArray(value)) return value.map((v, i) => orderDocument(v, [...path, i]));
  if (!value || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const order = keyOrderAt(path);
  const rank = (k: string) => {
    const i = order ? order.indexOf(k) : -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const sorted = order ? entries.map((e, i) => [e, i] as const).sort((x, y) => rank(x[0][0]) - rank(y[0][0]) || x[1] - y[1]).map((x) => x[0]) : entries;
  return Object.fromEntries(sorted.map(([k, v]) => [k, orderDocument(v, [...path, k])]));
}

/**
 * Strings with line breaks or control characters are always double-quoted, with escapes: in plain or single-
 * quoted style the `yaml` package folds them onto several lines, which inside a flow list can read back as
 * something else (found by the round-trip property test: `[":\na"]`).
 */
function quoteControlCharacters(node: unknown): void {
  if (isScalar(node)) {
    if (typeof node.value === "string" && /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
  } else if (isSeq(node)) for (const i of node.items) quoteControlCharacters(i);
  else if (isMap(node)) for (const p of node.items) quoteControlCharacters(p.value);
}

/** Lists of scalars (and command prefixes, lists of scalars or scalar lists) and `{errno: X}` read best inline. */
function applyFlowStyle(node: unknown): void {
  if (isSeq(node)) {
    if (node.items.every((i) => isScalar(i) || (isSeq(i) && i.items.every(isScalar)))) node.flow = true;
    for (const i of node.items) applyFlowStyle(i);
  } else if (isMap(node)) {
    if (node.items.length === 0 || (node.items.length === 1 && isScalar(node.items[0]!.key) && node.items[0]!.key.value === "errno")) node.flow = true;
    for (const p of node.items) applyFlowStyle(p.value);
  }
}

/** The pair (for a mapping entry) or item node (for a list entry) at a path. */
function locateNode(doc: Document, path: readonly PathSegment[]): { pair?: Pair<Node, Node>; node?: Node } {
  let cur: unknown = doc.contents;
  let pair: Pair<Node, Node> | undefined;
  for (const seg of path) {
    pair = undefined;
    if (isMap(cur)) {
      const p = cur.items.find((x) => isScalar(x.key) && x.key.value === seg);
      if (!p) return {};
      pair = p as Pair<Node, Node>;
      cur = p.value;
    } else if (isSeq(cur) && typeof seg === "number") cur = cur.items[seg];
    else return {};
  }
  return { ...(pair ? { pair } : {}), ...(cur ? { node: cur as Node } : {}) };
}

const joinLines = (lines: readonly string[]): string => lines.join("\n");

function inline(node: Node | undefined): boolean {
  return !node || isScalar(node) || (isCollection(node) && (node.flow === true || node.items.length === 0));
}

/** Where a statement's trailing comment can sit on the statement's first line. */
function trailingHost(doc: Document, path: readonly PathSegment[]): { host: Node; onKey: boolean } | undefined {
  const { pair, node } = locateNode(doc, path);
  if (pair) return inline(pair.value ?? undefined) && pair.value ? { host: pair.value, onKey: false } : { host: pair.key, onKey: true };
  // A list entry (a rule, a test): the end of its first line is after its first key's value.
  if (isMap(node)) {
    const first = node.items[0];
    if (first && isPair(first)) {
      return inline(first.value as Node) && first.value ? { host: first.value as Node, onKey: false } : { host: first.key as Node, onKey: true };
    }
  }
  return node ? { host: node, onKey: false } : undefined;
}

export function documentToYaml(value: unknown, comments?: DocumentComments): string {
  const ordered = orderDocument(value);
  const doc = new Document(ordered);
  applyFlowStyle(doc.contents);
  quoteControlCharacters(doc.contents);
  if (isMap(doc.contents)) {
    doc.contents.items.forEach((p, i) => {
      if (i > 0 && isScalar(p.key) && SECTIONS.has(String(p.key.value))) (p.key as Node).spaceBefore = true;
    });
  }
  if (comments) {
    if (comments.head.length) doc.commentBefore = joinLines(comments.head);
    if (comments.tail.length) doc.comment = joinLines(comments.tail);
    for (const { path } of statementPaths(ordered)) {
      const c = comments.statements.get(pathKey(path));
      if (!c) continue;
      const { pair, node } = locateNode(doc, path);
      if (c.before.length) {
        const target = pair ? (pair.key as Node) : node;
        if (target) target.commentBefore = joinLines(target.commentBefore ? [target.commentBefore, ...c.before] : c.before);
      }
      if (c.trailing !== undefined) {
        const t = trailingHost(doc, path);
        if (t) t.host.comment = t.host.comment ? `${t.host.comment}\n${c.trailing}` : c.trailing;
      }
      if (c.end.length) {
        const target = node;
        if (target) target.comment = target.comment ? `${target.comment}\n${joinLines(c.end)}` : joinLines(c.end);
      }
    }
  }
  // No block scalars: a multi-line reason in `|` style can lose leading blanks on the way back (found by the
  // round-trip property test); double quotes spell every string exactly.
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false, indentSeq: true, blockQuote: false });
}
