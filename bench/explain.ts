// `npm run bench:explain`: what `sbc exec --explain` costs on a build-like workload — 50 C files compiled one
// cc at a time under workspace-write — against the same run without it. Prints a Markdown table for
// docs/benchmarks.md (## explain); a benchmark, not a test: nothing here fails on a number.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "..");
const BIN = join(REPO, "bin", "sbc.js");
const FILES = 50;
const RUNS = Number(process.argv[2] ?? 5);

const dir = realpathSync(mkdtempSync("/var/tmp/sbc-bench-explain-"));
const ws = join(dir, "ws");
mkdirSync(ws);
for (let i = 0; i < FILES; i++) {
  // Each includes stdio.h and stdlib.h, so cc opens and stats the usual headers, as a real build does.
  writeFileSync(join(ws, `f${i}.c`), `#include <stdio.h>\n#include <stdlib.h>\nint f${i}(int x) { char *p = malloc(x); int s = 0; for (int k = 0; k < x; k++) s += k * ${i}; printf("%d", s); free(p); return s; }\n`);
}
const build = `rm -f *.o; for f in *.c; do cc -O1 -c "$f" || exit 1; done`;

function once(explain: boolean): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, "exec", ...(explain ? ["--explain"] : []), "--no-cache", "--preset", "workspace-write", "--", "sh", "-c", build], { cwd: ws, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`the build failed (explain ${explain}): ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const times: Record<string, number[]> = { off: [], on: [] };
once(false);
once(true); // warm the page cache and the loader build
for (let i = 0; i < RUNS; i++) {
  times.off!.push(once(false));
  times.on!.push(once(true));
}
const off = median(times.off!), on = median(times.on!);
console.log(`| run (${FILES} files, cc -O1 -c each, ${RUNS} runs, median) | wall ms | min | max |`);
console.log("|---|---:|---:|---:|");
for (const [k, xs] of Object.entries(times)) console.log(`| --explain ${k} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`);
console.log(`\noverhead: ${(((on - off) / off) * 100).toFixed(1)}% (${(on - off).toFixed(0)} ms)`);
rmSync(dir, { recursive: true, force: true });
