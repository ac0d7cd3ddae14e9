// `npm run bench:proxy`: what the egress proxy's relay (native/loader/relay.c) costs, side by side with a direct
// loopback connection on the same machine in the same run: connection set-up (median over N connections) and
// throughput of a 1 GiB stream, plus the loader's start-up with and without `net-proxy`. The client
// (native/proxy-bench.c) runs on the host for the direct rows and inside the sandbox (sbc-loader with a
// `net-proxy` plan) for the relay rows, connecting with CONNECT; a decider in this process answers the relay's
// `Q` lines at once, as `sbc exec` does (without its policy lookup and name resolution: see lib/proxy). Recorded
// in docs/benchmarks.md ("egress proxy"). Exits 1 when a target of issue 16 is missed, 2 when it cannot measure.
//
//   tsx bench/proxy.ts [--quick] [--no-write] [--connections N] [--reps R]

import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Socket } from "node:net";
import { buildProxyBench, startSink } from "./proxy-helper.js";
import { recordInDoc } from "./record.js";

const REPO = join(import.meta.dirname, "..");
const DOC = join(REPO, "docs", "benchmarks.md");
const PROXY_PORT = 3128;
const GIB = 2 ** 30;
const log = (line = "") => process.stderr.write(`${line}\n`);

function usage(message: string): never {
  log(`bench:proxy: ${message}`);
  log("usage: tsx bench/proxy.ts [--quick] [--no-write] [--connections N] [--reps R]");
  process.exit(2);
}

let connections = 500;
let reps = 5;
let write = true;
let bytes = GIB;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const num = () => {
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v <= 0) usage(`${a} needs a positive integer`);
    return v;
  };
  if (a === "--quick") [connections, reps, write, bytes] = [100, 2, false, GIB / 4];
  else if (a === "--no-write") write = false;
  else if (a === "--connections") connections = num();
  else if (a === "--reps") reps = num();
  else usage(`unknown option \`${a}\``);
}


const { buildLoader } = (await import(pathToFileURL(join(REPO, "scripts", "build-native.mjs")).href)) as {
  buildLoader: () => { ok: true; path: string } | { ok: false; reason: string };
};

const PLAN_HEAD = ["sbc-loader-plan 2", "abi 0", "handled-fs 0x0", "handled-net 0x0", "scoped 0x0", "restrict-flags 0x0", "namespaces auto"];
const PROXY_PLAN = [...PLAN_HEAD, `net-proxy 127.0.0.1 ${PROXY_PORT}`, "end", ""].join("\n");
const PLAIN_PLAN = [...PLAN_HEAD, "end", ""].join("\n");

/** Runs argv under the loader; with `proxy`, a decider answers every request with `allow 127.0.0.1 PORT`. */
function underLoader(loader: string, argv: readonly string[], proxy: boolean): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(loader, [...(proxy ? ["--proxy-fd", "4"] : []), "--plan-fd", "3", "--", ...argv], {
    stdio: ["ignore", "pipe", "pipe", "pipe", proxy ? "pipe" : "ignore"],
  });
  (child.stdio[3] as NodeJS.WritableStream).end(proxy ? PROXY_PLAN : PLAIN_PLAN);
  const control = child.stdio[4] as Socket | null;
  if (control) {
    let buf = "";
    control.on("error", () => {});
    control.on("data", (c: Buffer) => {
      buf += c.toString("latin1");
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const w = buf.slice(0, nl).split(" ");
        buf = buf.slice(nl + 1);
        if (w[0] === "Q") control.write(`A ${w[1]} allow 127.0.0.1 ${w[4]}\n`);
      }
    });
  }
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

function direct(helper: string, args: readonly string[]): string {
  const r = spawnSync(helper, args, { encoding: "utf8" });
  if (r.status !== 0) usage(`proxy-bench ${args.join(" ")} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

async function relayed(loader: string, helper: string, args: readonly string[]): Promise<string> {
  const r = await underLoader(loader, [helper, ...args, `${PROXY_PORT}`], true);
  if (r.status !== 0) usage(`proxy-bench ${args.join(" ")} through the relay failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

const field = (out: string, name: string) => {
  const m = new RegExp(`${name}=([0-9.]+)`).exec(out);
  if (!m) usage(`no ${name} in \`${out.trim()}\``);
  return Number(m[1]);
};
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const built = buildLoader();
if (!built.ok) usage(`the loader cannot be built: ${built.reason}`);
const loader = built.path;
const helper = buildProxyBench(usage);
const { sink: sinkPort, source: sourcePort } = await startSink(helper);

log(`bench:proxy: ${connections} connections x ${reps}, ${bytes / GIB} GiB streams x ${reps}, sink on 127.0.0.1:${sinkPort}`);
const setup = { direct: [] as number[], relay: [] as number[], directP90: [] as number[], relayP90: [] as number[] };
const stream = { direct: [] as number[], relay: [] as number[] };
const pull = { direct: [] as number[], relay: [] as number[] };
for (let r = 0; r < reps; r++) {
  // Side by side: each repetition measures both ways, one after the other.
  const d = direct(helper, ["setup", `${sinkPort}`, `${connections}`]);
  const p = await relayed(loader, helper, ["setup", `${sinkPort}`, `${connections}`]);
  setup.direct.push(field(d, "median_us"));
  setup.relay.push(field(p, "median_us"));
  setup.directP90.push(field(d, "p90_us"));
  setup.relayP90.push(field(p, "p90_us"));
  stream.direct.push(field(direct(helper, ["stream", `${sinkPort}`, `${bytes}`]), "gib_per_s"));
  stream.relay.push(field(await relayed(loader, helper, ["stream", `${sinkPort}`, `${bytes}`]), "gib_per_s"));
  pull.direct.push(field(direct(helper, ["pull", `${sourcePort}`, `${bytes}`]), "gib_per_s"));
  pull.relay.push(field(await relayed(loader, helper, ["pull", `${sourcePort}`, `${bytes}`]), "gib_per_s"));
  log(
    `  rep ${r + 1}: set-up ${setup.direct.at(-1)} / ${setup.relay.at(-1)} us, upload ${stream.direct.at(-1)} / ${stream.relay.at(-1)} GiB/s, download ${pull.direct.at(-1)} / ${pull.relay.at(-1)} GiB/s`,
  );
}

// The loader's own start-up: `-- true` with a `net-proxy` plan (fork, network namespace, listener, relay)
// against the same plan without it (Landlock and seccomp are absent from both).
const startup = { plain: [] as number[], proxy: [] as number[] };
for (let i = 0; i < Math.max(10, reps * 4); i++) {
  for (const proxy of [false, true]) {
    const t0 = process.hrtime.bigint();
    const r = await underLoader(loader, ["true"], proxy);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) usage(`the loader's start-up run failed: ${r.stderr.trim()}`);
    (proxy ? startup.proxy : startup.plain).push(ms);
  }
}

const setupAdded = (median(setup.relay) - median(setup.direct)) / 1000;
const directTp = median(stream.direct);
const relayTp = median(stream.relay);
const ratio = relayTp / directTp;
const pullDirect = median(pull.direct);
const pullRelay = median(pull.relay);
const pullRatio = pullRelay / pullDirect;
const startupAdded = median(startup.proxy) - median(startup.plain);
const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "unknown CPU";
const kernel = spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim();
const ok = (b: boolean) => (b ? "met" : "**missed**");
const f = (n: number, d = 2) => n.toFixed(d);
const body = [
  `Measured by \`npm run bench:proxy\` on Linux ${kernel}, ${cpu}, ${spawnSync("nproc", { encoding: "utf8" }).stdout.trim()} CPUs; ${reps} repetitions, each measuring both ways one after the other.`,
  "",
  "| measure | direct loopback | through the relay | relay vs direct | target (issue 16) |",
  "| --- | --- | --- | --- | --- |",
  `| connection set-up, median of ${connections} (median of ${reps} runs) | ${f(median(setup.direct) / 1000, 3)} ms | ${f(median(setup.relay) / 1000, 3)} ms | +${f(setupAdded, 3)} ms | <= +1 ms: ${ok(setupAdded <= 1)} |`,
  `| connection set-up, p90 (median of ${reps} runs) | ${f(median(setup.directP90) / 1000, 3)} ms | ${f(median(setup.relayP90) / 1000, 3)} ms | +${f((median(setup.relayP90) - median(setup.directP90)) / 1000, 3)} ms | |`,
  `| ${bytes / GIB} GiB stream, upload (sandbox to server), median of ${reps} | ${f(directTp)} GiB/s | ${f(relayTp)} GiB/s | ${f(ratio * 100, 0)} % | >= 1 GiB/s: ${ok(relayTp >= 1)}; >= 50 %: ${ok(ratio >= 0.5)} |`,
  `| ${bytes / GIB} GiB stream, download (server to sandbox), median of ${reps} | ${f(pullDirect)} GiB/s | ${f(pullRelay)} GiB/s | ${f(pullRatio * 100, 0)} % | >= 1 GiB/s: ${ok(pullRelay >= 1)}; >= 50 %: ${ok(pullRatio >= 0.5)} |`,
  `| sbc-loader start-up, \`-- true\`, median of ${startup.plain.length} | ${f(median(startup.plain), 1)} ms (no \`net-proxy\`) | ${f(median(startup.proxy), 1)} ms | +${f(startupAdded, 1)} ms | (reported) |`,
].join("\n");
process.stdout.write(`${body}\n`);
if (write) recordInDoc(DOC, "proxy", body);
process.exit(setupAdded <= 1 && relayTp >= 1 && ratio >= 0.5 && pullRelay >= 1 && pullRatio >= 0.5 ? 0 : 1);
