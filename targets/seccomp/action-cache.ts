// The kernel's seccomp action cache (Linux 5.11+): when a filter is attached, `seccomp_cache_prepare_bitmap`
// asks `seccomp_is_const_allow` (kernel/seccomp.c), for every syscall number of the native and compat arch,
// whether the filter allows it whatever the arguments are. Those numbers then skip the filter entirely, which
// is worth ~100 ns per syscall (shared/reference/seccomp-generators.md §1), so the code generator must keep
// unconditional allows on paths this emulation can follow.

import {
  AUDIT_ARCH_X86_64,
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_RET,
  BPF_W,
  OFFSET_ARCH,
  OFFSET_NR,
  SECCOMP_RET_ALLOW,
  X32_SYSCALL_BIT,
  type Insn,
} from "./bpf.js";
import { verifyFilter } from "./verifier.js";

/** x86_64 `__NR_uretprobe` and `__NR_uprobe`, which recent kernels put in the native cache unconditionally. */
export const X86_64_UPROBE_SYSCALLS: readonly number[] = Object.freeze([335, 336]);

export interface CacheOptions {
  /**
   * Model `seccomp_uprobe_exception` (2025 patches, present in 6.18): on x86_64, uretprobe (335) and uprobe
   * (336) are cached as allowed before the filter is even looked at. Off by default, because it says
   * nothing about the filter and older kernels do not have it.
   */
  readonly uprobeException?: boolean;
}

/**
 * `seccomp_is_const_allow`, instruction for instruction: run the filter knowing only `nr` and `arch`. A
 * single register tracks A. `ld [0]`/`ld [4]` load the known values; `ja`, and `jeq`/`jge`/`jgt`/`jset` with
 * a constant, are followed; `and #k` is applied; `ret #k` ends the walk and the number is constant-allow iff
 * k is exactly SECCOMP_RET_ALLOW (so not LOG, and not ALLOW with data bits). Any other instruction on the
 * path (a load of an argument or ip, `ld #k`, `tax`/`txa`, scratch memory, a jump on X, any other ALU op,
 * `ret a`) gives up: not cacheable. Note that the kernel walks the program as the user supplied it, before
 * `seccomp_check_filter` rewrote `ld [k]` and `ld #len`, so `ld #len` is an unknown instruction here.
 */
export function isConstAllow(program: readonly Insn[], arch: number, nr: number): boolean {
  assertLoadable(program);
  return constAllow(program, arch >>> 0, nr >>> 0);
}

function constAllow(program: readonly Insn[], arch: number, nr: number): boolean {
  let reg = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k === OFFSET_NR) reg = nr;
        else if (k === OFFSET_ARCH) reg = arch;
        else return false; // "can't optimize (non-constant value load)"
        break;
      case BPF_RET | BPF_K:
        return k >>> 0 === SECCOMP_RET_ALLOW;
      case BPF_JMP | BPF_JA:
        pc += k; // the loop's pc++ completes the jump
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += reg === k >>> 0 ? jt : jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += reg >= k >>> 0 ? jt : jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += reg > k >>> 0 ? jt : jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (reg & k) !== 0 ? jt : jf;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        reg = (reg & k) >>> 0;
        break;
      default:
        return false; // "can't optimize (unknown insn)"
    }
  }
  return false; // "ran off the end of the filter?!": impossible for a verified filter, false as in the kernel
}

/**
 * Whether the kernel serves syscall `nr` of `arch` from the action cache once `program` is attached alone
 * (for a stack, every filter must say yes: the bitmaps are ANDed). Only numbers inside the kernel's bitmap are
 * ever cached: never a negative number, and never an x32 number (`nr | 0x40000000`), which falls outside
 * every native bitmap; callers should also only ask about numbers below the arch's syscall count.
 */
export function cacheEligible(program: readonly Insn[], arch: number, nr: number, options: CacheOptions = {}): boolean {
  assertLoadable(program);
  return eligible(program, arch >>> 0, nr, options);
}

function eligible(program: readonly Insn[], arch: number, nr: number, options: CacheOptions): boolean {
  if (!Number.isInteger(nr) || nr < 0 || nr >= X32_SYSCALL_BIT) return false;
  if (options.uprobeException && arch === AUDIT_ARCH_X86_64 && X86_64_UPROBE_SYSCALLS.includes(nr)) return true;
  return constAllow(program, arch, nr);
}

/** Which of `numbers` the cache serves, and what fraction of them that is (0 for no numbers). */
export function cacheStats(
  program: readonly Insn[],
  arch: number,
  numbers: readonly number[],
  options: CacheOptions = {},
): { eligible: number[]; fraction: number } {
  assertLoadable(program);
  const yes = numbers.filter((nr) => eligible(program, arch >>> 0, nr, options));
  return { eligible: yes, fraction: numbers.length === 0 ? 0 : yes.length / numbers.length };
}

/** The kernel only builds the cache for a filter it accepted; the emulation relies on that (jumps in range). */
function assertLoadable(program: readonly Insn[]): void {
  const verdict = verifyFilter(program);
  if (!verdict.ok) {
    const first = verdict.errors[0]!;
    throw new Error(`the kernel would reject this filter: pc ${first.pc}: ${first.message}`);
  }
}
