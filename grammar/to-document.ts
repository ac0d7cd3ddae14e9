// The DSL AST to the document tree a YAML file gives: the same JSON-like value (so the schema check and the
// lowering to the policy AST run unchanged) and a locator from JSON paths to spans, with sub-spans inside
// strings exact even where escapes were used. Keys given twice are reported here, as YAML reports them.

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { span, type Span } from "../diagnostics/source.js";
import type { Located, PathSegment, YamlDocument } from "../language/yaml-source.js";
import type { DslAction, DslBlock, DslBlockItem, DslClause, DslFile, DslString, DslValue, DslWord } from "./ast.js";

/** Where one node of the document came from. */
interface Loc {
  readonly key?: Span;
  readonly value: Span;
  readonly children?: Map<string, Loc>;
  /** The scalar string it was written as, for sub-spans. */
  readonly text?: DslWord | DslString;
}

type Built = [value: unknown, loc: Loc];

/** An object being built: own properties only (a parameter may be called `__proto__`), duplicates reported. */
class ObjBuilder {
  readonly value: Record<string, unknown> = {};
  readonly children = new Map<string, Loc>();
  constructor(private readonly diagnostics: Diagnostic[], private readonly what: string) {}

  set(key: string, keySpan: Span, [v, loc]: Built): void {
    const first = this.children.get(key);
    if (first) {
      this.diagnostics.push(
        diag("duplicateKey", `duplicate ${this.what} \`${key}\``, {
          span: keySpan,
          spanLabel: "repeated here",
          labels: first.key ? [{ span: first.key, message: "first given here" }] : [],
          help: "give it once; when two sources disagree nobody can tell which one was meant",
        }),
      );
      return;
    }
    Object.defineProperty(this.value, key, { value: v, enumerable: true, writable: true, configurable: true });
    this.children.set(key, { ...loc, key: keySpan });
  }

  loc(value: Span): Loc {
    return { value, children: this.children };
  }
}

export function dslToDocument(file: DslFile): { doc?: YamlDocument; diagnostics: Diagnostic[] } {
  const source = file.span.source;
  const diagnostics: Diagnostic[] = [];

  if (!file.version && !file.policy) {
    return { diagnostics: [diag("emptyDocument", "the file holds no policy", { span: span(source, 0, 0), help: "a policy starts with `sbc 1`" })] };
  }

  const value = (v: DslValue): Built => {
    if (v.kind === "list") {
      const children = new Map<string, Loc>();
      const items = v.items.map((item, i) => {
        const [iv, il] = value(item);
        children.set(String(i), il);
        return iv;
      });
      return [items, { value: v.span, children }];
    }
    if (v.kind === "integer") return [v.value, { value: v.span }];
    return [v.value, { value: v.span, text: v }];
  };
  const action = (a: DslValue | DslAction): Built => {
    if (a.kind !== "errno" && a.kind !== "trace") return value(a as DslValue);
    const o = new ObjBuilder(diagnostics, "key");
    o.set(a.kind, a.keyword.span, value(a.value));
    return [o.value, o.loc(a.span)];
  };
  const clauses = (o: ObjBuilder, list: readonly DslClause[]) => {
    for (const c of list) o.set(c.keyword.value, c.keyword.span, value(c.value));
  };

  const listBlock = (b: DslBlock, each: (item: DslBlockItem) => Built): Built => {
    const children = new Map<string, Loc>();
    const items = b.items.map((item, i) => {
      const [v, l] = each(item);
      children.set(String(i), l);
      return v;
    });
    return [items, { value: b.span, children }];
  };

  /**
   * A block of settings and rules: settings become keys, a nested block (`unix { }`) a mapping, rules the
   * `rules:` list (`paths:` in `unix { }`), left out when empty.
   */
  const settingsBlock = (b: DslBlock, rule: (item: DslBlockItem) => Built): Built => {
    const o = new ObjBuilder(diagnostics, "setting");
    const rules: unknown[] = [];
    const ruleLocs = new Map<string, Loc>();
    const rulesKey = b.keyword.value === "unix" ? "paths" : "rules";
    for (const item of b.items) {
      if (item.kind === "setting") o.set(item.keyword.value, item.keyword.span, action(item.value));
      else if (item.kind === "block") o.set(item.keyword.value, item.keyword.span, settingsBlock(item, rule));
      else {
        const [v, l] = rule(item);
        ruleLocs.set(String(rules.length), l);
        rules.push(v);
      }
    }
    if (rules.length) o.set(rulesKey, b.keyword.span, [rules, { value: b.span, children: ruleLocs }]);
    return [o.value, o.loc(b.span)];
  };

  const param = (item: DslBlockItem): Built => {
    if (item.kind !== "param") throw new Error("DSL tree: params holds a non-parameter");
    if (item.default && item.clauses.length === 0) return value(item.default);
    const o = new ObjBuilder(diagnostics, "clause");
    if (item.default) o.set("default", item.equals ?? item.default.span, value(item.default));
    clauses(o, item.clauses);
    return [o.value, o.loc(item.span)];
  };

  const rule = (item: DslBlockItem): Built => {
    const o = new ObjBuilder(diagnostics, "clause");
    switch (item.kind) {
      case "fs-rule":
        o.set(item.effect.value, item.effect.span, value(item.access));
        break;
      case "net-rule":
      case "unix-rule":
        o.set(item.effect.value, item.effect.span, value(item.ops));
        break;
      case "syscall-rule":
        o.set("syscalls", item.keyword.span, value(item.syscalls));
        o.set("action", item.action.span, action(item.action));
        break;
      case "command-rule":
        o.set("prefix", item.prefix.span, value(item.prefix));
        o.set("decision", item.decision.span, [item.decision.value, { value: item.decision.span, text: { kind: "word", ...item.decision } }]);
        break;
      case "test":
        o.set("expect", item.keyword.span, action(item.expect));
        o.set(item.query.value, item.query.span, value(item.value));
        break;
      default:
        throw new Error(`DSL tree: unexpected ${item.kind} in a rule list`);
    }
    clauses(o, item.clauses);
    return [o.value, o.loc(item.span)];
  };

  const root = new ObjBuilder(diagnostics, "statement");
  if (file.version) root.set("sbc", file.version.keyword.span, value(file.version.value));
  const policy = file.policy;
  if (policy) {
    if (policy.name) root.set("name", policy.keyword.span, value(policy.name));
    for (const s of policy.statements) {
      const k = s.keyword;
      if (s.kind === "setting") root.set(k.value, k.span, action(s.value));
      else if (k.value === "params") {
        const o = new ObjBuilder(diagnostics, "parameter");
        for (const item of s.items) if (item.kind === "param") o.set(item.name.value, item.name.span, param(item));
        root.set("params", k.span, [o.value, o.loc(s.span)]);
      } else if (k.value === "filesystem" || k.value === "tests") root.set(k.value, k.span, listBlock(s, rule));
      else root.set(k.value, k.span, settingsBlock(s, rule));
    }
  }
  if (diagnostics.length) return { diagnostics };
  const top: Loc = root.loc(policy ? span(source, (file.version ?? policy).span.start, policy.span.end) : file.version!.span);

  const find = (path: readonly PathSegment[]): Loc => {
    let cur = top;
    for (const seg of path) {
      const next = cur.children?.get(String(seg));
      if (!next) break;
      cur = next;
    }
    return cur;
  };

  const locate = (path: readonly PathSegment[]): Located => {
    // As the YAML locator: follow the path as far as it goes; a key is reported only for the last step taken.
    let cur = top;
    let key: Span | undefined;
    for (const seg of path) {
      const next = cur.children?.get(String(seg));
      if (!next) break;
      key = next.key;
      cur = next;
    }
    return { ...(key ? { key } : {}), value: cur.value };
  };

  const subSpan = (path: readonly PathSegment[], index: number | undefined, length: number | undefined): Span => {
    const loc = find(path);
    const text = loc.text;
    if (index === undefined || !text) return loc.value;
    const offsets = valueOffsets(text);
    const n = text.value.length;
    const start = Math.min(index, n);
    const end = Math.min(n, start + Math.max(length ?? 0, 1));
    return span(source, offsets[start]!, Math.max(offsets[start]!, offsets[end]!));
  };

  return { doc: { source, value: root.value, locate, subSpan }, diagnostics };
}

/** For each UTF-16 index of a scalar's value (and one past the end), the source offset it was written at. */
function valueOffsets(text: DslWord | DslString): number[] {
  const base = text.span.start;
  if (text.kind === "word") return Array.from({ length: text.value.length + 1 }, (_, i) => base + i);
  const raw = text.raw;
  const out: number[] = [];
  const closed = raw.length >= 2 && raw.endsWith('"');
  const end = closed ? raw.length - 1 : raw.length;
  for (let i = 1; i < end; i++) {
    if (raw[i] === "\\") {
      const len = raw[i + 1] === "u" ? 6 : 2;
      out.push(base + i);
      i += len - 1;
    } else out.push(base + i);
  }
  out.push(base + end);
  return out;
}
