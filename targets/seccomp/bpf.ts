// Classic BPF as seccomp uses it: opcodes, the `seccomp_data` layout, return actions, and the 8-byte
// `struct sock_filter` encoding. Shared by the code generator, the interpreter, the verifier and the
// disassembler of this target; nothing here knows about policies. Both structures are native-endian: on a
// big-endian machine (s390x) the high half of an argument comes first, and the filter's bytes are big-endian.

import { AUDIT_ARCH_VALUES } from "../../linux-abi/syscalls.generated.js";
import type { Endianness } from "../../linux-abi/arches.js";

export type { Endianness } from "../../linux-abi/arches.js";

// ---- opcode fields (linux/bpf_common.h) ----
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;

export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;

export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10; // for BPF_RET

export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

export const BPF_MEMWORDS = 16;
/** BPF_MAXINSNS: the kernel's limit on one filter. */
export const BPF_MAXINSNS = 4096;

export const bpfClass = (code: number) => code & 0x07;
export const bpfSize = (code: number) => code & 0x18;
export const bpfMode = (code: number) => code & 0xe0;
export const bpfOp = (code: number) => code & 0xf0;
export const bpfSrc = (code: number) => code & 0x08;
export const bpfRval = (code: number) => code & 0x18;
export const bpfMiscOp = (code: number) => code & 0xf8;

// ---- struct seccomp_data (linux/seccomp.h): int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; ----
export const SECCOMP_DATA_SIZE = 64;
export const OFFSET_NR = 0;
export const OFFSET_ARCH = 4;
export const OFFSET_IP_LO = 8;
export const OFFSET_IP_HI = 12;
/**
 * Offset of the low (`hi = false`) or high 32-bit word of argument `i`. `seccomp_data` is native-endian, so
 * the high word comes first on a big-endian machine.
 */
export function argOffset(i: number, hi: boolean, endianness: Endianness = "little"): number {
  return 16 + i * 8 + (hi === (endianness === "little") ? 4 : 0);
}

// ---- return values (linux/seccomp.h) ----
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

// ---- audit arch values (linux/audit.h, generated; every arch's is in ARCH_INFO) ----
export const AUDIT_ARCH_X86_64 = AUDIT_ARCH_VALUES.x86_64;
export const AUDIT_ARCH_AARCH64 = AUDIT_ARCH_VALUES.aarch64;
export const AUDIT_ARCH_I386 = AUDIT_ARCH_VALUES.i386;
/** x32 syscalls run under AUDIT_ARCH_X86_64 with this bit set in the number. */
export { X32_SYSCALL_BIT } from "../../linux-abi/arches.js";

/** One `struct sock_filter`: u16 code, u8 jt, u8 jf, u32 k. */
export interface Insn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/** Build an instruction. Note the argument order (k before the jump offsets), which reads like assembly. */
export const insn = (code: number, k = 0, jt = 0, jf = 0): Insn => ({ code, jt, jf, k: k >>> 0 });

/** The largest errno a SECCOMP_RET_ERRNO can deliver; the kernel caps larger data to it. */
export const MAX_ERRNO = 4095;
/** Instructions summed over a stack of filters, with a penalty of 4 per filter (seccomp_attach_filter). */
export const MAX_INSNS_PER_PATH = 32768;

/**
 * Whether a program allows every syscall whatever its path: every return is `RET ALLOW` with a constant (a
 * `RET A` could return anything). Such a filter restricts nothing, so a launcher need not install it (nor set
 * no_new_privs for it): full access means no sandbox at all.
 */
export function allowsEverything(program: readonly Insn[]): boolean {
  return program.every((i) => (i.code & 0x07) !== BPF_RET || (i.code === (BPF_RET | BPF_K) && i.k >>> 0 === SECCOMP_RET_ALLOW));
}

/**
 * `struct sock_filter[]` in the machine's byte order (little-endian unless told), as the kernel and `bwrap
 * --seccomp` read it. Return values (k) are u32.
 */
export function encode(program: readonly Insn[], endianness: Endianness = "little"): Uint8Array {
  const le = endianness === "little";
  const out = new Uint8Array(program.length * 8);
  const view = new DataView(out.buffer);
  program.forEach((i, n) => {
    // A field that does not fit would be silently wrapped by DataView: a far jump would become a wrong one.
    if (!(Number.isInteger(i.code) && i.code >= 0 && i.code <= 0xffff)) throw new RangeError(`instruction ${n}: code ${i.code} does not fit in 16 bits`);
    if (!(Number.isInteger(i.jt) && i.jt >= 0 && i.jt <= 255 && Number.isInteger(i.jf) && i.jf >= 0 && i.jf <= 255)) {
      throw new RangeError(`instruction ${n}: jump offsets ${i.jt}/${i.jf} do not fit in 8 bits`);
    }
    if (!(Number.isInteger(i.k) && i.k >= -0x80000000 && i.k <= 0xffffffff)) throw new RangeError(`instruction ${n}: k ${i.k} does not fit in 32 bits`);
    view.setUint16(n * 8, i.code, le);
    view.setUint8(n * 8 + 2, i.jt);
    view.setUint8(n * 8 + 3, i.jf);
    view.setUint32(n * 8 + 4, i.k >>> 0, le);
  });
  return out;
}

export function decode(bytes: Uint8Array, endianness: Endianness = "little"): Insn[] {
  const le = endianness === "little";
  if (bytes.length % 8 !== 0) throw new Error(`a filter is a whole number of 8-byte instructions, got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let n = 0; n < bytes.length; n += 8) {
    out.push({ code: view.getUint16(n, le), jt: view.getUint8(n + 2), jf: view.getUint8(n + 3), k: view.getUint32(n + 4, le) });
  }
  return out;
}
