// Importing a foreign profile as an sbc policy: today a Docker/OCI seccomp profile (JSON) becomes YAML. What a
// profile says that a policy cannot (conditions on capabilities, unknown names, tracer actions) is decided for
// the container the options describe and reported as warnings.

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { closest } from "../diagnostics/diagnostic.js";
import { importOciSeccomp as importProfile } from "../compiler/importers/oci-seccomp.js";
import { ARCHES, isArch, type Arch } from "../linux-abi/index.js";
import { UsageError } from "./errors.js";

/** The formats `sbc import` reads. */
export const IMPORT_FORMATS = ["oci-seccomp"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportOciOptions {
  /** The profile's path as diagnostics show it; its base name also names the policy. Default `profile.json`. */
  readonly path?: string;
  /** The container's architecture, for arch-specific entries. Default x86_64. */
  readonly arch?: Arch | string;
  /** Capabilities the container has (`CAP_SYS_ADMIN` …), for cap-specific entries. Default none. */
  readonly caps?: readonly string[];
  /** The host kernel, `major.minor`, for `minKernel` entries. Default: every `minKernel` condition holds. */
  readonly minKernel?: string;
}

export interface ImportOutput {
  /** The policy as YAML; absent when the profile cannot be imported (the diagnostics say why). */
  readonly output?: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** The format name checked; UsageError with a suggestion when sbc does not import it. */
export function checkImportFormat(format: string): ImportFormat {
  if ((IMPORT_FORMATS as readonly string[]).includes(format)) return format as ImportFormat;
  const guess = closest(format, IMPORT_FORMATS);
  throw new UsageError(`unknown import format \`${format}\``, guess ? `did you mean \`${guess}\`?` : `formats: ${IMPORT_FORMATS.join(", ")}`);
}

/** The options checked (UsageError for an unknown arch or a malformed kernel version); the arch to import for. */
export function checkImportOptions(options: ImportOciOptions): Arch {
  const arch = options.arch ?? "x86_64";
  if (!isArch(arch)) throw new UsageError(`unknown arch \`${arch}\``, `arches: ${ARCHES.join(", ")}`);
  if (options.minKernel !== undefined && !/^\d+\.\d+/.test(options.minKernel)) throw new UsageError(`--min-kernel takes a version such as \`6.1\`, found \`${options.minKernel}\``);
  return arch;
}

/** A Docker/OCI seccomp profile's JSON text as an sbc policy, as `sbc import oci-seccomp` writes it. Bad options throw UsageError. */
export function importOciSeccomp(json: string, options: ImportOciOptions = {}): ImportOutput {
  const arch = checkImportOptions(options);
  const r = importProfile(json.charCodeAt(0) === 0xfeff ? json.slice(1) : json, {
    path: options.path ?? "profile.json",
    arch,
    caps: options.caps ?? [],
    ...(options.minKernel !== undefined ? { minKernel: options.minKernel } : {}),
  });
  const failed = r.yaml === undefined || r.diagnostics.some((d) => d.severity === "error");
  return { ...(failed ? {} : { output: r.yaml! }), diagnostics: r.diagnostics };
}
