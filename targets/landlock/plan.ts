// From a Landlock table (and a seccomp filter) to the plan the native loader applies: `children` grants
// are expanded over the entries that exist now, `file` grants are kept only for files, and every path is
// percent-encoded so that any byte string is one field. This is the launch-time half of the lowering; the
// loader itself decides nothing. The filesystem is reached through the `fs` argument, so tests can use a
// snapshot and `sbc exec` the real thing.

import { readdirSync, statSync } from "node:fs";
import type { LandlockTable } from "./lower.js";
import { fsRightNames } from "./abi.js";

export interface LaunchFs {
  /** "dir", "file" (anything that is not a directory), or undefined when the path does not exist. */
  kind(path: string): "dir" | "file" | undefined;
  /** Entry names of a directory, or [] if it cannot be read. */
  list(path: string): string[];
}

/** The filesystem as it is now (symlinks followed, as the loader's open() will follow them). */
export const liveFs: LaunchFs = {
  kind(path) {
    try {
      return statSync(path).isDirectory() ? "dir" : "file";
    } catch {
      return undefined;
    }
  },
  list(path) {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
};

export interface Plan {
  readonly text: string;
  /** What happened to each grant: for `sbc debug landlock`. */
  readonly report: readonly string[];
  /** Grants on paths missing at launch with `if-missing: error`. */
  readonly missing: readonly string[];
}

export function encodePath(p: string): string {
  let out = "";
  for (const b of Buffer.from(p, "utf8")) out += b > 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  return out;
}

const hex = (n: number) => "0x" + (n >>> 0).toString(16);
const join = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

export function buildPlan(table: LandlockTable | undefined, seccomp: Uint8Array | undefined, fs: LaunchFs): Plan {
  const lines = ["sbc-loader-plan 1"];
  const report: string[] = [];
  const missing: string[] = [];
  if (table) {
    lines.push(`abi ${table.abi}`, `handled-fs ${hex(table.handledAccessFs)}`, `handled-net ${hex(table.handledAccessNet)}`, `scoped ${hex(table.scoped)}`, `restrict-flags ${hex(table.restrictFlags)}`);
    const rules = new Map<string, number>();
    const grant = (path: string, access: number) => rules.set(path, (rules.get(path) ?? 0) | access);
    const names = (m: number) => fsRightNames(m).join(",");
    const expand = (dir: string, access: number, except: string[][], shown: string) => {
      for (const name of fs.list(dir).sort()) {
        const deeper = except.filter((e) => e[0] === name);
        const child = join(dir, name);
        if (!deeper.length) grant(child, access);
        else if (deeper.some((e) => e.length === 1)) report.push(`  carved out ${child} (${names(access)} not granted)`);
        else expand(child, access, deeper.map((e) => e.slice(1)), shown);
      }
    };
    for (const g of table.fs) {
      const kind = fs.kind(g.path);
      if (!kind) {
        report.push(`${g.ifMissing === "error" ? "missing (error)" : "skipped, missing"}: ${g.mode} ${g.path} [${names(g.access)}]`);
        if (g.ifMissing === "error") missing.push(g.path);
        continue;
      }
      if (g.mode === "beneath") grant(g.path, g.access);
      else if (g.mode === "file") {
        if (kind === "file") grant(g.path, g.access);
        else report.push(`skipped: ${g.path} is a directory, and an exact rule cannot be granted on it [${names(g.access)}]`);
      } else if (kind === "dir") {
        report.push(`expanded ${g.path} entry by entry, except ${(g.except ?? []).join(", ")} [${names(g.access)}]; new entries directly in it get nothing`);
        expand(g.path, g.access, (g.except ?? []).map((e) => e.split("/")), g.path);
      }
    }
    for (const [path, access] of [...rules].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`fs ${hex(access)} skip ${encodePath(path)}`);
    for (const n of table.net) lines.push(`net ${hex(n.access)} ${n.port}`);
  } else {
    lines.push("abi 0", "handled-fs 0x0", "handled-net 0x0", "scoped 0x0", "restrict-flags 0x0");
  }
  if (seccomp) lines.push(`seccomp ${Buffer.from(seccomp).toString("hex")}`);
  lines.push("end", "");
  return { text: lines.join("\n"), report, missing };
}
