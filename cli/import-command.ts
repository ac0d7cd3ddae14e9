// `sbc import oci-seccomp FILE`: a Docker/OCI seccomp profile as an sbc policy (YAML on stdout or in a file).
// What a profile says that a policy cannot (conditions on capabilities, unknown names, tracer actions) is
// decided for the container described by the options and reported as warnings.

import { closest, diag } from "../diagnostics/diagnostic.js";
import { importOciSeccomp } from "../compiler/importers/oci-seccomp.js";
import { ARCHES, isArch } from "../linux-abi/index.js";
import { decodeSource } from "../compiler/passes/load-file.js";
import { readInputFile } from "../compiler/passes/read-file.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { printDiagnostics, writeAtomic } from "./output.js";

export const FORMATS = ["oci-seccomp"] as const;

export interface ImportCommandOptions {
  output?: string;
  arch?: string;
  cap: string[];
  minKernel?: string;
  format: string;
  quiet?: boolean;
  color: boolean;
}

export async function runImport(format: string, file: string, opts: ImportCommandOptions): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(format)) {
    const guess = closest(format, FORMATS);
    throw new UsageError(`unknown import format \`${format}\``, guess ? `did you mean \`${guess}\`?` : `formats: ${FORMATS.join(", ")}`);
  }
  const arch = opts.arch ?? "x86_64";
  if (!isArch(arch)) throw new UsageError(`unknown arch \`${arch}\``, `arches: ${ARCHES.join(", ")}`);
  if (opts.minKernel !== undefined && !/^\d+\.\d+/.test(opts.minKernel)) throw new UsageError(`--min-kernel takes a version such as \`6.1\`, found \`${opts.minKernel}\``);
  const read = readInputFile(file);
  if (!("bytes" in read)) {
    if (!read.tooLarge) throw new UsageError(`cannot read \`${file}\`: ${read.reason}`);
    printDiagnostics([diag("fileTooLarge", `cannot read \`${file}\`: ${read.reason}`)], { format: opts.format, color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  const decoded = decodeSource(file, read.bytes);
  if (!decoded.source) {
    printDiagnostics(decoded.diagnostics, { format: opts.format, color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  const r = importOciSeccomp(decoded.source.text, {
    path: file,
    arch,
    caps: opts.cap,
    ...(opts.minKernel !== undefined ? { minKernel: opts.minKernel } : {}),
  });
  printDiagnostics(r.diagnostics, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) }, process.stderr);
  if (r.yaml === undefined || r.diagnostics.some((d) => d.severity === "error")) return EXIT_FINDINGS;
  if (opts.output) writeAtomic(opts.output, r.yaml);
  else process.stdout.write(r.yaml);
  return EXIT_OK;
}
