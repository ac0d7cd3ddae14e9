// Chevrotain's concrete syntax tree to the DSL AST (`ast.ts`): tokens become keywords and values with spans,
// strings are decoded. Only called on a parse without errors, so every child the grammar requires is there.

import type { CstElement, CstNode, IToken } from "chevrotain";
import { span, type Source, type Span } from "../diagnostics/source.js";
import type {
  DslAction,
  DslBlock,
  DslBlockItem,
  DslClause,
  DslComment,
  DslFile,
  DslKeyword,
  DslPolicy,
  DslScalar,
  DslSetting,
  DslStatement,
  DslString,
  DslValue,
  DslWord,
} from "./ast.js";
import { decodeString } from "./lexer.js";

const isToken = (e: CstElement): e is IToken => "image" in e;

export function cstToAst(source: Source, cst: CstNode, comments: readonly DslComment[]): DslFile {
  const tokSpan = (t: IToken): Span => span(source, t.startOffset, t.startOffset + t.image.length);
  const join = (a: Span, b: Span): Span => span(source, a.start, b.end);

  const tokens = (n: CstNode, label: string): IToken[] => ((n.children[label] ?? []) as CstElement[]).filter(isToken);
  const nodes = (n: CstNode, label: string): CstNode[] => ((n.children[label] ?? []) as CstElement[]).filter((e): e is CstNode => !isToken(e));
  const token = (n: CstNode, label: string): IToken | undefined => tokens(n, label)[0];
  const node = (n: CstNode, label: string): CstNode | undefined => nodes(n, label)[0];
  const must = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new Error(`DSL tree: missing ${what}`);
    return x;
  };
  const keyword = (t: IToken): DslKeyword => ({ value: t.image, span: tokSpan(t) });

  const nameOf = (t: IToken): DslWord | DslString => (t.tokenType.name === "String" ? stringValue(t) : { kind: "word", value: t.image, span: tokSpan(t) });
  const stringValue = (t: IToken): DslString => ({ kind: "string", value: decodeString(t.image).value, raw: t.image, span: tokSpan(t) });

  const scalar = (n: CstNode): DslScalar => {
    const t = must(token(n, "token"), "scalar");
    if (t.tokenType.name === "String") return stringValue(t);
    if (t.tokenType.name === "Integer") return { kind: "integer", value: Number(t.image), raw: t.image, span: tokSpan(t) };
    return { kind: "word", value: t.image, span: tokSpan(t) };
  };
  const value = (n: CstNode): DslValue => {
    const s = node(n, "scalar");
    if (s) return scalar(s);
    const l = must(node(n, "list"), "list");
    return { kind: "list", items: nodes(l, "items").map(value), span: join(tokSpan(must(token(l, "open"), "[")), tokSpan(must(token(l, "close"), "]"))) };
  };
  const action = (n: CstNode): DslAction => {
    const errno = token(n, "errno");
    const e = errno ?? token(n, "trace");
    const v = node(n, "value");
    if (!e) return scalar(must(v, "action"));
    if (!v) return { kind: "word", value: e.image, span: tokSpan(e) };
    const val = scalar(v);
    return { kind: errno ? "errno" : "trace", keyword: keyword(e), value: val, span: join(tokSpan(e), val.span) };
  };
  /** `KEYWORD VALUE` nodes (clauses and settings) share a shape. */
  const keywordValue = (n: CstNode): { keyword: DslKeyword; value: DslValue; span: Span } => {
    const k = keyword(must(token(n, "keyword"), "keyword"));
    const v = value(must(node(n, "value"), "value"));
    return { keyword: k, value: v, span: join(k.span, v.span) };
  };
  const clause = (n: CstNode): DslClause => ({ kind: "clause", ...keywordValue(n) });
  const setting = (n: CstNode): DslSetting => ({ kind: "setting", ...keywordValue(n) });
  const actionSetting = (n: CstNode): DslSetting => {
    const k = keyword(must(token(n, "keyword"), "keyword"));
    const v = action(must(node(n, "value"), "value"));
    return { kind: "setting", keyword: k, value: v, span: join(k.span, v.span) };
  };
  /** The span of a rule: its head to its last clause (or its last required part). */
  const ruleSpan = (head: Span, last: Span, clauses: readonly DslClause[]): Span => join(head, clauses.length ? clauses[clauses.length - 1]!.span : last);

  const item = (blockName: string, n: CstNode): DslBlockItem => {
    switch (blockName) {
      case "params": {
        const name = nameOf(must(token(n, "name"), "parameter name"));
        const eq = token(n, "equals");
        const def = node(n, "default");
        const d = def ? value(def) : undefined;
        const clauses = nodes(n, "clauses").map(clause);
        return { kind: "param", name, ...(eq ? { equals: tokSpan(eq) } : {}), ...(d ? { default: d } : {}), clauses, span: ruleSpan(name.span, d?.span ?? name.span, clauses) };
      }
      case "filesystem": {
        const head = keyword(must(token(n, "head"), "effect"));
        const access = value(must(node(n, "subject"), "access"));
        const clauses = nodes(n, "clauses").map(clause);
        return { kind: "fs-rule", effect: head, access, clauses, span: ruleSpan(head.span, access.span, clauses) };
      }
      case "network": {
        const s = node(n, "setting");
        if (s) {
          const u = node(s, "unix");
          if (!u) return setting(s);
          return token(u, "open") ? block(u) : setting(u);
        }
        const r = must(node(n, "rule"), "network rule");
        const head = keyword(must(token(r, "head"), "effect"));
        const ops = value(must(node(r, "subject"), "operations"));
        const clauses = nodes(r, "clauses").map(clause);
        return { kind: "net-rule", effect: head, ops, clauses, span: ruleSpan(head.span, ops.span, clauses) };
      }
      case "unix": {
        const s = node(n, "setting");
        if (s) return setting(s);
        const r = must(node(n, "rule"), "unix path rule");
        const head = keyword(must(token(r, "head"), "effect"));
        const ops = value(must(node(r, "subject"), "operations"));
        const clauses = nodes(r, "clauses").map(clause);
        return { kind: "unix-rule", effect: head, ops, clauses, span: ruleSpan(head.span, ops.span, clauses) };
      }
      case "linux":
        return setting(n);
      case "syscalls": {
        const s = node(n, "setting");
        if (s) return actionSetting(s);
        const r = must(node(n, "rule"), "syscall rule");
        const head = keyword(must(token(r, "head"), "rule"));
        const syscalls = value(must(node(r, "subject"), "syscalls"));
        const act = action(must(node(r, "action"), "action"));
        const clauses = nodes(r, "clauses").map(clause);
        return { kind: "syscall-rule", keyword: head, syscalls, action: act, clauses, span: ruleSpan(head.span, act.span, clauses) };
      }
      case "commands": {
        const s = node(n, "setting");
        if (s) return setting(s);
        const r = must(node(n, "rule"), "command rule");
        const head = keyword(must(token(r, "head"), "decision"));
        const prefix = value(must(node(r, "subject"), "prefix"));
        const clauses = nodes(r, "clauses").map(clause);
        return { kind: "command-rule", decision: head, prefix, clauses, span: ruleSpan(head.span, prefix.span, clauses) };
      }
      default: {
        const head = keyword(must(token(n, "head"), "expect"));
        const expect = action(must(node(n, "action"), "answer"));
        const query = keyword(must(token(n, "query"), "query"));
        const v = value(must(node(n, "subject"), "query value"));
        const clauses = nodes(n, "clauses").map(clause);
        return { kind: "test", keyword: head, expect, query, value: v, clauses, span: ruleSpan(head.span, v.span, clauses) };
      }
    }
  };

  const block = (n: CstNode): DslBlock => {
    const k = keyword(must(token(n, "keyword"), "keyword"));
    const open = tokSpan(must(token(n, "open"), "{"));
    const close = tokSpan(must(token(n, "close"), "}"));
    return { kind: "block", keyword: k, items: nodes(n, "items").map((i) => item(k.value, i)), open, close, span: join(k.span, close) };
  };

  const statement = (n: CstNode): DslStatement => {
    const inner = must(Object.values(n.children)[0]?.[0] as CstNode | undefined, "statement");
    if (inner.name === "description" || inner.name === "extends") return setting(inner);
    if (inner.name === "network" && !token(inner, "open")) return setting(inner);
    return block(inner);
  };

  const v = node(cst, "version");
  const version = v
    ? (() => {
        const kv = keywordValue(v);
        return { kind: "version" as const, ...kv };
      })()
    : undefined;
  const p = node(cst, "policy");
  let policy: DslPolicy | undefined;
  if (p) {
    const k = keyword(must(token(p, "keyword"), "policy"));
    const nameTok = token(p, "name");
    const close = tokSpan(must(token(p, "close"), "}"));
    policy = {
      kind: "policy",
      keyword: k,
      ...(nameTok ? { name: nameOf(nameTok) } : {}),
      statements: nodes(p, "statements").map(statement),
      open: tokSpan(must(token(p, "open"), "{")),
      close,
      span: join(k.span, close),
    };
  }
  return {
    kind: "file",
    ...(version ? { version } : {}),
    ...(policy ? { policy } : {}),
    comments: [...comments],
    span: span(source, 0, source.text.length),
  };
}
