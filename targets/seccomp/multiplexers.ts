// The `socketcall` and `ipc` multiplexers (i386, ppc64le and s390x have them): one syscall whose first
// argument names the operation and whose other arguments sit behind a pointer the filter cannot read. The
// rule, shared by the reference semantics and the lowering (docs/targets/seccomp.md, "Multiplexed calls"):
// a sub-call gets the verdict of the direct syscall when that verdict cannot depend on arguments, and
// otherwise the strictest action its rules can give (fail closed); rules naming the multiplexer itself
// combine with that by the stricter action winning. A first argument that names no sub-call is the
// multiplexer's own business (its rules, or the default action).

import { ACTION_STRICTNESS, stricterAction } from "../../ir/evaluator/evaluate.js";
import type { Action, IR } from "../../ir/types.js";
import type { Implications } from "../../ir/evaluator/network-syscalls.js";

export type Multiplexer = "socketcall" | "ipc";

export interface MultiplexerInfo {
  /** Sub-call number (as the kernel reads it from the first argument) → the direct syscall's name. */
  readonly calls: ReadonlyMap<number, string>;
  /** Which bits of the first argument's low word the kernel reads: `int call` for socketcall, `call & 0xffff` for ipc. */
  readonly mask: number;
  /** Shown in the disassembly: `SYS_SOCKET`, `SEMOP`. */
  readonly label: (n: number) => string;
}

// linux/net.h SYS_SOCKET … SYS_SENDMMSG; net/socket.c `SYSCALL_DEFINE2(socketcall, int, call, …)` refuses
// `call < 1 || call > SYS_SENDMMSG` with EINVAL.
const SOCKETCALL = [
  "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair", "send", "recv",
  "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg",
] as const;
const SOCKETCALL_LABELS = [
  "SOCKET", "BIND", "CONNECT", "LISTEN", "ACCEPT", "GETSOCKNAME", "GETPEERNAME", "SOCKETPAIR", "SEND", "RECV",
  "SENDTO", "RECVFROM", "SHUTDOWN", "SETSOCKOPT", "GETSOCKOPT", "SENDMSG", "RECVMSG", "ACCEPT4", "RECVMMSG", "SENDMMSG",
];

// linux/ipc.h; ipc/syscall.c `ksys_ipc(unsigned int call, …)`: `version = call >> 16; call &= 0xffff;`.
const IPC: readonly [number, string, string][] = [
  [1, "semop", "SEMOP"],
  [2, "semget", "SEMGET"],
  [3, "semctl", "SEMCTL"],
  [4, "semtimedop", "SEMTIMEDOP"],
  [11, "msgsnd", "MSGSND"],
  [12, "msgrcv", "MSGRCV"],
  [13, "msgget", "MSGGET"],
  [14, "msgctl", "MSGCTL"],
  [21, "shmat", "SHMAT"],
  [22, "shmdt", "SHMDT"],
  [23, "shmget", "SHMGET"],
  [24, "shmctl", "SHMCTL"],
];

export const MULTIPLEXERS: Readonly<Record<Multiplexer, MultiplexerInfo>> = {
  socketcall: {
    calls: new Map(SOCKETCALL.map((name, i) => [i + 1, name])),
    mask: 0xffffffff,
    label: (n) => `SYS_${SOCKETCALL_LABELS[n - 1]}`,
  },
  ipc: {
    calls: new Map(IPC.map(([n, name]) => [n, name])),
    mask: 0xffff,
    label: (n) => IPC.find(([m]) => m === n)?.[2] ?? String(n),
  },
};

export function isMultiplexer(name: string): name is Multiplexer {
  return name === "socketcall" || name === "ipc";
}

/** The sub-call the kernel performs for first argument `arg0`, or undefined when it names none. */
export function subCall(m: Multiplexer, arg0: bigint): { nr: number; name: string } | undefined {
  const nr = Number(BigInt.asUintN(32, arg0)) & MULTIPLEXERS[m].mask;
  const name = MULTIPLEXERS[m].calls.get(nr);
  return name === undefined ? undefined : { nr, name };
}

export interface SubCallVerdict {
  readonly action: Action;
  /** True when the direct call's verdict depends on arguments, so `action` is the strictest it can give. */
  readonly strictest: boolean;
}

/**
 * What a multiplexed `name` gets: when no rule on `name` (the policy's or the network section's) has
 * conditions, its one verdict; otherwise the strictest action among its rules' and, unless an unconditional
 * rule ends each list, the default's (policy) and allow (network) — an upper bound of what the arguments
 * could select, so never wider than the direct call.
 */
export function subCallVerdict(ir: IR, imp: Implications, name: string): SubCallVerdict {
  const own = ir.syscalls.rules.filter((r) => r.syscalls.includes(name));
  const implied = imp.rules.filter((r) => r.syscall === name);
  const strictest = own.some((r) => r.conditions.length > 0) || implied.some((r) => r.conditions.length > 0);
  const worst = (actions: readonly Action[]) => actions.reduce((a, b) => stricterAction(a, b));
  if (!strictest) {
    // Unconditional only: the evaluator's precedence picks one (later layer, then stricter).
    const top = own.reduce<(typeof own)[number] | undefined>(
      (best, r) => (!best || r.layer > best.layer || (r.layer === best.layer && ACTION_STRICTNESS[r.action.type] >= ACTION_STRICTNESS[best.action.type]) ? r : best),
      undefined,
    );
    const policy = top ? top.action : ir.syscalls.defaultAction;
    return { action: implied.length ? stricterAction(policy, worst(implied.map((r) => r.action))) : policy, strictest: false };
  }
  const policyActions = [...own.map((r) => r.action), ...(own.some((r) => r.conditions.length === 0) ? [] : [ir.syscalls.defaultAction])];
  const impliedActions = [...implied.map((r) => r.action), ...(implied.some((r) => r.conditions.length === 0) ? [] : [{ type: "allow" } as Action])];
  return { action: stricterAction(worst(policyActions), worst(impliedActions)), strictest: true };
}

/** True when some rule (the policy's or the network section's) names the multiplexer itself. */
export function multiplexerHasRules(ir: IR, imp: Implications, m: Multiplexer): boolean {
  return ir.syscalls.rules.some((r) => r.syscalls.includes(m)) || imp.rules.some((r) => r.syscall === m);
}
