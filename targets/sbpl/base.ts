// The minimal base every sbc profile starts with after `(deny default)`: what ordinary tools (a shell, git,
// node, python) need from macOS that is not a file the policy talks about. Every allowance carries its
// reason, printed as a `;` comment in the profile and listed in docs/targets/sbpl.md. Nothing here reaches
// outside the sandbox: signals and process information stop at `(target same-sandbox)`, and no file that
// holds data is granted (the devices below hold none).

import type { Access } from "../../ir/access.js";

export interface BaseRule {
  readonly text: string;
  readonly reason: string;
}

/** Process, IPC and system-information allowances, in profile order. */
export const BASE_RULES: readonly BaseRule[] = [
  { text: "(allow process-fork)", reason: "shells and build tools start child processes; children inherit this sandbox" },
  { text: "(allow signal (target same-sandbox))", reason: "job control and kill(1) for processes inside the sandbox, none outside it" },
  { text: "(allow process-info* (target same-sandbox))", reason: "process information (pid, rusage, path) about processes inside the sandbox only" },
  {
    text: "(allow file-read-metadata file-test-existence)",
    reason: "stat(2) and access(2): sbc never restricts them (Landlock cannot either); realpath, getcwd and every path lookup need them on each ancestor",
  },
  {
    text: [
      "(allow sysctl-read",
      '  (sysctl-name-prefix "hw.")',
      '  (sysctl-name-prefix "machdep.cpu.")',
      '  (sysctl-name "kern.argmax")',
      '  (sysctl-name "kern.boottime")',
      '  (sysctl-name "kern.hostname")',
      '  (sysctl-name "kern.maxfilesperproc")',
      '  (sysctl-name "kern.ngroups")',
      '  (sysctl-name "kern.osproductversion")',
      '  (sysctl-name "kern.osrelease")',
      '  (sysctl-name "kern.ostype")',
      '  (sysctl-name "kern.osversion")',
      '  (sysctl-name "kern.osvariant_status")',
      '  (sysctl-name "kern.secure_kernel")',
      '  (sysctl-name "kern.usrstack64")',
      '  (sysctl-name "kern.version")',
      '  (sysctl-name "sysctl.proc_translated")',
      '  (sysctl-name "vm.loadavg"))',
    ].join("\n"),
    reason:
      "read-only system facts: CPU count and features (node, python, make -j), memory and page size, OS name and version (uname), argument limits (xargs, shells), Rosetta detection, load average",
  },
  {
    text: '(allow mach-lookup (global-name "com.apple.system.opendirectoryd.libinfo"))',
    reason: "user and group names (getpwuid, getgrgid): id, ls -l, git, python's pwd module",
  },
  {
    text: '(allow mach-lookup (global-name "com.apple.system.notification_center"))',
    reason: "libc's notify(3) for time-zone and configuration changes",
  },
  { text: "(allow ipc-posix-sem)", reason: "POSIX semaphores: python's multiprocessing locks" },
  { text: "(allow pseudo-tty)", reason: "opening a pseudo-terminal (script, expect, node-pty, interactive test runners)" },
];

/** A device file every profile may use: it holds no data, and tools fail without it. */
export interface BaseDevice {
  /** The canonical path, or a regex for a family of devices. */
  readonly path: string;
  readonly match: "literal" | "subpath" | "regex";
  /** The policy accesses it stands for, so a policy that denies one of them explicitly keeps it denied. */
  readonly accesses: readonly Access[];
  /** A path that the policy check asks about (for a regex or a subtree: one member). */
  readonly sample: string;
  readonly reason: string;
}

export const BASE_DEVICES: readonly BaseDevice[] = [
  { path: "/dev/null", match: "literal", accesses: ["read", "write"], sample: "/dev/null", reason: "discarding output and reading nothing" },
  { path: "/dev/zero", match: "literal", accesses: ["read"], sample: "/dev/zero", reason: "zero bytes (dd, mmap tricks)" },
  { path: "/dev/random", match: "literal", accesses: ["read"], sample: "/dev/random", reason: "randomness (ssh-keygen, openssl)" },
  { path: "/dev/urandom", match: "literal", accesses: ["read"], sample: "/dev/urandom", reason: "randomness (python's os.urandom fallback, node, openssl)" },
  { path: "/dev/tty", match: "literal", accesses: ["read", "write", "ioctl"], sample: "/dev/tty", reason: "the controlling terminal: prompts (ssh, git credential), terminal size" },
  { path: "/dev/ptmx", match: "literal", accesses: ["read", "write", "ioctl"], sample: "/dev/ptmx", reason: "the pseudo-terminal multiplexer: allocating a pty" },
  { path: "^/dev/ttys[0-9]+$", match: "regex", accesses: ["read", "write", "ioctl"], sample: "/dev/ttys000", reason: "pseudo-terminal devices: the terminal the command runs in" },
  { path: "/dev/fd", match: "subpath", accesses: ["read", "write"], sample: "/dev/fd/0", reason: "the process's own descriptors: bash process substitution <(…), /dev/stdin" },
  { path: "/dev/dtracehelper", match: "literal", accesses: ["read", "write", "ioctl"], sample: "/dev/dtracehelper", reason: "dyld registers a program's DTrace probes through it at startup" },
];

/** The Seatbelt file operation a device access is checked as. */
export const DEVICE_OPERATIONS: Readonly<Partial<Record<Access, string>>> = { read: "file-read-data", write: "file-write-data", ioctl: "file-ioctl" };

/** What name resolution and TLS need once the policy lets the command reach remote hosts. */
export const REMOTE_NETWORK_RULES: readonly BaseRule[] = [
  {
    text: '(allow network-outbound (remote unix-socket (path-literal "/private/var/run/mDNSResponder")))',
    reason: "name resolution: getaddrinfo asks mDNSResponder over this socket",
  },
  {
    text: [
      "(allow mach-lookup",
      '  (global-name "com.apple.SystemConfiguration.DNSConfiguration")',
      '  (global-name "com.apple.SystemConfiguration.configd")',
      '  (global-name "com.apple.trustd.agent"))',
    ].join("\n"),
    reason: "resolver and proxy configuration, and certificate trust evaluation for TLS (curl, git over https)",
  },
];
