// `tsx bench/node-relay.ts`: what the Node relay (lib/proxy/node-relay.ts, the egress proxy on macOS) costs,
// by bench/proxy.ts's method: native/proxy-bench.c's client and sink, each repetition measuring a direct loopback
// connection and one through the relay (CONNECT) one after the other. Here on Linux, the client runs on the host
// (macOS has no namespace) and a decider in this process allows every request at once. Recorded in
// docs/benchmarks.md ("the Node relay"). Measures only; the targets are for the Linux relay.
//
//   tsx bench/node-relay.ts [--quick] [--no-write]

import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startNodeRelay } from "../lib/proxy/node-relay.js";
import { buildProxyBench, startSink } from "./proxy-helper.js";
import { recordInDoc } from "./record.js";

const REPO = join(import.meta.dirname, "..");
const GIB = 2 ** 30;
const log = (line: string) => process.stderr.write(`${line}\n`);
const fail = (m: string): never => {
  log(`bench:node-relay: ${m}`);
  process.exit(2);
};

const quick = process.argv.includes("--quick");
const write = !quick && !process.argv.includes("--no-write");
const [connections, reps, bytes] = quick ? [100, 2, GIB / 4] : [500, 5, GIB];


/** The client, asynchronously: the relay answers in this process. */
function client(helper: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn(helper, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.on("close", (status) => (status === 0 ? resolve(out) : fail(`proxy-bench ${args.join(" ")}: ${err.trim()}`)));
  });
}

const field = (out: string, name: string) => Number(new RegExp(`${name}=([0-9.]+)`).exec(out)?.[1] ?? fail(`no ${name} in \`${out.trim()}\``));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const helper = buildProxyBench(fail);
const { sink: sinkPort, source: sourcePort } = await startSink(helper);
let next = 1;
const relay = await startNodeRelay({
  ask: async (q) => ({ id: String(next++), answer: { decision: "allow", address: "127.0.0.1", port: q.port } }),
  upstream: () => {},
  done: () => {},
});

log(`bench:node-relay: ${connections} connections x ${reps}, ${bytes / GIB} GiB streams x ${reps}, sink on 127.0.0.1:${sinkPort}, relay on ${relay.port}`);
const setup = { direct: [] as number[], relay: [] as number[] };
const stream = { direct: [] as number[], relay: [] as number[] };
const pull = { direct: [] as number[], relay: [] as number[] };
for (let r = 0; r < reps; r++) {
  setup.direct.push(field(await client(helper, ["setup", `${sinkPort}`, `${connections}`]), "median_us"));
  setup.relay.push(field(await client(helper, ["setup", `${sinkPort}`, `${connections}`, `${relay.port}`]), "median_us"));
  stream.direct.push(field(await client(helper, ["stream", `${sinkPort}`, `${bytes}`]), "gib_per_s"));
  stream.relay.push(field(await client(helper, ["stream", `${sinkPort}`, `${bytes}`, `${relay.port}`]), "gib_per_s"));
  pull.direct.push(field(await client(helper, ["pull", `${sourcePort}`, `${bytes}`]), "gib_per_s"));
  pull.relay.push(field(await client(helper, ["pull", `${sourcePort}`, `${bytes}`, `${relay.port}`]), "gib_per_s"));
  log(
    `  rep ${r + 1}: set-up ${setup.direct.at(-1)} / ${setup.relay.at(-1)} us, upload ${stream.direct.at(-1)} / ${stream.relay.at(-1)} GiB/s, download ${pull.direct.at(-1)} / ${pull.relay.at(-1)} GiB/s`,
  );
}
await relay.close();

const f = (n: number, d = 2) => n.toFixed(d);
const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "unknown CPU";
const body = [
  `Measured by \`tsx bench/node-relay.ts\` on Linux ${spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim()}, ${cpu}, ${spawnSync("nproc", { encoding: "utf8" }).stdout.trim()} CPUs; Node ${process.version}; ${reps} repetitions, each measuring both ways one after the other.`,
  "",
  "| measure | direct loopback | through the Node relay | relay vs direct |",
  "| --- | --- | --- | --- |",
  `| connection set-up, median of ${connections} (median of ${reps} runs) | ${f(median(setup.direct) / 1000, 3)} ms | ${f(median(setup.relay) / 1000, 3)} ms | +${f((median(setup.relay) - median(setup.direct)) / 1000, 3)} ms |`,
  `| ${bytes / GIB} GiB stream, upload, median of ${reps} | ${f(median(stream.direct))} GiB/s | ${f(median(stream.relay))} GiB/s | ${f((median(stream.relay) / median(stream.direct)) * 100, 0)} % |`,
  `| ${bytes / GIB} GiB stream, download, median of ${reps} | ${f(median(pull.direct))} GiB/s | ${f(median(pull.relay))} GiB/s | ${f((median(pull.relay) / median(pull.direct)) * 100, 0)} % |`,
].join("\n");
process.stdout.write(`${body}\n`);
if (write) recordInDoc(join(REPO, "docs", "benchmarks.md"), "node-relay", body);
process.exit(0);
