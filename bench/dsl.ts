// `npm run bench` (DSL part): what the first `.sbc` file costs — loading chevrotain, building the quick
// parser, the first parse of a preset twin — what later parses cost, and what the first file with a syntax
// error adds (the analysed parser), against the YAML reader on the same preset. Each run is a fresh Node process (bench/dsl/phases.mjs) on the built dist/, so the cold
// numbers are cold. Recorded in docs/benchmarks.md. A benchmark, not a test: exits 1 when building the parser
// plus the first parse misses the aim (a few milliseconds, taken as ≤ 10 ms).
//
//   tsx bench/dsl.ts [--quick] [--no-write]

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { machine } from "./seccomp/setup.js";
import { recordInDoc } from "./record.js";

const REPO = join(import.meta.dirname, "..");
const DOC = join(REPO, "docs", "benchmarks.md");
const PRESET = "workspace-write";
const AIM_MS = 10;

const quick = process.argv.includes("--quick");
const write = !process.argv.includes("--no-write") && !quick;
const runs = quick ? 3 : 21;
const repeats = quick ? 50 : 500;
const log = (line = "") => process.stderr.write(`${line}\n`);

/** dist/ must hold the DSL front end; build it when it does not (type errors elsewhere do not stop tsc emitting). */
function ensureDist(): void {
  if (existsSync(join(REPO, "dist", "grammar", "index.js"))) return;
  log("dist/ has no DSL front end: building it (npm run build)");
  spawnSync(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", join(REPO, "tsconfig.build.json")], { cwd: REPO });
  if (!existsSync(join(REPO, "dist", "grammar", "index.js"))) throw new Error("building dist/ failed");
}

type Phase = "load" | "tokens" | "build" | "firstParse" | "steady" | "errorFirst" | "yamlFirst" | "yamlSteady" | "validated";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));

ensureDist();
const twin = join(REPO, "bench", "inputs", `preset-${PRESET}.sbc`);
const preset = join(REPO, "presets", `${PRESET}.yaml`);
const load0 = loadavg()[0]!;
const samples: Record<Phase, number>[] = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync(process.execPath, [join(REPO, "bench", "dsl", "phases.mjs"), REPO, twin, preset, String(repeats)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench/dsl/phases.mjs failed:\n${r.stderr}`);
  samples.push(JSON.parse(r.stdout.trim()) as Record<Phase, number>);
}
const m = (p: Phase) => median(samples.map((s) => s[p]));
const min = (p: Phase) => Math.min(...samples.map((s) => s[p]));
/** Medians of per-process sums (not sums of medians). */
const firstDsl = median(samples.map((s) => s.tokens + s.build + s.firstParse));
const withLoad = median(samples.map((s) => s.load + s.tokens + s.build + s.firstParse));

const rows: [string, Phase | number, string][] = [
  ["load chevrotain (`require` of its one-file bundle)", "load", "once per process, on the first `.sbc` file"],
  ["create the token types (the scanner is our own loop)", "tokens", "once per process"],
  ["build the quick parser (rules + the stored lookahead table, no `performSelfAnalysis`)", "build", "once per process"],
  [`first parse of \`bench/inputs/preset-${PRESET}.sbc\` (lex, parse, AST, document tree)`, "firstParse", "includes V8 warming up the parser"],
  ["later parses of the same file (median of each process's runs)", "steady", `${repeats} parses per process`],
  ["first file with a syntax error: build the analysed parser (`performSelfAnalysis`), parse again with recovery", "errorFirst", "only files with syntax errors pay this"],
  [`YAML reader on \`presets/${PRESET}.yaml\`: first parse`, "yamlFirst", "loads nothing new: \`yaml\` is already imported"],
  ["YAML reader: later parses", "yamlSteady", `${repeats} parses per process`],
  ["building the parser again with chevrotain's grammar validations (what tests do)", "validated", "not paid by the compiler"],
];
const table = [
  "| step | median ms | min | note |",
  "|---|---:|---:|---|",
  ...rows.map(([what, p, note]) => `| ${what} | ${ms(m(p as Phase))} | ${ms(min(p as Phase))} | ${note} |`),
  `| **tokens + parser + first parse** (the aim: ≤ ${AIM_MS} ms) | **${ms(firstDsl)}** | | ${firstDsl <= AIM_MS ? "met" : "missed"} |`,
  `| the same with loading chevrotain: all the first valid \`.sbc\` file adds | ${ms(withLoad)} | | |`,
].join("\n");

const { kernel, cpu, cpus } = machine();
const node = process.version;
const date = new Date().toISOString().slice(0, 10);
const body = `Measured ${date} with \`npm run bench\` (\`tsx bench/dsl.ts\`) on Linux ${kernel}, ${cpu} (${cpus} CPUs); Node ${node}; chevrotain ${chevrotainVersion()}.
${runs} fresh Node processes (\`bench/dsl/phases.mjs\` on dist/), each timing every step once with \`process.hrtime.bigint()\` in the order shown; medians and minima over the processes. Load average (1 min) ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end.

${table}`;
console.log(body);
if (write) {
  recordInDoc(DOC, "dsl", body);
  log(`recorded in docs/benchmarks.md`);
}
if (firstDsl > AIM_MS) {
  log(`missed: building the parser and the first parse take ${ms(firstDsl)} ms (aim ≤ ${AIM_MS} ms)`);
  process.exitCode = 1;
}

function chevrotainVersion(): string {
  return (JSON.parse(readFileSync(join(REPO, "node_modules", "chevrotain", "package.json"), "utf8")) as { version: string }).version;
}
