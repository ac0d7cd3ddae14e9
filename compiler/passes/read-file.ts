// Reading an input file (a policy, a file it extends, a profile to import) without trusting what the path
// names: it is opened without blocking and checked with fstat before a byte is read, so a FIFO never hangs,
// `/dev/zero` is not read forever, a directory is called one, and a file over the size limit is refused.

import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";

/**
 * The largest input sbc reads: 512 KiB. Real policies are a few KB (Docker's seccomp profile, ~400 syscalls,
 * is 25 KB as JSON); the limit keeps a hostile or mistaken input from costing seconds of parsing.
 */
export const MAX_INPUT_BYTES = 512 * 1024;

export type ReadResult =
  | { readonly bytes: Buffer }
  /** `tooLarge`: over MAX_INPUT_BYTES (its own code); otherwise the file cannot be read, and `reason` says why. */
  | { readonly reason: string; readonly tooLarge?: true };

/** What a non-regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return "it is a directory";
  if (st.isFIFO()) return "it is not a regular file (a FIFO)";
  if (st.isCharacterDevice()) return "it is not a regular file (a character device)";
  if (st.isBlockDevice()) return "it is not a regular file (a block device)";
  if (st.isSocket()) return "it is not a regular file (a socket)";
  return "it is not a regular file";
}

export function errnoReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "ENOTDIR") return "no such file (a component of the path is not a directory)";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ELOOP") return "too many levels of symbolic links";
  return code ?? String((e as Error).message);
}

export function sizeText(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : n >= 1024 ? `${Math.ceil(n / 1024)} KiB` : `${n} bytes`;
}

/** Read a regular file of at most `limit` bytes (symlinks are followed, as for any file named by the user). */
export function readInputFile(path: string, limit = MAX_INPUT_BYTES): ReadResult {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. O_NOCTTY: a terminal named as
    // a policy must not become the controlling terminal.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    // A unix socket cannot be opened (ENXIO); say what it is.
    try {
      const st = statSync(path);
      if (!st.isFile()) return { reason: kindOf(st) };
    } catch {
      // keep the open error
    }
    return { reason: errnoReason(e) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { reason: kindOf(st) };
    if (st.size > limit) return { reason: `it is ${sizeText(st.size)}, over the ${sizeText(limit)} limit`, tooLarge: true };
    // Read to the end, not to st.size: the file may change; stop one byte past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(limit + 1 - total, Math.max(st.size - total + 1, 4096)));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
      if (total > limit) return { reason: `it is over the ${sizeText(limit)} limit`, tooLarge: true };
    }
    return { bytes: Buffer.concat(chunks, total) };
  } catch (e) {
    return { reason: errnoReason(e) };
  } finally {
    closeSync(fd);
  }
}
