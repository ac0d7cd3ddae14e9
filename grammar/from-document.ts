// A document tree (what a YAML policy parses to) as a DSL syntax tree, for `sbc convert --to dsl`; its
// comments come along, attached to the nodes of the statements they belong to. The tree is built, not parsed:
// its spans are empty, and `printBuiltDsl` prints the comments from the side table returned here.
//
// Values become words where docs/dsl-syntax.md writes words (enum values, names, syscalls, command words) and
// the text is a word; paths, reasons and other free text are always strings, so they read the same in both.

import { Source, span, type Span } from "../diagnostics/source.js";
import { pathKey, type DocumentComments, type StatementComments } from "../language/document-comments.js";
import type { PathSegment } from "../language/yaml-source.js";
import type {
  DslAction,
  DslBlock,
  DslBlockItem,
  DslClause,
  DslFile,
  DslKeyword,
  DslList,
  DslPolicy,
  DslScalar,
  DslSetting,
  DslStatement,
  DslString,
  DslValue,
  DslWord,
} from "./ast.js";
import { WORD_PATTERN } from "./lexer.js";
import { ERRNO_STOP_WORDS } from "./parser.js";
import type { NodeComments } from "./print.js";

const BUILT = new Source("<converted>", "");
const NO_SPAN: Span = span(BUILT, 0, 0);
const WHOLE_WORD = new RegExp(`^(?:${WORD_PATTERN.source})$`);

type Obj = Record<string, unknown>;

const keyword = (value: string): DslKeyword => ({ value, span: NO_SPAN });
const word = (value: string): DslWord => ({ kind: "word", value, span: NO_SPAN });

/** A JSON string literal with every control character escaped (the DSL refuses raw ones, DEL included). */
export function quoteString(value: string): string {
  const json = JSON.stringify(value);
  return json.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

const string = (value: string): DslString => ({ kind: "string", value, raw: quoteString(value), span: NO_SPAN });

/** How a string is spelled: a word when allowed here and possible, else a quoted string. */
type Spelling = "word" | "string";

function scalar(v: unknown, spelling: Spelling): DslScalar {
  if (typeof v === "number") return { kind: "integer", value: v, raw: String(v), span: NO_SPAN };
  const s = String(v);
  return spelling === "word" && WHOLE_WORD.test(s) ? word(s) : string(s);
}

function value(v: unknown, spelling: Spelling): DslValue {
  if (Array.isArray(v)) return { kind: "list", items: v.map((x) => value(x, spelling)), span: NO_SPAN } satisfies DslList;
  return scalar(v, spelling);
}

function action(v: unknown): DslAction {
  if (v && typeof v === "object" && !Array.isArray(v) && "errno" in v) {
    // A word the parser stops at (`errno read`) would end the action: such a value is quoted.
    const e = (v as Obj).errno;
    const spelling: Spelling = typeof e === "string" && ERRNO_STOP_WORDS.has(e) ? "string" : "word";
    return { kind: "errno", keyword: keyword("errno"), value: scalar(e, spelling), span: NO_SPAN };
  }
  if (v && typeof v === "object" && !Array.isArray(v) && "trace" in v) {
    // `trace` takes only an integer after it; anything else stays a string the loader then refuses.
    const d = (v as Obj).trace;
    return { kind: "trace", keyword: keyword("trace"), value: scalar(d, typeof d === "number" ? "word" : "string"), span: NO_SPAN };
  }
  return scalar(v, "word");
}

const clause = (key: string, v: unknown, spelling: Spelling): DslClause => ({ kind: "clause", keyword: keyword(key), value: value(v, spelling), span: NO_SPAN });

/** Clause keys whose values are words (enum values); every other clause value is free text. */
const WORD_CLAUSES = new Set(["if-missing", "protocol", "hosts"]);
const clausesOf = (o: Obj, skip: readonly string[]): DslClause[] =>
  Object.entries(o)
    .filter(([k, v]) => !skip.includes(k) && v !== undefined)
    .map(([k, v]) => clause(k, v, WORD_CLAUSES.has(k) ? "word" : "string"));

function block(name: string, items: DslBlockItem[]): DslBlock {
  return { kind: "block", keyword: keyword(name), items, open: NO_SPAN, close: NO_SPAN, span: NO_SPAN };
}

const setting = (name: string, v: DslValue | DslAction): DslSetting => ({ kind: "setting", keyword: keyword(name), value: v, span: NO_SPAN });

export interface BuiltDsl {
  readonly file: DslFile;
  /** The comments of each node of `file` (and of `file` itself: head before, tail at the end). */
  readonly comments: (node: unknown) => NodeComments | undefined;
}

export function documentToDsl(doc: Obj, documentComments?: DocumentComments): BuiltDsl {
  const attached = new Map<unknown, NodeComments>();
  /** The statement at `path` became `node`: its comments go with it. */
  const bind = (path: readonly PathSegment[], node: unknown) => {
    const c = documentComments?.statements.get(pathKey(path));
    if (c) attached.set(node, c);
    return node;
  };

  const statements: DslStatement[] = [];
  if (doc.description !== undefined) statements.push(bind(["description"], setting("description", value(doc.description, "string"))) as DslStatement);
  if (doc.extends !== undefined) statements.push(bind(["extends"], setting("extends", value(doc.extends, "word"))) as DslStatement);

  if (doc.params && typeof doc.params === "object") {
    const items = Object.entries(doc.params as Obj).map(([name, p]) => {
      // A bare `description` after a parameter is that parameter's clause, so a parameter of that name is quoted.
      const nameNode = WHOLE_WORD.test(name) && name !== "description" ? word(name) : string(name);
      const node =
        typeof p === "string"
          ? { kind: "param" as const, name: nameNode, equals: NO_SPAN, default: string(p), clauses: [], span: NO_SPAN }
          : {
              kind: "param" as const,
              name: nameNode,
              ...((p as Obj).default !== undefined ? { equals: NO_SPAN, default: string(String((p as Obj).default)) } : {}),
              clauses: clausesOf((p ?? {}) as Obj, ["default"]),
              span: NO_SPAN,
            };
      return bind(["params", name], node) as DslBlockItem;
    });
    statements.push(bind(["params"], block("params", items)) as DslStatement);
  }

  if (Array.isArray(doc.filesystem)) {
    const items = (doc.filesystem as Obj[]).map((r, i) => {
      const effect = r.allow !== undefined ? "allow" : "deny";
      const node: DslBlockItem = { kind: "fs-rule", effect: keyword(effect), access: value(r[effect], "word"), clauses: clausesOf(r, ["allow", "deny"]), span: NO_SPAN };
      return bind(["filesystem", i], node) as DslBlockItem;
    });
    statements.push(bind(["filesystem"], block("filesystem", items)) as DslStatement);
  }

  if (typeof doc.network === "string") statements.push(bind(["network"], setting("network", scalar(doc.network, "word"))) as DslStatement);
  else if (doc.network && typeof doc.network === "object") {
    const n = doc.network as Obj;
    const items: DslBlockItem[] = [];
    if (n.mode !== undefined) items.push(bind(["network", "mode"], setting("mode", value(n.mode, "word"))) as DslBlockItem);
    if (n.unix && typeof n.unix === "object" && !Array.isArray(n.unix)) {
      const u = n.unix as Obj;
      const unixItems: DslBlockItem[] = [];
      for (const k of ["pairs", "abstract"]) if (u[k] !== undefined) unixItems.push(bind(["network", "unix", k], setting(k, value(u[k], "word"))) as DslBlockItem);
      ((u.paths ?? []) as Obj[]).forEach((r, i) => {
        const effect = r.allow !== undefined ? "allow" : "deny";
        const node: DslBlockItem = { kind: "unix-rule", effect: keyword(effect), ops: value(r[effect], "word"), clauses: clausesOf(r, ["allow", "deny"]), span: NO_SPAN };
        unixItems.push(bind(["network", "unix", "paths", i], node) as DslBlockItem);
      });
      items.push(bind(["network", "unix"], block("unix", unixItems)) as DslBlockItem);
    } else if (n.unix !== undefined) items.push(bind(["network", "unix"], setting("unix", value(n.unix, "word"))) as DslBlockItem);
    ((n.rules ?? []) as Obj[]).forEach((r, i) => {
      const effect = r.allow !== undefined ? "allow" : "deny";
      const node: DslBlockItem = { kind: "net-rule", effect: keyword(effect), ops: value(r[effect], "word"), clauses: clausesOf(r, ["allow", "deny"]), span: NO_SPAN };
      items.push(bind(["network", "rules", i], node) as DslBlockItem);
    });
    statements.push(bind(["network"], block("network", items)) as DslStatement);
  }

  if (doc.syscalls && typeof doc.syscalls === "object") {
    const s = doc.syscalls as Obj;
    const items: DslBlockItem[] = [];
    for (const k of ["default", "foreign-arch", "newer", "kernel"]) if (s[k] !== undefined) items.push(bind(["syscalls", k], setting(k, action(s[k]))) as DslBlockItem);
    ((s.rules ?? []) as Obj[]).forEach((r, i) => {
      const node: DslBlockItem = {
        kind: "syscall-rule",
        keyword: keyword("rule"),
        syscalls: value(r.syscalls, "word"),
        action: action(r.action),
        clauses: clausesOf(r, ["syscalls", "action"]),
        span: NO_SPAN,
      };
      items.push(bind(["syscalls", "rules", i], node) as DslBlockItem);
    });
    statements.push(bind(["syscalls"], block("syscalls", items)) as DslStatement);
  }

  if (doc.commands && typeof doc.commands === "object") {
    const c = doc.commands as Obj;
    const items: DslBlockItem[] = [];
    if (c.default !== undefined) items.push(bind(["commands", "default"], setting("default", value(c.default, "word"))) as DslBlockItem);
    ((c.rules ?? []) as Obj[]).forEach((r, i) => {
      // A prefix written as one string is split on spaces by the compiler: it stays one string here.
      const prefix = typeof r.prefix === "string" ? string(r.prefix) : value(r.prefix, "word");
      const node: DslBlockItem = { kind: "command-rule", decision: keyword(String(r.decision)), prefix, clauses: clausesOf(r, ["prefix", "decision"]), span: NO_SPAN };
      items.push(bind(["commands", "rules", i], node) as DslBlockItem);
    });
    statements.push(bind(["commands"], block("commands", items)) as DslStatement);
  }

  if (doc.linux && typeof doc.linux === "object" && !Array.isArray(doc.linux)) {
    const l = doc.linux as Obj;
    const items = Object.entries(l).map(([k, v]) => bind(["linux", k], setting(k, value(v, "word"))) as DslBlockItem);
    statements.push(bind(["linux"], block("linux", items)) as DslStatement);
  }

  if (Array.isArray(doc.tests)) {
    const items = (doc.tests as Obj[]).map((t, i) => {
      const query = Object.keys(t).find((k) => !["expect", "protocol", "args", "path", "abstract", "name"].includes(k)) ?? "unix";
      const v = t[query];
      // A command given as a list is words; as one string (split by the compiler) it stays a string.
      const spelling: Spelling = query === "unix" || query === "syscall" || (query === "command" && Array.isArray(v)) ? "word" : "string";
      const node: DslBlockItem = {
        kind: "test",
        keyword: keyword("expect"),
        expect: action(t.expect),
        query: keyword(query),
        value: value(v, spelling),
        clauses: clausesOf(t, ["expect", query]),
        span: NO_SPAN,
      };
      return bind(["tests", i], node) as DslBlockItem;
    });
    statements.push(bind(["tests"], block("tests", items)) as DslStatement);
  }

  const name = doc.name === undefined ? undefined : scalar(doc.name, "word");
  const policy: DslPolicy = {
    kind: "policy",
    keyword: keyword("policy"),
    ...(name && (name.kind === "word" || name.kind === "string") ? { name } : {}),
    statements,
    open: NO_SPAN,
    close: NO_SPAN,
    span: NO_SPAN,
  };
  const file: DslFile = {
    kind: "file",
    ...(doc.sbc !== undefined ? { version: bind(["sbc"], { kind: "version", keyword: keyword("sbc"), value: value(doc.sbc, "word"), span: NO_SPAN }) as DslFile["version"] } : {}),
    policy,
    comments: [],
    span: NO_SPAN,
  };

  if (documentComments) placeSpecialComments(documentComments, attached, file, policy);
  return { file, comments: (node) => attached.get(node) };
}

/**
 * Comments whose place differs between the surfaces: the file's head and tail, the `name:` line (which is the
 * `policy NAME {` line), and a comment at the end of a block's first line, nested blocks (`unix { }`)
 * included (Prettier reads that as a comment before the block's first item, so it is put there directly).
 */
function placeSpecialComments(dc: DocumentComments, attached: Map<unknown, NodeComments>, file: DslFile, policy: DslPolicy): void {
  attached.set(file, { before: dc.head, end: dc.tail });
  const nameComments = dc.statements.get(pathKey(["name"]));
  if (nameComments) {
    attached.set(policy, { before: nameComments.before, end: [] });
    if (nameComments.trailing !== undefined && policy.name) attached.set(policy.name, { before: [], trailing: nameComments.trailing, end: [] });
    else if (nameComments.trailing !== undefined) attached.set(policy, { before: [...nameComments.before, nameComments.trailing], end: [] });
  }
  const blocks = (items: readonly (DslStatement | DslBlockItem)[]): DslBlock[] =>
    items.flatMap((i) => (i.kind === "block" ? [i, ...blocks(i.items)] : []));
  for (const s of blocks(policy.statements)) {
    const c = attached.get(s) as StatementComments | undefined;
    if (!c || c.trailing === undefined) continue;
    const first = s.items[0];
    const moved: StatementComments = { before: c.before, end: s.items.length ? c.end : [c.trailing, ...c.end] };
    attached.set(s, moved);
    if (first) {
      const fc = attached.get(first);
      attached.set(first, { before: [c.trailing, ...(fc?.before ?? [])], ...(fc?.trailing !== undefined ? { trailing: fc.trailing } : {}), end: fc?.end ?? [] });
    }
  }
}
