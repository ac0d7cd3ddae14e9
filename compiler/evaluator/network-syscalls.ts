// What the network section means for syscalls on Linux. Seccomp cannot see addresses or paths, but it can
// refuse to create the sockets a policy never allows, and it must refuse io_uring, which can create sockets
// and do I/O without passing through the syscall filter. These implied rules are combined with the policy's
// own syscall rules by "the stricter action wins", like two stacked filters: neither section can widen the
// other. This is IR semantics, not a backend's choice, so it lives beside the reference evaluator; the
// seccomp backend compiles it. Documented in docs/targets/seccomp.md.

import type { Action, ArgCondition, IR, NetRule } from "../ir/types.js";
import { hex } from "../language/values.js";
import { constantValue } from "../linux-abi/index.js";

export const IMPLIED_ERRNO = 1; // EPERM, as a socket(2) refused by policy reports it

export interface ImpliedRule {
  readonly syscall: string;
  /** All must hold. */
  readonly conditions: readonly ArgCondition[];
  readonly action: Action;
  readonly reason: string;
}

/** Implied rules per syscall, first match wins; a syscall with no matching implied rule is allowed. */
export interface Implications {
  readonly rules: readonly ImpliedRule[];
  /** Socket domains that stay allowed (for messages and docs). */
  readonly allowedDomains: readonly string[] | "all";
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


export function networkImplications(ir: IR): Implications {
  const net = ir.network;
  const open = net.unix === "allow" && net.rules.some(allowsEverything) && !net.rules.some((r) => r.effect === "deny");
  if (open) return { rules: [], allowedDomains: "all" };
  const domains: string[] = [];
  if (net.unix === "allow") domains.push("AF_UNIX");
  const tcp = net.rules.some((r) => r.effect === "allow" && r.protocols.includes("tcp"));
  const udp = net.rules.some((r) => r.effect === "allow" && r.protocols.includes("udp"));
  if (tcp || udp) domains.push("AF_INET", "AF_INET6");
  const deny: Action = { type: "errno", errno: IMPLIED_ERRNO };
  const allow: Action = { type: "allow" };
  const rules: ImpliedRule[] = [];
  const c = (name: string) => hex(constantValue(name)!);
  if (net.unix === "allow") rules.push({ syscall: "socket", conditions: [{ arg: 0, op: "==", value: c("AF_UNIX") }], action: allow, reason: "the network section allows AF_UNIX sockets" });
  for (const d of ["AF_INET", "AF_INET6"]) {
    // Only plain TCP and UDP: Landlock's port rules see classic TCP only (not MPTCP, SCTP or raw sockets),
    // and do not see UDP at all, so a socket kind the policy does not allow must not be created.
    const type = (t: string) => ({ arg: 1, op: "&==" as const, mask: "0xf", value: c(t) });
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
  rules.push({ syscall: "socket", conditions: [], action: deny, reason: "the network section allows no other socket domain" });
  if (net.unix !== "allow") rules.push({ syscall: "socketpair", conditions: [], action: deny, reason: "the network section denies unix sockets" });
  for (const s of ["io_uring_setup", "io_uring_enter", "io_uring_register"]) {
    rules.push({ syscall: s, conditions: [], action: deny, reason: "io_uring can open sockets and do I/O without passing the syscall filter" });
  }
  return { rules, allowedDomains: domains };
}
