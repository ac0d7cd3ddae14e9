// `sbc build`: the project config's outputs, compiled and written when changed (lib/build/), with the
// listing on stdout and diagnostics on stderr; `--check` for CI, `--watch` to rebuild on every change.

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { loadBuildConfig, runBuild, watchInputs, type BuildResult, type InputWatcher } from "../lib/build/index.js";
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from "./exit.js";
import { printDiagnostics, writeAtomic } from "./output.js";

export interface BuildCommandOptions {
  config?: string;
  check?: boolean;
  watch?: boolean;
  depfile?: string;
  format: string;
  quiet?: boolean;
  color: boolean;
}

const LABEL = { wrote: "wrote", unchanged: "unchanged", stale: "stale", missing: "missing", "not-built": "not built" } as const;

function writeCreatingDir(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeAtomic(path, data);
}

function printResult(r: BuildResult, opts: BuildCommandOptions): void {
  for (const f of r.files) {
    // --check lists what is wrong; --quiet keeps only that and what was written.
    if (f.action === "unchanged" && (opts.check || opts.quiet)) continue;
    process.stdout.write(`${LABEL[f.action]} ${f.shown}${f.kind === "depfile" ? " (depfile)" : ""}\n`);
  }
  if (opts.check && r.ok) process.stdout.write(`${r.files.length} ${r.files.length === 1 ? "output is" : "outputs are"} up to date\n`);
}

/** One build; `inputs` are the files to watch (at least the config, when one was found). */
async function buildOnce(opts: BuildCommandOptions, cwd: string): Promise<{ code: number; inputs: readonly string[] }> {
  const loaded = loadBuildConfig(cwd, opts.config);
  const print = (ds: Parameters<typeof printDiagnostics>[0]) => printDiagnostics(ds, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) }, process.stderr);
  if (!loaded.config) {
    print(loaded.diagnostics);
    const noConfig = loaded.diagnostics.some((d) => d.name === "build-no-config");
    const configFile = opts.config !== undefined ? [resolve(cwd, opts.config)] : [];
    return { code: noConfig ? EXIT_USAGE : EXIT_FINDINGS, inputs: loaded.diagnostics.flatMap((d) => (d.span ? [resolve(cwd, d.span.source.path)] : [])).concat(configFile) };
  }
  const r = await runBuild(loaded.config, {
    base: cwd,
    write: writeCreatingDir,
    ...(opts.check ? { check: true } : {}),
    ...(opts.depfile !== undefined ? { depfile: resolve(cwd, opts.depfile) } : {}),
  });
  print(r.diagnostics);
  printResult(r, opts);
  return { code: r.ok ? EXIT_OK : EXIT_FINDINGS, inputs: r.inputs };
}

export async function runBuildCommand(opts: BuildCommandOptions): Promise<number> {
  const cwd = process.cwd();
  if (!opts.watch) return (await buildOnce(opts, cwd)).code;
  const first = await buildOnce(opts, cwd);
  if (first.code === EXIT_USAGE) return first.code;
  return new Promise<number>((done) => {
    let watcher: InputWatcher | undefined;
    let building = false;
    let again = false;
    const arm = (inputs: readonly string[]) => {
      watcher?.close();
      watcher = watchInputs(inputs, () => void rebuild());
      process.stderr.write(`sbc build: watching ${inputs.length} ${inputs.length === 1 ? "file" : "files"} (Ctrl-C to stop)\n`);
    };
    const rebuild = async () => {
      if (building) {
        again = true;
        return;
      }
      building = true;
      try {
        do {
          again = false;
          // The set of inputs may change with the policy (a new `extends:`): watch the new set.
          try {
            arm((await buildOnce(opts, cwd)).inputs);
          } catch (e) {
            // A file that cannot be written ends a plain build (exit 2); a watch says so and waits for the next change.
            process.stderr.write(`sbc build: ${(e as Error).message}\n`);
          }
        } while (again);
      } finally {
        building = false;
      }
    };
    process.once("SIGINT", () => {
      watcher?.close();
      process.stderr.write("sbc build: stopped\n");
      done(EXIT_OK);
    });
    arm(first.inputs);
  });
}
