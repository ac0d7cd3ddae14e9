import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import {
  ARCHES,
  ARCH_INFO,
  syscallTable,
  SYSCALL_GROUPS,
  SYSCALL_GROUP_DESCRIPTIONS,
  UNGROUPED,
  constantNames,
  constantValue,
  errnoName,
  errnoNames,
  errnoValue,
  expandSyscallGroup,
  isKnownSyscall,
  knownSyscallNames,
  syscallNumber,
} from "./index.js";
import { CONSTANTS } from "./constants.generated.js";
import { AUDIT_ARCH_64BIT, AUDIT_ARCH_LE, SYSCALLS_AARCH64, SYSCALLS_X86_64 } from "./syscalls.generated.js";
import { readFileSync } from "node:fs";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("syscall numbers", () => {
  it.each([
    ["read", 0],
    ["write", 1],
    ["open", 2],
    ["socket", 41],
    ["ptrace", 101],
    ["umount2", 166],
    ["io_uring_setup", 425],
    ["clone3", 435],
  ])("x86_64 %s = %i", (name, nr) => {
    expect(syscallNumber("x86_64", name)).toBe(nr);
  });

  it.each([
    ["io_setup", 0],
    ["fcntl", 25],
    ["renameat", 38],
    ["statfs", 43],
    ["truncate", 45],
    ["ftruncate", 46],
    ["lseek", 62],
    ["read", 63],
    ["write", 64],
    ["sendfile", 71],
    ["newfstatat", 79],
    ["fstat", 80],
    ["ptrace", 117],
    ["socket", 198],
    ["mmap", 222],
    ["fadvise64", 223],
    ["io_uring_setup", 425],
    ["clone3", 435],
  ])("aarch64 %s = %i", (name, nr) => {
    expect(syscallNumber("aarch64", name)).toBe(nr);
  });

  it("leaves legacy and 32-bit-only entries out of the aarch64 table", () => {
    for (const name of ["open", "fork", "stat", "fcntl64", "mmap2", "llseek", "clock_gettime64", "sync_file_range2"]) {
      expect(syscallNumber("aarch64", name), name).toBeUndefined();
    }
  });

  it("contains no bookkeeping macros", () => {
    for (const table of ARCHES.map(syscallTable)) {
      expect(Object.hasOwn(table, "syscalls")).toBe(false);
      expect(Object.hasOwn(table, "arch_specific_syscall")).toBe(false);
    }
  });

  it("maps each number to at most one name per arch", () => {
    for (const table of [SYSCALLS_X86_64, SYSCALLS_AARCH64, ...ARCHES.map(syscallTable)]) {
      const numbers = Object.values(table);
      expect(new Set(numbers).size).toBe(numbers.length);
    }
  });

  it("answers membership across arches and ignores prototype keys", () => {
    expect(isKnownSyscall("open")).toBe(true); // x86_64 only
    expect(isKnownSyscall("renameat")).toBe(true);
    expect(isKnownSyscall("not_a_syscall")).toBe(false);
    expect(isKnownSyscall("constructor")).toBe(false);
    expect(syscallNumber("x86_64", "toString")).toBeUndefined();
  });

  it("lists the sorted union of names", () => {
    const names = knownSyscallNames();
    expect([...names]).toEqual([...names].sort());
    expect(names).toContain("open");
    expect(names).toContain("renameat");
    expect(new Set(names).size).toBe(names.length);
    expect(ARCHES).toEqual(["x86_64", "x32", "i386", "aarch64", "arm", "riscv64", "ppc64le", "s390x", "loongarch64"]);
  });

  it("has every call of Linux 7.1 named in the issue, on the arches that have it", () => {
    for (const arch of ARCHES) {
      for (const name of ["fchmodat2", "mseal", "listns", "cachestat", "rseq_slice_yield", "statmount", "listmount", "open_tree_attr", "file_getattr"]) {
        expect(syscallNumber(arch, name), `${arch} ${name}`).toBeDefined();
      }
    }
    expect(syscallNumber("x86_64", "uretprobe")).toBe(335);
    expect(syscallNumber("x86_64", "rseq_slice_yield")).toBe(471);
    expect(syscallNumber("i386", "socketcall")).toBe(102);
    expect(syscallNumber("s390x", "socket")).toBe(359);
    expect(syscallNumber("arm", "set_tls")).toBe(0xf0005);
    expect(syscallNumber("x32", "ioctl")).toBe(514);
    expect(syscallNumber("x32", "rt_sigaction")).toBe(512);
  });

  it("holds exactly the TSV's columns for the supported arches (ppc64le reads ppc64)", () => {
    const lines = readFileSync(join(REPO_ROOT, "linux-abi", "data", "linux-syscalls.tsv"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
    const header = lines.shift()!.split("\t");
    for (const arch of ARCHES) {
      const col = header.indexOf(arch === "ppc64le" ? "ppc64" : arch);
      expect(col, arch).toBeGreaterThan(0);
      const want: Record<string, number> = {};
      for (const l of lines) {
        const cells = l.split("\t");
        if (cells[col] !== "-") want[cells[0]!] = Number(cells[col]);
      }
      expect({ ...syscallTable(arch) }, arch).toEqual(want);
    }
  });
});

describe("ARCH_INFO", () => {
  it("agrees with the flag bits of each AUDIT_ARCH value (linux/audit.h)", () => {
    expect(AUDIT_ARCH_64BIT).toBe(0x80000000);
    expect(AUDIT_ARCH_LE).toBe(0x40000000);
    for (const arch of ARCHES) {
      const i = ARCH_INFO[arch];
      expect(i.endianness, arch).toBe(i.auditArch & AUDIT_ARCH_LE ? "little" : "big");
      // A 64-bit arch value means 64-bit argument registers (x32 included); the 32-bit ABIs have 32-bit ones.
      expect(i.registerBits, arch).toBe(i.auditArch & AUDIT_ARCH_64BIT ? 64 : 32);
    }
    expect(ARCH_INFO.x32.auditArch).toBe(ARCH_INFO.x86_64.auditArch);
    expect(ARCH_INFO.x32.nrBase).toBe(0x40000000);
    expect(ARCH_INFO.s390x.endianness).toBe("big");
    expect(ARCH_INFO.i386.auditArch).toBe(0x40000003);
    expect(ARCH_INFO.arm.auditArch).toBe(0x40000028);
    expect(ARCH_INFO.s390x.auditArch).toBe(0x80000016);
    expect(new Set(ARCHES.filter((a) => a !== "x32").map((a) => ARCH_INFO[a].auditArch)).size).toBe(ARCHES.length - 1);
  });
});

describe("constants", () => {
  it.each([
    ["AF_UNIX", 1n],
    ["AF_INET", 2n],
    ["AF_INET6", 10n],
    ["AF_NETLINK", 16n],
    ["CLONE_NEWUSER", 0x10000000n],
    ["CLONE_THREAD", 0x10000n],
    ["CLONE_INTO_CGROUP", 0x200000000n],
    ["PROT_EXEC", 4n],
    ["MAP_SHARED", 1n],
    ["O_CREAT", 0x40n],
    ["O_SYNC", 0x101000n],
    ["O_NDELAY", 0x800n],
    ["F_DUPFD_CLOEXEC", 1030n],
    ["SOCK_STREAM", 1n],
    ["SOCK_CLOEXEC", 0x80000n],
    ["PR_SET_NO_NEW_PRIVS", 38n],
    ["IPPROTO_TCP", 6n],
    ["IPPROTO_MPTCP", 262n],
    ["TIOCSTI", 0x5412n],
    ["TCGETS", 0x5401n],
  ])("%s = %i", (name, value) => {
    expect(constantValue(name)).toBe(value);
  });

  it("excludes flags whose value differs on aarch64", () => {
    for (const name of ["O_DIRECTORY", "O_NOFOLLOW", "O_DIRECT", "O_LARGEFILE", "O_TMPFILE", "MAP_32BIT"]) {
      expect(constantValue(name), name).toBeUndefined();
    }
  });

  it("stores canonical lowercase hex", () => {
    for (const hex of Object.values(CONSTANTS)) expect(hex).toMatch(/^0x(0|[1-9a-f][0-9a-f]*)$/);
    expect(constantValue("__proto__")).toBeUndefined();
    expect(constantNames()).toContain("CLONE_NEWNS");
    expect([...constantNames()]).toEqual([...constantNames()].sort());
  });
});

describe("errno", () => {
  it("has the asm-generic values", () => {
    expect(errnoValue("EPERM")).toBe(1);
    expect(errnoValue("EACCES")).toBe(13);
    expect(errnoValue("ENOSYS")).toBe(38);
    expect(errnoValue("EWOULDBLOCK")).toBe(11);
    expect(errnoValue("EDEADLOCK")).toBe(35);
    expect(errnoValue("hasOwnProperty")).toBeUndefined();
  });

  it("names a value by its canonical name, not an alias", () => {
    expect(errnoName(11)).toBe("EAGAIN");
    expect(errnoName(35)).toBe("EDEADLK");
    expect(errnoName(1)).toBe("EPERM");
    expect(errnoName(0)).toBeUndefined();
  });

  it("round-trips every canonical name", () => {
    for (const name of errnoNames()) {
      const canonical = errnoName(errnoValue(name)!);
      expect(errnoValue(canonical!)).toBe(errnoValue(name));
    }
    expect(errnoNames()).toContain("EWOULDBLOCK");
  });
});

describe("syscall groups", () => {
  const groups = Object.keys(SYSCALL_GROUPS);

  it("names every group with a leading @ and a description", () => {
    expect(groups.length).toBeGreaterThanOrEqual(15);
    for (const g of groups) {
      expect(g).toMatch(/^@[a-z][a-z0-9-]*$/);
      expect(SYSCALL_GROUP_DESCRIPTIONS[g], g).toBeTruthy();
    }
    expect(Object.keys(SYSCALL_GROUP_DESCRIPTIONS).sort()).toEqual([...groups].sort());
  });

  it("uses only syscalls known on some arch", () => {
    for (const g of groups) {
      for (const member of SYSCALL_GROUPS[g]!) {
        if (member.startsWith("@")) expect(groups, `${g} -> ${member}`).toContain(member);
        else expect(isKnownSyscall(member), `${g} -> ${member}`).toBe(true);
      }
    }
  });

  it("expands recursively into sorted, unique syscall names", () => {
    for (const g of groups) {
      const expanded = expandSyscallGroup(g)!;
      expect(expanded.length, g).toBeGreaterThan(0);
      expect(expanded).toEqual([...new Set(expanded)].sort());
      for (const name of expanded) expect(isKnownSyscall(name), `${g} -> ${name}`).toBe(true);
    }
    const privileged = expandSyscallGroup("@privileged")!;
    for (const sub of ["@clock", "@module", "@mount", "@raw-io", "@reboot", "@swap"]) {
      for (const name of expandSyscallGroup(sub)!) expect(privileged, `${sub} -> ${name}`).toContain(name);
    }
    expect(privileged).toContain("chroot");
  });

  it("puts every call of every arch's table in a group or, deliberately, in UNGROUPED — never both", () => {
    const grouped = new Set(groups.flatMap((g) => expandSyscallGroup(g)!));
    const ungrouped = Object.values(UNGROUPED).flatMap((f) => f.calls);
    expect(new Set(ungrouped).size, "a call listed twice in UNGROUPED").toBe(ungrouped.length);
    for (const name of ungrouped) {
      expect(isKnownSyscall(name), `UNGROUPED lists unknown \`${name}\``).toBe(true);
      expect(grouped.has(name), `\`${name}\` is in a group and in UNGROUPED`).toBe(false);
    }
    for (const family of Object.values(UNGROUPED)) expect(family.why.length).toBeGreaterThan(20);
    const decided = new Set([...grouped, ...ungrouped]);
    for (const arch of ARCHES) {
      const missing = Object.keys(syscallTable(arch)).filter((n) => !decided.has(n));
      expect(missing, `${arch}: calls in no group and not in UNGROUPED`).toEqual([]);
    }
  });

  it("puts the calls the 7.1 tables brought where they belong", () => {
    expect(expandSyscallGroup("@mount")).toEqual(expect.arrayContaining(["open_tree_attr", "umount"]));
    expect(expandSyscallGroup("@mount")).not.toContain("statmount"); // read-only, see UNGROUPED.inspect
    expect(expandSyscallGroup("@network-io")).toEqual(expect.arrayContaining(["socketcall", "send", "recv"]));
    expect(expandSyscallGroup("@ipc")).toEqual(expect.arrayContaining(["ipc", "semtimedop_time64"]));
    expect(expandSyscallGroup("@setuid")).toContain("setuid32");
    expect(expandSyscallGroup("@chown")).toContain("chown32");
    expect(expandSyscallGroup("@raw-io")).toEqual(expect.arrayContaining(["pciconfig_read", "s390_pci_mmio_write"]));
    expect(expandSyscallGroup("@cpu-emulation")).toEqual(["modify_ldt", "vm86", "vm86old"]);
  });

  it("keeps clone out of @namespaces", () => {
    expect(expandSyscallGroup("@namespaces")).toEqual(["setns", "unshare"]);
  });

  it("returns undefined for unknown groups", () => {
    expect(expandSyscallGroup("@nope")).toBeUndefined();
    expect(expandSyscallGroup("mount")).toBeUndefined();
    expect(expandSyscallGroup("constructor")).toBeUndefined();
  });
});

describe("generator", () => {
  const hasHeaders = existsSync("/usr/include/asm-generic/unistd.h");
  // In CI the headers are installed by scripts/install-test-deps.sh, so their absence is a failure there.
  const required = Boolean(process.env.CI);
  if (!hasHeaders && !required) {
    console.warn("skipping gen-linux-abi --check: /usr/include/asm-generic/unistd.h not found (apt-get install linux-libc-dev)");
  }

  it.skipIf(!hasHeaders && !required)(
    "reproduces the committed tables byte for byte (--check)",
    () => {
      const result = spawnSync("npx", ["tsx", "scripts/gen-linux-abi.ts", "--check"], {
        cwd: REPO_ROOT,
        encoding: "utf8",
      });
      expect(result.error).toBeUndefined();
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    },
    60_000,
  );
});
