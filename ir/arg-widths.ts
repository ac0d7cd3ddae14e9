// Which bits of a syscall argument the kernel reads, per ABI, and what an argument condition means given that.
// seccomp sees six u64 registers, but the kernel's entry wrappers cast each one to the declared parameter type:
// `ioctl(unsigned int fd, unsigned int cmd, …)` runs FIONREAD for cmd 0x10000541B. A condition therefore compares
// only the bits the kernel keeps; the evaluator and every backend take the meaning from `narrowCondition`.

import type { ArgCondition } from "../ir/types.js";
import { SYSCALL_PARAMS, type ParamFact } from "../linux-abi/arg-widths.generated.js";
import type { ArgBits } from "../linux-abi/c-types.js";

export type { ArgBits } from "../linux-abi/c-types.js";

/**
 * ABIs whose registers are 32 bits: every argument arrives zero-extended into its u64 slot, and a 64-bit
 * parameter (`loff_t`, `u64`) takes two registers at positions each ABI chooses (i386 in order, arm EABI and
 * the other 32-bit ABIs on an even register pair, some with padding). Keyed by the arch names of the tables.
 */
export const THIRTY_TWO_BIT_ABIS: ReadonlySet<string> = new Set(["i386", "arm", "ppc", "s390", "mips", "parisc", "m68k", "sh"]);

/** x32 runs the x86_64 entry points (its compat entries, 512–547, are not modelled separately: see docs). */
const SAME_AS: Readonly<Record<string, string>> = { x32: "x86_64" };

function params(arch: string, syscall: string): readonly ParamFact[] | null | undefined {
  const abi = SAME_AS[arch] ?? arch;
  const own = SYSCALL_PARAMS[abi];
  if (own && Object.hasOwn(own, syscall)) return own[syscall];
  const all = SYSCALL_PARAMS["*"]!;
  return Object.hasOwn(all, syscall) ? all[syscall] : undefined;
}

/** The parameter of `syscall` that register `arg` carries on a 64-bit ABI, as declared; undefined if unknown. */
export function argDeclaration(arch: string, syscall: string, arg: number): string | undefined {
  if (THIRTY_TWO_BIT_ABIS.has(arch) && splitBefore(arch, syscall, arg) !== undefined) return undefined;
  return params(arch, syscall)?.[arg]?.[0];
}

/**
 * How many low bits of argument `arg` the kernel reads. 64 when nothing narrower is known: a syscall without
 * a typed entry point, or an index past its parameters (the kernel ignores such an argument, so comparing all
 * of it changes nothing the kernel does). On a 32-bit ABI no argument is wider than 32 bits.
 */
export function argBits(arch: string, syscall: string, arg: number): ArgBits {
  const thirtyTwo = THIRTY_TWO_BIT_ABIS.has(arch);
  const p = params(arch, syscall);
  // After a split 64-bit parameter the registers no longer line up with the C parameters.
  const declared = p && (!thirtyTwo || splitBefore(arch, syscall, arg) === undefined) ? p[arg]?.[1] : undefined;
  const bits = declared ?? 64;
  return thirtyTwo && bits > 32 ? 32 : bits;
}

/**
 * On a 32-bit ABI: the declaration of the first long long-sized parameter at or before `arg` (which then no
 * longer names one C parameter), or undefined when the registers up to `arg` match the parameters one to one.
 */
export function splitBefore(arch: string, syscall: string, arg: number): string | undefined {
  if (!THIRTY_TWO_BIT_ABIS.has(arch)) return undefined;
  const p = params(arch, syscall);
  if (!p) return undefined;
  for (let i = 0; i <= arg && i < p.length; i++) if (p[i]![2]) return p[i]![0];
  return undefined;
}

const U64 = (1n << 64n) - 1n;

/** A condition as the kernel's reading of its argument makes it: every number reduced to the argument's width. */
export interface NarrowCondition {
  readonly bits: ArgBits;
  readonly op: ArgCondition["op"];
  /**
   * Compared with the low `bits` bits of the argument, unsigned. Wider than `bits` only when `highOnly`, or for an
   * `&==` whose value has bits outside its mask (which never matches, as on 64 bits).
   */
  readonly value: bigint;
  /** For `&==`: reduced to `bits` bits. */
  readonly mask?: bigint;
  /**
   * The value (for `&==`, its bits inside the mask) has bits above `bits` that are not the sign extension of a
   * negative `bits`-bit number: only high bits the kernel ignores could match it (SBC0830).
   */
  readonly highOnly: boolean;
}

/** Is `v` (a u64) the 64-bit sign extension of a negative `bits`-bit number (`-100` for an `int`)? */
function signExtended(v: bigint, bits: number): boolean {
  return v >> BigInt(bits - 1) === U64 >> BigInt(bits - 1);
}

export function narrowCondition(c: ArgCondition, bits: ArgBits): NarrowCondition {
  const v = BigInt(c.value) & U64;
  if (bits === 64) return { bits, op: c.op, value: v, ...(c.mask !== undefined ? { mask: BigInt(c.mask) & U64 } : {}), highOnly: false };
  const low = (1n << BigInt(bits)) - 1n;
  const fits = (x: bigint) => x <= low || signExtended(x, bits);
  if (c.op === "&==") {
    const m = BigInt(c.mask!) & U64;
    // A value with bits outside its mask never matches, at any width: keep it whole so it still never does.
    if ((v & ~m) !== 0n) return { bits, op: c.op, value: v, mask: m & low, highOnly: false };
    const highOnly = !fits(v);
    return { bits, op: c.op, value: highOnly ? v : v & low, mask: m & low, highOnly };
  }
  const highOnly = !fits(v);
  return { bits, op: c.op, value: highOnly ? v : v & low, highOnly };
}

/** Does the condition hold for argument value `arg` (a u64), read the kernel's way? */
export function narrowHolds(n: NarrowCondition, arg: bigint): boolean {
  const a = (arg & U64) & ((1n << BigInt(n.bits)) - 1n);
  const v = n.value;
  switch (n.op) {
    case "==":
      return a === v;
    case "!=":
      return a !== v;
    case "<":
      return a < v;
    case "<=":
      return a <= v;
    case ">":
      return a > v;
    case ">=":
      return a >= v;
    case "&==":
      return (a & n.mask!) === v;
  }
}
