// The benchmark's table (markdown, printed and recorded in docs/benchmarks.md between markers) and the
// comparison with the targets of the issue: fewer instructions than libseccomp's binary tree, and a lower mean
// and max path on every input.

import { errnoName } from "../../linux-abi/index.js";
import type { PathStats } from "./metrics.js";
import type { Timing } from "./timing.js";

export type Generator = "none" | "o1" | "o2" | "sbc";
export const GENERATOR_LABEL: Readonly<Record<Generator, string>> = {
  none: "no filter",
  o1: "libseccomp 2.5.4 o1",
  o2: "libseccomp 2.5.4 o2 (binary tree)",
  sbc: "sbc",
};

export interface TimedCall {
  /** As shown in the table, e.g. `bpf(-1, 0, 0)`. */
  readonly label: string;
  /** Per generator; absent when the kernel part did not run. */
  readonly timings?: Readonly<Record<Generator, Timing>>;
  /** Instructions each filter runs for this call (interpreter). */
  readonly executed: Readonly<Record<Exclude<Generator, "none">, number>>;
}

export interface InputResult {
  readonly name: string;
  readonly stats: Readonly<Record<Exclude<Generator, "none">, PathStats>>;
  readonly allowed: TimedCall;
  readonly argChecked?: TimedCall;
  readonly denied: TimedCall;
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(Math.round(x))}`;

function result(t: Timing): string {
  if (t.ret !== -1) return `${t.ret}`;
  return `-${errnoName(t.errno) ?? t.errno}`;
}

function timingCell(call: TimedCall | undefined, g: Generator): string {
  if (!call) return "-";
  if (!call.timings) return g === "none" ? `\`${call.label}\`` : `n/a [${call.executed[g]}]`;
  const t = call.timings[g];
  // The allowed call returns the parent's pid: a number that means nothing in a table.
  const ret = call.label.startsWith("getppid") ? "" : ` ${result(t)}`;
  if (g === "none") return `${Math.round(t.median)} ns \`${call.label}\`${ret}`;
  return `${signed(t.delta)} ns [${call.executed[g]}]${ret}`;
}

export function table(results: readonly InputResult[]): string {
  const head =
    "| input | generator | insns | exec mean all / allow / deny | exec max | cache-served | x32 allowed | allowed | arg-checked | denied | sbc ÷ o2: insns · mean · max |\n" +
    "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|";
  const rows: string[] = [];
  for (const r of results) {
    for (const g of ["none", "o1", "o2", "sbc"] as const) {
      const cells = [r.name, GENERATOR_LABEL[g]];
      if (g === "none") cells.push("-", "-", "-", "-", "-");
      else {
        const s = r.stats[g];
        const pct = (100 * s.cacheFraction).toFixed(1);
        cells.push(
          `${s.insns}`,
          `${f1(s.meanAll)} / ${f1(s.meanAllowed)} / ${f1(s.meanDenied)}`,
          `${s.max}`,
          `${pct}% (${s.cached}/${s.allowed + s.denied})`,
          s.x32Allowed.length ? `**${s.x32Allowed.length}**` : "none",
        );
      }
      cells.push(timingCell(r.allowed, g), timingCell(r.argChecked, g), timingCell(r.denied, g));
      if (g === "sbc") {
        const s = r.stats.sbc;
        const o2 = r.stats.o2;
        cells.push(`${f2(s.insns / o2.insns)} · ${f2(s.meanAll / o2.meanAll)} · ${f2(s.max / o2.max)}`);
      } else cells.push("");
      rows.push(`| ${cells.join(" | ")} |`);
    }
  }
  return `${head}\n${rows.join("\n")}`;
}

/** Every target sbc misses, as one line each; empty when it meets them all. */
export function missedTargets(results: readonly InputResult[]): string[] {
  const misses: string[] = [];
  for (const r of results) {
    const { sbc, o2, o1 } = r.stats;
    if (!(sbc.insns < o2.insns)) misses.push(`${r.name}: sbc has ${sbc.insns} instructions, libseccomp o2 ${o2.insns} (target: fewer)`);
    const means = [
      ["mean path over all numbers", sbc.meanAll, o2.meanAll],
      ["mean path over allowed numbers", sbc.meanAllowed, o2.meanAllowed],
      ["mean path over denied numbers", sbc.meanDenied, o2.meanDenied],
      ["max path", sbc.max, o2.max],
    ] as const;
    for (const [what, ours, theirs] of means) {
      if (!(ours < theirs)) misses.push(`${r.name}: sbc's ${what} is ${num(ours)}, libseccomp o2's ${num(theirs)} (target: lower)`);
    }
    const cached = Math.max(o1.cached, o2.cached);
    if (sbc.cached < cached) misses.push(`${r.name}: the kernel's action cache serves ${sbc.cached} numbers for sbc's filter, ${cached} for libseccomp's (the policy fixes this number)`);
    if (sbc.x32Allowed.length) misses.push(`${r.name}: sbc's filter allows the x32 form of denied calls ${sbc.x32Allowed.join(", ")}`);
  }
  return misses;
}


