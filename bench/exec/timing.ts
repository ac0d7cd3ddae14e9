// Wall-clock timing of whole commands, as a user sees them: process.hrtime.bigint() around spawnSync, every
// command once per round, rounds interleaved (the order rotates by one each round, so slow drifts of the
// machine spread over all commands), one untimed warm-up round first. A run that does not exit 0 stops the
// benchmark: a failing command measures nothing.

import { closeSync, openSync } from "node:fs";
import { spawnSync } from "node:child_process";

export interface Command {
  /** Stable key, e.g. `sbc-exec`. */
  readonly key: string;
  /** The command line as shown in the table. */
  readonly shown: string;
  /** What the row measures, for the table. */
  readonly what: string;
  readonly file: string;
  readonly args: readonly string[];
  /** A file whose contents the command reads on fd 3 (the loader's plan); opened afresh for every run. */
  readonly fd3?: string;
}

export interface Samples {
  /** Milliseconds per run, in round order. */
  readonly ms: number[];
  /** Each run's stdout (the phase breakdown prints JSON there). */
  readonly stdout: string[];
}

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function stats(xs: readonly number[]): Stats {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Median over rounds of (a − b) within the same round: less noisy than a difference of medians. */
export function pairedDelta(a: Samples, b: Samples): number {
  return median(a.ms.map((x, i) => x - b.ms[i]!));
}

function runOnce(c: Command, cwd: string, env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const fd = c.fd3 === undefined ? undefined : openSync(c.fd3, "r");
  try {
    const stdio = fd === undefined ? (["ignore", "pipe", "pipe"] as const) : (["ignore", "pipe", "pipe", fd] as const);
    const start = process.hrtime.bigint();
    const r = spawnSync(c.file, c.args, { cwd, env, stdio: [...stdio], encoding: "utf8", timeout: 60_000 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0 || r.signal) {
      const why = r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`);
      throw new Error(`\`${c.shown}\` failed (${why}); a failing command measures nothing:\n${(r.stderr ?? "").trim()}`);
    }
    return { ms, stdout: r.stdout };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Run every command `runs` times, interleaved; returns the samples by key. */
export function measure(commands: readonly Command[], runs: number, cwd: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Map<string, Samples> {
  for (const c of commands) runOnce(c, cwd, env); // warm-up: page cache, CODEX_HOME's helper links; checks exit 0
  const out = new Map<string, Samples>(commands.map((c) => [c.key, { ms: [], stdout: [] }]));
  const n = commands.length;
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < n; i++) {
      const c = commands[(round + i) % n]!;
      const { ms, stdout } = runOnce(c, cwd, env);
      const s = out.get(c.key)!;
      s.ms.push(ms);
      s.stdout.push(stdout);
    }
    if ((round + 1) % 10 === 0 || round + 1 === runs) log(`  round ${round + 1}/${runs}`);
  }
  return out;
}
