// The CLI's side effects: colour decisions, printing diagnostics, and writing artifacts atomically (a temp
// file in the same directory, then rename), so an error never leaves a half-written output behind.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import pc from "picocolors";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { CODES } from "../diagnostics/codes.js";
import { toGithubCommand } from "../diagnostics/github.js";
import { checkKernelVersion } from "../linux-abi/syscall-versions.js";
import { renderHuman, summaryLine, toJson, type Painter } from "../diagnostics/render.js";
import { toSarif } from "../diagnostics/sarif.js";
import { packageVersion } from "../package-root.js";
import { UsageError } from "./exit.js";

export function painter(stream: NodeJS.WriteStream, color: boolean): Painter | undefined {
  const force = process.env.FORCE_COLOR;
  const forced = force !== undefined && force !== "" && force !== "0" && force !== "false";
  const refused = force === "0" || force === "false";
  const enabled = color && !process.env.NO_COLOR && !refused && (forced || stream.isTTY === true);
  if (!enabled) return undefined;
  const c = pc.createColors(true);
  return { red: c.red, yellow: c.yellow, blue: c.blue, cyan: c.cyan, bold: c.bold, dim: c.dim };
}

/** The values of `--format` for commands that print diagnostics (docs/cli.md, "Output formats"). */
export const DIAGNOSTIC_FORMATS = ["human", "json", "sarif", "github"] as const;

export interface PrintOptions {
  format: string;
  color: boolean;
  quiet?: boolean;
  /** The file a diagnostic without a span belongs to (sarif and github formats use it as the location). */
  fileOf?: (d: Diagnostic) => string | undefined;
}

export function printDiagnostics(diagnostics: readonly Diagnostic[], opts: PrintOptions, stream: NodeJS.WriteStream): void {
  const shown = opts.quiet ? diagnostics.filter((d) => d.severity === "error") : diagnostics;
  if (opts.format === "json") {
    // The summary counts every diagnostic, those --quiet leaves out included, as --max-warnings does.
    stream.write(JSON.stringify({ diagnostics: shown.map(toJson), summary: counts(diagnostics) }, null, 2) + "\n");
    return;
  }
  if (opts.format === "sarif") {
    const log = toSarif(shown, { toolVersion: packageVersion(), cwd: process.cwd(), ...(opts.fileOf ? { fileOf: opts.fileOf } : {}) });
    stream.write(JSON.stringify(log, null, 2) + "\n");
    return;
  }
  if (opts.format === "github") {
    for (const d of shown) stream.write(toGithubCommand(d, opts.fileOf) + "\n");
    if (shown.length) stream.write(summaryLine(shown) + "\n");
    return;
  }
  const paint = painter(stream, opts.color);
  for (const d of shown) stream.write(renderHuman(d, paint) + "\n\n");
  if (shown.length) stream.write(summaryLine(shown) + "\n");
}

/** Diagnostics as the human format prints them without colour, summary line included (for a plan to carry). */
export function renderPlain(diagnostics: readonly Diagnostic[]): string {
  if (!diagnostics.length) return "";
  const paint = painter(process.stderr, false);
  return diagnostics.map((d) => renderHuman(d, paint) + "\n\n").join("") + summaryLine(diagnostics) + "\n";
}

export function counts(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  return { errors, warnings: diagnostics.length - errors };
}

/** The line `check` prints (on stderr) when there are more warnings than `--max-warnings` allows. */
export function maxWarningsMessage(warnings: number, max: number, limit = `--max-warnings ${max}`): string {
  return `sbc: ${warnings} ${warnings === 1 ? "warning exceeds" : "warnings exceed"} ${limit}`;
}

/**
 * A policy file named on the command line that cannot be read is a usage error (exit 2), not a policy
 * finding: the compiler reports it as SBC0101 with no file read, and every command turns it into this.
 */
export function throwIfEntryUnreadable(result: { filesRead: readonly string[]; diagnostics: readonly Diagnostic[] }): void {
  const d = result.diagnostics.find((x) => x.code === CODES.fileUnreadable.code);
  if (result.filesRead.length === 0 && d) throw new UsageError(d.message);
}

/** `--kernel X.Y`, checked; undefined when not given. */
export function parseKernelOption(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const bad = checkKernelVersion(v);
  if (bad) throw new UsageError(`--kernel: ${bad.message}`, bad.help);
  return v;
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

/** Write `data` to `path` so that readers see either the old file or the whole new one. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.sbc-tmp-${process.pid}-${Date.now().toString(36)}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", 0o644);
    if (typeof data === "string") writeSync(fd, data);
    else writeSync(fd, data);
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
