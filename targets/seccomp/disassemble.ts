// A readable, stable text form of a classic BPF filter: what compiled filters' golden files contain and what
// a reviewer reads in their diffs. Never parsed back; it only has to be unambiguous and deterministic.
//
// Format, one instruction per line, every line ending in "\n":
//
//     <pc>: <instruction>[  ; <note>[; <note>...]]
//
// - <pc> is the instruction index, right-aligned in 4 columns (BPF_MAXINSNS is 4096, so it always fits).
// - Jump targets are absolute pcs, not offsets: `ja 40`, `jeq #0x29, 13, 15` (true target, then false).
// - Constants are `#` and lowercase hex (`#0x29`, `ld #0x40`); offsets into seccomp_data are decimal in
//   brackets (`ld [20]`); scratch memory is `M[3]`; `x` and `a` name the registers. Mnemonics follow the
//   kernel's bpf_asm: ld ldh ldb ldx ldxb st stx add sub mul div mod and or xor lsh rsh neg ja jeq jgt jge
//   jset ret tax txa. `ld #len` / `ldx #len` are the length loads (64 under seccomp).
// - `ret #k` shows the action symbolically: `ret ALLOW`, `ret KILL_PROCESS`, `ret ERRNO(1)`. ERRNO, TRAP and
//   TRACE always show their 16-bit data in decimal; the other actions show it only when it is not 0
//   (`ret ALLOW(5)`). An action value the kernel does not know prints as `ret #0x00010000` with a note.
// - Notes: word loads from seccomp_data name the field (`; nr`, `; arch`, `; ip.lo`, `; arg0.hi`, ...), in
//   the filter's byte order (little-endian unless told: on s390x `ld [16]` is `arg0.hi`); then comes the
//   caller's comment for that pc, if any (newlines become spaces).
// - An opcode that is not classic BPF prints as `unknown code=0x0034 jt=0 jf=0 k=0x5`, so invalid
//   programs can be inspected too.

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
  BPF_MEM,
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
  bpfClass,
  bpfOp,
  type Endianness,
  type Insn,
} from "./bpf.js";

export interface DisassembleOptions {
  /** A note for the instruction at `pc` (e.g. the syscall a `jeq` tests), or undefined for none. */
  readonly comment?: (pc: number) => string | undefined;
  /** The byte order of `seccomp_data`, which decides which half of an argument a load reads. Default: little. */
  readonly endianness?: Endianness;
}

export function disassemble(program: readonly Insn[], options: DisassembleOptions = {}): string {
  return program.map((insn, pc) => `${String(pc).padStart(4)}: ${line(insn, pc, options.comment?.(pc), options.endianness)}\n`).join("");
}

/**
 * One instruction as it appears after `<pc>: ` in the disassembly, notes included; `pc` is needed to print
 * absolute jump targets. For other renderings of a single instruction (e.g. comments in a C header).
 */
export function describeInsn(insn: Insn, pc: number, endianness: Endianness = "little"): string {
  return line(insn, pc, undefined, endianness);
}

function line(insn: Insn, pc: number, comment: string | undefined, endianness: Endianness = "little"): string {
  const { text, note } = render(insn, pc, endianness);
  const extra = comment?.replace(/\s*[\r\n]+\s*/g, " ").trim();
  const notes = [note, extra].filter((n): n is string => !!n);
  return notes.length ? `${text}  ; ${notes.join("; ")}` : text;
}

/** The name of the seccomp_data word at byte offset `k`, or undefined when `k` is not a word of it. */
export function seccompDataField(k: number, endianness: Endianness = "little"): string | undefined {
  if (k % 4 !== 0 || k < 0 || k >= SECCOMP_DATA_SIZE) return undefined;
  if (k === 0) return "nr";
  if (k === 4) return "arch";
  const firstIsLow = endianness === "little";
  if (k === 8) return firstIsLow ? "ip.lo" : "ip.hi";
  if (k === 12) return firstIsLow ? "ip.hi" : "ip.lo";
  return `arg${Math.floor((k - 16) / 8)}.${((k - 16) % 8 === 0) === firstIsLow ? "lo" : "hi"}`;
}

const ACTION_NAMES: ReadonlyMap<number, string> = new Map([
  [SECCOMP_RET_KILL_PROCESS, "KILL_PROCESS"],
  [SECCOMP_RET_KILL_THREAD, "KILL_THREAD"],
  [SECCOMP_RET_TRAP, "TRAP"],
  [SECCOMP_RET_ERRNO, "ERRNO"],
  [SECCOMP_RET_USER_NOTIF, "USER_NOTIF"],
  [SECCOMP_RET_TRACE, "TRACE"],
  [SECCOMP_RET_LOG, "LOG"],
  [SECCOMP_RET_ALLOW, "ALLOW"],
]);
const ALWAYS_SHOW_DATA: ReadonlySet<number> = new Set([SECCOMP_RET_ERRNO, SECCOMP_RET_TRAP, SECCOMP_RET_TRACE]);

/** `ALLOW`, `ERRNO(1)`, `KILL_PROCESS`: a return value as the kernel reads it, or undefined for an unknown action. */
export function retName(k: number): string | undefined {
  const action = (k & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = k & SECCOMP_RET_DATA;
  const name = ACTION_NAMES.get(action);
  if (name === undefined) return undefined;
  return data !== 0 || ALWAYS_SHOW_DATA.has(action) ? `${name}(${data})` : name;
}

const ALU_NAMES: ReadonlyMap<number, string> = new Map([
  [BPF_ADD, "add"],
  [BPF_SUB, "sub"],
  [BPF_MUL, "mul"],
  [BPF_DIV, "div"],
  [BPF_MOD, "mod"],
  [BPF_AND, "and"],
  [BPF_OR, "or"],
  [BPF_XOR, "xor"],
  [BPF_LSH, "lsh"],
  [BPF_RSH, "rsh"],
]);
const JUMP_NAMES: ReadonlyMap<number, string> = new Map([
  [BPF_JEQ, "jeq"],
  [BPF_JGT, "jgt"],
  [BPF_JGE, "jge"],
  [BPF_JSET, "jset"],
]);

const imm = (k: number) => `#0x${(k >>> 0).toString(16)}`;

function render(insn: Insn, pc: number, endianness: Endianness): { text: string; note?: string } {
  const { code, jt, jf, k } = insn;
  const src = (code & BPF_X) === BPF_X ? "x" : imm(k);
  switch (code) {
    case BPF_LD | BPF_W | BPF_ABS: {
      const field = seccompDataField(k, endianness);
      return field ? { text: `ld [${k}]`, note: field } : { text: `ld [${k}]` };
    }
    case BPF_LD | BPF_H | BPF_ABS:
      return { text: `ldh [${k}]` };
    case BPF_LD | BPF_B | BPF_ABS:
      return { text: `ldb [${k}]` };
    case BPF_LD | BPF_W | BPF_IND:
      return { text: `ld [x + ${k}]` };
    case BPF_LD | BPF_H | BPF_IND:
      return { text: `ldh [x + ${k}]` };
    case BPF_LD | BPF_B | BPF_IND:
      return { text: `ldb [x + ${k}]` };
    case BPF_LD | BPF_W | BPF_LEN:
      return { text: "ld #len" };
    case BPF_LD | BPF_IMM:
      return { text: `ld ${imm(k)}` };
    case BPF_LD | BPF_MEM:
      return { text: `ld M[${k}]` };
    case BPF_LDX | BPF_W | BPF_LEN:
      return { text: "ldx #len" };
    case BPF_LDX | BPF_IMM:
      return { text: `ldx ${imm(k)}` };
    case BPF_LDX | BPF_MEM:
      return { text: `ldx M[${k}]` };
    case BPF_LDX | BPF_B | BPF_MSH:
      return { text: `ldxb 4*([${k}]&0xf)` };
    case BPF_ST:
      return { text: `st M[${k}]` };
    case BPF_STX:
      return { text: `stx M[${k}]` };
    case BPF_ALU | BPF_NEG:
      return { text: "neg" };
    case BPF_MISC | BPF_TAX:
      return { text: "tax" };
    case BPF_MISC | BPF_TXA:
      return { text: "txa" };
    case BPF_RET | BPF_A:
      return { text: "ret a" };
    case BPF_RET | BPF_K: {
      const name = retName(k);
      return name
        ? { text: `ret ${name}` }
        : { text: `ret #0x${(k >>> 0).toString(16).padStart(8, "0")}`, note: "unknown action, the kernel kills the process" };
    }
    case BPF_JMP | BPF_JA:
      return { text: `ja ${pc + 1 + k}` };
  }
  // What is left of classic BPF: ALU ops and conditional jumps, each with a K or an X operand.
  const op = bpfOp(code);
  const known = code <= 0xff;
  if (known && bpfClass(code) === BPF_ALU && ALU_NAMES.has(op)) return { text: `${ALU_NAMES.get(op)} ${src}` };
  if (known && bpfClass(code) === BPF_JMP && JUMP_NAMES.has(op)) {
    return { text: `${JUMP_NAMES.get(op)} ${src}, ${pc + 1 + jt}, ${pc + 1 + jf}` };
  }
  return { text: `unknown code=0x${code.toString(16).padStart(4, "0")} jt=${jt} jf=${jf} k=0x${(k >>> 0).toString(16)}` };
}
