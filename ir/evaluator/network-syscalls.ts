// What the network section means for syscalls on Linux. Seccomp cannot see addresses or paths, but it can
// refuse to create the sockets a policy never allows, and it must refuse io_uring, which can create sockets
// and do I/O without passing through the syscall filter. These implied rules are combined with the policy's
// own syscall rules by "the stricter action wins", like two stacked filters: neither section can widen the
// other. This is IR semantics, not a backend's choice, so it lives beside the reference evaluator
// (`evaluateSyscall` applies it); the seccomp backend compiles it. Documented in docs/targets/seccomp.md.
//
// Unix sockets, in short: a socket pair reaches nothing outside the sandbox, a named socket does. Linux
// before Landlock ABI 9 cannot tell one path from another when a socket connects, and Landlock sees binding
// only as creating a socket file (`create-special`), so where the policy limits named sockets to some paths
// the filter narrows instead: it refuses connect(2) or bind(2) outright when nothing else needs them, else
// socket(AF_UNIX). `unixNarrowings` says which, for the backend's warning (SBC2003).

import type { Action, ArgCondition, IR, NetOp, NetRule, UnixSockets } from "../types.js";
import { hex } from "../values.js";
import { constantValue } from "../../linux-abi/index.js";

export const IMPLIED_ERRNO = 1; // EPERM, as a socket(2) refused by policy reports it

export interface ImpliedRule {
  readonly syscall: string;
  /** All must hold. */
  readonly conditions: readonly ArgCondition[];
  readonly action: Action;
  readonly reason: string;
}

/** Where the filter is narrower than the unix section says, and how. */
export interface UnixNarrowing {
  /** The operation Linux cannot limit by path. */
  readonly op: NetOp;
  /** What the filter refuses instead: the syscall outright, or socket(AF_UNIX). */
  readonly refuses: "connect" | "bind" | "socket";
}

/** Implied rules per syscall, first match wins; a syscall with no matching implied rule is allowed. */
export interface Implications {
  readonly rules: readonly ImpliedRule[];
  /** Socket domains that stay allowed (for messages and docs). */
  readonly allowedDomains: readonly string[] | "all";
  readonly unixNarrowings: readonly UnixNarrowing[];
}

function allowsEverything(r: NetRule): boolean {
  return (
    r.effect === "allow" &&
    r.hosts === "any" &&
    r.ops.includes("connect") &&
    r.ops.includes("bind") &&
    r.protocols.includes("tcp") &&
    r.protocols.includes("udp") &&
    r.ports.length === 1 &&
    r.ports[0]![0] === 0 &&
    r.ports[0]![1] === 65535
  );
}

/** Every pathname socket allows `op`: an allow rule at `/` and no deny rule for it. */
export function unixPathsAll(u: UnixSockets, op: NetOp): boolean {
  return u.paths.some((r) => r.effect === "allow" && r.ops.includes(op) && r.path === "/") && !u.paths.some((r) => r.effect === "deny" && r.ops.includes(op));
}

/** The unix section allows everything: pairs, abstract names, and binding and connecting at every path. */
export function unixOpen(u: UnixSockets): boolean {
  return u.pairs === "allow" && u.abstract === "allow" && unixPathsAll(u, "connect") && unixPathsAll(u, "bind");
}

/** Some socket other than a pair may be named: an abstract name, or a path some rule allows. */
export function namedUnixAllowed(u: UnixSockets): boolean {
  return u.abstract === "allow" || u.paths.some((r) => r.effect === "allow");
}

export interface NetworkSyscallOptions {
  /**
   * A Landlock table goes with the filter and enforces connecting to pathname unix sockets (RESOLVE_UNIX, ABI
   * 9): connect(2) and datagram sends are then left to it, with no narrowing for them. Not the IR's reference
   * semantics (which is what a filter alone must do); the `linux` bundle's choice, docs/targets/landlock.md.
   */
  readonly unixPathsByLandlock?: boolean;
}

const cache = new WeakMap<IR, Implications>();
const cacheLandlock = new WeakMap<IR, Implications>();

export function networkSyscalls(ir: IR, options: NetworkSyscallOptions = {}): Implications {
  const c = options.unixPathsByLandlock ? cacheLandlock : cache;
  let imp = c.get(ir);
  if (!imp) c.set(ir, (imp = compute(ir, options.unixPathsByLandlock === true)));
  return imp;
}

function compute(ir: IR, unixPathsByLandlock: boolean): Implications {
  const net = ir.network;
  const u = net.unix;
  const ipOpen = net.rules.some(allowsEverything) && !net.rules.some((r) => r.effect === "deny");
  if (ipOpen && unixOpen(u)) return { rules: [], allowedDomains: "all", unixNarrowings: [] };

  const deny: Action = { type: "errno", errno: IMPLIED_ERRNO };
  const allow: Action = { type: "allow" };
  const c = (name: string) => hex(constantValue(name)!);
  const type = (t: string): ArgCondition => ({ arg: 1, op: "&==", mask: "0xf", value: c(t) });
  const unixDomain: ArgCondition = { arg: 0, op: "==", value: c("AF_UNIX") };
  const ipAllows = (op: NetOp) => net.rules.some((r) => r.effect === "allow" && r.ops.includes(op));

  // Named sockets: a datagram socket sends to any named socket with sendto(2), which no filter can see, so
  // it is allowed only where connecting to every path is; stream and seqpacket sockets must connect(2).
  const connectAll = unixPathsByLandlock || unixPathsAll(u, "connect");
  const named = namedUnixAllowed(u);
  const narrowings: UnixNarrowing[] = [];
  let unixSocket = named;
  const refused = new Set<string>();
  if (named && !connectAll) {
    // Linux cannot tell paths apart on connect before Landlock ABI 9 (nor an abstract name from a path).
    if (!ipAllows("connect") && u.abstract === "deny") {
      narrowings.push({ op: "connect", refuses: "connect" });
      refused.add("connect");
    } else {
      narrowings.push({ op: "connect", refuses: "socket" });
      unixSocket = false;
    }
  }
  // Binding creates a socket file, which Landlock sees as `create-special`; where the policy grants that
  // but its unix rules do not allow binding, Linux cannot tell.
  const createsSpecial = ir.filesystem.some((r) => r.effect === "allow" && r.access.includes("create-special"));
  if (named && !unixPathsAll(u, "bind") && createsSpecial) {
    if (!ipAllows("bind")) {
      narrowings.push({ op: "bind", refuses: "bind" });
      refused.add("bind");
    } else {
      narrowings.push({ op: "bind", refuses: "socket" });
      unixSocket = false;
    }
  }

  const domains: string[] = [];
  if (unixSocket) domains.push("AF_UNIX");
  const tcp = net.rules.some((r) => r.effect === "allow" && r.protocols.includes("tcp"));
  const udp = net.rules.some((r) => r.effect === "allow" && r.protocols.includes("udp"));
  if (tcp || udp) domains.push("AF_INET", "AF_INET6");
  const rules: ImpliedRule[] = [];
  if (unixSocket) {
    if (connectAll) rules.push({ syscall: "socket", conditions: [unixDomain], action: allow, reason: "the network section allows named unix sockets" });
    else {
      for (const t of ["SOCK_STREAM", "SOCK_SEQPACKET"]) {
        rules.push({ syscall: "socket", conditions: [unixDomain, type(t)], action: allow, reason: "the network section allows named unix sockets, which connect(2) before they send" });
      }
    }
  }
  for (const d of ["AF_INET", "AF_INET6"]) {
    // Only plain TCP and UDP: Landlock's port rules see classic TCP only (not MPTCP, SCTP or raw sockets),
    // and do not see UDP at all, so a socket kind the policy does not allow must not be created.
    if (tcp) {
      for (const proto of ["0x0", c("IPPROTO_TCP")]) {
        rules.push({ syscall: "socket", conditions: [{ arg: 0, op: "==", value: c(d) }, type("SOCK_STREAM"), { arg: 2, op: "==", value: proto }], action: allow, reason: `the network section allows TCP over ${d}` });
      }
    }
    if (udp) {
      for (const proto of ["0x0", c("IPPROTO_UDP")]) {
        rules.push({ syscall: "socket", conditions: [{ arg: 0, op: "==", value: c(d) }, type("SOCK_DGRAM"), { arg: 2, op: "==", value: proto }], action: allow, reason: `the network section allows UDP over ${d}` });
      }
    }
  }
  rules.push({ syscall: "socket", conditions: [], action: deny, reason: "the network section allows no other socket" });

  // Socket pairs: both ends in the sandbox. A datagram pair can still send to any named socket (connect(2)
  // or sendto(2) re-address it), so it is allowed only where connecting to every path is.
  if (u.pairs === "allow") {
    if (connectAll) rules.push({ syscall: "socketpair", conditions: [unixDomain], action: allow, reason: "the network section allows unix socket pairs" });
    else {
      for (const t of ["SOCK_STREAM", "SOCK_SEQPACKET"]) {
        rules.push({ syscall: "socketpair", conditions: [unixDomain, type(t)], action: allow, reason: "the network section allows stream and seqpacket unix socket pairs" });
      }
    }
  }
  rules.push({ syscall: "socketpair", conditions: [], action: deny, reason: u.pairs === "allow" ? "the network section allows no other socket pair" : "the network section denies unix socket pairs" });

  if (refused.has("connect")) rules.push({ syscall: "connect", conditions: [], action: deny, reason: "Linux cannot limit connecting to unix sockets by path: the network section allows no connect it can tell apart" });
  if (refused.has("bind")) rules.push({ syscall: "bind", conditions: [], action: deny, reason: "Linux cannot limit binding unix sockets by path: the network section allows no bind it can tell apart" });
  for (const s of ["io_uring_setup", "io_uring_enter", "io_uring_register"]) {
    rules.push({ syscall: s, conditions: [], action: deny, reason: "io_uring can open sockets and do I/O without passing the syscall filter" });
  }
  return { rules, allowedDomains: domains, unixNarrowings: narrowings };
}

/** The first implied rule that matches a call, if any. */
export function impliedRuleFor(imp: Implications, syscall: string, holds: (c: ArgCondition) => boolean): ImpliedRule | undefined {
  return imp.rules.find((r) => r.syscall === syscall && r.conditions.every(holds));
}
