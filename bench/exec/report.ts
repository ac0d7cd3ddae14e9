// The exec benchmark's tables (markdown, printed and recorded in docs/benchmarks.md between the exec markers).

import { median, pairedDelta, stats, type Command, type Samples } from "./timing.js";


const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${ms(Math.abs(x))}`;

/** One row per command: median / min / max ms, and the median's ratio to the peer's (when measured). */
export function commandTable(commands: readonly Command[], samples: ReadonlyMap<string, Samples>, peerKey: string | undefined, plainKey: string): string {
  const peer = peerKey ? median(samples.get(peerKey)!.ms) : undefined;
  const plain = samples.get(plainKey)!;
  const head =
    "| command | what it measures | median ms | min | max | − plain `true` (paired) | ÷ `codex sandbox` (native) |\n" +
    "|---|---|---:|---:|---:|---:|---:|";
  const rows = commands.map((c) => {
    const s = samples.get(c.key)!;
    const t = stats(s.ms);
    const delta = c.key === plainKey ? "-" : `${signed(pairedDelta(s, plain))} ms`;
    const ratio = peer === undefined ? "n/a" : c.key === peerKey ? "1" : (t.median / peer).toFixed(2);
    return `| \`${c.shown}\` | ${c.what} | ${ms(t.median)} | ${ms(t.min)} | ${ms(t.max)} | ${delta} | ${ratio} |`;
  });
  return `${head}\n${rows.join("\n")}`;
}

/** Where sbc exec's time goes: the median of each step over the phase runs, after Node's own start-up. */
export function phaseTable(phases: readonly Record<string, number>[], nodeStart: Samples, sbcExec: Samples): string {
  const names = Object.keys(phases[0] ?? {}).filter((k) => k !== "total");
  const rows: string[] = [`| Node start-up (\`node -e 0\`, whole process) | ${ms(median(nodeStart.ms))} |`];
  for (const name of names) rows.push(`| ${name} | ${ms(median(phases.map((p) => p[name]!)))} |`);
  const sum = median(nodeStart.ms) + names.reduce((acc, name) => acc + median(phases.map((p) => p[name]!)), 0);
  rows.push(`| sum of the medians above | ${ms(sum)} |`);
  rows.push(`| *measured: \`node bin/sbc.js exec\` whole process (median)* | *${ms(median(sbcExec.ms))}* |`);
  return `| step of \`sbc exec\` through the Node CLI (in-process, \`bench/exec/phases.mjs\`) | median ms |\n|---|---:|\n${rows.join("\n")}`;
}

