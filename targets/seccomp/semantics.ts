// What a compiled filter must answer for one syscall event, stated with the IR's reference evaluator: the
// specification that the interpreter's results are compared against in tests. It adds to evaluateSyscall
// (which already combines the syscall rules with what the network section implies) only what is specific to
// seccomp: the arch check, x86_64 and x32 sharing one arch value, numbers that are not syscalls of the arch,
// and the `socketcall`/`ipc` multiplexers (multiplexers.ts). docs/targets/seccomp.md states the same rules.

import { evaluateSyscall, evaluateSyscallAt, stricterAction } from "../../ir/evaluator/evaluate.js";
import { syscallNameAt as tableNameAt } from "../../ir/evaluator/syscall-numbers.js";
import { networkSyscalls } from "../../ir/evaluator/network-syscalls.js";
import type { Action, IR } from "../../ir/types.js";
import { ARCH_INFO, X32_SYSCALL_BIT, type Arch } from "../../linux-abi/index.js";
import { isMultiplexer, multiplexerHasRules, subCall, subCallVerdict } from "./multiplexers.js";

export const AUDIT_ARCH: Readonly<Record<Arch, number>> = Object.fromEntries(Object.entries(ARCH_INFO).map(([a, i]) => [a, i.auditArch])) as Record<Arch, number>;

/** A foreign arch, and numbers of an ABI the filter does not serve (x32 beside x86_64), get this action unless the policy says. */
export const FOREIGN_ACTION: Action = { type: "kill-process" };

export function foreignAction(ir: IR): Action {
  return ir.syscalls.foreignArchAction ?? FOREIGN_ACTION;
}

/** The name of table number `nr` on `arch` (on x32 without its bit), or undefined: the evaluator's map. */
export const syscallName = tableNameAt;

/** The name of `seccomp_data.nr` as the filter sees it on `arch` (x32 numbers with their bit). */
export function syscallNameAt(arch: Arch, nr: number): string | undefined {
  const base = ARCH_INFO[arch].nrBase;
  return nr >= base ? syscallName(arch, nr - base) : undefined;
}

export interface SeccompEvent {
  readonly arch: number;
  /** The syscall number as the kernel presents it: a u32. */
  readonly nr: number;
  readonly args?: readonly bigint[];
}

/**
 * Which of `arches` an event belongs to, or "foreign". Under AUDIT_ARCH_X86_64, numbers below bit 30 are
 * x86_64 calls and numbers from 0x40000000 to 0xfffffffe are x32 calls (bit 30 set); each half is foreign
 * unless its ABI is in the filter. -1 is no call of any ABI: a tracer sets it to skip a syscall (the kernel
 * answers ENOSYS), so it is never foreign as long as the arch value is served: it belongs to x86_64 if the
 * filter serves it, else to x32 (and gets the rules naming `ARCH:-1`, else the default: `expectedAction`).
 */
export function eventArch(arches: readonly Arch[], event: SeccompEvent): Arch | "foreign" {
  const served = arches.filter((a) => ARCH_INFO[a].auditArch === event.arch >>> 0);
  if (!served.length) return "foreign";
  const nr = event.nr >>> 0;
  if (served.includes("x86_64") || served.includes("x32")) {
    // -1 is no call of any ABI: a tracer sets it to skip a syscall. It belongs to x86_64 when the filter
    // serves it (the rules that name `x86_64:-1`), else to x32.
    const want: Arch = nr === 0xffffffff ? (served.includes("x86_64") ? "x86_64" : "x32") : nr >= X32_SYSCALL_BIT ? "x32" : "x86_64";
    return served.includes(want) ? want : "foreign";
  }
  return served[0]!;
}

export function expectedAction(ir: IR, arches: readonly Arch[], event: SeccompEvent): Action {
  const arch = eventArch(arches, event);
  if (arch === "foreign") return foreignAction(ir);
  const nr = event.nr >>> 0;
  const args = event.args ?? [];
  // -1 (what a tracer writes to skip a call; the kernel answers ENOSYS) gets the rules that name `arch:-1`,
  // else the default action: never `newer`, never the foreign action. Other numbers lose x32's bit.
  const tableNr = nr === 0xffffffff ? nr : nr - ARCH_INFO[arch].nrBase;
  const name = nr === 0xffffffff ? undefined : syscallName(arch, tableNr);
  if (name !== undefined && isMultiplexer(name)) {
    const sub = subCall(name, args[0] ?? 0n);
    if (sub) {
      const imp = networkSyscalls(ir);
      const v = subCallVerdict(ir, imp, sub.name);
      // A verdict that does not depend on arguments is the direct call's, whatever arguments it gets.
      const action = v.strictest ? v.action : evaluateSyscall(ir, sub.name, [], { arch }).action;
      return multiplexerHasRules(ir, imp, name) ? stricterAction(evaluateSyscallAt(ir, arch, tableNr, args).action, action) : action;
    }
  }
  // Everything else is the evaluator's: rules by name or by number, `newer`, the default, implied rules.
  return evaluateSyscallAt(ir, arch, tableNr, args).action;
}
