// Builds native/proxy-bench.c (the sink server and client both proxy benchmarks drive) into the temp
// directory — never into the package —, keyed by its source, compiler and flags, so an edit rebuilds it.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SOURCE = join(import.meta.dirname, "..", "native", "proxy-bench.c");

/** The built helper's path; `fail` is called (and must not return) when the compiler fails. */
export function buildProxyBench(fail: (message: string) => never): string {
  const cc = process.env.SBC_CC || "cc";
  const flags = ["-O2", "-Wall", "-pthread"];
  const key = createHash("sha256").update(readFileSync(SOURCE)).update(`\0${cc}\0${flags.join(" ")}`).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "sbc-bench");
  const out = join(dir, `proxy-bench-${key}`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const partial = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, [...flags, "-o", partial, SOURCE], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(partial, { force: true });
    fail(`\`${cc}\` failed on native/proxy-bench.c: ${(r.error?.message ?? r.stderr).trim()}`);
  }
  renameSync(partial, out);
  return out;
}

/** Starts `proxy-bench sink` (killed when this process exits): the sink's port (uploads) and the source's (downloads). */
export async function startSink(helper: string): Promise<{ sink: number; source: number }> {
  const child = spawn(helper, ["sink"], { stdio: ["ignore", "pipe", "inherit"] });
  process.on("exit", () => child.kill("SIGKILL"));
  const line = await new Promise<string>((resolve) => child.stdout!.once("data", (c: Buffer) => resolve(c.toString().trim())));
  const [sink, source] = line.split(" ").map(Number);
  return { sink: sink!, source: source! };
}
