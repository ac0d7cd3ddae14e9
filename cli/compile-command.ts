// `sbc compile`: one policy (or preset) to one target's artifact on stdout or in a file. Diagnostics go to
// stderr; on any error nothing is written.

import { compile, type CompileInput } from "../lib/compile.js";
import { MAX_ABI, parseArches, TARGETS } from "../lib/targets.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { parseKernelOption, parseParams, printDiagnostics, throwIfEntryUnreadable, writeAtomic } from "./output.js";

export interface CompileCommandOptions {
  target: string;
  preset?: string;
  output?: string;
  param: string[];
  withSpans?: boolean;
  abi?: string;
  compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  strict?: boolean;
  arch?: string;
  stopAfter?: "build-ir" | "check";
  kernel?: string;
  proxyPort?: string;
  format: string;
  quiet?: boolean;
  color: boolean;
}

export async function runCompile(policy: string | undefined, opts: CompileCommandOptions): Promise<number> {
  const arches = parseArches(opts.arch);
  if ((policy === undefined) === (opts.preset === undefined)) {
    throw new UsageError(policy === undefined ? "name a policy file or a --preset" : "name a policy file or a --preset, not both");
  }
  const params = parseParams(opts.param);
  const kernel = parseKernelOption(opts.kernel);
  let abi: number | undefined;
  if (opts.abi !== undefined) {
    if (!/^[1-9]\d*$/.test(opts.abi) || Number(opts.abi) > MAX_ABI) throw new UsageError(`--abi takes a Landlock ABI from 1 to ${MAX_ABI}, found \`${opts.abi}\``);
    abi = Number(opts.abi);
  }
  let proxyPort: number | undefined;
  if (opts.proxyPort !== undefined) {
    if (!/^[1-9]\d{0,4}$/.test(opts.proxyPort) || Number(opts.proxyPort) > 65535) throw new UsageError(`--proxy-port takes a port, 1–65535, found \`${opts.proxyPort}\``);
    proxyPort = Number(opts.proxyPort);
  }
  const input: CompileInput = policy !== undefined ? { kind: "file", path: policy } : { kind: "preset", name: opts.preset! };
  const r = await compile(input, {
    target: opts.target,
    params,
    ...(arches ? { arch: arches } : {}),
    ...(abi !== undefined ? { abi } : {}),
    ...(kernel !== undefined ? { kernel } : {}),
    ...(opts.stopAfter ? { stopAfter: opts.stopAfter } : {}),
    ...(opts.compat ? { compat: opts.compat } : {}),
    ...(opts.strict ? { strict: true } : {}),
    ...(proxyPort !== undefined ? { proxyPort } : {}),
    withSpans: Boolean(opts.withSpans),
  });
  if (policy !== undefined) throwIfEntryUnreadable({ filesRead: r.files, diagnostics: r.diagnostics });
  printDiagnostics(r.diagnostics, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) }, process.stderr);
  if (!r.ok || r.output === undefined) return EXIT_FINDINGS;
  const out = r.output;
  if (opts.output) writeAtomic(opts.output, out);
  else {
    if (TARGETS[opts.target]?.binary && process.stdout.isTTY) throw new UsageError(`target \`${opts.target}\` is binary; write it with \`-o FILE\` or redirect stdout`);
    process.stdout.write(out);
  }
  return EXIT_OK;
}
