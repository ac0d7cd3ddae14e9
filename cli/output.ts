// The CLI's side effects: colour decisions, printing diagnostics, and writing artifacts atomically (a temp
// file in the same directory, then rename), so an error never leaves a half-written output behind, and a
// device, FIFO or link named as the output is never replaced.

import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import pc from "picocolors";
import { checkKernelOption, renderDiagnostics, renderHuman, summaryLine, type Diagnostic, type Painter } from "../lib/report.js";
import { UsageError } from "./exit.js";

export { counts, DIAGNOSTIC_FORMATS, throwIfEntryUnreadable } from "../lib/report.js";

export function painter(stream: NodeJS.WriteStream, color: boolean): Painter | undefined {
  const force = process.env.FORCE_COLOR;
  const forced = force !== undefined && force !== "" && force !== "0" && force !== "false";
  const refused = force === "0" || force === "false";
  const enabled = color && !process.env.NO_COLOR && !refused && (forced || stream.isTTY === true);
  if (!enabled) return undefined;
  const c = pc.createColors(true);
  return { red: c.red, yellow: c.yellow, blue: c.blue, cyan: c.cyan, bold: c.bold, dim: c.dim };
}

export interface PrintOptions {
  format: string;
  color: boolean;
  quiet?: boolean;
  /** The file a diagnostic without a span belongs to (sarif and github formats use it as the location). */
  fileOf?: (d: Diagnostic) => string | undefined;
}

export function printDiagnostics(diagnostics: readonly Diagnostic[], opts: PrintOptions, stream: NodeJS.WriteStream): void {
  const paint = opts.format === "human" ? painter(stream, opts.color) : undefined;
  const text = renderDiagnostics(diagnostics, {
    format: opts.format,
    ...(opts.quiet ? { quiet: true } : {}),
    ...(paint ? { paint } : {}),
    ...(opts.fileOf ? { fileOf: opts.fileOf } : {}),
  });
  if (text) stream.write(text);
}

/** Diagnostics as the human format prints them without colour, summary line included (for a plan to carry). */
export function renderPlain(diagnostics: readonly Diagnostic[]): string {
  if (!diagnostics.length) return "";
  return diagnostics.map((d) => renderHuman(d) + "\n\n").join("") + summaryLine(diagnostics) + "\n";
}

/** The line `check` prints (on stderr) when there are more warnings than `--max-warnings` allows. */
export function maxWarningsMessage(warnings: number, max: number, limit = `--max-warnings ${max}`): string {
  return `sbc: ${warnings} ${warnings === 1 ? "warning exceeds" : "warnings exceed"} ${limit}`;
}

/** `--kernel X.Y`, checked; undefined when not given. */
export function parseKernelOption(v: string | undefined): string | undefined {
  return checkKernelOption(v);
}

/** `--resolve NAME=ADDR[,ADDR]` (exec, debug seatbelt, learn): the map the proxy looks names up in, if any. */
export async function parseResolveOption(entries: readonly string[] | undefined): Promise<ReadonlyMap<string, readonly string[]> | undefined> {
  if (!entries?.length) return undefined;
  const r = (await import("../lib/proxy/decide.js")).parseResolveEntries(entries);
  if (!r.ok) throw new UsageError(r.message, "write `--resolve registry.example=127.0.0.1` (several addresses: `NAME=ADDR,ADDR`)");
  return r.map;
}

export function parseParams(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param takes \`name=path\`, found \`${item}\``, "for example `--param workspace=/home/me/project`");
    const k = item.slice(0, eq);
    if (k in out) throw new UsageError(`--param \`${k}\` is given twice`);
    out[k] = item.slice(eq + 1);
  }
  return out;
}

/**
 * Write `data` to `path` so that readers see either the old file or the whole new one, without ever replacing
 * something that is not a regular file:
 * - nothing there, or a regular file: a temp file in the same directory, renamed over it (the old file's
 *   permission bits are kept);
 * - a character or block device or a FIFO (`/dev/null`, `/dev/stdout` → a pipe or a terminal): written
 *   through, opened without O_CREAT or O_TRUNC, so the node stays what it is;
 * - `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`: written to that descriptor;
 * - a symbolic link to anything else, a directory, a socket: refused (a link is never replaced, nor followed
 *   into place).
 */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  // `/dev/stdout` and kin name a descriptor this process already has, which may be a socket (a child's stdio
  // under Node) that cannot be opened by name: write to the descriptor itself.
  const std = /^\/(?:dev\/(?:fd\/(\d+)|(stdout|stderr))|proc\/self\/fd\/(\d+))$/.exec(path);
  if (std) {
    try {
      return writeAll(std[2] === "stdout" ? 1 : std[2] === "stderr" ? 2 : Number(std[1] ?? std[3]), data);
    } catch (e) {
      throw new UsageError(`cannot write \`${path}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let st: Stats | undefined;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(`cannot write \`${path}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (st?.isSymbolicLink()) {
    let target: Stats | undefined;
    try {
      target = statSync(path);
    } catch {
      // a dangling link: refused below
    }
    if (target && isWriteThrough(target)) return writeThrough(path, data);
    throw new UsageError(`cannot write \`${path}\`: it is a symbolic link`, "sbc does not replace a link or write through one into place; name the file itself");
  }
  if (st?.isDirectory()) throw new UsageError(`cannot write \`${path}\`: it is a directory`);
  if (st?.isSocket()) throw new UsageError(`cannot write \`${path}\`: it is a socket`);
  if (st && isWriteThrough(st)) return writeThrough(path, data);
  const tmp = join(dirname(path), `.${basename(path)}.sbc-tmp-${process.pid}-${Date.now().toString(36)}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", 0o644);
    if (st) fchmodSync(fd, st.mode & 0o7777);
    writeAll(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was created
    }
    throw new UsageError(`cannot write \`${path}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}

function isWriteThrough(st: Stats): boolean {
  return st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO();
}

/** Write into an existing device or FIFO; checked again on the open descriptor, in case the path changed. */
function writeThrough(path: string, data: string | Uint8Array): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY);
    if (!isWriteThrough(fstatSync(fd))) throw new UsageError(`cannot write \`${path}\`: it changed while being written`);
    writeAll(fd, data);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot write \`${path}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
