// The executable model of a seccomp filter: runs a classic BPF program over one `seccomp_data` exactly as
// the kernel does, reads its return value as the kernel's `__seccomp_filter` does, and combines the results
// of stacked filters as `seccomp_run_filters` does. Tests compare it with the policy's reference evaluator.
//
// Where the semantics come from. The kernel does not interpret classic BPF directly any more: after
// `bpf_check_classic` and `seccomp_check_filter` (see verifier.ts), `bpf_convert_filter` (net/core/filter.c)
// turns the program into eBPF, which runs in `___bpf_prog_run` (kernel/bpf/core.c) or a JIT:
// - A and X start at 0 (the prologue `BPF_ALU64_REG(BPF_XOR, A, A)`, same for X). Scratch memory is the
//   eBPF stack and is not cleared, which is why the verifier insists on write-before-read; here it is 0.
// - ALU ops map to 32-bit eBPF ALU ops: `DST = (u32) DST OP (u32) SRC`, so everything wraps mod 2^32.
// - DIV by X: the conversion emits `if (X != 0) goto div; A ^= A; exit`, i.e. the whole filter returns 0
//   ("For cBPF programs, this was always return 0"). DIV by a constant 0 never loads.
// - Shifts. By a constant: `bpf_check_classic` rejects `k >= 32` (`case BPF_ALU | BPF_LSH | BPF_K: ...
//   if (ftest->k >= 32) return -EINVAL;`), so only 0..31 ever run. By X: the interpreter's
//   `ALU_##OPCODE##_X: DST = (u32) DST OP ((u32) SRC & 31);` (kernel/bpf/core.c, SHT macro, commit
//   28131e9d9333, 2021) uses only the low 5 bits of X, and so do the x86-64 (`shl r32, cl`) and arm64
//   (`lslv wN`) JITs in hardware. So `lsh x` with X = 33 shifts by 1, not to zero; we model X & 31.
// - Conditional jumps compare A with a zero-extended K or X as unsigned 64-bit values (the conversion moves
//   a K with the top bit set through a 32-bit register first), which is unsigned 32-bit comparison.
// - `ld [k]` (rewritten by seccomp_check_filter to `BPF_LDX | BPF_W | BPF_ABS`) is a native-endian u32 load
//   from the 64-byte `seccomp_data`, laid out in the byte order of the machine (`SeccompData.byteOrder`,
//   little-endian unless told; s390x is big-endian, so there an argument's high word comes first). `ld #len` is 64.

import {
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_DIV,
  BPF_IMM,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MEM,
  BPF_MEMWORDS,
  BPF_MISC,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
  BPF_XOR,
  OFFSET_ARCH,
  OFFSET_IP_LO,
  OFFSET_NR,
  SECCOMP_DATA_SIZE,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
  argOffset,
  type Endianness,
  type Insn,
} from "./bpf.js";
import { verifyFilter } from "./verifier.js";

/** The syscall as the filter sees it. `nr` is a C int (negative values wrap), args and ip are u64. */
export interface SeccompData {
  readonly nr: number;
  readonly arch: number;
  readonly ip?: bigint;
  /** Up to six arguments; missing ones are 0. Negative values are taken mod 2^64, as a register holds them. */
  readonly args?: readonly bigint[];
  /** The machine's byte order, which `seccomp_data` has. Default: little-endian. */
  readonly byteOrder?: Endianness;
}

export interface FilterRun {
  /** The u32 the program returned. */
  readonly ret: number;
  /** Classic instructions executed, the final `ret` (or the `div x` that returned 0) included. */
  readonly executed: number;
}

/** The kernel's `struct seccomp_data` bytes for `data`, in its byte order (native-endian, as the kernel fills it). */
export function seccompDataBytes(data: SeccompData): Uint8Array {
  const args = data.args ?? [];
  if (args.length > 6) throw new Error(`a syscall has at most 6 arguments, got ${args.length}`);
  if (!Number.isInteger(data.nr) || data.nr < -(2 ** 31) || data.nr >= 2 ** 32) {
    throw new Error(`syscall number ${data.nr} is not a 32-bit integer`);
  }
  if (!Number.isInteger(data.arch) || data.arch < 0 || data.arch >= 2 ** 32) {
    throw new Error(`arch ${data.arch} is not a u32`);
  }
  const bytes = new Uint8Array(SECCOMP_DATA_SIZE);
  const view = new DataView(bytes.buffer);
  const le = (data.byteOrder ?? "little") === "little";
  view.setUint32(OFFSET_NR, data.nr >>> 0, le);
  view.setUint32(OFFSET_ARCH, data.arch >>> 0, le);
  view.setBigUint64(OFFSET_IP_LO, BigInt.asUintN(64, data.ip ?? 0n), le);
  // The u64 slot of argument i starts at the low word's offset on a little-endian machine; a u64 store in
  // the machine's order puts each half where argOffset says.
  args.forEach((a, i) => view.setBigUint64(argOffset(i, false, "little"), BigInt.asUintN(64, a), le));
  return bytes;
}

/**
 * Verify `program` once and return a function that runs it; the program is copied, so later changes to
 * the array do not affect the runner. Throws when the kernel would refuse the program.
 */
export function prepareFilter(program: readonly Insn[]): (data: SeccompData) => FilterRun {
  const verdict = verifyFilter(program);
  if (!verdict.ok) {
    const first = verdict.errors[0]!;
    const more = verdict.errors.length > 1 ? ` (and ${verdict.errors.length - 1} more)` : "";
    throw new Error(`the kernel would reject this filter: pc ${first.pc}: ${first.message}${more}`);
  }
  const prog = program.map((i) => ({ code: i.code, jt: i.jt, jf: i.jf, k: i.k >>> 0 }));
  return (data) => execute(prog, seccompDataBytes(data), (data.byteOrder ?? "little") === "little");
}

/** Run `program` on one syscall. Throws (never loops) when the kernel would refuse the program. */
export function runFilter(program: readonly Insn[], data: SeccompData): FilterRun {
  return prepareFilter(program)(data);
}

/** The loop itself; `prog` has passed verifyFilter, so every pc stays in range and every path ends in `ret`. */
function execute(prog: readonly Insn[], bytes: Uint8Array, littleEndian: boolean): FilterRun {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mem = new Uint32Array(BPF_MEMWORDS);
  let a = 0;
  let x = 0;
  let executed = 0;
  for (let pc = 0; ; ) {
    const { code, jt, jf, k } = prog[pc]!;
    executed++;
    const operand = (code & BPF_X) === BPF_X ? x : k;
    switch (code) {
      case BPF_RET | BPF_K:
        return { ret: k, executed };
      case BPF_RET | BPF_A:
        return { ret: a, executed };

      case BPF_LD | BPF_W | BPF_ABS:
        a = view.getUint32(k, littleEndian);
        break;
      case BPF_LD | BPF_W | BPF_LEN:
        a = SECCOMP_DATA_SIZE; // seccomp_check_filter rewrites it to `ld #64`
        break;
      case BPF_LDX | BPF_W | BPF_LEN:
        x = SECCOMP_DATA_SIZE;
        break;
      case BPF_LD | BPF_IMM:
        a = k;
        break;
      case BPF_LDX | BPF_IMM:
        x = k;
        break;
      case BPF_LD | BPF_MEM:
        a = mem[k]!;
        break;
      case BPF_LDX | BPF_MEM:
        x = mem[k]!;
        break;
      case BPF_ST:
        mem[k] = a;
        break;
      case BPF_STX:
        mem[k] = x;
        break;
      case BPF_MISC | BPF_TAX:
        x = a;
        break;
      case BPF_MISC | BPF_TXA:
        a = x;
        break;

      case BPF_ALU | BPF_ADD | BPF_K:
      case BPF_ALU | BPF_ADD | BPF_X:
        a = (a + operand) >>> 0;
        break;
      case BPF_ALU | BPF_SUB | BPF_K:
      case BPF_ALU | BPF_SUB | BPF_X:
        a = (a - operand) >>> 0;
        break;
      case BPF_ALU | BPF_MUL | BPF_K:
      case BPF_ALU | BPF_MUL | BPF_X:
        a = Math.imul(a, operand) >>> 0; // the low 32 bits of the product, which a float multiply would lose
        break;
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_DIV | BPF_X:
        if (operand === 0) return { ret: 0, executed }; // only reachable with X; see the header
        a = Math.floor(a / operand) >>> 0;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
      case BPF_ALU | BPF_AND | BPF_X:
        a = (a & operand) >>> 0;
        break;
      case BPF_ALU | BPF_OR | BPF_K:
      case BPF_ALU | BPF_OR | BPF_X:
        a = (a | operand) >>> 0;
        break;
      case BPF_ALU | BPF_XOR | BPF_K:
      case BPF_ALU | BPF_XOR | BPF_X:
        a = (a ^ operand) >>> 0;
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_LSH | BPF_X:
        a = (a << (operand & 31)) >>> 0; // K < 32 by verification; X is masked, see the header
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_X:
        a = a >>> (operand & 31);
        break;
      case BPF_ALU | BPF_NEG:
        a = (0 - a) >>> 0;
        break;

      case BPF_JMP | BPF_JA:
        pc += 1 + k;
        continue;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_X:
        pc += 1 + (a === operand ? jt : jf);
        continue;
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_X:
        pc += 1 + (a > operand ? jt : jf);
        continue;
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_X:
        pc += 1 + (a >= operand ? jt : jf);
        continue;
      case BPF_JMP | BPF_JSET | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_X:
        pc += 1 + ((a & operand) !== 0 ? jt : jf);
        continue;

      default:
        // verifyFilter admits exactly the opcodes above; reaching this is a bug here, not in the filter.
        throw new Error(`internal error: verified filter has unhandled opcode 0x${code.toString(16)} at pc ${pc}`);
    }
    pc++;
  }
}

// ---- what the kernel does with the value ----

export type SeccompAction =
  | "kill-process"
  | "kill-thread"
  | "trap"
  | "errno"
  | "user-notif"
  | "trace"
  | "log"
  | "allow";

/**
 * How `__seccomp_filter` reads a return value: `action = ret & SECCOMP_RET_ACTION_FULL`, `data = ret &
 * SECCOMP_RET_DATA`. An action value it does not know falls into the `default:` arm next to
 * KILL_THREAD/KILL_PROCESS and, not being KILL_THREAD, kills the whole process with a core dump: reported
 * as "kill-process". `data` is the raw 16 bits; for ERRNO the kernel caps it at MAX_ERRNO (4095) when it
 * sets the return value.
 */
export function actionOf(ret: number): { action: SeccompAction; data: number } {
  const data = ret & SECCOMP_RET_DATA;
  switch ((ret & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET_KILL_PROCESS:
      return { action: "kill-process", data };
    case SECCOMP_RET_KILL_THREAD:
      return { action: "kill-thread", data };
    case SECCOMP_RET_TRAP:
      return { action: "trap", data };
    case SECCOMP_RET_ERRNO:
      return { action: "errno", data };
    case SECCOMP_RET_USER_NOTIF:
      return { action: "user-notif", data };
    case SECCOMP_RET_TRACE:
      return { action: "trace", data };
    case SECCOMP_RET_LOG:
      return { action: "log", data };
    case SECCOMP_RET_ALLOW:
      return { action: "allow", data };
    default:
      return { action: "kill-process", data };
  }
}

/** `ACTION_ONLY(ret)`: `(s32)(ret & SECCOMP_RET_ACTION_FULL)`. Signed, which puts KILL_PROCESS below everything. */
const actionOnly = (ret: number) => ret & SECCOMP_RET_ACTION_FULL; // `&` already yields a signed 32-bit int

/**
 * The value `seccomp_run_filters` returns for a stack of filters, given each filter's return value in the
 * order the filters were installed (oldest first). The kernel starts from SECCOMP_RET_ALLOW and walks from
 * the newest filter to the oldest, replacing its result only on a strictly lower ACTION_ONLY. So the lowest
 * action wins; among equal actions the most recently installed filter's value (with its data) wins; and when
 * every filter allows, the result is the bare SECCOMP_RET_ALLOW whatever data the filters attached.
 */
export function combineStack(retsInInstallOrder: readonly number[]): number {
  let ret = SECCOMP_RET_ALLOW;
  for (let i = retsInInstallOrder.length - 1; i >= 0; i--) {
    const cur = retsInInstallOrder[i]! >>> 0;
    if (actionOnly(cur) < actionOnly(ret)) ret = cur;
  }
  return ret >>> 0;
}

/**
 * Run a stack of filters (oldest first) as a cache miss does: every filter runs, none exits early, so
 * `executed` is the sum over the stack.
 */
export function runStack(programsInInstallOrder: readonly (readonly Insn[])[], data: SeccompData): FilterRun {
  const runs = programsInInstallOrder.map((p) => runFilter(p, data));
  return { ret: combineStack(runs.map((r) => r.ret)), executed: runs.reduce((n, r) => n + r.executed, 0) };
}
