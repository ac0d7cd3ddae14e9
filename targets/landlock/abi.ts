// Landlock's constants and what each ABI version supports, built up one version at a time (never "all bits").
// Values are the kernel's uapi (include/uapi/linux/landlock.h), as documented in landlock.rst. ABI 8 (Linux
// 7.0, TSYNC), 9 (7.1, RESOLVE_UNIX) and 10 (UDP rights, quiet flags) were checked against the kernel's uapi
// header and landlock.rst ("Starting with the Landlock ABI version 10, it is possible to restrict setting the
// local port of UDP sockets…") and rust-landlock's `uapi: Update to Linux 7.2`; docs/targets/landlock.md
// lists the sources. This kernel runs ABI 7, so what the later ABIs add is model-tested.

export const ACCESS_FS = {
  execute: 1 << 0,
  write_file: 1 << 1,
  read_file: 1 << 2,
  read_dir: 1 << 3,
  remove_dir: 1 << 4,
  remove_file: 1 << 5,
  make_char: 1 << 6,
  make_dir: 1 << 7,
  make_reg: 1 << 8,
  make_sock: 1 << 9,
  make_fifo: 1 << 10,
  make_block: 1 << 11,
  make_sym: 1 << 12,
  refer: 1 << 13,
  truncate: 1 << 14,
  ioctl_dev: 1 << 15,
  /** ABI 9: connecting (and sending) to a pathname unix socket; a file right. */
  resolve_unix: 1 << 16,
} as const;

export type FsRight = keyof typeof ACCESS_FS;

export const ACCESS_NET = { bind_tcp: 1 << 0, connect_tcp: 1 << 1, bind_udp: 1 << 2, connect_send_udp: 1 << 3 } as const;
export type NetRight = keyof typeof ACCESS_NET;

export const SCOPE = { abstract_unix_socket: 1 << 0, signal: 1 << 1 } as const;
export type Scope = keyof typeof SCOPE;

export const RESTRICT_SELF = { log_same_exec_off: 1 << 0, log_new_exec_on: 1 << 1, log_subdomains_off: 1 << 2, tsync: 1 << 3 } as const;

/** ABI 10: `landlock_add_rule` flag that keeps a rule's denials out of the audit log (sbc never sets it). */
export const ADD_RULE_QUIET = 1 << 0;

/** Rights that apply to files; the kernel rejects a rule on a file that carries anything else. */
export const ACCESS_FILE = ACCESS_FS.execute | ACCESS_FS.write_file | ACCESS_FS.read_file | ACCESS_FS.truncate | ACCESS_FS.ioctl_dev | ACCESS_FS.resolve_unix;

/** The newest ABI sbc knows; the default of `--abi` and of every table built without one. */
export const MAX_ABI = 10;
export const ABIS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
export type Abi = (typeof ABIS)[number];

/** What each version adds; the masks of an ABI are the union of everything up to it. */
const ADDED: Readonly<Record<Abi, { fs: number; net: number; scoped: number; restrictFlags: number }>> = {
  1: { fs: (1 << 13) - 1, net: 0, scoped: 0, restrictFlags: 0 },
  2: { fs: ACCESS_FS.refer, net: 0, scoped: 0, restrictFlags: 0 },
  3: { fs: ACCESS_FS.truncate, net: 0, scoped: 0, restrictFlags: 0 },
  4: { fs: 0, net: ACCESS_NET.bind_tcp | ACCESS_NET.connect_tcp, scoped: 0, restrictFlags: 0 },
  5: { fs: ACCESS_FS.ioctl_dev, net: 0, scoped: 0, restrictFlags: 0 },
  6: { fs: 0, net: 0, scoped: SCOPE.abstract_unix_socket | SCOPE.signal, restrictFlags: 0 },
  7: { fs: 0, net: 0, scoped: 0, restrictFlags: RESTRICT_SELF.log_same_exec_off | RESTRICT_SELF.log_new_exec_on | RESTRICT_SELF.log_subdomains_off },
  8: { fs: 0, net: 0, scoped: 0, restrictFlags: RESTRICT_SELF.tsync },
  9: { fs: ACCESS_FS.resolve_unix, net: 0, scoped: 0, restrictFlags: 0 },
  // ABI 10 also adds the quiet flag and the ruleset's quiet_access_* fields, which sbc does not use.
  10: { fs: 0, net: ACCESS_NET.bind_udp | ACCESS_NET.connect_send_udp, scoped: 0, restrictFlags: 0 },
};

export interface AbiMasks {
  readonly fs: number;
  readonly net: number;
  readonly scoped: number;
  readonly restrictFlags: number;
}

export function abiMasks(abi: number): AbiMasks {
  let fs = 0;
  let net = 0;
  let scoped = 0;
  let restrictFlags = 0;
  for (const v of ABIS) {
    if (v > abi) break;
    fs |= ADDED[v].fs;
    net |= ADDED[v].net;
    scoped |= ADDED[v].scoped;
    restrictFlags |= ADDED[v].restrictFlags;
  }
  return { fs, net, scoped, restrictFlags };
}

/** The lowest ABI whose masks hold all of these; 0 when all are 0, MAX_ABI + 1 when none does. */
export function lowestAbiFor(m: Partial<AbiMasks>): number {
  if (!m.fs && !m.net && !m.scoped && !m.restrictFlags) return 0;
  for (const v of ABIS) {
    const a = abiMasks(v);
    if (((m.fs ?? 0) & ~a.fs) === 0 && ((m.net ?? 0) & ~a.net) === 0 && ((m.scoped ?? 0) & ~a.scoped) === 0 && ((m.restrictFlags ?? 0) & ~a.restrictFlags) === 0) return v;
  }
  return MAX_ABI + 1;
}

/** A mask as the table and the loader's plan write it. */
export const hexMask = (n: number): string => "0x" + (n >>> 0).toString(16);

export function fsRightNames(mask: number): FsRight[] {
  return (Object.keys(ACCESS_FS) as FsRight[]).filter((k) => (mask & ACCESS_FS[k]) !== 0);
}
export function netRightNames(mask: number): NetRight[] {
  return (Object.keys(ACCESS_NET) as NetRight[]).filter((k) => (mask & ACCESS_NET[k]) !== 0);
}
export function scopeNames(mask: number): Scope[] {
  return (Object.keys(SCOPE) as Scope[]).filter((k) => (mask & SCOPE[k]) !== 0);
}
