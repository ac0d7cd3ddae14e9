// The benchmark's side effects on the machine: install Debian's python3-seccomp (libseccomp 2.5.4) and a C
// compiler when they are missing, and build native/seccomp-bench.c into node_modules/.cache/sbc-native/ once
// per source version (the same cache scheme as the kernel tests' probe, written again here so that the
// benchmark does not import test code).

import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants as fsConstants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { delimiter, join } from "node:path";

export const REPO = join(import.meta.dirname, "..", "..");
export const SYSTEM_PYTHON = "/usr/bin/python3";
const CACHE_DIR = join(REPO, "node_modules", ".cache", "sbc-native");
const CFLAGS = ["-O2", "-Wall", "-Werror"];

function onPath(name: string): string | undefined {
  const dirs = name.includes("/") ? [""] : (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = dir ? join(dir, name) : name;
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function pythonHasSeccomp(): boolean {
  return existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ["-c", "import seccomp"], { stdio: "ignore" }).status === 0;
}

function apt(packages: readonly string[], log: (line: string) => void): void {
  if (process.getuid?.() !== 0) throw new Error(`missing ${packages.join(", ")}: install them with \`sudo apt-get install -y ${packages.join(" ")}\``);
  if (onPath("apt-get") === undefined) throw new Error(`missing ${packages.join(", ")}, and there is no apt-get to install them with`);
  const run = (args: string[]) => {
    log(`  $ apt-get ${args.join(" ")}`);
    const r = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (r.status !== 0) throw new Error(`\`apt-get ${args.join(" ")}\` failed: ${r.stderr.trim()}`);
  };
  run(["update", "-qq"]);
  run(["install", "-y", "-qq", ...packages]);
}

/** Install what the benchmark needs, saying what it does; throws with a hint when it cannot. */
export function ensureTools(log: (line: string) => void): void {
  const missing: string[] = [];
  if (!pythonHasSeccomp()) missing.push("python3-seccomp");
  if (onPath(process.env.SBC_CC || "cc") === undefined && onPath("gcc") === undefined) missing.push("gcc", "libc6-dev");
  if (missing.length === 0) return;
  log(`installing ${missing.join(", ")} (needed by the benchmark):`);
  apt(missing, log);
  if (!pythonHasSeccomp()) throw new Error(`${SYSTEM_PYTHON} still cannot \`import seccomp\` after installing python3-seccomp`);
}

/** Versions of the Debian packages that make the libseccomp baseline, e.g. `libseccomp2 2.5.4-1+deb12u1`. */
export function libseccompVersion(): string {
  try {
    return execFileSync("dpkg-query", ["-W", "-f", "${Package} ${Version}\\n", "libseccomp2", "python3-seccomp"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .join(", ");
  } catch {
    return "libseccomp (version unknown: no dpkg-query)";
  }
}

/**
 * A benchmark's C helper (native/NAME.c), built into node_modules/.cache/sbc-native keyed by its source, the
 * compiler and the flags (an edit rebuilds it; never into the package); throws when the compiler fails.
 */
export function buildBenchTool(name: string, cflags: readonly string[]): string {
  const cc = onPath(process.env.SBC_CC || "cc") ?? onPath("gcc");
  if (cc === undefined) throw new Error("no C compiler (`cc` or `gcc` on PATH, or SBC_CC)");
  const sourcePath = join(REPO, "native", `${name}.c`);
  const key = createHash("sha256").update(readFileSync(sourcePath)).update(`\0${cc}\0${cflags.join(" ")}`).digest("hex").slice(0, 16);
  const out = join(CACHE_DIR, `${name}-${key}`);
  if (existsSync(out)) return out;
  mkdirSync(CACHE_DIR, { recursive: true });
  const partial = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, [...cflags, "-o", partial, sourcePath], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`\`${cc} ${cflags.join(" ")}\` failed on native/${name}.c: ${(r.error?.message ?? `${r.stderr}${r.stdout}`).trim()}`);
  }
  renameSync(partial, out);
  return out;
}

/** The compiled native/seccomp-bench.c. */
export function buildBench(): string {
  return buildBenchTool("seccomp-bench", CFLAGS);
}

/** What the timing rows were measured on. */
export function machine(): { kernel: string; cpu: string; cpus: number } {
  const kernel = execFileSync("uname", ["-r"], { encoding: "utf8" }).trim();
  let cpu = "unknown CPU";
  let cpus = 0;
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    cpu = /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? cpu;
    cpus = info.match(/^processor\s*:/gm)?.length ?? 0;
  } catch {
    // not Linux: the timing part will not run anyway
  }
  return { kernel, cpu, cpus };
}
