// The one registry of the targets `sbc compile` and `compile()` can emit, each backend loaded only when asked
// for. A target turns the checked IR into bytes or text through its backend's `compile` (ir/backend.ts), with
// that backend's diagnostics (fidelity warnings, size limits); docs/adding-a-target.md says how to add one.

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { ARCHES, type Arch } from "../linux-abi/index.js";
import { irToJson } from "../ir/serialize.js";
import { packageVersion } from "../compiler/package-root.js";
import { MAX_ABI } from "../targets/landlock/abi.js";
import { DEFAULT_PROXY_PORT, lowerDomainRulesForProxy } from "../ir/backend.js";
import { UsageError } from "./errors.js";
export { MAX_ABI };

export interface TargetOptions {
  /** Landlock: the ABI to build the table for (default MAX_ABI), the compatibility level, and --strict. */
  readonly abi?: number;
  readonly compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  readonly strict?: boolean;
  /** From --arch; absent: the target's `defaultArches`. */
  readonly arches: readonly Arch[] | undefined;
  readonly withSpans: boolean;
  /** Seatbelt: sbc's egress proxy runs on localhost:proxyPort; rules by domain may reach only it. */
  readonly proxyPort?: number;
}

export interface TargetOutput {
  readonly output?: string | Uint8Array;
  readonly diagnostics: Diagnostic[];
}

export interface Target {
  readonly description: string;
  /** Binary targets emit a `Uint8Array` (never written to a terminal); text targets a string. */
  readonly binary: boolean;
  /** The arches a target for seccomp filters builds for without `--arch`; undefined: arches do not apply. */
  readonly defaultArches?: readonly Arch[];
  readonly emit: (ir: IR, options: TargetOptions) => Promise<TargetOutput>;
}

const X86_64: readonly Arch[] = ["x86_64"];

/** The output of a backend result whose artifact `show` turns into the target's bytes or text. */
function shown<A>(r: { artifact?: A; diagnostics: Diagnostic[] }, show: (a: A) => string | Uint8Array): TargetOutput {
  return { ...(r.artifact !== undefined ? { output: show(r.artifact) } : {}), diagnostics: r.diagnostics };
}

async function seccomp(ir: IR, options: TargetOptions, format: "bin" | "c" | "disasm" | "json"): Promise<TargetOutput> {
  const backend = await import("../targets/seccomp/index.js");
  const emit = await import("../targets/seccomp/emit.js");
  const { disassemble, describeInsn } = await import("../targets/seccomp/disassemble.js");
  return shown(backend.compile(ir, { arches: options.arches ?? X86_64 }), (f) =>
    format === "bin"
      ? emit.emitBinary(f)
      : format === "c"
        ? emit.emitCHeader(f, ir.name, packageVersion(), (i, pc) => describeInsn(i, pc, f.endianness))
        : format === "json"
          ? emit.emitJson(f, ir.name)
          : disassemble(f.program, { comment: (pc: number) => f.comments.get(pc), endianness: f.endianness }),
  );
}

/** The Landlock backend's options for a target's: the table `sbc compile` builds (the policy's own namespaces). */
function landlockOptions(ir: IR, o: TargetOptions) {
  return { abi: o.abi ?? MAX_ABI, namespaces: ir.linux.namespaces, ...(o.compat ? { compat: o.compat } : {}), ...(o.strict ? { strict: true } : {}) };
}

async function landlock(ir: IR, o: TargetOptions, format: "json" | "c"): Promise<TargetOutput> {
  const backend = await import("../targets/landlock/index.js");
  const { tableToJson, tableToCHeader } = await import("../targets/landlock/emit.js");
  return shown(backend.compile(ir, landlockOptions(ir, o)), (t) => (format === "json" ? tableToJson(t) : tableToCHeader(t, packageVersion())));
}

/**
 * The plan sbc-loader applies. A policy with rules by domain gets `net-proxy`: the command runs in a network
 * namespace of its own behind the egress proxy, with the proxy's decision table where the relay can decide alone
 * (else only `sbc exec` can answer it, and the loader refuses the plan without it); the kernel's side is the IR
 * lowered for the proxy (ir/backend.ts), with its warnings.
 */
async function linuxBundle(source: IR, o: TargetOptions): Promise<TargetOutput> {
  const proxied = source.network.domains?.length ? lowerDomainRulesForProxy(source) : undefined;
  const ir = proxied?.ir ?? source;
  const landlockBackend = await import("../targets/landlock/index.js");
  const seccompBackend = await import("../targets/seccomp/index.js");
  const { buildPlan } = await import("../targets/landlock/plan.js");
  const { allowsEverything, encode } = await import("../targets/seccomp/bpf.js");
  const { ACCESS_FS } = await import("../targets/landlock/abi.js");
  const l = landlockBackend.compile(ir, landlockOptions(ir, o));
  // A table that enforces unix socket paths (RESOLVE_UNIX) takes connect(2) off the filter's hands.
  const unixPathsByLandlock = l.artifact !== undefined && (l.artifact.handledAccessFs & ACCESS_FS.resolve_unix) !== 0;
  const s = seccompBackend.compile(ir, { arches: o.arches ?? X86_64, unixPathsByLandlock });
  const diagnostics = [...(proxied?.diagnostics ?? []), ...l.diagnostics, ...s.diagnostics];
  if (!l.artifact || !s.artifact) return { diagnostics };
  const t = l.artifact;
  const restricts = t.handledAccessFs || t.handledAccessNet || t.scoped;
  const filter = allowsEverything(s.artifact.program) ? undefined : encode(s.artifact.program, s.artifact.endianness);
  // With the proxy's decision table (when the relay can decide alone: no HTTP method/path rules), the loader
  // runs the bundle without `sbc exec` behind it, as it runs a cached plan.
  // The refusals' texts name each rule's file:line:col only with --with-spans (as `-t ir`): by default the
  // bundle's bytes do not depend on where the policy file lies or which syntax it is written in.
  const table = proxied ? (await import("./proxy/table.js")).proxyTableLines(o.withSpans ? source : withoutNetworkSpans(source), DEFAULT_PROXY_PORT) : undefined;
  const netProxy = proxied ? { netProxy: { port: DEFAULT_PROXY_PORT, ...(table ? { table } : {}) } } : {};
  return { output: buildPlan(restricts ? t : undefined, filter, { mounts: t.mounts, namespaces: ir.linux.namespaces, ...netProxy }).text, diagnostics };
}

/** The IR with its network rules' spans dropped (the proxy table's labels then name the rule by its text alone). */
function withoutNetworkSpans(ir: IR): IR {
  const strip = <T extends { readonly span?: unknown }>(r: T): T => {
    const { span: _span, ...rest } = r;
    return rest as T;
  };
  return { ...ir, network: { ...ir.network, rules: ir.network.rules.map(strip), ...(ir.network.domains ? { domains: ir.network.domains.map(strip) } : {}) } };
}

async function sbpl(ir: IR, params: "inline" | "param", proxyPort: number | undefined): Promise<TargetOutput> {
  const backend = await import("../targets/sbpl/index.js");
  return shown(backend.compile(ir, { params, ...(proxyPort !== undefined ? { proxyPort } : {}) }), (p) => p.profile);
}

async function ociSeccomp(ir: IR, o: TargetOptions): Promise<TargetOutput> {
  const backend = await import("../targets/oci-seccomp/index.js");
  return shown(backend.compile(ir, o.arches ? { arches: o.arches } : {}), (json) => json);
}

/** Every target, in the order `sbc compile --help` lists them. */
export const TARGETS: Readonly<Record<string, Target>> = {
  ir: { description: "the IR as JSON", binary: false, emit: async (ir, o) => ({ output: irToJson(ir, { spans: o.withSpans }), diagnostics: [] }) },
  seccomp: { description: "seccomp-BPF: raw struct sock_filter bytes", binary: true, defaultArches: X86_64, emit: (ir, o) => seccomp(ir, o, "bin") },
  "seccomp-c": { description: "seccomp-BPF as a C header (sock_filter array and sock_fprog)", binary: false, defaultArches: X86_64, emit: (ir, o) => seccomp(ir, o, "c") },
  "seccomp-disasm": { description: "seccomp-BPF disassembly", binary: false, defaultArches: X86_64, emit: (ir, o) => seccomp(ir, o, "disasm") },
  "seccomp-json": { description: "seccomp-BPF as JSON", binary: false, defaultArches: X86_64, emit: (ir, o) => seccomp(ir, o, "json") },
  landlock: { description: "the Landlock rule table as JSON", binary: false, emit: (ir, o) => landlock(ir, o, "json") },
  "landlock-c": { description: "the Landlock rule table as a C header", binary: false, emit: (ir, o) => landlock(ir, o, "c") },
  linux: {
    description: "the Linux bundle: the Landlock table and the seccomp filter as the plan sbc-loader applies",
    binary: false,
    defaultArches: X86_64,
    emit: linuxBundle,
  },
  sbpl: { description: "a macOS Seatbelt profile (SBPL) for sandbox-exec -p, paths written inline", binary: false, emit: (ir, o) => sbpl(ir, "inline", o.proxyPort) },
  "sbpl-params": {
    description: "the Seatbelt profile with every path as a sandbox-exec -D parameter (the same as -t sbpl --sbpl-params)",
    binary: false,
    emit: (ir, o) => sbpl(ir, "param", o.proxyPort),
  },
  "oci-seccomp": {
    description: "the syscalls section as a Docker/OCI seccomp profile",
    binary: false,
    // The backend's own default (targets/oci-seccomp/emit.ts), said here for the registry's readers.
    defaultArches: ["x86_64", "aarch64"],
    emit: ociSeccomp,
  },
};

export function parseArches(value: string | undefined): Arch[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const a of list) if (!(ARCHES as readonly string[]).includes(a)) throw new UsageError(`unknown arch \`${a}\``, `arches: ${ARCHES.join(", ")}`);
  if (!list.length) throw new UsageError("--arch needs at least one arch");
  return [...new Set(list)] as Arch[];
}
