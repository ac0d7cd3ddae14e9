// The only place the compiler learns Linux kernel numbers: syscall numbers per
// arch, uapi constants and errno values, all generated from Debian's headers,
// plus the hand-written @group syscall sets built on top of them.

import { CONSTANTS } from "./constants.generated.js";
import { ERRNO, ERRNO_ALIASES } from "./errno.generated.js";
import { SYSCALLS_AARCH64, SYSCALLS_X86_64 } from "./syscalls.generated.js";

export { SYSCALL_GROUPS, SYSCALL_GROUP_DESCRIPTIONS, expandSyscallGroup } from "./syscall-groups.js";

export type Arch = "x86_64" | "aarch64";

export const ARCHES: readonly Arch[] = Object.freeze(["x86_64", "aarch64"] as const);

const SYSCALL_TABLES: Readonly<Record<Arch, Readonly<Record<string, number>>>> = {
  x86_64: SYSCALLS_X86_64,
  aarch64: SYSCALLS_AARCH64,
};

// Plain-object tables would answer "constructor" or "toString" through the
// prototype, so every lookup goes through an own-property check.
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The syscall number of `name` on `arch`, or undefined if that arch lacks it. */
export function syscallNumber(arch: Arch, name: string): number | undefined {
  const table = SYSCALL_TABLES[arch];
  return table === undefined ? undefined : own(table, name);
}

/** Every syscall of `arch`, name → number. */
export function syscallTable(arch: Arch): Readonly<Record<string, number>> {
  return SYSCALL_TABLES[arch];
}

/** True if `name` is a syscall on at least one supported arch. */
export function isKnownSyscall(name: string): boolean {
  return ARCHES.some((arch) => Object.hasOwn(SYSCALL_TABLES[arch], name));
}

let syscallNamesCache: readonly string[] | undefined;
/** Sorted union of the syscall names of all supported arches. */
export function knownSyscallNames(): readonly string[] {
  syscallNamesCache ??= Object.freeze(
    [...new Set(ARCHES.flatMap((arch) => Object.keys(SYSCALL_TABLES[arch])))].sort(),
  );
  return syscallNamesCache;
}

/** The value of a kernel constant such as "CLONE_NEWUSER", as an unsigned 64-bit integer. */
export function constantValue(name: string): bigint | undefined {
  const hex = own(CONSTANTS, name);
  return hex === undefined ? undefined : BigInt(hex);
}

let constantNamesCache: readonly string[] | undefined;
/** Every known constant name, sorted. */
export function constantNames(): readonly string[] {
  constantNamesCache ??= Object.freeze(Object.keys(CONSTANTS).sort());
  return constantNamesCache;
}

/** The value of an errno name, aliases included (EWOULDBLOCK → 11). */
export function errnoValue(name: string): number | undefined {
  return own(ERRNO, name);
}

let errnoByValue: ReadonlyMap<number, string> | undefined;
/** The canonical name for an errno value (11 → "EAGAIN", never "EWOULDBLOCK"). */
export function errnoName(value: number): string | undefined {
  if (errnoByValue === undefined) {
    const map = new Map<number, string>();
    for (const [name, v] of Object.entries(ERRNO)) {
      if (!Object.hasOwn(ERRNO_ALIASES, name) && !map.has(v)) map.set(v, name);
    }
    errnoByValue = map;
  }
  return errnoByValue.get(value);
}

let errnoNamesCache: readonly string[] | undefined;
/** Every errno name, aliases included, sorted. */
export function errnoNames(): readonly string[] {
  errnoNamesCache ??= Object.freeze(Object.keys(ERRNO).sort());
  return errnoNamesCache;
}
