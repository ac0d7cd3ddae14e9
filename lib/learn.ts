// `sbc learn`: from the tracer's records of a run (native/loader/trace.c with `--trace-learn`: every watched
// call however it ended, and every call the observation filter would refuse), a policy that allows what was
// seen — accesses collapsed to subtrees, spelled through the built-in parameters, with tests — and never a
// secret: those are listed for a person. With `--network-by name`, the egress proxy's requests too (rules by
// domain). Pure but for the filesystem reads that canonicalize paths.

import { realpathSync, statSync } from "node:fs";
import { basename, dirname, relative } from "node:path";
import { checkResolvedAddress, evaluateFs, evaluateName, evaluateNetwork, evaluateSyscall } from "../ir/evaluator/evaluate.js";
import { syscallNameAt } from "../ir/evaluator/syscall-numbers.js";
import { ACCESS_CLASSES, ACCESS_GROUPS, sortAccess, type Access } from "../ir/access.js";
import type { IR } from "../ir/types.js";
import { expandSyscallGroup, type Arch } from "../linux-abi/index.js";
import { lintPolicyText } from "../compiler/lint/index.js";
import { SECRETS, type Secret } from "../compiler/lint/secrets.js";
import { DANGEROUS_CALLS } from "../compiler/lint/rules/dangerous-syscall.js";
import { PERSISTENCE_POINTS } from "../compiler/lint/rules/persistence-write.js";
import { compile as compileSeccomp } from "../targets/seccomp/index.js";
import { allowsEverything, encode } from "../targets/seccomp/bpf.js";
import { buildPlan } from "../targets/landlock/plan.js";
import { compileToRun } from "./run-policy.js";
import { runPolicyTests } from "../compiler/passes/run-tests.js";
import { convert, convertedText } from "./convert.js";
import type { TraceRecord } from "./explain.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { parseHost, specialRange } from "../ir/hosts.js";
import { cidrContains, LOOPBACK_CIDRS, parseIp, unmapIpv4 } from "../ir/values.js";
import { AF_INET, AF_INET6, AF_UNIX, AT_REMOVEDIR, ECONNREFUSED, EHOSTUNREACH, EINPROGRESS, ENETUNREACH, O_ACCMODE, O_CREAT, O_DIRECTORY, O_TRUNC, SOCK_DGRAM } from "./trace-abi.js";
export { presetNames } from "../compiler/passes/resolve-extends.js";
/** `--network-by name`: the egress proxy listens where `sbc exec`'s does, so the learned tools' settings hold. */
export { DEFAULT_PROXY_PORT } from "../ir/backend.js";

/**
 * The syscall section of a standalone learned policy: read-only's (every call, but tracing, administrative
 * calls, io_uring, and typing into the terminal). The run is observed under this section's filter, so a call
 * it would refuse is seen and allowed by name in the learned policy (but a call refused for some arguments
 * only: that is listed for a person).
 */
export const STANDALONE_SYSCALL_GROUPS = ["@debug", "@privileged", "@io-uring"] as const;
const GROUPS_REASON = "tracing, administrative calls and io_uring (read-only's rules)";
const TERMINAL_RULES: readonly Record<string, unknown>[] = [
  { syscalls: ["ioctl"], args: ["arg1 == TIOCSTI"], action: { errno: "EPERM" }, reason: "typing into the terminal the sandbox shares with its caller (read-only's rule)" },
  { syscalls: ["ioctl"], args: ["arg1 == TIOCLINUX"], action: { errno: "EPERM" }, reason: "pasting a virtual console's selection into its input (read-only's rule)" },
];
// JSON is YAML: the observer is written from the same rules as the learned section.
const STANDALONE_OBSERVER = JSON.stringify({
  sbc: 1,
  name: "sbc-learn-observer",
  network: "on",
  syscalls: { default: "allow", rules: [{ syscalls: [...STANDALONE_SYSCALL_GROUPS], action: { errno: "EPERM" } }, ...TERMINAL_RULES] },
});

/** What the run is observed under: a preset, a policy file, or the standalone observer. */
export type LearnBase = { readonly kind: "preset"; readonly name: string } | { readonly kind: "file"; readonly path: string } | { readonly kind: "standalone" };

/** The observation policy compiled with the run's bindings, or its errors. */
export function compileObserver(base: LearnBase, bindings: Readonly<Record<string, string>>): { ir: IR; warnings: readonly Diagnostic[]; filesRead: readonly string[] } | { errors: readonly Diagnostic[]; filesRead: readonly string[] } {
  const input =
    base.kind === "preset" ? ({ kind: "preset", name: base.name } as const) : base.kind === "file" ? ({ kind: "file", path: base.path } as const) : ({ kind: "text", text: STANDALONE_OBSERVER, syntax: "yaml", path: "sbc-learn-observer.yaml" } as const);
  const r = compileToRun(input, bindings);
  return r.ir ? { ir: r.ir, warnings: r.warnings, filesRead: r.filesRead } : { errors: r.errors, filesRead: r.filesRead };
}

/**
 * The plan the loader observes the command under: no Landlock ruleset, no mounts (nothing is enforced while
 * learning), and the observer's seccomp filter, whose refusals the tracer records and then lets run.
 */
export function observationPlanText(ir: IR, arch: Arch, netProxy?: { readonly port: number }): string {
  const filter = compileSeccomp(ir, { arches: [arch] });
  const program = filter.artifact?.program;
  const bytes = program && !allowsEverything(program) ? encode(program) : undefined;
  // `--network-by name`: a network namespace of its own behind the egress proxy, as `sbc exec` runs rules by
  // domain (the loader refuses `net-proxy` without a namespace); its relay asks `sbc learn` over `--proxy-fd`.
  if (netProxy) return buildPlan(undefined, bytes, { mounts: [], namespaces: "auto", netProxy: { port: netProxy.port } }).text;
  return buildPlan(undefined, bytes, { mounts: [], namespaces: "never" }).text;
}

// ---- records → observations ----


export interface FileUse {
  /** Canonical (symlinks resolved), absolute. */
  readonly path: string;
  readonly access: readonly Access[];
  readonly count: number;
}
export interface NetUse {
  readonly op: "connect" | "bind";
  /** `udp` where the tracer saw a datagram socket; else `tcp` (also when it could not tell). */
  readonly protocol: "tcp" | "udp";
  readonly host: string;
  readonly port: number;
  readonly count: number;
}
/** A name (or an IP literal) the command asked the egress proxy for, with `--network-by name`. */
export interface NameUse {
  /** As matched: lower case, punycode, no trailing dot; an IP literal in its short form. */
  readonly host: string;
  readonly port: number;
  /** How it asked: HTTP `CONNECT`, a plain-HTTP request, SOCKS5. */
  readonly via: readonly ("connect" | "http" | "socks5")[];
  /** Requests the proxy allowed while learning. */
  readonly count: number;
  /** The addresses they went to (the name's, as resolved). */
  readonly addresses: readonly string[];
  /** Requests refused while learning (an address in a private range), and why (the last one's text). */
  readonly refused: number;
  readonly why?: string;
}
/** A request the egress proxy decided while learning, as its decision service records it (lib/proxy/service.ts). */
export interface ProxyRequestSeen {
  readonly via: "connect" | "http" | "socks5";
  readonly host: string;
  readonly port: number;
  readonly decision: "allow" | "deny";
  readonly address?: string;
  readonly text?: string;
}
/** A TCP connect that went around the egress proxy (`--network-by name`): it cannot succeed in the namespace. */
export interface BypassUse {
  readonly host: string;
  readonly port: number;
  readonly count: number;
}

/** The proxy's requests folded by host and port, sorted: what `sbc learn --network-by name` learns from. */
export function foldProxyRequests(requests: readonly ProxyRequestSeen[]): NameUse[] {
  const out = new Map<string, { host: string; port: number; via: Set<ProxyRequestSeen["via"]>; count: number; addresses: Set<string>; refused: number; why?: string }>();
  for (const q of requests) {
    const key = `${q.host} ${q.port}`;
    const e = out.get(key) ?? { host: q.host, port: q.port, via: new Set(), count: 0, addresses: new Set<string>(), refused: 0 };
    e.via.add(q.via);
    if (q.decision === "allow") {
      e.count++;
      if (q.address !== undefined) e.addresses.add(q.address);
    } else {
      e.refused++;
      if (q.text !== undefined) e.why = q.text;
    }
    out.set(key, e);
  }
  return [...out.values()]
    .map((e) => ({ host: e.host, port: e.port, via: [...e.via].sort(), count: e.count, addresses: [...e.addresses].sort(), refused: e.refused, ...(e.why !== undefined ? { why: e.why } : {}) }))
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port));
}

/** Whether ADDRESS is loopback (`127.0.0.0/8`, `::1`, or IPv4-mapped loopback). */
function isLoopbackAddress(address: string): boolean {
  const ip = parseIp(address);
  return ip !== undefined && LOOPBACK_CIDRS.some((c) => cidrContains(c, ip));
}

export interface SyscallUse {
  readonly name: string;
  readonly count: number;
  /** Refused by a rule with argument conditions (ioctl TIOCSTI): not allowed by name, listed instead. */
  readonly conditional?: true;
}
export interface Observed {
  readonly files: readonly FileUse[];
  readonly network: readonly NetUse[];
  readonly unixSockets: readonly { readonly op: "connect" | "bind"; readonly path: string; readonly count: number }[];
  /** Calls the observation filter would have refused (the base's, or the standalone section's). */
  readonly syscalls: readonly SyscallUse[];
  /** Watched calls that failed (ENOENT and the like): not granted. */
  readonly failed: number;
  /** `--network-by name`: what the command asked the egress proxy for. */
  readonly names?: readonly NameUse[];
  /** `--network-by name`: TCP connects around the proxy (they fail in the namespace): listed, never granted. */
  readonly bypassed?: readonly BypassUse[];
}

/** `--network-by name`: the proxy's port inside the namespace, and the requests it decided. */
export interface ProxyObservation {
  readonly port: number;
  readonly requests: readonly ProxyRequestSeen[];
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * PATH with its symlinks resolved as far as it exists now (Landlock judges the file, not the name): a name
 * that is gone (a temp file) keeps its last components. `leaf: false` leaves the last component as named
 * (a delete, a create or a rename acts on the entry, not on what it points at).
 */
export function canonicalPath(path: string, leaf = true): string {
  const tail: string[] = [];
  let p = path;
  if (!leaf) {
    if (p === "/") return p;
    tail.unshift(basename(p));
    p = dirname(p);
  }
  for (;;) {
    try {
      const real = realpathSync(p);
      return tail.length ? (real === "/" ? "" : real) + "/" + tail.join("/") : real;
    } catch {
      if (p === "/" || p === dirname(p)) return path;
      tail.unshift(basename(p));
      p = dirname(p);
    }
  }
}

/** The accesses a call that succeeded used, each with the path it applies to. */
function accessesOf(name: string, args: readonly bigint[], path: string | undefined, path2: string | undefined): { access: Access; path: string; leaf: boolean }[] {
  const flagsOf = (i: number): number => Number((args[i] ?? 0n) & 0xffffffffn);
  if (path === undefined || !path.startsWith("/")) return [];
  const open = (flags: number): { access: Access; path: string; leaf: boolean }[] => {
    const out: Access[] = [];
    // O_CREAT asks for the file to be created if missing: the next run finds it there and writes it, so both.
    // (A device such as /dev/null is there already: O_CREAT creates nothing.)
    if ((flags & O_CREAT) !== 0 && !path.startsWith("/dev/")) out.push("create-file", "write");
    else if ((flags & O_ACCMODE) !== 0 || (flags & O_CREAT) !== 0) out.push("write");
    // O_TRUNC truncates regular files only: on a device it is ignored, and so is Landlock's truncate right.
    if ((flags & O_TRUNC) !== 0 && (flags & O_ACCMODE) !== 0 && !path.startsWith("/dev/")) out.push("truncate");
    if ((flags & O_ACCMODE) !== 1) out.push((flags & O_DIRECTORY) !== 0 || isDir(path) ? "list" : "read");
    return out.map((access) => ({ access, path, leaf: true }));
  };
  const one = (access: Access, leaf = true) => [{ access, path, leaf }];
  const moved = (): { access: Access; path: string; leaf: boolean }[] => {
    if (path2 === undefined || !path2.startsWith("/")) return [];
    const dir = isDir(path2);
    const out: { access: Access; path: string; leaf: boolean }[] = [
      { access: dir ? "delete-dir" : "delete-file", path, leaf: false },
      { access: dir ? "create-dir" : "create-file", path: path2, leaf: false },
      // Replacing an existing entry removes it: allowed ahead, so a second run that renames over it works.
      { access: dir ? "delete-dir" : "delete-file", path: path2, leaf: false },
    ];
    if (dirname(path) !== dirname(path2)) out.push({ access: "rename", path, leaf: false }, { access: "rename", path: path2, leaf: false });
    return out;
  };
  switch (name) {
    case "open": return open(flagsOf(1));
    case "openat": case "openat2": return open(flagsOf(2));
    case "creat": return [...one("create-file", false), ...one("write"), ...one("truncate")];
    case "mkdir": case "mkdirat": return one("create-dir", false);
    case "mknod": case "mknodat": return one("create-special", false);
    case "unlink": return one("delete-file", false);
    case "unlinkat": return one((flagsOf(2) & AT_REMOVEDIR) !== 0 ? "delete-dir" : "delete-file", false);
    case "rmdir": return one("delete-dir", false);
    case "symlink": case "symlinkat": return one("create-symlink", false);
    case "truncate": return one("truncate");
    case "execve": case "execveat": return one("execute");
    case "rename": case "renameat": case "renameat2": return moved();
    case "link": case "linkat":
      return path2 !== undefined && path2.startsWith("/") ? [{ access: "create-file", path: path2, leaf: false }, ...(dirname(path) !== dirname(path2) ? [{ access: "rename" as const, path: path2, leaf: false }] : [])] : [];
    default: return [];
  }
}

/** Whether the command was started at all: some exec of it succeeded (else the loader could not find it). */
export function commandStarted(records: readonly TraceRecord[], arch: Arch): boolean {
  return records.some((r) => r.kind === "exit" && r.errno === 0 && /^execve(at)?$/.test(syscallNameAt(arch, r.nr) ?? ""));
}

/**
 * Fold the records into what the command used; `base` is the observer, to tell network-implied refusals.
 * With `proxy` (`--network-by name`) the command ran in a network namespace with only loopback: its
 * connections to the proxy are not peers (the names it asked for are), and a TCP connect to any other
 * address went around the proxy and failed there (unreachable, or nothing listening on the namespace's own
 * loopback): listed as bypassed, not learned.
 */
export function observe(records: readonly TraceRecord[], base: IR, arch: Arch, proxy?: ProxyObservation): Observed {
  const files = new Map<string, { access: Set<Access>; count: number }>();
  const net = new Map<string, NetUse>();
  const unix = new Map<string, { op: "connect" | "bind"; path: string; count: number }>();
  const calls = new Map<string, number>();
  const bypassed = new Map<string, BypassUse>();
  // In a fresh namespace only the proxy and what the command bound itself listen: a loopback connect to any
  // other port went around the proxy (a nonblocking one says EINPROGRESS, refused or not). A bind to port 0
  // (any port) leaves every loopback port possibly the command's own.
  const bound = new Set<number>();
  if (proxy) for (const r of records) if (r.kind === "exit" && r.errno === 0 && r.port !== undefined && syscallNameAt(arch, r.nr) === "bind") bound.add(r.port);
  let failed = 0;
  for (const r of records) {
    const n = r.repeat ?? 1;
    const name = syscallNameAt(arch, r.nr) ?? `${arch}:${r.nr}`;
    const args = r.args.map((a) => BigInt(a));
    if (r.kind === "seccomp") {
      const v = evaluateSyscall(base, `${arch}:${r.nr}`, args, { arch });
      // A socket the network section refuses is learned from its connect or bind (watched), by address.
      if (v.implied) continue;
      const key = v.rule?.conditions.length ? `${name}\0args` : name;
      calls.set(key, (calls.get(key) ?? 0) + n);
      continue;
    }
    if (name === "connect" || name === "bind") {
      // A connect that was refused or is still in progress names the peer the command wanted all the same.
      // In the namespace a peer elsewhere is unreachable: wanted all the same (and said, for UDP, as without it).
      const unreachable = proxy !== undefined && (r.errno === ENETUNREACH || r.errno === EHOSTUNREACH);
      const tried = r.errno === 0 || (name === "connect" && (r.errno === ECONNREFUSED || r.errno === EINPROGRESS || unreachable));
      if (!tried) {
        failed += n;
        continue;
      }
      if ((r.family === AF_INET || r.family === AF_INET6) && r.addr !== undefined && r.port !== undefined) {
        // Port 0: a bind to any port, or a UDP "connect" to learn a route: nothing to allow by port.
        if (r.port === 0) continue;
        const protocol = r.socktype === SOCK_DGRAM ? "udp" : "tcp";
        if (proxy && name === "connect" && protocol === "tcp") {
          const loopback = isLoopbackAddress(r.addr);
          if (loopback && r.port === proxy.port) continue; // the egress proxy itself
          if (!loopback || r.errno === ECONNREFUSED || unreachable || (!bound.has(r.port) && !bound.has(0))) {
            const k = `${r.addr} ${r.port}`;
            bypassed.set(k, { host: r.addr, port: r.port, count: (bypassed.get(k)?.count ?? 0) + n });
            continue;
          }
        }
        const key = `${name} ${protocol} ${r.addr} ${r.port}`;
        const prev = net.get(key);
        net.set(key, { op: name, protocol, host: r.addr, port: r.port, count: (prev?.count ?? 0) + n });
      } else if (r.family === AF_UNIX && r.path !== undefined && r.path.startsWith("/")) {
        const key = `${name} ${r.path}`;
        const prev = unix.get(key);
        unix.set(key, { op: name, path: r.path, count: (prev?.count ?? 0) + n });
      }
      continue;
    }
    if (r.errno !== 0) {
      failed += n;
      continue;
    }
    for (const a of accessesOf(name, args, r.path, r.path2)) {
      const path = canonicalPath(a.path, a.leaf);
      const e = files.get(path) ?? { access: new Set<Access>(), count: 0 };
      e.access.add(a.access);
      e.count += n;
      files.set(path, e);
    }
  }
  return {
    files: [...files].map(([path, e]) => ({ path, access: sortAccess(e.access), count: e.count })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    network: [...net.values()],
    unixSockets: [...unix.values()],
    syscalls: [...calls].map(([key, count]) => (key.endsWith("\0args") ? { name: key.slice(0, -5), count, conditional: true as const } : { name: key, count })),
    failed,
    ...(proxy ? { names: foldProxyRequests(proxy.requests), bypassed: [...bypassed.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port)) } : {}),
  };
}

// ---- observations → policy ----

export interface LearnBindings {
  /** Canonical (symlinks resolved) values of the built-ins. */
  readonly workspace: string;
  readonly home?: string;
  readonly tmpdir?: string;
}

export interface LearnOptions {
  readonly arch: Arch;
  readonly bindings: LearnBindings;
  /** `--extend`: how `extends:` names the base (a preset, or a file relative to the output), and its bound IR. */
  readonly extend?: { readonly name: string; readonly ir: IR };
  /** The command, for the header and `description:`. */
  readonly command: readonly string[];
  /** Where the policy will live (its directory resolves a relative `extends:`; its name names it). */
  readonly path: string;
  readonly format: "yaml" | "dsl";
}

export interface SecretUse {
  readonly path: string;
  readonly access: readonly Access[];
  /** What the secret holds, from the lint rules' list (`ssh keys`). */
  readonly what: string;
}

export interface ReviewUse {
  /** A path (symbolic), or for a socket `udp HOST:PORT`. */
  readonly path: string;
  /** The accesses, for a path; empty for a socket. */
  readonly access: readonly Access[];
  readonly why: string;
}

export interface Learned {
  /** The policy, in the asked syntax. */
  readonly policy: string;
  /** The same policy in YAML (what `--format json` carries). */
  readonly yaml: string;
  readonly observed: Observed;
  /** Secret-shaped paths the command used: never allowed automatically. */
  readonly secrets: readonly SecretUse[];
  /** Other accesses not allowed automatically (a base's explicit deny or `protect:`). */
  readonly review: readonly ReviewUse[];
  /** Lint findings and compiler warnings that remain on the learned policy, one line each. */
  readonly findings: readonly string[];
}

const READ_CLASSES: readonly Access[] = ["read", "list", "execute"];
/** Top-level directories read as a whole: the system's programs, libraries and configuration. */
const SYSTEM_TREES = new Set(["usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "nix", "snap", "proc", "sys"]);
/** Per-user trees whose children belong to one tool each (`~/.cache/pip`, `~/.local/share/pnpm`). */
const HOME_TOOL_TREES: readonly string[][] = [[".cache"], [".config"], [".local", "share"], [".local", "state"], [".local", "lib"], [".local"]];

function within(path: string, dir: string): boolean {
  return path === dir || dir === "/" || path.startsWith(dir + "/");
}

interface Grant {
  /** Concrete path of the rule. */
  readonly path: string;
  readonly exact: boolean;
  readonly access: Set<Access>;
  /** The first use it was made for: its test. */
  readonly example: { access: Access; path: string };
}

/** The subtree (or exact file) a use of PATH is allowed through; undefined: `/` itself, never granted. */
export function grantRoot(path: string, access: Access, b: LearnBindings): { path: string; exact: boolean } | undefined {
  const writes = !READ_CLASSES.includes(access);
  const isChangeInDir = access.startsWith("create") || access.startsWith("delete") || access === "rename";
  const anchors = [b.workspace, b.tmpdir, "/tmp", "/dev/shm"].filter((x): x is string => x !== undefined && x !== "/");
  // The deepest anchor the path is in (the workspace may be inside the temp dir, or the other way round).
  const anchor = anchors.filter((a) => within(path, a)).sort((x, y) => y.length - x.length)[0];
  if (anchor) return { path: anchor, exact: false };
  if (b.home && b.home !== "/" && within(path, b.home)) {
    const rel = path === b.home ? [] : path.slice(b.home.length + 1).split("/");
    if (!rel.length) return { path, exact: !isDir(path) };
    for (const tree of HOME_TOOL_TREES) {
      if (rel.length > tree.length + 1 && tree.every((t, i) => rel[i] === t)) return { path: [b.home, ...rel.slice(0, tree.length + 1)].join("/"), exact: false };
    }
    if (rel.length >= 2) return { path: `${b.home}/${rel[0]}`, exact: false };
    // A file or directory directly in the home directory (`~/.gitconfig`, `~/.npm` listed): itself; a directory
    // it created (`~/.npm`) as the subtree the tool keeps its files in.
    if (isChangeInDir) return { path: `${b.home}/${rel[0]}`, exact: access !== "create-dir" && access !== "delete-dir" };
    return { path, exact: !isDir(path) };
  }
  const parts = path.split("/").filter(Boolean);
  if (!parts.length) return undefined;
  if (parts[0] === "dev") {
    // Devices one by one (`/dev/null`, `/dev/tty`); `/dev/pts/N` as its directory.
    if (parts.length > 2) return { path: `/dev/${parts[1]}`, exact: false };
    return { path, exact: !isDir(path) };
  }
  if (writes) {
    // Outside the known places: the directory the command changed, or the file it wrote.
    if (isChangeInDir) return { path: dirname(path), exact: false };
    return { path, exact: !isDir(path) };
  }
  if (SYSTEM_TREES.has(parts[0]!)) return { path: `/${parts[0]}`, exact: false };
  if (parts.length > 2) return { path: `/${parts[0]}/${parts[1]}`, exact: false };
  return { path, exact: !isDir(path) };
}

const MODIFY = ACCESS_GROUPS.modify!;

/**
 * The classes a rule grants for the classes seen, closed over what the targets can only grant together, so
 * that every target enforces the rule as written (`sbc check` runs its tests on each): a subtree that was
 * changed at all gets every change (Seatbelt makes one operation of the creates and rename, one of the
 * deletes, one of write and truncate; the mount layer makes a tree writable only where `write` is allowed);
 * a single file (or a device) gets write with truncate, and never a create, delete or rename.
 */
export function enforceableAccess(seen: Iterable<Access>, single: boolean): Access[] {
  const set = new Set(seen);
  if (single) {
    // Creating, deleting or renaming one file is a right on its directory, which Landlock cannot give for the
    // file alone: left out (the learner lists what is then not allowed; the file exists after the run).
    for (const a of MODIFY) if (a !== "write" && a !== "truncate") set.delete(a);
    if (set.has("write") || set.has("truncate")) for (const a of ["write", "truncate"] as const) set.add(a);
  } else if (MODIFY.some((a) => set.has(a))) for (const a of MODIFY) set.add(a);
  return sortAccess(set);
}

/** Classes written with the group words where a group is whole (`[read-only, modify]`), as a person would. */
function accessWords(access: readonly Access[]): string[] {
  if (ACCESS_CLASSES.every((a) => access.includes(a))) return ["read-write"];
  const out: string[] = [];
  const has = (xs: readonly Access[]) => xs.every((a) => access.includes(a));
  const ro = has(READ_CLASSES);
  const mod = has(MODIFY);
  if (ro) out.push("read-only");
  for (const a of access) if (!(ro && READ_CLASSES.includes(a)) && !(mod && MODIFY.includes(a))) out.push(a);
  if (mod) out.push("modify");
  return out;
}

/** PATH spelled through the deepest built-in it lies in (`${workspace}/src`), else as it is. */
function symbolic(path: string, b: LearnBindings): string {
  const named: [string, string][] = [];
  for (const [k, v] of [["workspace", b.workspace], ["tmpdir", b.tmpdir], ["home", b.home]] as const) if (v !== undefined && v !== "/") named.push([k, v]);
  let best: readonly [string, string] | undefined;
  for (const n of named) if (within(path, n[1]) && (!best || n[1].length > best[1].length)) best = n;
  return best ? "${" + best[0] + "}" + path.slice(best[1].length) : path;
}

function boundSecrets(b: LearnBindings): { secret: Secret; path: string; glob: boolean }[] {
  const out: { secret: Secret; path: string; glob: boolean }[] = [];
  for (const s of SECRETS) {
    const path = s.path.replace("${home}", b.home ?? "\0").replace("${workspace}", b.workspace);
    if (path.includes("\0")) continue;
    out.push({ secret: s, path, glob: s.kind === "glob" });
  }
  return out;
}

function secretOf(path: string, secrets: ReturnType<typeof boundSecrets>): Secret | undefined {
  for (const s of secrets) {
    // The one glob of the list is `${workspace}/**/.env`: a `.env` file anywhere in the workspace.
    if (s.glob ? basename(path) === basename(s.path) && within(path, s.path.slice(0, s.path.indexOf("/**"))) : within(path, s.path)) return s.secret;
  }
  return undefined;
}

/** The persistence-write rule's places (shell rc files, .git/hooks, directories on PATH …), bound. */
function boundPersistence(b: LearnBindings): { path: string; probes: string[] }[] {
  const bind = (p: string) => p.replace("${home}", b.home ?? "\0").replace("${workspace}", b.workspace);
  return PERSISTENCE_POINTS.map((p) => ({ path: bind(p.path), probes: p.probes.map(bind) })).filter((p) => !p.path.includes("\0"));
}

/** The policy's `name:` from its file's name, made to fit the schema's pattern (letters, digits, `._-`). */
export function policyName(path: string): string {
  const name = basename(path).replace(/\.(ya?ml|sbc)$/, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64);
  return name || "learned";
}

/** Add ACCESS at PATH to the uses a person is to decide about, one entry per path. */
function note(review: ReviewUse[], path: string, access: Access, why: string): void {
  const prev = review.find((x) => x.path === path && x.why === why);
  if (prev) (prev.access as Access[]).push(access);
  else review.push({ path, access: [access], why });
}

/** Learn a policy from OBSERVED. Throws only on a bug (the output is compiled again and must hold). */
export async function learnPolicy(observed: Observed, options: LearnOptions): Promise<Learned> {
  const b = options.bindings;
  const secrets = boundSecrets(b);
  const persistence = boundPersistence(b);
  const secretUses: SecretUse[] = [];
  const review: ReviewUse[] = [];
  const grants = new Map<string, Grant>();
  for (const f of observed.files) {
    const secret = secretOf(f.path, secrets);
    if (secret) {
      secretUses.push({ path: symbolic(f.path, b), access: f.access, what: secret.what });
      continue;
    }
    const persistent = persistence.find((p) => within(f.path, p.path));
    for (const access of f.access) {
      const base = options.extend ? evaluateFs(options.extend.ir, access, f.path) : undefined;
      if (base?.decision === "allow") continue; // extending: only what the base refuses
      if (persistent && !READ_CLASSES.includes(access)) {
        // A place that runs code later is never made writable by learning (the persistence-write lint rule's list).
        note(review, symbolic(f.path, b), access, "it runs code outside the sandbox later (persistence-write)");
        continue;
      }
      if (base?.rule) {
        // An explicit deny or a protected name in the base is its author's decision: a person's to undo.
        note(review, symbolic(f.path, b), access, base.rule.protects !== undefined ? `the base protects \`${base.rule.protects}\`` : "the base denies it explicitly");
        continue;
      }
      // A file the run created is granted through its directory, whatever else it did to it (a log, a temp file).
      const root = grantRoot(f.path, (access === "write" || access === "truncate") && f.access.includes("create-file") ? "create-file" : access, b);
      if (!root) {
        note(review, f.path, access, "the root directory itself is not granted");
        continue;
      }
      const key = `${root.exact ? "=" : ""}${root.path}`;
      const g = grants.get(key) ?? { path: root.path, exact: root.exact, access: new Set<Access>(), example: { access, path: f.path } };
      g.access.add(access);
      // The shortest path seen beneath the rule makes the most readable test (`/usr/bin/node`, not a cgroup
      // file); the rule's own path only when nothing else was seen (creating it needs its parent on Landlock).
      const better = (p: string, than: string) => (p !== g.path) !== (than !== g.path) ? p !== g.path : p.length < than.length;
      grants.set(key, better(f.path, g.example.path) ? { ...g, example: { access, path: f.path } } : g);
    }
  }

  const doc: Record<string, unknown> = { sbc: 1, name: policyName(options.path) };
  doc.description = `Learned by sbc learn from \`${shownCommand(options.command, 120)}\`${options.extend ? `: what ${options.extend.name} refused` : ""}.`;
  if (options.extend) doc.extends = options.extend.name;

  const filesystem: Record<string, unknown>[] = [];
  const tests: Record<string, unknown>[] = [];
  const sortedGrants = [...grants.values()].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  for (const g of sortedGrants) {
    // Devices (`/dev/pts`) take no creates; /dev/shm is a temp dir like /tmp.
    const access = enforceableAccess(g.access, g.exact || (g.path.startsWith("/dev/") && !within(g.path, "/dev/shm")));
    if (!access.length) continue; // a file created directly where nothing else is granted: listed below
    const isWorkspace = g.path === b.workspace;
    const rule: Record<string, unknown> = { allow: accessWords(access), [g.exact ? "exact" : "path"]: symbolic(g.path, b) };
    if (isWorkspace && !options.extend) {
      // The repository's metadata stays read-only unless the command changed it (as workspace-write does).
      const changed = (name: string) => observed.files.some((f) => within(f.path, `${b.workspace}/${name}`) && f.access.some((a) => !READ_CLASSES.includes(a)));
      const protect = [".git", ".codex", ".agents"].filter((n) => !changed(n));
      if (access.some((a) => !READ_CLASSES.includes(a)) && protect.length) rule.protect = protect;
    }
    filesystem.push(rule);
    tests.push({ [access.includes(g.example.access) ? g.example.access : access[0]!]: symbolic(g.example.path, b), expect: "allow" });
  }

  // Network: each TCP peer seen, by port (and host, where it is an address).
  const rules: Record<string, unknown>[] = [];
  const byPortOp = new Map<string, { op: "connect" | "bind"; port: number; hosts: Set<string> }>();
  for (const n of observed.network) {
    if (options.extend && evaluateNetwork(options.extend.ir, { op: n.op, protocol: n.protocol, host: n.host, port: n.port }).decision === "allow") continue;
    if (n.protocol === "udp") {
      // Below Landlock ABI 10 nothing on Linux restricts UDP: allowing one peer means allowing every one.
      const at = n.host.includes(":") ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`;
      if (!review.some((r) => r.path === `udp ${at}`)) review.push({ path: `udp ${at}`, access: [], why: `UDP ${n.op}: allowing it on Linux before Landlock ABI 10 allows UDP to every host (\`linux: {accept-widening: [udp]}\`)` });
      continue;
    }
    const key = `${n.op} ${n.port}`;
    const e = byPortOp.get(key) ?? { op: n.op, port: n.port, hosts: new Set<string>() };
    e.hosts.add(n.host);
    byPortOp.set(key, e);
  }
  // `--network-by name`: what the command asked the egress proxy for. A name gets a rule by domain; an IP
  // literal stays an address (the proxy judges it by the IP rules); a refusal and a bypass are a person's.
  const byName = new Map<string, Set<number>>();
  const resolvedPrivate = new Map<string, { addresses: Set<string>; names: Set<string> }>();
  for (const u of observed.names ?? []) {
    const at = u.host.includes(":") ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
    if (!u.count) {
      review.push({ path: `connect ${at}`, access: [], why: `refused while learning: ${(u.why ?? "").replace(/^sbc: /, "")}` });
      continue;
    }
    const parsed = parseHost(u.host);
    if (!parsed.ok) continue; // the proxy refuses what it cannot parse: never counted as allowed
    if (parsed.value.kind === "ip") {
      if (options.extend && evaluateNetwork(options.extend.ir, { op: "connect", protocol: "tcp", host: u.host, port: u.port }).decision === "allow") continue;
      const key = `connect ${u.port}`;
      const e = byPortOp.get(key) ?? { op: "connect" as const, port: u.port, hosts: new Set<string>() };
      e.hosts.add(u.host);
      byPortOp.set(key, e);
      continue;
    }
    if (options.extend && evaluateName(options.extend.ir, { name: u.host, port: u.port, protocol: "tcp" }).decision === "allow") continue;
    byName.set(u.host, (byName.get(u.host) ?? new Set()).add(u.port));
    // An address in a private range passes the proxy's check after resolution only where a rule names it; the
    // run got one only through `--resolve` (its test servers), so the policy names it, for that port.
    for (const a of u.addresses) {
      const ip = parseIp(a);
      if (!ip || !specialRange(unmapIpv4(ip) ?? ip) || byPortOp.get(`connect ${u.port}`)?.hosts.has(a)) continue;
      if (options.extend && checkResolvedAddress(options.extend.ir, { address: a, port: u.port }).decision === "allow") continue; // the base names it
      const e = resolvedPrivate.get(`${u.port}`) ?? { addresses: new Set<string>(), names: new Set<string>() };
      e.addresses.add(a);
      e.names.add(u.host);
      resolvedPrivate.set(`${u.port}`, e);
    }
  }
  for (const u of observed.bypassed ?? []) {
    const at = u.host.includes(":") ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
    // Loopback is in NO_PROXY (the namespace's own): a server on the host's loopback is reached by a name.
    const why = isLoopbackAddress(u.host)
      ? "connected directly to loopback (NO_PROXY lists it), where nothing of the command's listened in the network namespace: reach a server on the host through the proxy by a name (`--resolve NAME=127.0.0.1` for a test server), or learn with `--network-by address`"
      : "connected directly, not through the egress proxy (the tool ignored the proxy variables), and failed in the network namespace: make it use HTTPS_PROXY/ALL_PROXY, or learn with `--network-by address`";
    review.push({ path: `tcp ${at}`, access: [], why });
  }
  // One rule per set of ports, its names sorted: the rules are in the order of their first port, then name.
  const groups = new Map<string, { ports: number[]; names: string[] }>();
  for (const [name, ports] of byName) {
    const sorted = [...ports].sort((x, y) => x - y);
    const key = sorted.join(",");
    const g = groups.get(key) ?? { ports: sorted, names: [] };
    g.names.push(name);
    groups.set(key, g);
  }
  const domainRules = [...groups.values()].map((g) => ({ ...g, names: g.names.sort() })).sort((x, y) => x.ports[0]! - y.ports[0]! || x.ports.length - y.ports.length || (x.names[0]! < y.names[0]! ? -1 : 1));
  for (const e of [...byPortOp.values()].sort((x, y) => x.port - y.port)) {
    const hosts = [...e.hosts].sort();
    rules.push({ allow: e.op, hosts, ports: [e.port], reason: "seen while learning" });
    tests.push({ [e.op]: hosts[0]!.includes(":") ? `[${hosts[0]}]:${e.port}` : `${hosts[0]}:${e.port}`, expect: "allow" });
  }
  const addressRules = rules.length;
  for (const g of domainRules) {
    rules.push({ allow: "connect", domains: g.names, ports: g.ports, reason: "seen while learning, through the egress proxy" });
    for (const n of g.names) tests.push({ connect: `${n}:${g.ports[0]}`, expect: "allow" });
  }
  for (const [port, e] of [...resolvedPrivate].sort((x, y) => Number(x[0]) - Number(y[0]))) {
    rules.push({ allow: "connect", hosts: [...e.addresses].sort(), ports: [Number(port)], reason: `where \`--resolve\` sent ${[...e.names].sort().join(", ")} while learning: a private or loopback address passes the proxy only where a rule names it` });
  }
  const unixPaths: Record<string, unknown>[] = [];
  for (const u of observed.unixSockets) {
    if (secretOf(u.path, secrets)) continue;
    unixPaths.push({ allow: u.op, path: symbolic(u.path, b) });
  }
  if (rules.length || unixPaths.length) {
    // Standalone, socket pairs are said (a detailed section without them denies them); extending, the base's
    // setting is kept, and path rules are appended to its own.
    const unix = { ...(options.extend ? {} : { pairs: "allow" }), ...(unixPaths.length ? { paths: unixPaths } : {}) };
    doc.network = { ...(Object.keys(unix).length ? { unix } : {}), ...(rules.length ? { rules } : {}) };
  } else if (!options.extend) doc.network = "off";
  // Landlock sees ports, not hosts: without this the hosts' ports stay closed on Linux. Said by name, and
  // enforced by host where a target can (macOS).
  if (addressRules || resolvedPrivate.size) doc.linux = { "accept-widening": ["hosts"] };

  // Syscalls: what the observation filter would have refused, allowed by name.
  // A call the base refuses for some arguments only (ioctl TIOCSTI) would be allowed for all of them by name.
  for (const c of observed.syscalls.filter((x) => x.conditional)) review.push({ path: `syscall ${c.name}`, access: [], why: "the base refuses it for some arguments only (its rule's `args:`); allowing it by name would allow every argument" });
  const seen = [...new Set(observed.syscalls.filter((x) => !x.conditional).map((x) => x.name).filter((n) => !n.includes(":")))].sort();
  if (options.extend) {
    if (seen.length) doc.syscalls = { rules: [{ syscalls: seen, action: "allow" }] };
  } else {
    // One file is one layer, where the strictest action wins: a seen call is left out of the groups it is in.
    const denied: string[] = [];
    for (const g of STANDALONE_SYSCALL_GROUPS) {
      const members = expandSyscallGroup(g) ?? [];
      if (members.some((m) => seen.includes(m))) denied.push(...members.filter((m) => !seen.includes(m)));
      else denied.push(g);
    }
    doc.syscalls = { default: "allow", rules: [{ syscalls: denied, action: { errno: "EPERM" }, reason: denied.every((d) => d.startsWith("@")) ? GROUPS_REASON : `${GROUPS_REASON}, but the calls the command made` }, ...TERMINAL_RULES] };
  }
  for (const s of seen) tests.push({ syscall: s, expect: "allow" });

  if (filesystem.length) doc.filesystem = filesystem;
  // A person's decision, asked of every learned policy: credentials stay out.
  if (b.home) tests.push({ name: "keys stay out of the sandbox", write: "${home}/.ssh/x", expect: "deny" }, { read: "${home}/.ssh/id_ed25519", expect: "deny" });
  doc.tests = tests;

  // A grant that reaches a secret (a collapsed subtree) gets a deny for it: never allowed automatically.
  // Compiled here as YAML whatever the output's syntax, beside the output (a relative `extends:` resolves there).
  const yamlPath = options.path.replace(/\.sbc$/, ".yaml");
  const bound = (text: string) => compileToRun({ kind: "text", text, syntax: "yaml", path: yamlPath }, { workspace: b.workspace, cwd: b.workspace, ...(b.home ? { home: b.home } : {}), ...(b.tmpdir ? { tmpdir: b.tmpdir } : {}) });
  const yamlOf = async (value: Record<string, unknown>) => convertedText(value, undefined, "yaml", yamlPath);
  let yaml = await yamlOf(doc);
  let compiled = bound(yaml);
  if (compiled.ir && filesystem.length) {
    const denies: Record<string, unknown>[] = [];
    for (const s of secrets) {
      if (s.glob) {
        // A deny glob costs its whole literal directory on Linux (the workspace): the files seen, one by one.
        for (const u of observed.files) if (secretOf(u.path, [s])) denies.push({ deny: "read-write", exact: symbolic(u.path, b), reason: `${s.secret.what}: never allowed by sbc learn (a person decides)` });
        continue;
      }
      const reached = (acc: readonly Access[], paths: readonly string[]) =>
        paths.some((p) => {
          const real = p.replace("${home}", b.home ?? "").replace("${workspace}", b.workspace);
          return acc.some((a) => evaluateFs(compiled.ir!, a, real).decision === "allow" && (!options.extend || evaluateFs(options.extend.ir, a, real).decision !== "allow"));
        });
      if (reached(["read"], s.secret.read) || reached(["write", "create-file", "delete-file"], s.secret.change)) {
        denies.push({ deny: "read-write", [s.glob ? "glob" : "path"]: s.secret.path, reason: `${s.secret.what}: never allowed by sbc learn (a person decides)` });
      }
    }
    // The same for the places that run code later, which a collapsed subtree may contain (`.git/hooks` once the
    // command changed `.git`, `~/.bashrc` under a workspace that is the home directory).
    const changes: readonly Access[] = ["write", "create-file", "delete-file"];
    for (const p of persistence) {
      const reached = p.probes.some((q) => changes.some((a) => evaluateFs(compiled.ir!, a, q).decision === "allow" && (!options.extend || evaluateFs(options.extend.ir, a, q).decision !== "allow")));
      if (reached) denies.push({ deny: "modify", path: symbolic(p.path, b), reason: "it runs code outside the sandbox later: never made writable by sbc learn (a person decides)" });
    }
    if (denies.length) {
      doc.filesystem = [...filesystem, ...denies];
      yaml = await yamlOf(doc);
      compiled = bound(yaml);
    }
  }
  if (!compiled.ir) throw new Error(`sbc learn wrote a policy that does not compile: ${compiled.errors.map((d) => `${d.code}: ${d.message}`).join("; ")}`);

  // The generated tests run on the policy-test stand-ins (docs/language.md §5), where a base may decide
  // otherwise (workspace-write lets every path be read, keys included): a test that fails there is dropped
  // and said, so the learned policy passes `sbc check`.
  const findings: string[] = [];
  const unbound = compileToRun({ kind: "text", text: yaml, syntax: "yaml", path: yamlPath }, {});
  if (unbound.ir) {
    const ir = unbound.ir;
    const failing = ir.tests.map((t, i) => (runPolicyTests(ir, (x) => x === t).length ? i : -1)).filter((i) => i >= 0);
    if (failing.length) {
      for (const i of failing) findings.push(`generated test dropped, it fails on the stand-in paths: ${JSON.stringify(tests[i])}`);
      doc.tests = tests.filter((_, i) => !failing.includes(i));
      yaml = await yamlOf(doc);
      compiled = bound(yaml);
      if (!compiled.ir) throw new Error(`sbc learn wrote a policy that does not compile: ${compiled.errors.map((d) => `${d.code}: ${d.message}`).join("; ")}`);
    }
  }

  // Every use it was learned from must be allowed by it (else a rule above is wrong): checked, not assumed.
  for (const f of observed.files) {
    if (secretOf(f.path, secrets)) continue;
    for (const a of f.access) {
      if (review.some((r) => (r.path === symbolic(f.path, b) || r.path === f.path) && r.access.includes(a))) continue;
      if (evaluateFs(compiled.ir, a, f.path).decision !== "allow") findings.push(`not allowed by the learned policy: ${a} \`${f.path}\``);
    }
  }
  for (const [name, ports] of byName) {
    for (const port of ports) if (evaluateName(compiled.ir, { name, port, protocol: "tcp" }).decision !== "allow") findings.push(`not allowed by the learned policy: connect \`${name}:${port}\``);
  }
  // dangerous-syscall judges allow-lists only; its list of calls that defeat a sandbox holds under any default.
  for (const name of seen) if (DANGEROUS_CALLS.some((c) => c.name === name)) findings.push(`dangerous: \`${name}\` is allowed, and it is on the dangerous-syscall lint rule's list of calls that defeat a sandbox (docs/lint.md#dangerous-syscall)`);
  const lint = lintPolicyText(yaml, { path: yamlPath, params: { workspace: b.workspace, cwd: b.workspace, ...(b.home ? { home: b.home } : {}), ...(b.tmpdir ? { tmpdir: b.tmpdir } : {}) } });
  for (const d of lint) findings.push(`${d.code} (${d.severity}): ${d.message}`);

  const header = headerComment(options, secretUses, review, findings);
  const yamlText = header + yaml;
  let policy = yamlText;
  if (options.format === "dsl") {
    const c = await convert(yamlText, { from: "yaml", to: "dsl", path: yamlPath });
    if (c.output === undefined) throw new Error(`sbc learn could not convert its policy to the DSL: ${c.diagnostics.map((d) => d.message).join("; ")}`);
    policy = c.output;
  }
  return { policy, yaml: yamlText, observed, secrets: secretUses, review, findings };
}

/** The command on one line (a comment or a description cannot hold a line break), at most MAX characters. */
export function shownCommand(command: readonly string[], max: number): string {
  const line = command.join(" ").replace(/[\u0000-\u001f\u007f`]+/g, " ").replace(/ +/g, " ").trim();
  return line.length > max ? line.slice(0, max - 3) + "..." : line;
}

function headerComment(options: LearnOptions, secrets: readonly SecretUse[], review: readonly ReviewUse[], findings: readonly string[]): string {
  const lines = [
    `Learned by \`sbc learn\` from one run of \`${shownCommand(options.command, 100)}\`: it allows what that run did${options.extend ? ` beyond ${options.extend.name}` : ""},`,
    "collapsed to subtrees. Read it before you use it: a run does not show what the command does on other inputs.",
  ];
  if (secrets.length) {
    lines.push("", "Secrets the command used, NOT allowed (a person decides; add a rule if it must):");
    for (const s of secrets) lines.push(`  ${s.access.join(", ")} ${s.path} (${s.what})`);
  }
  if (review.length) {
    lines.push("", "Also NOT allowed, for a person to decide:");
    for (const r of review) lines.push(`  ${r.access.length ? r.access.join(", ") + " " : ""}${r.path}: ${r.why}`);
  }
  if (findings.length) {
    lines.push("", "Findings that remain (sbc check / sbc lint):");
    for (const f of findings) lines.push(`  ${f}`);
  }
  return lines.map((l) => (l ? `# ${l}` : "#")).join("\n") + "\n";
}

/** `extends:` for a base policy file, relative to where the learned policy is written. */
export function extendsPath(baseFile: string, outputPath: string): string {
  const rel = relative(dirname(outputPath), baseFile);
  return rel.startsWith(".") ? rel : "./" + rel;
}
