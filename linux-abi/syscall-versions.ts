// The Linux release each syscall first appeared in, for the calls that `--kernel X.Y` / `syscalls.kernel`
// can leave out: every call numbered 424 or above (the numbers all architectures have shared since Linux
// 5.1) and x86_64's uprobe pair. A call missing from this table counts as present in every kernel sbc
// accepts (5.0 and later), which holds on x86_64 and aarch64: their last calls below 424 (rseq,
// io_pgetevents) came with Linux 4.18. Facts, not code; docs/language.md §10 says how they are used.
//
// Provenance (checked 2026-12-06):
// - 5.1–5.14: the Kernel column of man-pages syscalls(2), man/man2/syscalls.2 at man-pages commit
//   73ec1f03be502afc79db4c8f5eb18a045b0e8f48 ("available as at Linux 5.14").
// - process_mrelease 5.15, futex_waitv 5.16, set_mempolicy_home_node 5.17, cachestat 6.5, fchmodat2 and
//   map_shadow_stack 6.6, futex_wake/futex_wait/futex_requeue 6.7, statmount, listmount and lsm_* 6.8,
//   mseal 6.10, uretprobe 6.11, *xattrat 6.13, open_tree_attr 6.15, file_getattr/file_setattr 6.17,
//   uprobe 6.18, listns 6.19, rseq_slice_yield 7.0 (kernel commit 99d2592023e5, "rseq: Implement
//   sys_rseq_slice_yield()"): the mainline release whose merge window added the entry to
//   arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h (the man-pages
//   HISTORY sections say the same where a page exists: cachestat(2), futex_waitv(2), mseal(2),
//   statmount(2), listmount(2)).
// The same release holds on every arch that has the call (they were wired up together, as the shared
// numbers show); an arch without the call has no entry in its table, so the question does not arise.

/** Name → "X.Y", the first mainline release with the call. */
export const SYSCALL_FIRST_RELEASE: Readonly<Record<string, string>> = Object.freeze({
  pidfd_send_signal: "5.1",
  io_uring_setup: "5.1",
  io_uring_enter: "5.1",
  io_uring_register: "5.1",
  open_tree: "5.2",
  move_mount: "5.2",
  fsopen: "5.2",
  fsconfig: "5.2",
  fsmount: "5.2",
  fspick: "5.2",
  pidfd_open: "5.3",
  clone3: "5.3",
  close_range: "5.9",
  openat2: "5.6",
  pidfd_getfd: "5.6",
  faccessat2: "5.8",
  process_madvise: "5.10",
  epoll_pwait2: "5.11",
  mount_setattr: "5.12",
  quotactl_fd: "5.14",
  landlock_create_ruleset: "5.13",
  landlock_add_rule: "5.13",
  landlock_restrict_self: "5.13",
  memfd_secret: "5.14",
  process_mrelease: "5.15",
  futex_waitv: "5.16",
  set_mempolicy_home_node: "5.17",
  cachestat: "6.5",
  fchmodat2: "6.6",
  map_shadow_stack: "6.6",
  futex_wake: "6.7",
  futex_wait: "6.7",
  futex_requeue: "6.7",
  statmount: "6.8",
  listmount: "6.8",
  lsm_get_self_attr: "6.8",
  lsm_set_self_attr: "6.8",
  lsm_list_modules: "6.8",
  mseal: "6.10",
  setxattrat: "6.13",
  getxattrat: "6.13",
  listxattrat: "6.13",
  removexattrat: "6.13",
  open_tree_attr: "6.15",
  file_getattr: "6.17",
  file_setattr: "6.17",
  listns: "6.19",
  rseq_slice_yield: "7.0",
  uretprobe: "6.11",
  uprobe: "6.18",
});

/** The oldest `--kernel` accepted: the table above starts with the calls of 5.1. */
export const OLDEST_KERNEL = "5.0";

/** "X.Y" as [X, Y], or undefined when it is not two dot-separated decimal numbers. */
export function parseKernelVersion(s: string): readonly [number, number] | undefined {
  const m = /^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})$/.exec(s);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Why `s` is not a kernel version sbc accepts (`X.Y`, 5.0 or later), or undefined when it is one. */
export function checkKernelVersion(s: string): { message: string; help: string } | undefined {
  if (!parseKernelVersion(s)) return { message: `\`${s}\` is not a kernel version`, help: "write the release as `X.Y`, e.g. `6.1`" };
  if (compareKernelVersions(s, OLDEST_KERNEL) < 0)
    return {
      message: `kernel \`${s}\` is older than ${OLDEST_KERNEL}`,
      help: `sbc knows when each call appeared from Linux 5.1 on; \`${OLDEST_KERNEL}\` counts every older call as present`,
    };
  return undefined;
}

/** Negative when a is older than b, 0 when equal, positive when newer. Both must parse. */
export function compareKernelVersions(a: string, b: string): number {
  const [a1, a2] = parseKernelVersion(a)!;
  const [b1, b2] = parseKernelVersion(b)!;
  return a1 - b1 || a2 - b2;
}

/** True if the call `name` first appeared after `kernel` ("X.Y"). */
export function syscallNewerThan(name: string, kernel: string): boolean {
  const first = Object.hasOwn(SYSCALL_FIRST_RELEASE, name) ? SYSCALL_FIRST_RELEASE[name] : undefined;
  return first !== undefined && compareKernelVersions(first, kernel) > 0;
}
