// Syscalls as the kernel sees them: a number on an architecture. A rule names a call by name (the same call
// on every arch, whatever its number there) or by number on one arch (`x86_64:335`, `x86_64:-1`); on arch A
// a rule applies to number n when it names A:n or names the call whose number on A is n. This module also
// says which numbers are "newer than the policy" (`syscalls.newer`, runc's ENOSYS convention). The
// evaluator and the seccomp lowering both use it, so policy tests, `sbc eval` and the filter agree.

import type { IR } from "../types.js";
import { ARCHES, syscallNumber, syscallTable, type Arch } from "../../linux-abi/index.js";
import { SYSCALL_FIRST_RELEASE, syscallNewerThan } from "../../linux-abi/syscall-versions.js";

/** The number a tracer writes to skip a call (-1 as a u32). */
export const SKIP_NR = 0xffffffff;
/** Bit 30: an x32 call on AUDIT_ARCH_X86_64. */
const X32_BIT = 0x40000000;

export interface NumberedEntry {
  readonly arch: Arch;
  /** u32. */
  readonly nr: number;
}

/** True for an entry written `arch:number` (names never contain `:`). */
export function isNumberedEntry(entry: string): boolean {
  return entry.includes(":");
}

/** The IR spelling of a numbered entry: the number in decimal, and 0xffffffff as `-1`. */
export function formatNumberedEntry(arch: Arch | string, nr: number): string {
  return `${arch}:${nr >>> 0 === SKIP_NR ? "-1" : String(nr >>> 0)}`;
}

/** A numbered entry of the IR (already validated by the loader), or undefined for a name. */
export function numberedEntry(entry: string): NumberedEntry | undefined {
  const at = entry.indexOf(":");
  if (at < 0) return undefined;
  const arch = entry.slice(0, at) as Arch;
  const n = entry.slice(at + 1);
  const nr = n === "-1" ? SKIP_NR : Number(n);
  if (!(ARCHES as readonly string[]).includes(arch) || !Number.isInteger(nr) || nr < 0 || nr > SKIP_NR) return undefined;
  return { arch, nr };
}

/** Sort order of a rule's `syscalls`: names first (alphabetical), then numbered entries by arch and number. */
export function compareSyscallEntries(a: string, b: string): number {
  const na = numberedEntry(a);
  const nb = numberedEntry(b);
  if (!na || !nb) return na ? 1 : nb ? -1 : a < b ? -1 : a > b ? 1 : 0;
  return na.arch < nb.arch ? -1 : na.arch > nb.arch ? 1 : na.nr - nb.nr;
}

const namesByNumber = new Map<Arch, ReadonlyMap<number, string>>();
/** The name of the call numbered `nr` on `arch`, or undefined (a gap, a number past the table, -1). */
export function syscallNameAt(arch: Arch, nr: number): string | undefined {
  let m = namesByNumber.get(arch);
  if (!m) {
    m = new Map(Object.entries(syscallTable(arch)).map(([n, v]) => [v, n]));
    namesByNumber.set(arch, m);
  }
  return m.get(nr >>> 0);
}

/** True if the IR has a numbered entry anywhere (rules only). */
export function hasNumberedEntries(ir: IR): boolean {
  return ir.syscalls.rules.some((r) => r.syscalls.some(isNumberedEntry));
}

/** Does `entries` (a rule's `syscalls`) name the call numbered `nr` on `arch`, whose name there is `name`? */
export function entriesName(entries: readonly string[], arch: Arch, nr: number, name: string | undefined): boolean {
  return (name !== undefined && entries.includes(name)) || entries.includes(formatNumberedEntry(arch, nr));
}

/** Every number on `arch` that the policy's rules name (by name or by number), -1 included. */
export function namedNumbers(ir: IR, arch: Arch): ReadonlySet<number> {
  const out = new Set<number>();
  for (const rule of ir.syscalls.rules)
    for (const e of rule.syscalls) {
      const n = numberedEntry(e);
      if (n) {
        if (n.arch === arch) out.add(n.nr);
      } else {
        const nr = syscallNumber(arch, e);
        if (nr !== undefined) out.add(nr);
      }
    }
  return out;
}

/**
 * Which numbers of one arch are newer than the policy, as a threshold and a set: a number is newer when it is
 * not named by any rule, is not -1 (nor an x32 number on x86_64), and either
 * - without `kernel`: it is above the highest number the policy names on the arch (runc's convention; a
 *   policy that names no call on the arch has no newer calls there, as runc skips such an arch), or
 * - with `kernel` X.Y: it is a call of the table that first appeared after X.Y, or a number that is no call of
 *   the table and lies above the newest call sbc knows the release of on that arch (on arm, below the private
 *   calls at 0xf0000; on x32, below the compat calls at 512).
 * Without `kernel`, `from` is the first newer number, call or not; with it, `from` applies to numbers that
 * are no call, and `calls` lists the table's calls that are newer. Undefined when the policy has no `newer`.
 */
export interface NewerCalls {
  readonly from: number;
  /** With `kernel`: the table's calls added after it. Undefined without `kernel`. */
  readonly calls?: ReadonlySet<number>;
  readonly named: ReadonlySet<number>;
}

const newerCache = new WeakMap<IR, Map<Arch, NewerCalls | null>>();

export function newerCalls(ir: IR, arch: Arch): NewerCalls | undefined {
  if (!ir.syscalls.newerAction) return undefined;
  let perArch = newerCache.get(ir);
  if (!perArch) newerCache.set(ir, (perArch = new Map()));
  const hit = perArch.get(arch);
  if (hit !== undefined) return hit ?? undefined;
  const named = namedNumbers(ir, arch);
  let out: NewerCalls | null;
  const kernel = ir.syscalls.kernel;
  if (kernel !== undefined) {
    const table = syscallTable(arch);
    const calls = new Set<number>();
    let newest = -1;
    for (const [name, nr] of Object.entries(table)) {
      if (Object.hasOwn(SYSCALL_FIRST_RELEASE, name)) newest = Math.max(newest, nr);
      if (!named.has(nr) && syscallNewerThan(name, kernel)) calls.add(nr);
    }
    if (newest < 0) newest = Math.max(...Object.values(table));
    out = { from: newest + 1, calls, named };
  } else {
    const real = [...named].filter((n) => n !== SKIP_NR && !(arch === "x86_64" && n >= X32_BIT));
    out = real.length ? { from: Math.max(...real) + 1, named } : null;
  }
  perArch.set(arch, out);
  return out ?? undefined;
}

/** Is `nr` on `arch` a call newer than the policy (so it gets `syscalls.newer`)? */
export function isNewerCall(ir: IR, arch: Arch, nr: number): boolean {
  const n = newerCalls(ir, arch);
  if (!n) return false;
  nr >>>= 0;
  if (nr === SKIP_NR || (arch === "x86_64" && nr >= X32_BIT) || n.named.has(nr)) return false;
  if (n.calls && syscallNameAt(arch, nr) !== undefined) return n.calls.has(nr);
  return nr >= n.from;
}
