// `npm run bench:exec-proxy`: what a policy with rules by domain costs `sbc exec` at start-up — through the
// Node CLI (the decision service in Node, the loader's relay and network namespace), and as usually run, from
// the plan cache without Node (the relay decides from the plan's table) — against the same policy without
// rules by domain and the preset's fast path, side by side, interleaved, in one fresh workspace. Recorded in docs/benchmarks.md ("exec behind the egress proxy"). A benchmark, not a
// test: exit 2 when it cannot measure (a command fails).
//
//   tsx bench/exec-proxy.ts [--quick] [--no-write] [--runs N]

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { machine } from "./seccomp/setup.js";
import { beginMarker, recordInDoc } from "./record.js";
import { REPO, SBC_CMD, ensureDist, ensureLoader } from "./exec/setup.js";
import { measure, stats, type Command } from "./exec/timing.js";

const DOC = join(REPO, "docs", "benchmarks.md");
// Its own directory (not the repository's node_modules): the workspace, the policies and a cold plan cache.
const WORK = mkdtempSync("/var/tmp/sbc-bench-exec-proxy-");
const PLAN_CACHE = join(WORK, "plan-cache");
const log = (line = "") => process.stderr.write(`${line}\n`);

let runs = 30;
let write = true;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--quick") [runs, write] = [5, false];
  else if (argv[i] === "--no-write") write = false;
  else if (argv[i] === "--runs") runs = Number(argv[++i]);
  else {
    log(`bench:exec-proxy: unknown option \`${argv[i]}\``);
    process.exit(2);
  }
}

ensureDist(log);
ensureLoader(log);
const ws = join(WORK, "ws");
mkdirSync(ws);
spawnSync("git", ["init", "-q"], { cwd: ws });
mkdirSync(PLAN_CACHE, { recursive: true, mode: 0o700 });
const plain = join(WORK, "ws-plain.yaml");
const domains = join(WORK, "ws-domains.yaml");
writeFileSync(plain, "sbc: 1\nname: ws-plain\nextends: workspace-write\n");
writeFileSync(domains, "sbc: 1\nname: ws-domains\nextends: workspace-write\nnetwork:\n  rules:\n    - allow: connect\n      domains: [registry.npmjs.org]\n      ports: [443]\n");

const TRUE = "/usr/bin/true";
const commands: Command[] = [
  { key: "preset", shown: "sbc exec --preset workspace-write -- true", what: "bin/sbc's fast path (no Node), the preset's precompiled plan", file: SBC_CMD, args: ["exec", "--preset", "workspace-write", "--", TRUE] },
  // `--no-cache` sends bin/sbc to the Node CLI (its bundle, as for the proxy's row): the same path without the proxy.
  { key: "node", shown: "sbc exec --no-cache ws-plain.yaml -- true", what: "the Node CLI (bin/sbc's bundle), workspace-write as a file, no proxy", file: SBC_CMD, args: ["exec", "--no-cache", plain, "--", TRUE] },
  { key: "proxy", shown: "sbc exec --no-cache ws-domains.yaml -- true", what: "workspace-write plus one rule by domain, the same path: the Node CLI, decision service, relay, network namespace", file: SBC_CMD, args: ["exec", "--no-cache", domains, "--", TRUE] },
  { key: "plain-fast", shown: "sbc exec ws-plain.yaml -- true", what: "as run: workspace-write as a file, from the plan cache (bin/sbc's fast path, no Node)", file: SBC_CMD, args: ["exec", plain, "--", TRUE] },
  { key: "proxy-fast", shown: "sbc exec ws-domains.yaml -- true", what: "as run: plus one rule by domain, from the plan cache (no Node): the relay deciding from the plan's table, network namespace", file: SBC_CMD, args: ["exec", domains, "--", TRUE] },
];

const env: NodeJS.ProcessEnv = { ...process.env, SBC_CACHE_DIR: PLAN_CACHE };
delete env.SBC_NO_CACHE;
delete env.SBC_NO_FAST_PATH;
// The cached rows are measured from the cache: one run each first compiles and stores the plan.
for (const c of commands.filter((c) => c.key.endsWith("-fast"))) {
  const r = spawnSync(c.file, c.args, { cwd: ws, env, encoding: "utf8" });
  if (r.status !== 0) {
    log(`bench:exec-proxy: \`${c.shown}\` failed (${r.status}): ${r.stderr.trim()}`);
    process.exit(2);
  }
}
const load0 = loadavg()[0]!;
log(`bench:exec-proxy: ${runs} interleaved rounds of ${commands.length} commands`);
let samples;
try {
  samples = measure(commands, runs, ws, env, log);
} catch (e) {
  log(`bench:exec-proxy: ${(e as Error).message}`);
  process.exit(2);
}
const s = new Map(commands.map((c) => [c.key, stats(samples.get(c.key)!.ms)]));
const fmt = (x: number) => x.toFixed(1);
const rows = commands.map((c) => {
  const x = s.get(c.key)!;
  return `| \`${c.shown}\` | ${fmt(x.median)} | ${fmt(x.min)} | ${fmt(x.max)} | ${c.what} |`;
});
const proxyCost = s.get("proxy")!.median - s.get("node")!.median;
const sign = (x: number) => `${x >= 0 ? "+" : ""}${fmt(x)}`;
const body = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:exec-proxy\` on Linux ${machine().kernel}, ${machine().cpu} (${machine().cpus} CPUs); Node ${process.version}; ${runs} interleaved rounds; load average (1 min) ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end.`,
  "",
  "| command | median ms | min | max | what runs |",
  "| --- | ---: | ---: | ---: | --- |",
  ...rows,
  "",
  `The proxy's own start-up through Node (the third row against the second): **${sign(proxyCost)} ms** at the median. As run (from the cache, no Node): **${sign(s.get("proxy-fast")!.median - s.get("preset")!.median)} ms** against the preset's fast path, of which the proxy's own start-up (the last row against the one before it) is **${sign(s.get("proxy-fast")!.median - s.get("plain-fast")!.median)} ms**.`,
].join("\n");
process.stdout.write(body + "\n");
if (write) {
  recordInDoc(DOC, "exec-proxy", body);
  log(`bench:exec-proxy: recorded in ${DOC} (${beginMarker("exec-proxy")})`);
}
rmSync(WORK, { recursive: true, force: true });
