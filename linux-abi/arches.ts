// The architectures sbc compiles seccomp filters for, and what the filter must know about each: the
// AUDIT_ARCH value the kernel puts in `seccomp_data.arch` (generated from linux/audit.h and linux/elf-em.h),
// the width of a syscall argument register, and the byte order in which `seccomp_data` is laid out.

import { AUDIT_ARCH_VALUES } from "./syscalls.generated.js";

export type Arch = "x86_64" | "x32" | "i386" | "aarch64" | "arm" | "riscv64" | "ppc64le" | "s390x" | "loongarch64";

/** Every supported arch, in the order docs and goldens list them. */
export const ARCHES: readonly Arch[] = Object.freeze(["x86_64", "x32", "i386", "aarch64", "arm", "riscv64", "ppc64le", "s390x", "loongarch64"] as const);

export type Endianness = "little" | "big";

export interface ArchInfo {
  /** `seccomp_data.arch` for this ABI. x32 shares AUDIT_ARCH_X86_64 and is told apart by bit 30 of the number. */
  readonly auditArch: number;
  /**
   * Bits of a syscall argument register as the kernel reads it: 32 on i386 and arm (each argument is one
   * 32-bit register, held in a u64 slot of `seccomp_data.args` whose high half the kernel never reads), 64
   * elsewhere, x32 included (its calls pass whole 64-bit registers).
   */
  readonly registerBits: 32 | 64;
  /** Byte order of `seccomp_data` (native-endian) and of the `struct sock_filter` the kernel reads. */
  readonly endianness: Endianness;
  /** Added to the table numbers at run time: `__X32_SYSCALL_BIT` on x32, 0 elsewhere. */
  readonly nrBase: number;
  /** The libseccomp / OCI name (`SCMP_ARCH_*`). */
  readonly scmpName: string;
  /** The name Docker profiles use for this ABI in `includes.arches` / `excludes.arches` (`amd64`, `x86`, `arm64` …). */
  readonly profileArch: string;
}

/** `__X32_SYSCALL_BIT` (arch/x86/include/uapi/asm/unistd.h): set in the number of every x32 call. */
export const X32_SYSCALL_BIT = 0x40000000;

export const ARCH_INFO: Readonly<Record<Arch, ArchInfo>> = Object.freeze({
  x86_64: { auditArch: AUDIT_ARCH_VALUES.x86_64, registerBits: 64, endianness: "little", nrBase: 0, scmpName: "SCMP_ARCH_X86_64", profileArch: "amd64" },
  x32: { auditArch: AUDIT_ARCH_VALUES.x32, registerBits: 64, endianness: "little", nrBase: X32_SYSCALL_BIT, scmpName: "SCMP_ARCH_X32", profileArch: "x32" },
  i386: { auditArch: AUDIT_ARCH_VALUES.i386, registerBits: 32, endianness: "little", nrBase: 0, scmpName: "SCMP_ARCH_X86", profileArch: "x86" },
  aarch64: { auditArch: AUDIT_ARCH_VALUES.aarch64, registerBits: 64, endianness: "little", nrBase: 0, scmpName: "SCMP_ARCH_AARCH64", profileArch: "arm64" },
  arm: { auditArch: AUDIT_ARCH_VALUES.arm, registerBits: 32, endianness: "little", nrBase: 0, scmpName: "SCMP_ARCH_ARM", profileArch: "arm" },
  riscv64: { auditArch: AUDIT_ARCH_VALUES.riscv64, registerBits: 64, endianness: "little", nrBase: 0, scmpName: "SCMP_ARCH_RISCV64", profileArch: "riscv64" },
  ppc64le: { auditArch: AUDIT_ARCH_VALUES.ppc64le, registerBits: 64, endianness: "little", nrBase: 0, scmpName: "SCMP_ARCH_PPC64LE", profileArch: "ppc64le" },
  s390x: { auditArch: AUDIT_ARCH_VALUES.s390x, registerBits: 64, endianness: "big", nrBase: 0, scmpName: "SCMP_ARCH_S390X", profileArch: "s390x" },
  loongarch64: { auditArch: AUDIT_ARCH_VALUES.loongarch64, registerBits: 64, endianness: "little", nrBase: 0, scmpName: "SCMP_ARCH_LOONGARCH64", profileArch: "loong64" },
});

export function isArch(name: string): name is Arch {
  return (ARCHES as readonly string[]).includes(name);
}

/** The byte order shared by `arches`, or undefined when they mix (no kernel can load such a filter). */
export function commonEndianness(arches: readonly Arch[]): Endianness | undefined {
  const set = new Set(arches.map((a) => ARCH_INFO[a].endianness));
  return set.size === 1 ? [...set][0] : undefined;
}
