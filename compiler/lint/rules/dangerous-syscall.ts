// dangerous-syscall: an allow-list (a restrictive syscall default) that lets through a call which defeats
// sandboxes: reading or steering another process (ptrace), loading code into the kernel (bpf, modules,
// kexec), changing the filesystem view (mount, namespaces), or bypassing seccomp itself (io_uring). Under a
// permissive default nothing is reported: that policy made no claim to filter syscalls.

import { ACTION_STRICTNESS, evaluateSyscall, formatAction } from "../../../ir/evaluator/evaluate.js";
import type { SyscallRule } from "../../../ir/types.js";
import { constantValue, isKnownSyscall } from "../../../linux-abi/index.js";
import { ByRule, nameList, ruleSpan } from "../probe.js";
import type { LintRule } from "../rule.js";

const CLONE_NEWUSER = constantValue("CLONE_NEWUSER") ?? 0x10000000n;

/**
 * The calls asked about, with the arguments that make them dangerous where harmless uses exist (`clone`
 * without namespace flags makes threads). The list is documented in docs/lint.md#dangerous-syscall.
 */
export const DANGEROUS_CALLS: readonly { readonly name: string; readonly args?: readonly bigint[]; readonly shown?: string }[] = [
  { name: "ptrace" },
  { name: "process_vm_readv" },
  { name: "process_vm_writev" },
  { name: "bpf" },
  { name: "perf_event_open" },
  { name: "userfaultfd" },
  { name: "mount" },
  { name: "umount2" },
  { name: "fsopen" },
  { name: "fsmount" },
  { name: "move_mount" },
  { name: "open_tree" },
  { name: "pivot_root" },
  { name: "unshare", args: [CLONE_NEWUSER], shown: "unshare(CLONE_NEWUSER)" },
  { name: "clone", args: [CLONE_NEWUSER], shown: "clone(CLONE_NEWUSER)" },
  { name: "setns" },
  { name: "kexec_load" },
  { name: "kexec_file_load" },
  { name: "init_module" },
  { name: "finit_module" },
  { name: "delete_module" },
  { name: "io_uring_setup" },
  { name: "io_uring_enter" },
  { name: "io_uring_register" },
  { name: "keyctl" },
  { name: "add_key" },
  { name: "request_key" },
  { name: "open_by_handle_at" },
  { name: "iopl" },
  { name: "ioperm" },
].filter((c) => isKnownSyscall(c.name));

/** A default at least as strict as `errno`: the policy is an allow-list. */
const RESTRICTIVE = ACTION_STRICTNESS.errno;

export const dangerousSyscall: LintRule = {
  id: "dangerous-syscall",
  code: "lintDangerousSyscall",
  defaultSeverity: "error",
  description: "Under a restrictive syscall default, a rule allows ptrace, bpf, mount, unshare, kexec_*, perf_event_open, io_uring or another call that escapes or weakens the sandbox.",
  fixable: false,
  run(ctx) {
    const ir = ctx.boundIr;
    if (!ir) return;
    const def = ir.syscalls.defaultAction;
    if (ACTION_STRICTNESS[def.type] < RESTRICTIVE) return;
    const byRule = new ByRule<SyscallRule | "newer", string>();
    for (const c of DANGEROUS_CALLS) {
      const v = evaluateSyscall(ir, c.name, c.args ?? []);
      // `allow` and `log` run the call. What decided is a rule, or `syscalls.newer` for a call newer than the
      // policy's `kernel:` (a verdict by the restrictive default, or by what the network section implies, is
      // never an allow).
      if (ACTION_STRICTNESS[v.action.type] > ACTION_STRICTNESS.log) continue;
      if (v.rule) byRule.add(v.rule, c.shown ?? c.name);
      else if (v.newer) byRule.add("newer", c.shown ?? c.name);
    }
    for (const [rule, calls] of byRule.groups) {
      const s = rule === "newer" ? ir.syscalls.span : ruleSpan(rule);
      const runs = rule === "newer" ? (ir.syscalls.newerAction?.type === "log" ? "logs and runs" : "allows") : rule.action.type === "log" ? "logs and runs" : "allows";
      ctx.report({
        message: `${calls.length === 1 ? "a dangerous call is" : "dangerous calls are"} allowed under the default \`${formatAction(def)}\`: ${nameList(calls, 4)}`,
        ...(s ? { span: s, spanLabel: rule === "newer" ? `\`newer\` ${runs} ${calls.length === 1 ? "it" : "them"}: newer than the policy's kernel` : `this rule ${runs} ${calls.length === 1 ? "it" : "them"}` } : {}),
        help: "these calls let a process read or steer others, load code into the kernel, change its view of the filesystem or bypass seccomp; take them out of the allow rule, or suppress with a reason",
      });
    }
  },
};
