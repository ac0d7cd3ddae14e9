// What a compiled filter must answer for one syscall event, stated with the IR's reference evaluator: the
// specification that the interpreter's results are compared against in tests. It adds to evaluateSyscall
// (which already combines the syscall rules with what the network section implies) only what is specific to
// seccomp: the arch check, the x32 range on x86_64, and numbers that are not syscalls of the arch.

import { evaluateSyscallAt } from "../../compiler/evaluator/evaluate.js";
import type { Action, IR } from "../../compiler/ir/types.js";
import { syscallTable, type Arch } from "../../compiler/linux-abi/index.js";
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from "./bpf.js";

export const AUDIT_ARCH: Readonly<Record<Arch, number>> = { x86_64: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 };

/** A foreign arch, and on x86_64 an x32 syscall number, are refused with this action unless the policy says. */
export const FOREIGN_ACTION: Action = { type: "kill-process" };

export function foreignAction(ir: IR): Action {
  return ir.syscalls.foreignArchAction ?? FOREIGN_ACTION;
}

const namesByNumber = new Map<Arch, Map<number, string>>();
export function syscallName(arch: Arch, nr: number): string | undefined {
  let m = namesByNumber.get(arch);
  if (!m) {
    m = new Map(Object.entries(syscallTable(arch)).map(([n, v]) => [v, n]));
    namesByNumber.set(arch, m);
  }
  return m.get(nr);
}

export interface SeccompEvent {
  readonly arch: number;
  /** The syscall number as the kernel presents it: a u32. */
  readonly nr: number;
  readonly args?: readonly bigint[];
}

export function expectedAction(ir: IR, arches: readonly Arch[], event: SeccompEvent): Action {
  const arch = arches.find((a) => AUDIT_ARCH[a] === event.arch >>> 0);
  if (!arch) return foreignAction(ir);
  const nr = event.nr >>> 0;
  // x32 numbers have bit 30 set; -1 is not one of them: a tracer sets it to skip a syscall (the kernel
  // answers ENOSYS), and killing the tracee there would break debuggers, so it gets the rules that name
  // `x86_64:-1`, or else the default action.
  if (arch === "x86_64" && nr >= X32_SYSCALL_BIT && nr !== 0xffffffff) return foreignAction(ir);
  // Everything else is the evaluator's: rules by name or by number, `newer`, the default, implied rules.
  return evaluateSyscallAt(ir, arch, nr, event.args ?? []).action;
}
