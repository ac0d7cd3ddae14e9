// native/proxy-bench.c (the sink server and client both proxy benchmarks drive): built by the benches' one
// builder (bench/seccomp/setup.ts buildBenchTool), and its sink started.

import { spawn } from "node:child_process";
import { buildBenchTool } from "./seccomp/setup.js";

/** The built helper's path; `fail` is called (and must not return) when it cannot be built. */
export function buildProxyBench(fail: (message: string) => never): string {
  try {
    return buildBenchTool("proxy-bench", ["-O2", "-Wall", "-pthread"]);
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** Starts `proxy-bench sink` (killed when this process exits): the sink's port (uploads) and the source's (downloads). */
export async function startSink(helper: string): Promise<{ sink: number; source: number }> {
  const child = spawn(helper, ["sink"], { stdio: ["ignore", "pipe", "inherit"] });
  process.on("exit", () => child.kill("SIGKILL"));
  const line = await new Promise<string>((resolve) => child.stdout!.once("data", (c: Buffer) => resolve(c.toString().trim())));
  const [sink, source] = line.split(" ").map(Number);
  return { sink: sink!, source: source! };
}
