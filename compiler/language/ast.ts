// The surface-independent AST of one policy file: what a front end (YAML today, the DSL later) produces after
// checking shape and values, before extends are merged and params resolved. Every node keeps its span.

import type { Source, Span } from "../diagnostics/source.js";
import type { PathTemplate } from "../paths.js";
import type { Access } from "./access.js";
import type { Action, ArgCondition, Decision, Effect, NetOp, PatternKind, Protocol } from "../ir/types.js";

export interface Spanned<T> {
  readonly value: T;
  readonly span: Span;
}

export interface PathRef {
  readonly template: PathTemplate;
  readonly span: Span;
}

export interface PolicyFile {
  readonly source: Source;
  readonly version: number;
  readonly name?: Spanned<string>;
  readonly description?: Spanned<string>;
  readonly extends: readonly Spanned<string>[];
  readonly params: readonly ParamDecl[];
  readonly filesystem: readonly FsRuleNode[];
  readonly network?: NetworkNode;
  readonly syscalls?: SyscallsNode;
  readonly commands?: CommandsNode;
  readonly tests: readonly TestNode[];
}

export interface ParamDecl {
  readonly name: string;
  readonly nameSpan: Span;
  readonly default?: PathRef;
  readonly description?: string;
}

export interface FsRuleNode {
  readonly effect: Effect;
  readonly access: readonly Access[];
  readonly accessSpan: Span;
  readonly kind: PatternKind;
  readonly path: PathRef;
  readonly protect: readonly Spanned<readonly string[]>[];
  readonly ifMissing: "skip" | "error";
  readonly reason?: string;
  readonly span: Span;
}

export interface NetRuleNode {
  readonly effect: Effect;
  readonly ops: readonly NetOp[];
  readonly protocols: readonly Protocol[];
  readonly hosts: "any" | "loopback" | readonly string[];
  readonly ports: readonly (readonly [number, number])[];
  readonly reason?: string;
  readonly span: Span;
}

export interface NetworkNode {
  /** Set when the section is a mode word (`off`, `on`, ...): it then replaces what bases said. */
  readonly mode?: string;
  readonly unix?: Effect;
  readonly rules: readonly NetRuleNode[];
  readonly span: Span;
}

export interface SyscallRuleNode {
  readonly syscalls: readonly string[];
  readonly action: Action;
  readonly conditions: readonly ArgCondition[];
  readonly reason?: string;
  readonly span: Span;
}

export interface SyscallsNode {
  readonly defaultAction?: Spanned<Action>;
  readonly rules: readonly SyscallRuleNode[];
  readonly span: Span;
}

export interface CommandRuleNode {
  readonly prefix: readonly (readonly string[])[];
  readonly decision: Decision;
  readonly reason?: string;
  readonly span: Span;
}

export interface CommandsNode {
  readonly defaultDecision?: Spanned<Decision>;
  readonly rules: readonly CommandRuleNode[];
}

export type TestNode =
  | { readonly kind: "fs"; readonly access: Access; readonly path: PathRef; readonly expect: Effect; readonly name?: string; readonly span: Span }
  | {
      readonly kind: "net";
      readonly op: NetOp;
      readonly protocol: Protocol;
      readonly host: string;
      readonly port: number;
      readonly expect: Effect;
      readonly name?: string;
      readonly span: Span;
    }
  | { readonly kind: "unix"; readonly expect: Effect; readonly name?: string; readonly span: Span }
  | { readonly kind: "syscall"; readonly syscall: string; readonly args: readonly string[]; readonly expect: Action; readonly name?: string; readonly span: Span }
  | { readonly kind: "command"; readonly argv: readonly string[]; readonly expect: Decision; readonly name?: string; readonly span: Span };
