// The targets `sbc compile` can emit, each loaded only when asked for. A target turns the checked IR into
// bytes or text, with its own diagnostics (fidelity warnings, size limits).

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { ARCHES, type Arch } from "../linux-abi/index.js";
import { irToJson } from "../ir/serialize.js";
import { packageVersion } from "../compiler/package-root.js";
import { UsageError } from "./errors.js";
export { MAX_ABI } from "../targets/landlock/abi.js";

export interface TargetOptions {
  /** Landlock: the ABI to build the table for (default MAX_ABI), the compatibility level, and --strict. */
  readonly abi?: number;
  readonly compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  readonly strict?: boolean;
  /** From --arch; each target has its own default when absent. */
  readonly arches: readonly Arch[] | undefined;
  readonly withSpans: boolean;
}

export interface TargetOutput {
  readonly output?: string | Uint8Array;
  readonly diagnostics: Diagnostic[];
}

type Emitter = (ir: IR, options: TargetOptions) => Promise<TargetOutput>;

async function seccomp(ir: IR, options: TargetOptions, format: "bin" | "c" | "disasm" | "json"): Promise<TargetOutput> {
  const { compileSeccomp } = await import("../targets/seccomp/index.js");
  const r = compileSeccomp(ir, options.arches ?? ["x86_64"]);
  if (!r.filter) return { diagnostics: r.diagnostics };
  const f = r.filter;
  const emit = await import("../targets/seccomp/emit.js");
  const { disassemble, describeInsn } = await import("../targets/seccomp/disassemble.js");
  const text =
    format === "bin"
      ? emit.emitBinary(f)
      : format === "c"
        ? emit.emitCHeader(f, ir.name, packageVersion(), (i, pc) => describeInsn(i, pc, f.endianness))
        : format === "json"
          ? emit.emitJson(f, ir.name)
          : disassemble(f.program, { comment: (pc: number) => f.comments.get(pc), endianness: f.endianness });
  return { output: text, diagnostics: r.diagnostics };
}

async function landlock(ir: IR, o: TargetOptions, format: "json" | "c"): Promise<TargetOutput> {
  const { lowerLandlock } = await import("../targets/landlock/lower.js");
  const { tableToJson, tableToCHeader } = await import("../targets/landlock/emit.js");
  const { MAX_ABI } = await import("../targets/landlock/abi.js");
  const r = lowerLandlock(ir, { abi: o.abi ?? MAX_ABI, namespaces: ir.linux.namespaces, ...(o.compat ? { compat: o.compat } : {}), ...(o.strict ? { strict: true } : {}) });
  if (!r.table) return { diagnostics: r.diagnostics };
  return { output: format === "json" ? tableToJson(r.table) : tableToCHeader(r.table, packageVersion()), diagnostics: r.diagnostics };
}

async function sbpl(ir: IR, params: "inline" | "param"): Promise<TargetOutput> {
  const { compileSbpl } = await import("../targets/sbpl/index.js");
  const r = compileSbpl(ir, { params });
  return { ...(r.profile !== undefined ? { output: r.profile } : {}), diagnostics: r.diagnostics };
}

export const TARGETS: Readonly<Record<string, { readonly description: string; readonly emit: Emitter }>> = {
  ir: { description: "the IR as JSON", emit: async (ir, o) => ({ output: irToJson(ir, { spans: o.withSpans }), diagnostics: [] }) },
  seccomp: { description: "seccomp-BPF: raw struct sock_filter bytes", emit: (ir, o) => seccomp(ir, o, "bin") },
  "seccomp-c": { description: "seccomp-BPF as a C header (sock_filter array and sock_fprog)", emit: (ir, o) => seccomp(ir, o, "c") },
  "seccomp-disasm": { description: "seccomp-BPF disassembly", emit: (ir, o) => seccomp(ir, o, "disasm") },
  "seccomp-json": { description: "seccomp-BPF as JSON", emit: (ir, o) => seccomp(ir, o, "json") },
  landlock: { description: "the Landlock rule table as JSON", emit: (ir, o) => landlock(ir, o, "json") },
  "landlock-c": { description: "the Landlock rule table as a C header", emit: (ir, o) => landlock(ir, o, "c") },
  linux: {
    description: "the Linux bundle: the Landlock table and the seccomp filter as the plan sbc-loader applies",
    emit: async (ir, o) => {
      const { lowerLandlock } = await import("../targets/landlock/lower.js");
      const { buildPlan } = await import("../targets/landlock/plan.js");
      const { compileSeccomp } = await import("../targets/seccomp/index.js");
      const { allowsEverything, encode } = await import("../targets/seccomp/bpf.js");
      const { ACCESS_FS, MAX_ABI } = await import("../targets/landlock/abi.js");
      const l = lowerLandlock(ir, { abi: o.abi ?? MAX_ABI, namespaces: ir.linux.namespaces, ...(o.compat ? { compat: o.compat } : {}), ...(o.strict ? { strict: true } : {}) });
      // A table that enforces unix socket paths (RESOLVE_UNIX) takes connect(2) off the filter's hands.
      const unixPathsByLandlock = l.table !== undefined && (l.table.handledAccessFs & ACCESS_FS.resolve_unix) !== 0;
      const s = compileSeccomp(ir, o.arches ?? ["x86_64"], { unixPathsByLandlock });
      const diagnostics = [...l.diagnostics, ...s.diagnostics];
      if (!l.table || !s.filter) return { diagnostics };
      const t = l.table;
      const restricts = t.handledAccessFs || t.handledAccessNet || t.scoped;
      const filter = allowsEverything(s.filter.program) ? undefined : encode(s.filter.program, s.filter.endianness);
      return { output: buildPlan(restricts ? t : undefined, filter, { mounts: t.mounts, namespaces: ir.linux.namespaces }).text, diagnostics };
    },
  },
  sbpl: { description: "a macOS Seatbelt profile (SBPL) for sandbox-exec -p, paths written inline", emit: (ir) => sbpl(ir, "inline") },
  "sbpl-params": {
    description: "the Seatbelt profile with every path as a sandbox-exec -D parameter (the same as -t sbpl --sbpl-params)",
    emit: (ir) => sbpl(ir, "param"),
  },
  "oci-seccomp": {
    description: "the syscalls section as a Docker/OCI seccomp profile",
    emit: async (ir, o) => {
      const { emitOciSeccomp } = await import("../targets/oci-seccomp/emit.js");
      const r = emitOciSeccomp(ir, o.arches ? { arches: o.arches } : {});
      return { ...(r.json !== undefined ? { output: r.json } : {}), diagnostics: r.diagnostics };
    },
  },
};

export function parseArches(value: string | undefined): Arch[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const a of list) if (!(ARCHES as readonly string[]).includes(a)) throw new UsageError(`unknown arch \`${a}\``, `arches: ${ARCHES.join(", ")}`);
  if (!list.length) throw new UsageError("--arch needs at least one arch");
  return [...new Set(list)] as Arch[];
}
