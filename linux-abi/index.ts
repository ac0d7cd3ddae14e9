// The only place the compiler learns Linux kernel numbers: syscall numbers per
// arch (generated from data/linux-syscalls.tsv, Linux 7.1), AUDIT_ARCH values,
// uapi constants and errno values (generated from Debian's headers), plus the
// hand-written @group syscall sets built on top of them.

import { CONSTANTS } from "./constants.generated.js";
import { ERRNO, ERRNO_ALIASES } from "./errno.generated.js";
import {
  SYSCALLS_AARCH64,
  SYSCALLS_ARM,
  SYSCALLS_I386,
  SYSCALLS_LOONGARCH64,
  SYSCALLS_PPC64LE,
  SYSCALLS_RISCV64,
  SYSCALLS_S390X,
  SYSCALLS_X32,
  SYSCALLS_X86_64,
} from "./syscalls.generated.js";
import { ARCHES, type Arch } from "./arches.js";

export { SYSCALL_GROUPS, SYSCALL_GROUP_DESCRIPTIONS, UNGROUPED, expandSyscallGroup } from "./syscall-groups.js";

export { ARCHES, ARCH_INFO, X32_SYSCALL_BIT, commonEndianness, isArch, type Arch, type ArchInfo, type Endianness } from "./arches.js";

/** Table numbers, as the kernel's syscall .tbl files list them (x32 without its bit). */
const SYSCALL_TABLES: Readonly<Record<Arch, Readonly<Record<string, number>>>> = {
  x86_64: SYSCALLS_X86_64,
  x32: SYSCALLS_X32,
  i386: SYSCALLS_I386,
  aarch64: SYSCALLS_AARCH64,
  arm: SYSCALLS_ARM,
  riscv64: SYSCALLS_RISCV64,
  ppc64le: SYSCALLS_PPC64LE,
  s390x: SYSCALLS_S390X,
  loongarch64: SYSCALLS_LOONGARCH64,
};

// Plain-object tables would answer "constructor" or "toString" through the
// prototype, so every lookup goes through an own-property check.
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The table number of `name` on `arch` (on x32 without __X32_SYSCALL_BIT), or undefined if that arch lacks it. */
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
