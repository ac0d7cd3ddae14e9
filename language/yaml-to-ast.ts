// Lowering a schema-valid YAML value to the AST of one file. The schema has already checked shapes and
// word lists; this pass checks what a schema says badly (exactly one of two keys), parses the small value
// languages (paths, ports, hosts, conditions) and keeps a span on every node.

import { closest, diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { Span } from "../diagnostics/source.js";
import { hasWildcard, parsePath, showPath, type PathIssue } from "../ir/paths.js";
import type { Action, Decision, Effect, HttpMatch, NamespacesMode, NetOp, PatternKind, Protocol, Widening } from "../ir/types.js";
import { compareSyscallEntries, formatNumberedEntry } from "../ir/evaluator/syscall-numbers.js";
import { ARCHES, expandSyscallGroup, isKnownSyscall, knownSyscallNames, SYSCALL_GROUPS } from "../linux-abi/index.js";
import { checkKernelVersion } from "../linux-abi/syscall-versions.js";
import { ACCESS_CLASSES, expandAccess, type Access } from "../ir/access.js";
import type { CommandRuleNode, DomainRuleNode, FsRuleNode, LinuxNode, NetRuleNode, NetworkNode, ParamDecl, PathRef, PolicyFile, SyscallRuleNode, SyscallsNode, TestNode, UnixNode, UnixPathRuleNode } from "./ast.js";
import { formatCidr, formatIp, hex, mergeRanges, parseAction, parseCidr, parseCondition, parseEndpoint, parseNumberedSyscall, parsePort, parseValue, splitWords, type ValueIssue } from "../ir/values.js";
import type { PathSegment, YamlDocument } from "./yaml-source.js";
import { formatHost, parseDomainPattern, parseHostPort } from "../ir/hosts.js";
import { parseHttpMethod, parseHttpPathPattern } from "../ir/http-match.js";

type Obj = Record<string, unknown>;

const asList = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v as T]);

export function yamlToAst(doc: YamlDocument): { file?: PolicyFile; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const root = doc.value as Obj;
  const at = (path: readonly PathSegment[]) => doc.locate(path).value;
  const keyAt = (path: readonly PathSegment[]) => {
    const l = doc.locate(path);
    return l.key ?? l.value;
  };
  const report = (issue: ValueIssue | PathIssue, path: readonly PathSegment[]) => {
    diagnostics.push(diag(issue.key, issue.message, { span: doc.subSpan(path, issue.index, issue.length), help: issue.help }));
  };

  /** A rule's `domains:`, normalized and sorted, or undefined after reporting why it is not a domain rule. */
  const domainList = (r: Obj, i: number, p: readonly PathSegment[], effect: string, ops: readonly NetOp[]): string[] | undefined => {
    const list = r.domains as string[];
    let ok = true;
    if (r.hosts !== undefined) {
      diagnostics.push(diag("domainRuleShape", `network rule ${i + 1} has both \`domains\` and \`hosts\``, { span: at([...p, "hosts"]), help: "a rule matches by name or by address: split it in two" }));
      ok = false;
    }
    if (ops.includes("bind")) {
      diagnostics.push(diag("domainRuleShape", `network rule ${i + 1} ${effect === "allow" ? "allows" : "denies"} \`bind\` by domain`, { span: at([...p, effect]), help: "domain rules are for `connect`; bind by port with `hosts:`" }));
      ok = false;
    }
    if (r.protocol === "udp" || r.protocol === "any") {
      diagnostics.push(diag("domainRuleShape", `network rule ${i + 1} names UDP by domain`, { span: at([...p, "protocol"]), help: "the egress proxy carries TCP (HTTP CONNECT and SOCKS5), not UDP: leave `protocol` out" }));
      ok = false;
    }
    if (list.length === 0) {
      diagnostics.push(diag("domainRuleShape", `\`domains\` of network rule ${i + 1} is empty, so the rule matches nothing`, { span: at([...p, "domains"]) }));
      ok = false;
    }
    const out: string[] = [];
    list.forEach((d, j) => {
      const parsed = parseDomainPattern(d);
      if (parsed.ok) out.push(parsed.value);
      else {
        report(parsed.issue, [...p, "domains", j]);
        ok = false;
      }
    });
    return ok ? [...new Set(out)].sort() : undefined;
  };

  /** A domain rule's `http-methods`/`http-paths`: undefined when it has neither, null after reporting an error. */
  const httpMatch = (r: Obj, i: number, p: readonly PathSegment[]): HttpMatch | undefined | null => {
    const methods = r["http-methods"] as string[] | undefined;
    const paths = r["http-paths"] as string[] | undefined;
    if (methods === undefined && paths === undefined) return undefined;
    let ok = true;
    for (const [key, list] of [["http-methods", methods], ["http-paths", paths]] as const) {
      if (list !== undefined && list.length === 0) {
        diagnostics.push(diag("domainRuleShape", `\`${key}\` of network rule ${i + 1} is empty, so the rule matches nothing`, { span: at([...p, key]), help: `leave \`${key}\` out to mean every ${key === "http-methods" ? "method" : "path"}` }));
        ok = false;
      }
    }
    (methods ?? []).forEach((m, j) => {
      const v = parseHttpMethod(m);
      if (!v.ok) {
        report(v.issue, [...p, "http-methods", j]);
        ok = false;
      }
    });
    (paths ?? []).forEach((m, j) => {
      const v = parseHttpPathPattern(m);
      if (!v.ok) {
        report(v.issue, [...p, "http-paths", j]);
        ok = false;
      }
    });
    if (!ok) return null;
    return {
      ...(methods ? { methods: [...new Set(methods.map((m) => m.toUpperCase()))].sort() } : {}),
      ...(paths ? { paths: [...new Set(paths)].sort() } : {}),
    };
  };

  const pathRef = (raw: string, path: readonly PathSegment[], what: string, glob = false): PathRef | undefined => {
    const parsed = parsePath(raw, { glob, what });
    for (const e of parsed.errors) report(e, path);
    for (const w of parsed.warnings) report(w, path);
    return parsed.template ? { template: parsed.template, span: at(path) } : undefined;
  };

  /** Exactly one of `keys` must be present; returns the one found. */
  const exactlyOne = <K extends string>(o: Obj, path: readonly PathSegment[], keys: readonly K[], what: string): K | undefined => {
    const present = keys.filter((k) => o[k] !== undefined);
    if (present.length === 1) return present[0];
    const quoted = keys.map((k) => `\`${k}\``);
    const list = quoted.length === 2 ? quoted.join(" or ") : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
    if (present.length === 0) {
      diagnostics.push(diag("conflictingKeys", `${what} needs one of ${list}`, { span: at(path) }));
    } else {
      diagnostics.push(
        diag("conflictingKeys", `${what} has both \`${present[0]}\` and \`${present[1]}\``, {
          span: keyAt([...path, present[1]!]),
          labels: [{ span: keyAt([...path, present[0]!]), message: "first one here" }],
          help: `a rule takes exactly one of ${list}; split it into two rules`,
        }),
      );
    }
    return undefined;
  };

  // ---- identity ----
  const version = root.sbc as number;
  const name = typeof root.name === "string" ? { value: root.name, span: at(["name"]) } : undefined;
  const description = typeof root.description === "string" ? { value: root.description, span: at(["description"]) } : undefined;
  const extendsList = asList(root.extends as string | string[] | undefined).map((v, i) => ({
    value: v,
    span: at(Array.isArray(root.extends) ? ["extends", i] : ["extends"]),
  }));

  // ---- params ----
  const params: ParamDecl[] = [];
  for (const [pname, pv] of Object.entries((root.params ?? {}) as Obj)) {
    const p = ["params", pname];
    const def = typeof pv === "string" ? pv : ((pv as Obj | null)?.default as string | undefined);
    const valuePath = typeof pv === "string" ? p : [...p, "default"];
    const ref = def === undefined ? undefined : pathRef(def, valuePath, `default of \`${pname}\``);
    const d: ParamDecl = {
      name: pname,
      nameSpan: keyAt(p),
      ...(ref ? { default: ref } : {}),
      ...(typeof pv === "object" && pv && typeof (pv as Obj).description === "string" ? { description: (pv as Obj).description as string } : {}),
    };
    params.push(d);
  }

  // ---- filesystem ----
  const filesystem: FsRuleNode[] = [];
  ((root.filesystem ?? []) as Obj[]).forEach((r, i) => {
    const p = ["filesystem", i];
    const what = `filesystem rule ${i + 1}`;
    const effect = exactlyOne(r, p, ["allow", "deny"] as const, what);
    const kind = exactlyOne(r, p, ["path", "exact", "glob"] as const, what);
    if (!effect || !kind) return;
    const words = asList(r[effect] as string | string[]);
    const access = expandAccess(words);
    if (access.length === 0) {
      diagnostics.push(diag("emptyAccess", `${what} ${effect === "allow" ? "allows" : "denies"} nothing`, { span: at([...p, effect]), help: "list at least one access, e.g. `read-only`" }));
      return;
    }
    const patternKind: PatternKind = kind === "path" ? "subtree" : kind;
    const ref = pathRef(r[kind] as string, [...p, kind], kind === "glob" ? "glob" : "path", kind === "glob");
    if (!ref) return;
    const protect: { value: readonly string[]; span: Span }[] = [];
    if (r.protect !== undefined) {
      if (effect !== "allow" || kind !== "path") {
        diagnostics.push(
          diag("protectNeedsAllow", "`protect:` only applies to an `allow` rule with `path:`", {
            span: keyAt([...p, "protect"]),
            help: "write the protected entries as their own `deny` rules instead",
          }),
        );
      } else {
        (r.protect as string[]).forEach((name, j) => {
          const pp = [...p, "protect", j];
          const parts = name.split("/").filter((x) => x !== "" && x !== ".");
          const bad = (message: string, help?: string) => diagnostics.push(diag("invalidProtect", message, { span: at(pp), help }));
          const checked = parsePath("/" + name, { what: "protected name" });
          const hard = checked.errors.find((e) => e.key === "controlCharPath" || e.key === "invalidUnicodePath");
          if (hard) bad(`protected name ${showPath(name)} ${hard.key === "controlCharPath" ? "contains a control character" : "is not valid Unicode"}`);
          else if (parts.length === 0) bad("a protected name is empty", "write a name inside the rule's path, such as `.git`");
          else if (name.startsWith("/")) bad(`protected name ${showPath(name)} is absolute`, `\`protect:\` takes names inside the rule's path; write \`${parts.join("/")}\``);
          else if (parts.includes("..")) bad(`protected name ${showPath(name)} leaves the rule's path`, "a protected name must stay inside the rule's path; write a `deny` rule for other places");
          else if (name.startsWith("~") || name.includes("${")) bad(`protected name ${showPath(name)} must be a plain name`, "`protect:` names are relative to the rule's path");
          else if (parts.some(hasWildcard)) {
            bad(`protected name ${showPath(name)} is a glob; \`protect:\` takes literal names`, "for a pattern, write a separate `deny: modify` rule with `glob:`");
          } else {
            if (parts.join("/") !== name) {
              diagnostics.push(
                diag("pathNormalized", `protected name ${showPath(name)} was normalized to \`${parts.join("/")}\``, { span: at(pp), help: "write the normalized form" }),
              );
            }
            protect.push({ value: parts, span: at(pp) });
          }
        });
      }
    }
    filesystem.push({
      effect,
      access,
      accessSpan: at([...p, effect]),
      kind: patternKind,
      path: ref,
      protect,
      ifMissing: (r["if-missing"] as "skip" | "error" | undefined) ?? "skip",
      ...(typeof r.reason === "string" ? { reason: r.reason } : {}),
      span: at(p),
    });
  });

  // ---- network ----
  let network: NetworkNode | undefined;
  if (typeof root.network === "string") {
    network = { mode: root.network, rules: [], span: at(["network"]) };
  } else if (root.network && typeof root.network === "object") {
    const n = root.network as Obj;
    const rules: NetRuleNode[] = [];
    const domainRules: DomainRuleNode[] = [];
    ((n.rules ?? []) as Obj[]).forEach((r, i) => {
      const p = ["network", "rules", i];
      const effect = exactlyOne(r, p, ["allow", "deny"] as const, `network rule ${i + 1}`);
      if (!effect) return;
      const ops = [...new Set(asList(r[effect] as NetOp | NetOp[]))].sort() as NetOp[];
      const protocols: Protocol[] = r.protocol === "udp" ? ["udp"] : r.protocol === "any" ? ["tcp", "udp"] : ["tcp"];
      let hosts: NetRuleNode["hosts"] = "any";
      let okHosts = true;
      if (Array.isArray(r.hosts) && r.hosts.length === 0) {
        diagnostics.push(diag("invalidHost", `\`hosts\` of network rule ${i + 1} is empty, so the rule matches nothing`, { span: at([...p, "hosts"]), help: "leave `hosts` out to mean any host" }));
        okHosts = false;
      } else if (Array.isArray(r.hosts)) {
        const list: string[] = [];
        (r.hosts as string[]).forEach((h, j) => {
          const c = parseCidr(h);
          if (!c.ok) {
            report(c.issue, [...p, "hosts", j]);
            okHosts = false;
          } else list.push(formatCidr(c.value));
        });
        hosts = [...new Set(list)].sort();
      } else if (r.hosts === "loopback") hosts = "loopback";
      const ranges: [number, number][] = [];
      let okPorts = true;
      if (r.ports === undefined) ranges.push([0, 65535]);
      else if (Array.isArray(r.ports) && r.ports.length === 0) {
        diagnostics.push(diag("invalidPort", `\`ports\` of network rule ${i + 1} is empty, so the rule matches nothing`, { span: at([...p, "ports"]), help: "leave `ports` out to mean every port" }));
        okPorts = false;
      } else {
        const items = Array.isArray(r.ports) ? (r.ports as (number | string)[]) : [r.ports as number | string];
        items.forEach((item, j) => {
          const pr = parsePort(item);
          if (!pr.ok) {
            report(pr.issue, Array.isArray(r.ports) ? [...p, "ports", j] : [...p, "ports"]);
            okPorts = false;
          } else ranges.push(pr.value);
        });
      }
      if (ops.length === 0) {
        diagnostics.push(diag("emptyAccess", `network rule ${i + 1} names no operation`, { span: at([...p, effect]), help: "write `connect`, `bind` or both" }));
        return;
      }
      if (!okHosts || !okPorts) return;
      if (r.domains !== undefined) {
        const domains = domainList(r, i, p, effect, ops);
        const http = httpMatch(r, i, p);
        if (domains && http !== null) domainRules.push({ effect, protocols, domains, ports: mergeRanges(ranges), ...(http ? { http } : {}), ...(typeof r.reason === "string" ? { reason: r.reason } : {}), span: at(p) });
        return;
      }
      if (r["http-methods"] !== undefined || r["http-paths"] !== undefined) {
        const key = r["http-methods"] !== undefined ? "http-methods" : "http-paths";
        diagnostics.push(diag("domainRuleShape", `\`${key}\` of network rule ${i + 1} needs \`domains\``, { span: keyAt([...p, key]), help: "the proxy sees HTTP requests by name: match them in a rule with `domains:`" }));
        return;
      }
      rules.push({ effect, ops, protocols, hosts, ports: mergeRanges(ranges), ...(typeof r.reason === "string" ? { reason: r.reason } : {}), span: at(p) });
    });
    let unix: UnixNode | undefined;
    if (typeof n.unix === "string") unix = { kind: "word", value: n.unix as Effect, span: at(["network", "unix"]) };
    else if (n.unix && typeof n.unix === "object") {
      const u = n.unix as Obj;
      const paths: UnixPathRuleNode[] = [];
      ((u.paths ?? []) as Obj[]).forEach((r, i) => {
        const p = ["network", "unix", "paths", i];
        const what = `unix path rule ${i + 1}`;
        const effect = exactlyOne(r, p, ["allow", "deny"] as const, what);
        if (!effect) return;
        const ops = [...new Set(asList(r[effect] as NetOp | NetOp[]))].sort() as NetOp[];
        const ref = pathRef(r.path as string, [...p, "path"], "path");
        if (ops.length === 0) {
          diagnostics.push(diag("emptyAccess", `${what} names no operation`, { span: at([...p, effect]), help: "write `connect`, `bind` or both" }));
          return;
        }
        if (!ref) return;
        paths.push({ effect, ops, path: ref, ...(typeof r.reason === "string" ? { reason: r.reason } : {}), span: at(p) });
      });
      unix = {
        kind: "detail",
        ...(typeof u.pairs === "string" ? { pairs: u.pairs as Effect } : {}),
        ...(typeof u.abstract === "string" ? { abstract: u.abstract as Effect } : {}),
        paths,
        span: at(["network", "unix"]),
      };
    }
    network = { ...(typeof n.mode === "string" ? { mode: n.mode } : {}), ...(unix ? { unix } : {}), rules, ...(domainRules.length ? { domains: domainRules } : {}), span: at(["network"]) };
  }

  // ---- syscalls ----
  let syscalls: SyscallsNode | undefined;
  const actionAt = (v: unknown, path: readonly PathSegment[]): Action | undefined => {
    const a = parseAction(v);
    if (!a.ok) {
      report(a.issue, v && typeof v === "object" ? [...path, "errno" in v ? "errno" : "trace"] : path);
      return undefined;
    }
    return a.value;
  };
  if (root.syscalls && typeof root.syscalls === "object") {
    const s = root.syscalls as Obj;
    const defaultAction = s.default === undefined ? undefined : actionAt(s.default, ["syscalls", "default"]);
    const foreignArch = s["foreign-arch"] === undefined ? undefined : actionAt(s["foreign-arch"], ["syscalls", "foreign-arch"]);
    const newer = s.newer === undefined ? undefined : actionAt(s.newer, ["syscalls", "newer"]);
    let kernel: string | undefined;
    if (typeof s.kernel === "string") {
      const k = checkKernelVersion(s.kernel);
      if (k) diagnostics.push(diag("invalidKernelVersion", k.message, { span: at(["syscalls", "kernel"]), help: k.help }));
      else kernel = s.kernel;
    }
    const rules: SyscallRuleNode[] = [];
    ((s.rules ?? []) as Obj[]).forEach((r, i) => {
      const p = ["syscalls", "rules", i];
      const names: string[] = [];
      let good = true;
      const raw = asList(r.syscalls as string | string[]);
      const seen = new Set<string>();
      raw.forEach((nm, j) => {
        const np = Array.isArray(r.syscalls) ? [...p, "syscalls", j] : [...p, "syscalls"];
        if (seen.has(nm)) diagnostics.push(diag("duplicateSyscall", `\`${nm}\` is listed twice in syscall rule ${i + 1}`, { span: at(np) }));
        seen.add(nm);
        if (nm.startsWith("@")) {
          const members = expandSyscallGroup(nm);
          if (!members) {
            const guess = closest(nm, Object.keys(SYSCALL_GROUPS));
            diagnostics.push(
              diag("unknownSyscallGroup", `unknown syscall group \`${nm}\``, {
                span: at(np),
                help: guess ? `did you mean \`${guess}\`?` : `groups: ${Object.keys(SYSCALL_GROUPS).sort().join(", ")}`,
              }),
            );
            good = false;
          } else names.push(...members);
        } else if (nm.includes(":")) {
          const n = parseNumberedSyscall(nm, ARCHES);
          if (!n.ok) {
            report(n.issue, np);
            good = false;
          } else names.push(formatNumberedEntry(n.value.arch, n.value.nr));
        } else if (!isKnownSyscall(nm)) {
          const guess = closest(nm, knownSyscallNames());
          diagnostics.push(diag("unknownSyscall", `unknown syscall \`${nm}\``, { span: at(np), help: guess ? `did you mean \`${guess}\`?` : undefined }));
          good = false;
        } else names.push(nm);
      });
      if (raw.length === 0) {
        diagnostics.push(diag("emptyAccess", `syscall rule ${i + 1} names no syscall`, { span: at([...p, "syscalls"]) }));
        good = false;
      }
      const action = actionAt(r.action, [...p, "action"]);
      const conditions = ((r.args ?? []) as string[]).flatMap((c, j) => {
        const pc = parseCondition(c);
        if (!pc.ok) {
          report(pc.issue, [...p, "args", j]);
          good = false;
          return [];
        }
        return [{ ...pc.value, span: at([...p, "args", j]) }];
      });
      if (!good || !action) return;
      rules.push({
        syscalls: [...new Set(names)].sort(compareSyscallEntries),
        action,
        conditions,
        ...(typeof r.reason === "string" ? { reason: r.reason } : {}),
        span: at(p),
      });
    });
    syscalls = {
      ...(defaultAction ? { defaultAction: { value: defaultAction, span: at(["syscalls", "default"]) } } : {}),
      ...(foreignArch ? { foreignArch: { value: foreignArch, span: at(["syscalls", "foreign-arch"]) } } : {}),
      ...(newer ? { newer: { value: newer, span: at(["syscalls", "newer"]) } } : {}),
      ...(kernel !== undefined ? { kernel: { value: kernel, span: at(["syscalls", "kernel"]) } } : {}),
      rules,
      span: at(["syscalls"]),
    };
  }

  // ---- commands ----
  let commands: { defaultDecision?: { value: Decision; span: Span }; rules: CommandRuleNode[] } | undefined;
  if (root.commands && typeof root.commands === "object") {
    const c = root.commands as Obj;
    const rules: CommandRuleNode[] = [];
    ((c.rules ?? []) as Obj[]).forEach((r, i) => {
      const p = ["commands", "rules", i];
      let words: (readonly string[])[];
      if (typeof r.prefix === "string") {
        const split = splitWords(r.prefix);
        if (!split.ok) {
          report(split.issue, [...p, "prefix"]);
          return;
        }
        words = split.value.map((w) => [w]);
      } else words = (r.prefix as (string | string[])[]).map((w) => asList(w));
      const emptyAt = words.findIndex((alts) => alts.length === 0 || alts.some((w) => w === ""));
      if (words.length === 0 || emptyAt >= 0) {
        const where = emptyAt >= 0 && Array.isArray(r.prefix) ? [...p, "prefix", emptyAt] : [...p, "prefix"];
        diagnostics.push(
          diag("emptyPrefix", words.length === 0 ? `command rule ${i + 1} has an empty prefix` : `command rule ${i + 1} has an empty word in its prefix`, {
            span: at(where),
            help: "a prefix names at least the program, e.g. `[git, status]`",
          }),
        );
        return;
      }
      rules.push({
        prefix: words.map((alts) => [...new Set(alts)].sort()),
        decision: r.decision as Decision,
        ...(typeof r.reason === "string" ? { reason: r.reason } : {}),
        span: at(p),
      });
    });
    commands = { ...(c.default ? { defaultDecision: { value: c.default as Decision, span: at(["commands", "default"]) } } : {}), rules };
  }

  // ---- linux ----
  let linux: LinuxNode | undefined;
  if (root.linux && typeof root.linux === "object") {
    const l = root.linux as Obj;
    linux = {
      ...(typeof l.namespaces === "string" ? { namespaces: { value: l.namespaces as NamespacesMode, span: at(["linux", "namespaces"]) } } : {}),
      ...(Array.isArray(l["accept-widening"]) ? { acceptWidening: { value: [...new Set(l["accept-widening"] as Widening[])].sort(), span: at(["linux", "accept-widening"]) } } : {}),
      span: at(["linux"]),
    };
  }

  // ---- tests ----
  const tests: TestNode[] = [];
  const queryKeys = [...ACCESS_CLASSES, "connect", "bind", "unix", "syscall", "command"] as const;
  ((root.tests ?? []) as Obj[]).forEach((t, i) => {
    const p = ["tests", i];
    const present = queryKeys.filter((k) => t[k] !== undefined);
    const nameOpt = typeof t.name === "string" ? { name: t.name } : {};
    const sp = at(p);
    if (present.length !== 1) {
      diagnostics.push(
        diag("invalidTest", present.length === 0 ? `test ${i + 1} asks nothing` : `test ${i + 1} asks more than one thing (${present.map((k) => `\`${k}\``).join(", ")})`, {
          span: sp,
          help: "a test has one query, e.g. `write: ${workspace}/.git/config`, and `expect:`",
        }),
      );
      return;
    }
    const q = present[0]!;
    const expect = t.expect;
    const expectPath = [...p, "expect"];
    const shown = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
    const expectWord = <W extends string>(words: readonly W[]): W | undefined => {
      if (typeof expect === "string" && (words as readonly string[]).includes(expect)) return expect as W;
      const guess = typeof expect === "string" ? closest(expect, words) : undefined;
      const list = words.map((w) => `\`${w}\``).join(words.length === 2 ? " or " : ", ");
      diagnostics.push(
        diag("invalidValue", `a ${q} test expects ${list}, found \`${shown(expect)}\``, { span: at(expectPath), help: guess ? `did you mean \`${guess}\`?` : undefined }),
      );
      return undefined;
    };
    const expectEffect = () => expectWord(["allow", "deny"] as const);
    const misplaced = (key: string) => {
      if (t[key] !== undefined) {
        diagnostics.push(diag("invalidTest", `\`${key}\` does not apply to a ${q} test`, { span: keyAt([...p, key]) }));
        return true;
      }
      return false;
    };
    const unixKeys = () => misplaced("path") || misplaced("abstract");
    if ((ACCESS_CLASSES as readonly string[]).includes(q)) {
      const bad = misplaced("args") || misplaced("protocol") || unixKeys();
      const ref = pathRef(t[q] as string, [...p, q], "path");
      const e = expectEffect();
      if (ref && e && !bad) tests.push({ kind: "fs", access: q as Access, path: ref, expect: e, ...nameOpt, span: sp });
    } else if (q === "connect" || q === "bind") {
      const bad = misplaced("args") || unixKeys();
      const ep = parseEndpoint(t[q] as string);
      // `connect: NAME:PORT` asks the rules by domain (the host stays a normalized name in the test).
      const byName = !ep.ok && q === "connect" ? parseHostPort(t[q] as string) : undefined;
      const endpoint = ep.ok ? { host: formatIp(ep.value.host), port: ep.value.port } : byName?.ok ? { host: formatHost(byName.value.host), port: byName.value.port } : undefined;
      if (!endpoint) report(byName && !byName.ok && /[a-z]/i.test(t[q] as string) ? byName.issue : (ep as { issue: ValueIssue }).issue, [...p, q]);
      const e = expectEffect();
      if (endpoint && e && !bad) {
        tests.push({ kind: "net", op: q, protocol: (t.protocol as Protocol | undefined) ?? "tcp", ...endpoint, expect: e, ...nameOpt, span: sp });
      }
    } else if (q === "unix") {
      const bad = misplaced("args") || misplaced("protocol");
      const op = t.unix as "socketpair" | NetOp;
      const e = expectEffect();
      const forms = "a unix test is `unix: socketpair`, `unix: connect` or `unix: bind` with `path: P`, or `unix: connect` with `abstract: NAME`";
      if (op === "socketpair") {
        const extra = ["path", "abstract"].find((k) => t[k] !== undefined);
        if (extra) diagnostics.push(diag("invalidTest", `\`${extra}\` does not apply to a \`unix: socketpair\` test`, { span: keyAt([...p, extra]), help: "a socket pair has no address" }));
        else if (e && !bad) tests.push({ kind: "unix", op, expect: e, ...nameOpt, span: sp });
      } else if (t.path !== undefined && t.abstract !== undefined) {
        diagnostics.push(
          diag("invalidTest", `test ${i + 1} names both a \`path\` and an \`abstract\` name`, {
            span: keyAt([...p, "abstract"]),
            labels: [{ span: keyAt([...p, "path"]), message: "the path" }],
            help: forms,
          }),
        );
      } else if (t.abstract !== undefined) {
        if (op === "bind") {
          diagnostics.push(
            diag("invalidTest", "`abstract` does not apply to a `unix: bind` test: binding abstract names is not restricted", { span: keyAt([...p, "abstract"]), help: forms }),
          );
        } else if (e && !bad) tests.push({ kind: "unix", op, abstract: t.abstract as string, expect: e, ...nameOpt, span: sp });
      } else if (t.path !== undefined) {
        const ref = pathRef(t.path as string, [...p, "path"], "path");
        if (ref && e && !bad) tests.push({ kind: "unix", op, path: ref, expect: e, ...nameOpt, span: sp });
      } else {
        diagnostics.push(diag("invalidTest", `\`unix: ${op}\` needs the socket's \`path:\`${op === "connect" ? " or its `abstract:` name" : ""}`, { span: at([...p, "unix"]), help: forms }));
      }
    } else if (q === "syscall") {
      const bad = misplaced("protocol") || unixKeys();
      let nm = t.syscall as string;
      let good = !bad;
      if (nm.includes(":")) {
        const n = parseNumberedSyscall(nm, ARCHES);
        if (!n.ok) {
          report(n.issue, [...p, "syscall"]);
          good = false;
        } else nm = formatNumberedEntry(n.value.arch, n.value.nr);
      } else if (!isKnownSyscall(nm)) {
        const guess = closest(nm, knownSyscallNames());
        diagnostics.push(diag("unknownSyscall", `unknown syscall \`${nm}\``, { span: at([...p, "syscall"]), help: guess ? `did you mean \`${guess}\`?` : undefined }));
        good = false;
      }
      const rawArgs = (t.args ?? []) as (string | number)[];
      if (rawArgs.length > 6) {
        diagnostics.push(diag("argIndexOutOfRange", `test ${i + 1} passes ${rawArgs.length} arguments; syscalls take at most 6`, { span: at([...p, "args", 6]) }));
        good = false;
      }
      const args = rawArgs.slice(0, 6).map((a, j) => {
        // YAML reads `0644` as the decimal 644; C readers expect octal. Refuse the ambiguity, as conditions do.
        const written = doc.locate([...p, "args", j]).value;
        const rawText = doc.source.text.slice(written.start, written.end);
        const v = typeof a === "number" && /^[-+]?0\d/.test(rawText) ? parseValue(rawText) : parseValue(a);
        if (!v.ok) {
          report(v.issue, [...p, "args", j]);
          good = false;
          return "0x0";
        }
        return hex(v.value);
      });
      const action = actionAt(expect, expectPath);
      if (good && action) tests.push({ kind: "syscall", syscall: nm, args, expect: action, ...nameOpt, span: sp });
    } else {
      const bad = misplaced("args") || misplaced("protocol") || unixKeys();
      let argv: string[];
      if (typeof t.command === "string") {
        const split = splitWords(t.command);
        if (!split.ok) {
          report(split.issue, [...p, "command"]);
          return;
        }
        argv = split.value;
      } else argv = t.command as string[];
      if (argv.length === 0) {
        diagnostics.push(diag("invalidTest", `test ${i + 1} has an empty command`, { span: at([...p, "command"]) }));
        return;
      }
      const decision = expectWord(["allow", "prompt", "forbidden"] as const);
      if (decision && !bad) tests.push({ kind: "command", argv, expect: decision, ...nameOpt, span: sp });
    }
  });

  const file: PolicyFile = {
    source: doc.source,
    version,
    ...(name ? { name } : {}),
    ...(description ? { description } : {}),
    extends: extendsList,
    params,
    filesystem,
    ...(network ? { network } : {}),
    ...(syscalls ? { syscalls } : {}),
    ...(commands ? { commands } : {}),
    ...(linux ? { linux } : {}),
    tests,
  };
  return { file, diagnostics };
}
