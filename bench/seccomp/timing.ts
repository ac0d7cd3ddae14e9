// Real-kernel timing through native/seccomp-bench.c: one timed syscall, several filters (the first is `none`),
// interleaved repetitions in forked children; parses the tool's summary lines.

import { execFileSync } from "node:child_process";

export interface Timing {
  /** Median ns per call over the repetitions. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Median over repetitions of (this filter − no filter) within one repetition. */
  readonly delta: number;
  /** What the last timed call returned: `ret`, and errno when ret is −1. */
  readonly ret: number;
  readonly errno: number;
}

export interface TimingOptions {
  readonly iters: number;
  readonly reps: number;
}

/** Time `nr(args)` under each filter file (`none` for no filter). */
export function timeCall(bench: string, nr: number, args: readonly bigint[], filters: readonly string[], options: TimingOptions): Timing[] {
  const call = [nr, ...args.map((a) => `0x${BigInt.asUintN(64, a).toString(16)}`)].join(",");
  const out = execFileSync(bench, ["--iters", String(options.iters), "--reps", String(options.reps), call, ...filters], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  const rows: Timing[] = [];
  for (const line of out.trim().split("\n")) {
    const f = Object.fromEntries(line.split(" ").map((kv) => kv.split("=") as [string, string]));
    rows[Number(f.filter)] = {
      median: Number(f.median),
      min: Number(f.min),
      max: Number(f.max),
      delta: Number(f.delta),
      ret: Number(f.ret),
      errno: Number(f.errno),
    };
  }
  if (rows.length !== filters.length || rows.some((r) => r === undefined)) throw new Error(`seccomp-bench printed ${rows.length} rows for ${filters.length} filters:\n${out}`);
  return rows;
}
