// Which Seatbelt operations each IR access class stands for. This table is the whole of the filesystem
// mapping: the lowering (lower.ts) grants an operation only where every access class that needs it is
// allowed, and the executable model's tests read the same table, so the two cannot drift apart.

import type { Access } from "../../ir/access.js";

/**
 * The Seatbelt file operations a program's access of each class is checked against. Operation names are
 * the ones peers' profiles use (Codex, sandbox-runtime, Nix, Chromium). Notes:
 * - `read` (a file's contents) and `list` (a directory's entries) are both `file-read-data` (and
 *   `file-read-xattr`); the profile tells them apart with `(vnode-type DIRECTORY)`, see ACCESS_VNODE.
 *   `truncate` applies to regular files only, so `file-write-data` elsewhere needs `write` alone.
 * - `file-clone` (clonefile(2), `cp -c`) copies a file's contents without reading it, so it is a read.
 * - `write` covers the file's attributes too (mode, owner, times, flags, xattrs, ACL): Seatbelt checks them
 *   separately and Landlock does not restrict them, so they follow the contents. `file-write-setugid` is
 *   never granted: no access class asks for set-id bits.
 * - `truncate` has no operation of its own: `file-write-data` covers it, so that operation needs both.
 * - `rename` (moving or linking an entry between directories) is, to Seatbelt, an unlink of the old name
 *   and a create of the new one (plus `file-link` for hard links), so those operations need `rename` too.
 * - stat(2) is not an access class (Landlock cannot restrict it): `file-read-metadata` is in the base.
 */
export const FILE_OPERATIONS: Readonly<Record<Access, readonly string[]>> = {
  read: ["file-read-data", "file-read-xattr", "file-clone"],
  list: ["file-read-data", "file-read-xattr"],
  execute: ["process-exec", "file-map-executable"],
  write: ["file-write-data", "file-write-mode", "file-write-owner", "file-write-times", "file-write-flags", "file-write-xattr", "file-write-acl"],
  truncate: ["file-write-data"],
  ioctl: ["file-ioctl"],
  "create-file": ["file-write-create"],
  "create-dir": ["file-write-create"],
  "create-symlink": ["file-write-create"],
  "create-special": ["file-write-create"],
  "delete-file": ["file-write-unlink"],
  "delete-dir": ["file-write-unlink"],
  rename: ["file-write-create", "file-write-unlink", "file-link"],
};

/**
 * The kinds of file Seatbelt's `vnode-type` tells apart that matter here: directories, regular files, and
 * everything else (devices, sockets, FIFOs). An access class applies to the kinds listed (all when absent):
 * `read` to what is not a directory and `list` to directories (both are `file-read-data`), and `truncate`
 * only to regular files, as in Landlock (truncating a device is meaningless), so writing `/dev/null` or a
 * socket needs `write` alone.
 */
export type VnodeClass = "directory" | "regular" | "other";
export const VNODE_CLASSES: readonly VnodeClass[] = ["directory", "regular", "other"];
export const ACCESS_VNODE: Readonly<Partial<Record<Access, readonly VnodeClass[]>>> = {
  read: ["regular", "other"],
  list: ["directory"],
  truncate: ["regular"],
};

/** Every file operation the table uses, in the order the profile lists them. */
export const FILE_OPERATION_ORDER: readonly string[] = [
  "file-read-data",
  "file-read-xattr",
  "file-clone",
  "process-exec",
  "file-map-executable",
  "file-write-data",
  "file-write-mode",
  "file-write-owner",
  "file-write-times",
  "file-write-flags",
  "file-write-xattr",
  "file-write-acl",
  "file-ioctl",
  "file-write-create",
  "file-write-unlink",
  "file-link",
];

/** The access classes an operation stands for on one kind of file: it is granted only where all are allowed. */
export function accessesFor(operation: string, vnode: VnodeClass): Access[] {
  const out: Access[] = [];
  for (const [a, ops] of Object.entries(FILE_OPERATIONS) as [Access, readonly string[]][]) {
    const only = ACCESS_VNODE[a];
    if (ops.includes(operation) && (only === undefined || only.includes(vnode))) out.push(a);
  }
  return out;
}

/** The operations that move an entry away from its path: guarded around read-denied paths. */
export const MOVE_OPERATIONS: readonly string[] = ["file-write-unlink", "file-write-create", "file-link"];

/** Network operations: connect and send, bind, and accept/receive on a bound socket. */
export const NETWORK_OPERATIONS = {
  connect: ["network-outbound"],
  bind: ["network-bind", "network-inbound"],
} as const;
