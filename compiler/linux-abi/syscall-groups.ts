// Named syscall sets, so a policy can say "@mount" instead of listing every
// mount-API syscall. Written from what each family of syscalls does, not
// copied from systemd. A member may be "@other" to include a whole group.
// A name only has to exist on one of the supported arches (iopl is
// x86_64-only, for example); unknown names are caught by the tests.

interface GroupDefinition {
  readonly description: string;
  readonly members: readonly string[];
}

const DEFINITIONS: Readonly<Record<string, GroupDefinition>> = {
  "@bpf": {
    description: "Load and manage eBPF programs and maps.",
    members: ["bpf"],
  },
  "@chown": {
    description: "Change the owner or group of files.",
    members: ["chown", "fchown", "fchownat", "lchown"],
  },
  "@clock": {
    description: "Set or slew the system clocks.",
    members: ["adjtimex", "clock_adjtime", "clock_settime", "settimeofday"],
  },
  "@cpu-emulation": {
    // vm86/vm86old exist only on 32-bit x86, which sbc does not target.
    description: "Legacy x86 segment and real-mode emulation hooks.",
    members: ["modify_ldt"],
  },
  "@debug": {
    description: "Inspect or manipulate other processes and kernel tracing facilities.",
    members: ["kcmp", "lookup_dcookie", "perf_event_open", "pidfd_getfd", "process_vm_readv", "process_vm_writev", "ptrace"],
  },
  "@io-uring": {
    description: "The io_uring asynchronous I/O interface (a large kernel attack surface).",
    members: ["io_uring_enter", "io_uring_register", "io_uring_setup"],
  },
  "@ipc": {
    description: "System V and POSIX message queues, semaphores and shared memory.",
    members: [
      "mq_getsetattr",
      "mq_notify",
      "mq_open",
      "mq_timedreceive",
      "mq_timedsend",
      "mq_unlink",
      "msgctl",
      "msgget",
      "msgrcv",
      "msgsnd",
      "semctl",
      "semget",
      "semop",
      "semtimedop",
      "shmat",
      "shmctl",
      "shmdt",
      "shmget",
    ],
  },
  "@keyring": {
    description: "The kernel key retention service.",
    members: ["add_key", "keyctl", "request_key"],
  },
  "@module": {
    description: "Load and unload kernel modules.",
    members: ["delete_module", "finit_module", "init_module"],
  },
  "@mount": {
    // Only umount2 exists on x86_64 and aarch64; plain umount is a 32-bit-era call.
    description: "Mount, unmount and reshape the mount tree.",
    members: [
      "fsconfig",
      "fsmount",
      "fsopen",
      "fspick",
      "mount",
      "mount_setattr",
      "move_mount",
      "open_tree",
      "pivot_root",
      "umount2",
    ],
  },
  "@namespaces": {
    // clone/clone3 also create namespaces via flags; that is an argument filter, not a syscall ban.
    description: "Create or enter namespaces.",
    members: ["setns", "unshare"],
  },
  "@network-io": {
    description: "Create, connect and use sockets.",
    members: [
      "accept",
      "accept4",
      "bind",
      "connect",
      "getpeername",
      "getsockname",
      "getsockopt",
      "listen",
      "recvfrom",
      "recvmmsg",
      "recvmsg",
      "sendmmsg",
      "sendmsg",
      "sendto",
      "setsockopt",
      "shutdown",
      "socket",
      "socketpair",
    ],
  },
  "@obsolete": {
    description: "Syscalls that are unimplemented or long deprecated in current kernels.",
    members: [
      "_sysctl",
      "afs_syscall",
      "create_module",
      "get_kernel_syms",
      "getpmsg",
      "nfsservctl",
      "putpmsg",
      "query_module",
      "security",
      "sysfs",
      "tuxcall",
      "uselib",
      "ustat",
      "vserver",
    ],
  },
  "@privileged": {
    description: "Administrative operations that need a capability such as CAP_SYS_ADMIN, CAP_SYS_TIME or CAP_SYS_BOOT.",
    members: [
      "@clock",
      "@module",
      "@mount",
      "@raw-io",
      "@reboot",
      "@swap",
      "acct",
      "chroot",
      "nfsservctl",
      "open_by_handle_at",
      "quotactl",
      "quotactl_fd",
      "setdomainname",
      "sethostname",
      "vhangup",
    ],
  },
  "@process": {
    description: "Create, replace, wait for and signal processes and threads.",
    members: [
      "clone",
      "clone3",
      "execve",
      "execveat",
      "exit",
      "exit_group",
      "fork",
      "kill",
      "pidfd_open",
      "pidfd_send_signal",
      "rt_sigqueueinfo",
      "rt_tgsigqueueinfo",
      "tgkill",
      "tkill",
      "vfork",
      "wait4",
      "waitid",
    ],
  },
  "@raw-io": {
    // pciconfig_* exist only on alpha, powerpc and sparc, which sbc does not target.
    description: "Direct access to I/O ports.",
    members: ["ioperm", "iopl"],
  },
  "@reboot": {
    description: "Reboot the machine or load a new kernel to boot into.",
    members: ["kexec_file_load", "kexec_load", "reboot"],
  },
  "@resources": {
    description: "Change scheduling, resource limits, I/O priority or NUMA memory placement.",
    members: [
      "ioprio_set",
      "mbind",
      "migrate_pages",
      "move_pages",
      "prlimit64",
      "sched_setaffinity",
      "sched_setattr",
      "sched_setparam",
      "sched_setscheduler",
      "set_mempolicy",
      "set_mempolicy_home_node",
      "setpriority",
      "setrlimit",
    ],
  },
  "@setuid": {
    description: "Change user and group credentials.",
    members: ["setfsgid", "setfsuid", "setgid", "setgroups", "setregid", "setresgid", "setresuid", "setreuid", "setuid"],
  },
  "@swap": {
    description: "Enable or disable swap areas.",
    members: ["swapoff", "swapon"],
  },
};

function freezeRecord<T>(entries: [string, T][]): Readonly<Record<string, T>> {
  return Object.freeze(Object.fromEntries(entries));
}

/** Group name (with its leading "@") → members, which may name other groups. */
export const SYSCALL_GROUPS: Readonly<Record<string, readonly string[]>> = freezeRecord(
  Object.entries(DEFINITIONS).map(([name, d]) => [name, Object.freeze([...d.members])]),
);

/** Group name → one-line meaning, for help text and diagnostics. */
export const SYSCALL_GROUP_DESCRIPTIONS: Readonly<Record<string, string>> = freezeRecord(
  Object.entries(DEFINITIONS).map(([name, d]) => [name, d.description]),
);

/**
 * The syscalls a group stands for, with nested groups expanded, sorted and
 * de-duplicated; undefined if `name` is not a group. Throws on a reference to
 * an unknown group or a cycle, since either is a bug in this file.
 */
export function expandSyscallGroup(name: string): string[] | undefined {
  if (!Object.hasOwn(SYSCALL_GROUPS, name)) return undefined;
  const out = new Set<string>();
  const visit = (group: string, path: readonly string[]): void => {
    if (path.includes(group)) throw new Error(`syscall group cycle: ${[...path, group].join(" -> ")}`);
    if (!Object.hasOwn(SYSCALL_GROUPS, group)) throw new Error(`syscall group ${path.at(-1)} references unknown group ${group}`);
    for (const member of SYSCALL_GROUPS[group]!) {
      if (member.startsWith("@")) visit(member, [...path, group]);
      else out.add(member);
    }
  };
  visit(name, []);
  return [...out].sort();
}
