// The surface-independent AST of one policy file: what a front end (YAML today, the DSL later) produces after
// checking shape and values, before extends are merged and params resolved. Every node keeps its span.

import type { Source, Span } from "../diagnostics/source.js";
import type { PathTemplate } from "../ir/paths.js";
import type { Access } from "../ir/access.js";
import type { Action, CommandRule, Decision, DomainRule, Effect, NamespacesMode, NetRule, PatternKind, PolicyTestOf, SyscallRule, UnixOp, Widening } from "../ir/types.js";

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
  readonly linux?: LinuxNode;
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

/** A front end's node for an IR construct: the same fields, minus what merging adds, with a required span. */
type Node<T, Added extends string = never> = T extends unknown ? Omit<T, "span" | Added> & { readonly span: Span } : never;

export type NetRuleNode = Node<NetRule, "layer">;
export type DomainRuleNode = Node<DomainRule, "layer">;

export interface NetworkNode {
  /** Set when the section is a mode word (`off`, `on`, ...): it then replaces what bases said. */
  readonly mode?: string;
  readonly unix?: UnixNode;
  readonly rules: readonly NetRuleNode[];
  /** The rules with `domains:`, in the order written. */
  readonly domains?: readonly DomainRuleNode[];
  readonly span: Span;
}

/** `unix: allow|deny` replaces every unix setting; the detailed form changes what it names. */
export type UnixNode =
  | { readonly kind: "word"; readonly value: Effect; readonly span: Span }
  | { readonly kind: "detail"; readonly pairs?: Effect; readonly abstract?: Effect; readonly paths: readonly UnixPathRuleNode[]; readonly span: Span };

export interface UnixPathRuleNode {
  readonly effect: Effect;
  readonly ops: readonly UnixOp[];
  readonly path: PathRef;
  readonly reason?: string;
  readonly span: Span;
}

export interface LinuxNode {
  readonly namespaces?: Spanned<NamespacesMode>;
  readonly acceptWidening?: Spanned<readonly Widening[]>;
  readonly span: Span;
}

export type SyscallRuleNode = Node<SyscallRule, "layer">;

export interface SyscallsNode {
  readonly defaultAction?: Spanned<Action>;
  readonly foreignArch?: Spanned<Action>;
  /** `newer:`: the action for calls newer than the policy. */
  readonly newer?: Spanned<Action>;
  /** `kernel:` "X.Y". */
  readonly kernel?: Spanned<string>;
  readonly rules: readonly SyscallRuleNode[];
  readonly span: Span;
}

export type CommandRuleNode = Node<CommandRule>;

export interface CommandsNode {
  readonly defaultDecision?: Spanned<Decision>;
  readonly rules: readonly CommandRuleNode[];
}

export type TestNode = Node<PolicyTestOf<PathRef>>;
