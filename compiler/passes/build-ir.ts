// Stage `build-ir`: merge the linearized files into one policy and resolve parameters. Lists (filesystem,
// network, unix path, syscall and command rules) are concatenated in merge order; single values (defaults,
// the unix settings, `linux.namespaces`) take the last file's word; a network mode word replaces everything
// before it, and `unix: allow|deny` every unix setting before it. User parameters with a default are
// substituted; built-ins and parameters without a default stay symbolic unless bound.

import { closest, diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Span } from "../../diagnostics/source.js";
import { expandAccess } from "../../ir/access.js";
import type { NetRuleNode, PathRef, PolicyFile } from "../../language/ast.js";
import { BUILTIN_PARAMS } from "../../language/schema.js";
import { escapeGlob, formatTemplate, parsePath, type PathTemplate } from "../../ir/paths.js";
import { IR_VERSION, type Action, type Commands, type Decision, type DomainRule, type Effect, type FsRule, type IR, type IRParam, type LinuxLaunch, type NetRule, type Network, type PolicyTest, type Syscalls, type UnixPathRule } from "../../ir/types.js";

export type Bindings = Readonly<Record<string, string>>;

const ALLOW: Action = { type: "allow" };

interface UnixState {
  pairs: Effect;
  abstract: Effect;
  paths: UnixPathRule[];
}

/** Every pathname socket: bind and connect beneath `/`. */
function everyPath(layer: number, span: Span): UnixPathRule {
  return { effect: "allow", ops: ["bind", "connect"], path: "/", layer, span };
}

/** What a mode word starts over from. Only `off` keeps named sockets closed; socket pairs reach nothing outside. */
function modeNetwork(mode: string, span: Span, layer: number): { unix: UnixState; rules: NetRule[] } {
  const all = (hosts: "any" | "loopback"): NetRule => ({ effect: "allow", ops: ["bind", "connect"], protocols: ["tcp", "udp"], hosts, ports: [[0, 65535]], layer, span });
  const named: UnixState = { pairs: "allow", abstract: "allow", paths: [everyPath(layer, span)] };
  switch (mode) {
    case "on":
      return { unix: named, rules: [all("any")] };
    case "loopback":
      return { unix: named, rules: [all("loopback")] };
    case "unix-only":
      return { unix: named, rules: [] };
    default:
      return { unix: { pairs: "allow", abstract: "deny", paths: [] }, rules: [] };
  }
}

function netRule(n: NetRuleNode, layer: number): NetRule {
  return {
    effect: n.effect,
    ops: n.ops,
    protocols: n.protocols,
    hosts: n.hosts,
    ports: n.ports,
    layer,
    ...(n.reason !== undefined ? { reason: n.reason } : {}),
    span: n.span,
  };
}

interface ParamInfo {
  name: string;
  builtin: boolean;
  default?: PathRef;
  description?: string;
  span?: Span;
}

export interface BuildIrOptions {
  readonly kernel?: string;
  /** Return the IR of what could be built even when errors were reported (rules in error are left out). */
  readonly partial?: boolean;
  /** Bindings for the parameters the policy declares, ignored for others (a config file's `params`); `bindings` win. */
  readonly defaultParams?: Bindings;
}

export function buildIr(files: readonly PolicyFile[], givenBindings: Bindings = {}, options: BuildIrOptions = {}): { ir?: IR; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const entry = files[files.length - 1]!;

  // ---- params ----
  const params = new Map<string, ParamInfo>();
  for (const b of BUILTIN_PARAMS) params.set(b, { name: b, builtin: true });
  for (const f of files) {
    for (const p of f.params) {
      if ((BUILTIN_PARAMS as readonly string[]).includes(p.name)) {
        diagnostics.push(diag("builtinParamRedefined", `\`${p.name}\` is a built-in parameter and cannot be declared`, { span: p.nameSpan, help: `bind it with \`--param ${p.name}=PATH\` instead` }));
        continue;
      }
      params.set(p.name, {
        name: p.name,
        builtin: false,
        ...(p.default ? { default: p.default } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
        span: p.nameSpan,
      });
    }
  }
  const defaults = Object.entries(options.defaultParams ?? {}).filter(([k]) => params.has(k));
  const bindings: Bindings = { ...Object.fromEntries(defaults), ...givenBindings };
  const boundValues = new Map<string, string>();
  for (const [k, v] of Object.entries(bindings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!params.has(k)) {
      const guess = closest(k, params.keys());
      diagnostics.push(diag("unknownParam", `\`--param ${k}\` binds a parameter the policy does not have`, { help: guess ? `did you mean \`${guess}\`?` : `parameters: ${[...params.keys()].sort().join(", ")}` }));
      continue;
    }
    const parsed = parsePath(v, { what: `value of \`${k}\`` });
    const err = parsed.errors[0];
    if (err || !parsed.template || parsed.template.param !== null) {
      diagnostics.push(diag(err?.key ?? "relativePath", err?.message ?? `value of \`${k}\` must be an absolute path, found \`${v}\``, { help: "bind parameters to absolute paths" }));
      continue;
    }
    boundValues.set(k, formatTemplate(parsed.template));
  }

  const resolving: string[] = [];
  const memo = new Map<string, PathTemplate | null>();
  /** Resolve a parameter to a template that is absolute or headed by a free (symbolic) parameter. */
  const resolveParam = (name: string): PathTemplate | null => {
    if (memo.has(name)) return memo.get(name)!;
    const bound = boundValues.get(name);
    if (bound !== undefined) {
      const t = parsePath(bound).template!;
      memo.set(name, t);
      return t;
    }
    const info = params.get(name)!;
    if (!info.default) {
      const t: PathTemplate = { param: name, components: [] };
      memo.set(name, t);
      return t;
    }
    if (resolving.includes(name)) {
      const chain = [...resolving.slice(resolving.indexOf(name)), name].map((n) => `\`${n}\``).join(" → ");
      diagnostics.push(diag("paramCycle", `parameter defaults form a cycle: ${chain}`, { span: info.default.span, help: "give one of them a default that does not refer to the others" }));
      memo.set(name, null);
      return null;
    }
    resolving.push(name);
    const t = resolveTemplate(info.default.template, info.default.span);
    resolving.pop();
    memo.set(name, t);
    return t;
  };
  const resolveTemplate = (t: PathTemplate, at: Span, glob = false): PathTemplate | null => {
    if (t.param === null) return t;
    if (!params.has(t.param)) {
      const guess = closest(t.param, params.keys());
      diagnostics.push(
        diag("unknownParam", `unknown parameter \`\${${t.param}}\``, {
          span: at,
          help: guess ? `did you mean \`\${${guess}}\`?` : `declare it under \`params:\`; built-ins are ${BUILTIN_PARAMS.map((b) => `\`\${${b}}\``).join(", ")}`,
        }),
      );
      return null;
    }
    const head = resolveParam(t.param);
    if (!head) return null;
    // A parameter's value is a path, not a pattern: inside a glob its characters are literal.
    const literal = glob ? head.components.map(escapeGlob) : head.components;
    return { param: head.param, components: [...literal, ...t.components] };
  };
  const resolvePath = (ref: PathRef, glob = false): string | undefined => {
    const t = resolveTemplate(ref.template, ref.span, glob);
    return t ? formatTemplate(t) : undefined;
  };
  // Resolve every declared default once, so cycles and unknown names in unused defaults are reported too.
  for (const info of params.values()) if (info.default) resolveParam(info.name);

  // ---- filesystem ----
  const filesystem: FsRule[] = [];
  for (const [layer, f] of files.entries()) {
    for (const r of f.filesystem) {
      const path = resolvePath(r.path, r.kind === "glob");
      if (path === undefined) continue;
      filesystem.push({
        effect: r.effect,
        access: r.access,
        kind: r.kind,
        path,
        ifMissing: r.ifMissing,
        layer,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        span: r.span,
      });
      for (const p of r.protect) {
        const base = parsePath(path).template!;
        filesystem.push({
          effect: "deny",
          access: expandAccess(["modify"]),
          kind: "subtree",
          path: formatTemplate({ param: base.param, components: [...base.components, ...p.value] }),
          ifMissing: "skip",
          layer,
          protects: p.value.join("/"),
          span: p.span,
        });
      }
    }
  }

  // ---- network ----
  let unix: UnixState = { pairs: "deny", abstract: "deny", paths: [] };
  let unixSpan: Span | undefined;
  let netRules: NetRule[] = [];
  let domainRules: DomainRule[] = [];
  let netSpan: Span | undefined;
  for (const [layer, f] of files.entries()) {
    const n = f.network;
    if (!n) continue;
    netSpan = n.span;
    if (n.mode !== undefined) {
      const m = modeNetwork(n.mode, n.span, layer);
      unix = m.unix;
      netRules = m.rules;
      domainRules = [];
      unixSpan = n.span;
    }
    const u = n.unix;
    if (u?.kind === "word") {
      unix = { pairs: u.value, abstract: u.value, paths: u.value === "allow" ? [everyPath(layer, u.span)] : [] };
      unixSpan = n.span;
    } else if (u) {
      const paths = [...unix.paths];
      for (const r of u.paths) {
        const path = resolvePath(r.path);
        if (path !== undefined) paths.push({ effect: r.effect, ops: r.ops, path, layer, ...(r.reason !== undefined ? { reason: r.reason } : {}), span: r.span });
      }
      unix = { pairs: u.pairs ?? unix.pairs, abstract: u.abstract ?? unix.abstract, paths };
      unixSpan = n.span;
    }
    netRules.push(...n.rules.map((r) => netRule(r, layer)));
    for (const d of n.domains ?? []) domainRules.push({ ...d, layer });
  }
  const network: Network = {
    unix: { pairs: unix.pairs, abstract: unix.abstract, paths: unix.paths, ...(unixSpan ? { span: unixSpan } : {}) },
    rules: netRules,
    ...(domainRules.length ? { domains: domainRules } : {}),
    ...(netSpan ? { span: netSpan } : {}),
  };

  // ---- syscalls ----
  let defaultAction: Action = ALLOW;
  let foreignArchAction: Action | undefined;
  let newerAction: Action | undefined;
  let kernel: string | undefined;
  let kernelSpan: Span | undefined;
  let sysSpan: Span | undefined;
  const sysRules: Syscalls["rules"][number][] = [];
  for (const [layer, f] of files.entries()) {
    if (!f.syscalls) continue;
    sysSpan = f.syscalls.span;
    if (f.syscalls.defaultAction) defaultAction = f.syscalls.defaultAction.value;
    if (f.syscalls.foreignArch) foreignArchAction = f.syscalls.foreignArch.value;
    if (f.syscalls.newer) newerAction = f.syscalls.newer.value;
    if (f.syscalls.kernel) ({ value: kernel, span: kernelSpan } = f.syscalls.kernel);
    for (const r of f.syscalls.rules) {
      sysRules.push({ syscalls: r.syscalls, action: r.action, conditions: r.conditions, layer, ...(r.reason !== undefined ? { reason: r.reason } : {}), span: r.span });
    }
  }
  // `--kernel` overrides the files' `kernel:`.
  if (options.kernel !== undefined) {
    kernel = options.kernel;
    kernelSpan = undefined;
  }
  if (kernel !== undefined && !newerAction)
    diagnostics.push(
      diag("kernelWithoutNewer", `${kernelSpan ? `\`kernel: "${kernel}"\`` : `\`--kernel ${kernel}\``} changes nothing without a \`syscalls.newer\` action`, {
        ...(kernelSpan ? { span: kernelSpan } : {}),
        help: "add `newer: { errno: ENOSYS }` to give the calls added after that kernel ENOSYS, or remove `kernel:`",
      }),
    );
  const syscalls: Syscalls = {
    defaultAction,
    ...(foreignArchAction ? { foreignArchAction } : {}),
    ...(newerAction ? { newerAction } : {}),
    ...(kernel !== undefined ? { kernel } : {}),
    rules: sysRules,
    ...(sysSpan ? { span: sysSpan } : {}),
  };

  // ---- commands ----
  let defaultDecision: Decision = "prompt";
  const cmdRules: Commands["rules"][number][] = [];
  for (const f of files) {
    if (!f.commands) continue;
    if (f.commands.defaultDecision) defaultDecision = f.commands.defaultDecision.value;
    for (const r of f.commands.rules) cmdRules.push({ prefix: r.prefix, decision: r.decision, ...(r.reason !== undefined ? { reason: r.reason } : {}), span: r.span });
  }

  // ---- linux ----
  let linux: LinuxLaunch = { namespaces: "auto" };
  for (const f of files) if (f.linux?.namespaces) linux = { ...linux, namespaces: f.linux.namespaces.value, span: f.linux.namespaces.span };
  // The last file's word, like `namespaces`: a policy can take back what its base accepted (`accept-widening: []`).
  for (const f of files) {
    if (!f.linux?.acceptWidening) continue;
    const { acceptWidening: _a, ...rest } = linux;
    linux = f.linux.acceptWidening.value.length ? { ...rest, acceptWidening: { widenings: f.linux.acceptWidening.value, span: f.linux.acceptWidening.span } } : rest;
  }

  // ---- tests (the entry file's own) ----
  const tests: PolicyTest[] = [];
  for (const t of entry.tests) {
    const name = t.name !== undefined ? { name: t.name } : {};
    if (t.kind === "fs") {
      const path = resolvePath(t.path);
      if (path !== undefined) tests.push({ kind: "fs", access: t.access, path, expect: t.expect, ...name, span: t.span });
    } else if (t.kind === "unix" && "path" in t) {
      const path = resolvePath(t.path);
      if (path !== undefined) tests.push({ kind: "unix", op: t.op, path, expect: t.expect, ...name, span: t.span });
    } else tests.push(t);
  }

  // Unused params (SBC0405) are the lint rule `unused-param` (compiler/lint/rules/unused-param.ts).

  // ---- the params that remain in the IR: free ones, and bound ones for the record ----
  const irParams: IRParam[] = [];
  const referenced = new Set<string>();
  const note = (s: string) => {
    const t = parsePath(s, { glob: true }).template;
    if (t?.param) referenced.add(t.param);
  };
  filesystem.forEach((r) => note(r.path));
  network.unix.paths.forEach((r) => note(r.path));
  tests.forEach((t) => (t.kind === "fs" || (t.kind === "unix" && "path" in t)) && note(t.path));
  for (const name of [...new Set([...referenced, ...boundValues.keys()])].sort()) {
    const info = params.get(name)!;
    if (!info.builtin && info.default && !boundValues.has(name)) continue;
    irParams.push({
      name,
      builtin: info.builtin,
      value: boundValues.get(name) ?? null,
      ...(info.description !== undefined ? { description: info.description } : {}),
      ...(info.span ? { span: info.span } : {}),
    });
  }

  if (diagnostics.some((d) => d.severity === "error") && !options.partial) return { diagnostics };
  const ir: IR = {
    irVersion: IR_VERSION,
    name: entry.name?.value ?? defaultName(entry),
    ...(entry.description ? { description: entry.description.value } : {}),
    params: irParams,
    filesystem,
    network,
    syscalls,
    commands: { defaultDecision, rules: cmdRules },
    linux,
    tests,
  };
  return { ir, diagnostics };
}

function defaultName(f: PolicyFile): string {
  const base = f.source.path.split(/[\\/]/).pop() ?? "policy";
  return base.replace(/\.(ya?ml|sbc)$/, "") || "policy";
}
