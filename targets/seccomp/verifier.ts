// What the kernel checks before it accepts a seccomp filter, so a compiled filter is known loadable without
// a kernel at hand. Mirrors, in order, `seccomp_prepare_filter` (length), `bpf_check_classic` with its
// `chk_code_allowed` table and `check_load_and_stores` (net/core/filter.c), then `seccomp_check_filter`
// (kernel/seccomp.c). The program is accepted exactly when the kernel would accept it; unlike the kernel,
// which stops at the first problem, every problem found is reported.

import {
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_IND,
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
  BPF_MAXINSNS,
  BPF_MEM,
  BPF_MEMWORDS,
  BPF_MISC,
  BPF_MOD,
  BPF_MSH,
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
  SECCOMP_DATA_SIZE,
  type Insn,
} from "./bpf.js";

/**
 * Which kernel check rejected the instruction. Tests and callers match on this, not on the wording.
 * - `encoding`: not a kernel check but its precondition: a field that does not fit `struct sock_filter`
 *   (u16 code, u8 jt, u8 jf, u32 k), e.g. a hand-built `k: -1` or `jt: 256` that encoding would truncate
 * - `length`: `seccomp_prepare_filter` / `bpf_check_basics_ok`: 1..BPF_MAXINSNS instructions
 * - `opcode`: `chk_code_allowed`: not a classic BPF opcode at all
 * - `div-by-zero`: `bpf_check_classic`: DIV or MOD by constant 0
 * - `shift-range`: `bpf_check_classic`: LSH or RSH by a constant ≥ 32
 * - `mem-index`: `bpf_check_classic`: scratch memory index ≥ BPF_MEMWORDS
 * - `jump-range`: `bpf_check_classic`: a jump target at or past the end
 * - `last-not-ret`: `bpf_check_classic`: the last instruction is not a RET
 * - `mem-uninit`: `check_load_and_stores`: M[k] read on a path that did not write it
 * - `seccomp-opcode`: `seccomp_check_filter`: a classic opcode seccomp does not allow
 * - `seccomp-load`: `seccomp_check_filter`: a word load outside `seccomp_data` or not 4-byte aligned
 */
export type VerifyCheck =
  | "encoding"
  | "length"
  | "opcode"
  | "div-by-zero"
  | "shift-range"
  | "mem-index"
  | "jump-range"
  | "last-not-ret"
  | "mem-uninit"
  | "seccomp-opcode"
  | "seccomp-load";

export interface VerifyError {
  /** Index of the offending instruction; -1 when the problem is the program as a whole (its length). */
  readonly pc: number;
  readonly check: VerifyCheck;
  readonly message: string;
}

export type VerifyResult = { ok: true } | { ok: false; errors: VerifyError[] };

// `chk_code_allowed`: every opcode classic BPF knows, socket filters included. Anything else is -EINVAL
// before any other check looks at it.
const CLASSIC_OPCODES: ReadonlySet<number> = new Set([
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH].flatMap((op) => [
    BPF_ALU | op | BPF_K,
    BPF_ALU | op | BPF_X,
  ]),
  BPF_ALU | BPF_NEG,
  ...[BPF_W, BPF_H, BPF_B].flatMap((size) => [BPF_LD | size | BPF_ABS, BPF_LD | size | BPF_IND]),
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_IMM,
  BPF_LD | BPF_MEM,
  BPF_LDX | BPF_W | BPF_LEN,
  BPF_LDX | BPF_B | BPF_MSH,
  BPF_LDX | BPF_IMM,
  BPF_LDX | BPF_MEM,
  BPF_ST,
  BPF_STX,
  BPF_MISC | BPF_TAX,
  BPF_MISC | BPF_TXA,
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

// `seccomp_check_filter`'s explicit list. Everything classic BPF has that reads packet bytes (byte and half
// loads, IND, MSH) is missing, and so is MOD: seccomp predates BPF_MOD and never added it. LD W ABS, LD W LEN
// and LDX W LEN are accepted too but handled apart (the load is range-checked, LEN becomes `#64`).
const SECCOMP_OPCODES: ReadonlySet<number> = new Set([
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH].flatMap((op) => [
    BPF_ALU | op | BPF_K,
    BPF_ALU | op | BPF_X,
  ]),
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_IMM,
  BPF_LDX | BPF_IMM,
  BPF_MISC | BPF_TAX,
  BPF_MISC | BPF_TXA,
  BPF_LD | BPF_MEM,
  BPF_LDX | BPF_MEM,
  BPF_ST,
  BPF_STX,
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
  BPF_LD | BPF_W | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LDX | BPF_W | BPF_LEN,
]);

const CONDITIONAL_JUMPS: ReadonlySet<number> = new Set(
  [BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
);

const hex = (n: number, width = 2) => "0x" + (n >>> 0).toString(16).padStart(width, "0");

/** True when `code` is an opcode classic BPF defines (`chk_code_allowed`), whether or not seccomp allows it. */
export function isClassicOpcode(code: number): boolean {
  return CLASSIC_OPCODES.has(code);
}

/** True when `seccomp_check_filter` lets `code` through (its operand may still be rejected). */
export function isSeccompOpcode(code: number): boolean {
  return SECCOMP_OPCODES.has(code);
}

/** Whether the kernel would accept `program` as a seccomp filter, and if not, every reason why. */
export function verifyFilter(program: readonly Insn[]): VerifyResult {
  const len = program.length;
  // seccomp_prepare_filter: `fprog->len == 0 || fprog->len > BPF_MAXINSNS` → -EINVAL before anything else.
  if (len === 0 || len > BPF_MAXINSNS) {
    return {
      ok: false,
      errors: [{ pc: -1, check: "length", message: `a filter has 1 to ${BPF_MAXINSNS} instructions, this one has ${len}` }],
    };
  }

  const errors: VerifyError[] = [];
  const fail = (pc: number, check: VerifyCheck, message: string) => errors.push({ pc, check, message });

  // The checks below reason about the values the kernel would read; a field that encoding would truncate
  // (a negative k would even make `ja` jump backwards) has no such value, so stop here.
  program.forEach((i, pc) => {
    const bad = encodingProblem(i);
    if (bad) fail(pc, "encoding", bad);
  });
  if (errors.length) return { ok: false, errors };

  // ---- bpf_check_classic: per-instruction checks ----
  for (let pc = 0; pc < len; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    if (!CLASSIC_OPCODES.has(code)) {
      fail(pc, "opcode", `unknown opcode ${hex(code, 4)} (not in chk_code_allowed)`);
      continue;
    }
    switch (code) {
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (k === 0) fail(pc, "div-by-zero", "division by constant zero");
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) fail(pc, "shift-range", `shift by constant ${k}, the kernel requires less than 32`);
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) fail(pc, "mem-index", `scratch memory index ${k}, there are only M[0] to M[${BPF_MEMWORDS - 1}]`);
        break;
      case BPF_JMP | BPF_JA:
        // `k >= (unsigned int)(flen - pc - 1)`: the target pc + 1 + k must be inside the program.
        if (pc + 1 + k >= len) fail(pc, "jump-range", `ja target ${pc + 1 + k} is past the last instruction (${len - 1})`);
        break;
      default:
        if (CONDITIONAL_JUMPS.has(code)) {
          if (pc + 1 + jt >= len) fail(pc, "jump-range", `true target ${pc + 1 + jt} is past the last instruction (${len - 1})`);
          if (pc + 1 + jf >= len) fail(pc, "jump-range", `false target ${pc + 1 + jf} is past the last instruction (${len - 1})`);
        }
    }
  }
  // "Last instruction must be a RET code": this is what makes running off the end impossible.
  const last = program[len - 1]!.code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) {
    fail(len - 1, "last-not-ret", "the last instruction must be a ret");
  }
  // The kernel only reaches check_load_and_stores when everything above passed; it also relies on the jump
  // targets and memory indices being in range, so running it on a broken program would mean nothing.
  if (errors.length === 0) errors.push(...checkLoadAndStores(program));

  // ---- seccomp_check_filter: the seccomp subset, and where word loads may read ----
  for (let pc = 0; pc < len; pc++) {
    const { code, k } = program[pc]!;
    if (!CLASSIC_OPCODES.has(code)) continue; // already reported; the kernel never gets this far
    if (!SECCOMP_OPCODES.has(code)) {
      fail(pc, "seccomp-opcode", `${opcodeName(code)} is not allowed in a seccomp filter`);
    } else if (code === (BPF_LD | BPF_W | BPF_ABS) && (k >= SECCOMP_DATA_SIZE || (k & 3) !== 0)) {
      fail(
        pc,
        "seccomp-load",
        k >= SECCOMP_DATA_SIZE
          ? `load at offset ${k} is outside seccomp_data (${SECCOMP_DATA_SIZE} bytes)`
          : `load at offset ${k} is not 4-byte aligned`,
      );
    }
  }

  if (errors.length === 0) return { ok: true };
  errors.sort((a, b) => a.pc - b.pc);
  return { ok: false, errors };
}

/**
 * `check_load_and_stores`, step for step: one forward pass with a 16-bit "written" mask. A jump ANDs the
 * current mask into each target's entry mask and then sets the running mask to all-ones, so the instruction
 * after it starts from exactly what its predecessors guarantee. This is exact for forward-only programs,
 * with one leniency we keep because the kernel has it: code that no jump reaches (after a `ret` or `ja`)
 * inherits the mask of the instruction before it, so a read there may pass. Such code never runs.
 */
function checkLoadAndStores(program: readonly Insn[]): VerifyError[] {
  const ALL = 0xffff;
  const masks = new Array<number>(program.length).fill(ALL);
  let valid = 0;
  for (let pc = 0; pc < program.length; pc++) {
    valid &= masks[pc]!;
    const { code, jt, jf, k } = program[pc]!;
    switch (code) {
      case BPF_ST:
      case BPF_STX:
        valid |= 1 << k;
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
        if (!(valid & (1 << k))) {
          return [{ pc, check: "mem-uninit", message: `reads M[${k}] on a path that has not written it` }];
        }
        break;
      case BPF_JMP | BPF_JA:
        masks[pc + 1 + k]! &= valid;
        valid = ALL;
        break;
      default:
        if (CONDITIONAL_JUMPS.has(code)) {
          masks[pc + 1 + jt]! &= valid;
          masks[pc + 1 + jf]! &= valid;
          valid = ALL;
        }
    }
  }
  return [];
}

const fits = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;

function encodingProblem({ code, jt, jf, k }: Insn): string | undefined {
  if (!fits(code, 0xffff)) return `code ${code} does not fit in 16 bits`;
  if (!fits(jt, 0xff)) return `jt ${jt} does not fit in 8 bits (jumps reach at most 255 instructions ahead)`;
  if (!fits(jf, 0xff)) return `jf ${jf} does not fit in 8 bits (jumps reach at most 255 instructions ahead)`;
  if (!fits(k, 0xffffffff)) return `k ${k} is not a u32`;
  return undefined;
}

/** A short name for an opcode in messages, e.g. `ldh [k]`, `mod x`. */
function opcodeName(code: number): string {
  switch (code) {
    case BPF_LD | BPF_H | BPF_ABS:
      return "`ldh [k]` (half-word load)";
    case BPF_LD | BPF_B | BPF_ABS:
      return "`ldb [k]` (byte load)";
    case BPF_LD | BPF_W | BPF_IND:
      return "`ld [x + k]` (indirect load)";
    case BPF_LD | BPF_H | BPF_IND:
      return "`ldh [x + k]` (indirect half-word load)";
    case BPF_LD | BPF_B | BPF_IND:
      return "`ldb [x + k]` (indirect byte load)";
    case BPF_LDX | BPF_B | BPF_MSH:
      return "`ldxb 4*([k]&0xf)` (header-length load)";
    case BPF_ALU | BPF_MOD | BPF_K:
      return "`mod #k`";
    case BPF_ALU | BPF_MOD | BPF_X:
      return "`mod x`";
    default:
      return `opcode ${hex(code, 4)}`;
  }
}
