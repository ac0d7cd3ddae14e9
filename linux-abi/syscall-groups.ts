// Named syscall sets, so a policy can say "@mount" instead of listing every
// mount-API syscall. Written from what each family of syscalls does, not
// copied from systemd. A member may be "@other" to include a whole group.
// A name only has to exist on one of the supported arches (iopl is
// x86-only, for example); unknown names are caught by the tests. Every call
// of every arch's table is in a group or in UNGROUPED below, with a reason:
// the tests fail on a call in neither, so new tables force a decision.

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
    members: [
      "chown",
      "chown32",
      "fchown",
      "fchown32",
      "fchownat",
      "lchown",
      "lchown32",
    ],
  },
  "@clock": {
    description: "Set or slew the system clocks.",
    members: [
      "adjtimex",
      "clock_adjtime",
      "clock_adjtime64",
      "clock_settime",
      "clock_settime64",
      "settimeofday",
      "stime",
    ],
  },
  "@cpu-emulation": {
    // vm86/vm86old exist only on i386.
    description: "Legacy x86 segment and real-mode emulation hooks.",
    members: [
      "modify_ldt",
      "vm86",
      "vm86old",
    ],
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
      "ipc",
      "mq_getsetattr",
      "mq_notify",
      "mq_open",
      "mq_timedreceive",
      "mq_timedreceive_time64",
      "mq_timedsend",
      "mq_timedsend_time64",
      "mq_unlink",
      "msgctl",
      "msgget",
      "msgrcv",
      "msgsnd",
      "semctl",
      "semget",
      "semop",
      "semtimedop",
      "semtimedop_time64",
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
    // Plain umount is a 32-bit-era call (i386, arm, ppc64le, s390x). statmount and listmount only read the
    // mount tree and are in UNGROUPED.
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
      "open_tree_attr",
      "pivot_root",
      "umount",
      "umount2",
    ],
  },
  "@namespaces": {
    // clone/clone3 also create namespaces via flags; that is an argument filter, not a syscall ban.
    description: "Create or enter namespaces.",
    members: [
      "setns",
      "unshare",
    ],
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
      "recv",
      "recvfrom",
      "recvmmsg",
      "recvmmsg_time64",
      "recvmsg",
      "send",
      "sendmmsg",
      "sendmsg",
      "sendto",
      "setsockopt",
      "shutdown",
      "socket",
      "socketcall",
      "socketpair",
    ],
  },
  "@obsolete": {
    description: "Syscalls that are unimplemented or long deprecated in current kernels.",
    members: [
      "_sysctl",
      "afs_syscall",
      "bdflush",
      "break",
      "create_module",
      "ftime",
      "get_kernel_syms",
      "getpmsg",
      "gtty",
      "idle",
      "lock",
      "mpx",
      "multiplexer",
      "nfsservctl",
      "prof",
      "profil",
      "putpmsg",
      "query_module",
      "security",
      "sgetmask",
      "ssetmask",
      "stty",
      "sysfs",
      "tuxcall",
      "ulimit",
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
      "rtas",
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
      "waitpid",
    ],
  },
  "@raw-io": {
    // ioperm/iopl on x86; pciconfig_* on arm and ppc64le; s390_pci_mmio_* on s390x.
    description: "Direct access to I/O ports, PCI configuration space and device memory.",
    members: [
      "ioperm",
      "iopl",
      "pciconfig_iobase",
      "pciconfig_read",
      "pciconfig_write",
      "s390_pci_mmio_read",
      "s390_pci_mmio_write",
    ],
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
      "nice",
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
    members: [
      "setfsgid",
      "setfsgid32",
      "setfsuid",
      "setfsuid32",
      "setgid",
      "setgid32",
      "setgroups",
      "setgroups32",
      "setregid",
      "setregid32",
      "setresgid",
      "setresgid32",
      "setresuid",
      "setresuid32",
      "setreuid",
      "setreuid32",
      "setuid",
      "setuid32",
    ],
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

/**
 * Calls deliberately in no group, by family, each with the reason: everyday operations whose limits belong to
 * other parts of the policy (filesystem rules for files, for example), the caller acting on itself, and
 * 32-bit and arch-specific variants of those. A call of any table must be in a group or here (tested).
 */
export const UNGROUPED: Readonly<Record<string, { readonly why: string; readonly calls: readonly string[] }>> = Object.freeze({
  files: {
    why: "Files and directories through descriptors and paths: what every program does, which the filesystem rules (Landlock) decide, not the syscall filter.",
    calls: [
      "access", "cachestat", "chdir", "chmod", "close", "close_range", "copy_file_range", "dup", "dup3",
      "faccessat", "faccessat2", "fadvise64", "fallocate", "fanotify_init", "fanotify_mark", "fchdir",
      "fchmod", "fchmodat", "fchmodat2", "fcntl", "fdatasync", "fgetxattr", "file_getattr", "file_setattr",
      "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstatfs", "fsync", "ftruncate", "getcwd",
      "getdents64", "getxattr", "getxattrat", "inotify_add_watch", "inotify_init1", "inotify_rm_watch",
      "ioctl", "lgetxattr", "link", "linkat", "listxattr", "listxattrat", "llistxattr", "lremovexattr",
      "lseek", "lsetxattr", "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at", "newfstatat", "open",
      "openat", "openat2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read",
      "readahead", "readlink", "readlinkat", "readv", "removexattr", "removexattrat", "rename", "renameat",
      "renameat2", "rmdir", "sendfile", "setxattr", "setxattrat", "splice", "statfs", "statx", "symlink",
      "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate", "umask", "unlink", "unlinkat",
      "utimensat", "vmsplice", "write", "writev"
    ],
  },
  events: {
    why: "Waiting and notification: polling, epoll, eventfd, signalfd, pipes, futexes and asynchronous I/O.",
    calls: [
      "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "eventfd2", "futex", "futex_requeue",
      "futex_wait", "futex_waitv", "futex_wake", "get_robust_list", "io_cancel", "io_destroy", "io_getevents",
      "io_pgetevents", "io_setup", "io_submit", "pipe2", "ppoll", "pselect6", "rseq", "rseq_slice_yield",
      "set_robust_list", "signalfd4"
    ],
  },
  memory: {
    why: "The caller's own memory: mapping, protecting, locking, advising, NUMA queries.",
    calls: [
      "brk", "get_mempolicy", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock",
      "mlock2", "mlockall", "mmap", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
      "pkey_alloc", "pkey_free", "pkey_mprotect", "process_madvise", "process_mrelease", "remap_file_pages",
      "userfaultfd"
    ],
  },
  signals: {
    why: "Signals and the caller's signal state.",
    calls: [
      "restart_syscall", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend",
      "rt_sigtimedwait", "sigaltstack"
    ],
  },
  time: {
    why: "Reading clocks, sleeping and the caller's timers.",
    calls: [
      "clock_getres", "clock_gettime", "clock_nanosleep", "getitimer", "gettimeofday", "nanosleep",
      "setitimer", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime",
      "timerfd_create", "timerfd_gettime", "timerfd_settime", "times"
    ],
  },
  self: {
    why: "The caller's own identity, limits and scheduling, read or changed within what it already has.",
    calls: [
      "getcpu", "getegid", "geteuid", "getgid", "getgroups", "getpgid", "getpid", "getppid", "getpriority",
      "getrandom", "getresgid", "getresuid", "getrlimit", "getrusage", "getsid", "gettid", "getuid",
      "ioprio_get", "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity", "sched_getattr",
      "sched_getparam", "sched_getscheduler", "sched_rr_get_interval", "sched_yield", "set_tid_address",
      "setpgid", "setsid", "sysinfo"
    ],
  },
  security: {
    why: "The process restricting itself or reading its own security state: denying them only stops a program from sandboxing itself.",
    calls: [
      "capget", "capset", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
      "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "map_shadow_stack", "mseal",
      "personality", "prctl", "seccomp"
    ],
  },
  legacy: {
    why: "Older forms of everyday calls that some ABIs keep beside the newer ones (stat and uname layouts, signal calls before rt_*, select, readdir, pipe, fork).",
    calls: [
      "alarm", "creat", "dup2", "epoll_create", "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "eventfd",
      "fstat", "futimesat", "getdents", "getpgrp", "inotify_init", "lstat", "oldfstat", "oldlstat",
      "oldolduname", "oldstat", "olduname", "pause", "pipe", "poll", "readdir", "select", "sigaction",
      "signal", "signalfd", "sigpending", "sigprocmask", "sigreturn", "sigsuspend", "stat", "time", "timerfd",
      "uname", "utime", "utimes"
    ],
  },
  time64: {
    why: "32-bit ABIs' 64-bit-time and large-file variants of everyday calls (the call without the suffix decides where it belongs).",
    calls: [
      "_llseek", "_newselect", "clock_getres_time64", "clock_gettime64", "clock_nanosleep_time64",
      "fadvise64_64", "fcntl64", "fstat64", "fstatat64", "fstatfs64", "ftruncate64", "futex_time64",
      "getegid32", "geteuid32", "getgid32", "getgroups32", "getresgid32", "getresuid32", "getuid32",
      "io_pgetevents_time64", "lstat64", "mmap2", "ppoll_time64", "pselect6_time64", "rt_sigtimedwait_time64",
      "sched_rr_get_interval_time64", "sendfile64", "stat64", "statfs64", "timer_gettime64",
      "timer_settime64", "timerfd_gettime64", "timerfd_settime64", "truncate64", "ugetrlimit",
      "utimensat_time64"
    ],
  },
  arch: {
    why: "Architecture-specific calls a program's runtime or libc makes for itself (TLS, cache flushes, hardware probes, x32/ppc/s390 helpers).",
    calls: [
      "arch_prctl", "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "get_thread_area",
      "get_tls", "riscv_flush_icache", "riscv_hwprobe", "s390_guarded_storage", "s390_runtime_instr",
      "s390_sthyi", "set_thread_area", "set_tls", "spu_create", "spu_run", "subpage_prot", "swapcontext",
      "switch_endian", "sync_file_range2", "sys_debug_setcontext", "usr26", "usr32"
    ],
  },
  inspect: {
    why: "Read-only views of what /proc/self/mountinfo and /proc/*/ns already show the caller (its mount tree, the namespaces it can see): a group denying them would break tools such as findmnt and lsns and hide nothing.",
    calls: [
      "listmount", "listns", "statmount"
    ],
  },
  uprobe: {
    why: "Called by the kernel's uprobe trampolines inside the process, never by programs; recent kernels (6.14 for uretprobe) let them through seccomp unfiltered.",
    calls: [
      "uprobe", "uretprobe"
    ],
  },
  other: {
    why: "Reading the kernel log: CAP_SYSLOG or `kernel.dmesg_restrict = 0` decides, not the filter.",
    calls: [
      "syslog"
    ],
  },
});
