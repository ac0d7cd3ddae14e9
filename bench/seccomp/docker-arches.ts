// Docker's default profile on every arch, sbc against libseccomp 2.5.4: for each arch both build the filter
// for that arch alone from the same JSON — sbc through its importer and compiler, libseccomp through
// libseccomp-gen.py's own reading of the profile (moby's includes/excludes, runc's rules) — and the BPF
// interpreter runs both on every syscall number with argument vectors that flip every condition of the profile.
// Also the x32/i386 bypass check on an x86_64 filter and on an x86_64+x32+i386 filter, and the sizes.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { compilePolicy, hasErrors, renderHumanAll } from "../../lib/index.js";
import { importOciSeccomp } from "../../compiler/importers/oci-seccomp.js";
import { argBits } from "../../ir/arg-widths.js";
import { ARCHES, ARCH_INFO, X32_SYSCALL_BIT, errnoValue, syscallTable, type Arch } from "../../linux-abi/index.js";
import { decode, type Insn } from "../../targets/seccomp/bpf.js";
import { compileSeccomp } from "../../targets/seccomp/index.js";
import { prepareFilter, type FilterRun, type SeccompData } from "../../targets/seccomp/interpreter.js";
import { verdictOfRet } from "./metrics.js";
import { REPO, SYSTEM_PYTHON } from "./setup.js";

const GENERATOR = join(REPO, "bench", "seccomp", "libseccomp-gen.py");

/**
 * moby's oci/caps/defaults.go (DefaultCapabilities): the capabilities a Docker container gets by default. The
 * same list as tests/support/docker.ts, which the benchmark does not import (test code).
 */
export const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
] as const;

/** The arches libseccomp 2.5.4 has of sbc's: all but loongarch64 (added in libseccomp 2.6.0). */
export const LIBSECCOMP_ARCHES: readonly Arch[] = ARCHES.filter((a) => a !== "loongarch64");

const U32 = 0xffffffffn;
const CLONE_NEWUSER = 0x10000000n;
const ENOSYS = errnoValue("ENOSYS")!;
const SYS_SOCKET = 1n;

// ---- the two compilers ------------------------------------------------------------------------------------

interface OciEntry {
  readonly names?: readonly string[];
  readonly name?: string;
  readonly action: string;
  readonly args?: readonly { index: number; value: number; valueTwo?: number; op: string }[];
  readonly includes?: unknown;
  readonly excludes?: unknown;
}

/** sbc: import for `arches[0]` (the native arch, as Docker resolves includes) with Docker's caps, compile for `arches`. */
export function sbcDockerFilter(profilePath: string, arches: readonly Arch[]): Insn[] {
  const path = relative(REPO, profilePath);
  const imported = importOciSeccomp(readFileSync(profilePath, "utf8"), { path, arch: arches[0]!, caps: [...DOCKER_DEFAULT_CAPS] });
  if (!imported.yaml || hasErrors(imported.diagnostics)) throw new Error(`importing ${path} for ${arches[0]} failed:\n${renderHumanAll(imported.diagnostics)}`);
  const compiled = compilePolicy({ kind: "text", path: `docker-default.${arches[0]}.yaml`, text: imported.yaml });
  if (!compiled.ir || hasErrors(compiled.diagnostics)) throw new Error(`sbc cannot compile Docker's profile for ${arches[0]}:\n${renderHumanAll(compiled.diagnostics)}`);
  const { filter, diagnostics } = compileSeccomp(compiled.ir, arches);
  if (!filter) throw new Error(`sbc cannot compile Docker's profile for ${arches.join("+")}:\n${renderHumanAll(diagnostics)}`);
  return [...filter.program];
}

/** libseccomp, from the profile itself: what moby and runc would load, for `arches` (includes resolved for `arches[0]`). */
export function libseccompDockerFilter(profilePath: string, arches: readonly Arch[], dir: string, optimize: 1 | 2): LibseccompFilter {
  const slug = `docker-default.${arches.join("+")}`;
  const targetFile = join(dir, `${slug}.libseccomp-target.json`);
  const out = join(dir, `${slug}.libseccomp-o${optimize}.bpf`);
  const target = {
    caps: [...DOCKER_DEFAULT_CAPS],
    profileArch: ARCH_INFO[arches[0]!].profileArch,
    // Table numbers as they are: libseccomp adds x32's bit itself (its x32 arch has __SCMP_NR_BASE).
    arches: arches.map((a) => ({ scmp: ARCH_INFO[a].scmpName, numbers: syscallTable(a) })),
  };
  writeFileSync(targetFile, JSON.stringify(target) + "\n");
  const report = execFileSync(SYSTEM_PYTHON, [GENERATOR, "--profile", profilePath, targetFile, out, "--optimize", String(optimize)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const unaddable = (JSON.parse(report) as { unaddable: Record<string, string[]> }).unaddable;
  // libseccomp writes the program in the target's byte order (its gen_bpf converts each field)…
  const endianness = ARCH_INFO[arches[0]!].endianness;
  const decoded = decode(new Uint8Array(readFileSync(out)), endianness);
  return {
    program: endianness === "big" ? repairRets(decoded) : decoded,
    unaddable: new Set(arches.flatMap((a) => (unaddable[ARCH_INFO[a].scmpName] ?? []).map((n) => `${a}:${n}`))),
  };
}

/** The return values a Docker-profile filter can have: ALLOW, ERRNO(EPERM), ERRNO(ENOSYS), KILL_PROCESS. */
const PROFILE_RETS = new Set([0x7fff0000, 0x00050000 | 1, 0x00050000 | ENOSYS, 0x80000000]);
const swap32 = (k: number) => (((k & 0xff) << 24) | ((k & 0xff00) << 8) | ((k >>> 8) & 0xff00) | (k >>> 24)) >>> 0;
/** Big-endian repairs made, for the report. */
export const repairs = { rets: 0 };

/**
 * …except, in 2.5.4 on a little-endian host, the `ret` values inside the program of a big-endian (s390x)
 * filter, which stay in host order (`ret 0x0000ff7f` for ALLOW; the final ones are right). The kernel on
 * s390x would read them as KILL_THREAD. A `ret` whose value is none of the profile's and whose byte-swap is
 * one is swapped back and counted; the agreement check then judges the rest of the program.
 */
function repairRets(program: Insn[]): Insn[] {
  return program.map((i) => {
    if (i.code !== 0x06 || PROFILE_RETS.has(i.k >>> 0) || !PROFILE_RETS.has(swap32(i.k))) return i;
    repairs.rets++;
    return { ...i, k: swap32(i.k) };
  });
}

export interface LibseccompFilter {
  readonly program: Insn[];
  /** `arch:name` of the calls libseccomp 2.5.4 refused to add or does not know by number (its tables lack them). */
  readonly unaddable: ReadonlySet<string>;
}

// ---- the events -------------------------------------------------------------------------------------------

export interface Event {
  readonly arch: Arch;
  /** The number as the filter sees it (x32's bit included). */
  readonly nr: number;
  readonly args: readonly bigint[];
  /** Syscall name on `arch` when `nr` is in its table. */
  readonly name?: string;
}

/** Argument values that flip each condition the profile puts on `name` (any entry, whatever it includes). */
function conditionVectors(profile: { syscalls: readonly OciEntry[] }, name: string): bigint[][] {
  const values = new Map<number, Set<bigint>>();
  const add = (index: number, v: bigint) => {
    if (v < 0n || v > U32) return; // the agreement check uses values without high bits (see highBitVariants)
    const set = values.get(index) ?? new Set<bigint>();
    values.set(index, set);
    set.add(v);
  };
  for (const e of profile.syscalls) {
    if (!(e.names ?? []).includes(name) && e.name !== name) continue;
    for (const c of e.args ?? []) {
      const v = BigInt(c.value);
      for (const x of [0n, v - 1n, v, v + 1n, U32]) add(c.index, x);
      if (c.op === "SCMP_CMP_MASKED_EQ") {
        // value is the mask, valueTwo the datum: each bit of the mask alone, all of it, and common flag sets with and without CLONE_NEWUSER.
        for (let b = 0n; b < 32n; b++) if ((v >> b) & 1n) add(c.index, 1n << b);
        const datum = BigInt(c.valueTwo ?? 0);
        const thread = 0x3d0f00n; // CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID
        for (const x of [datum, v | datum, ~v & U32, thread, thread | CLONE_NEWUSER, 0x11n /* SIGCHLD */, 0x11n | CLONE_NEWUSER, CLONE_NEWUSER]) add(c.index, x);
      }
    }
  }
  if (name === "socket") for (let domain = 0n; domain <= 45n; domain++) add(0, domain); // every AF_* to AF_MAX
  const vectors: bigint[][] = [];
  for (const [index, vs] of values) {
    for (const v of [...vs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (v === 0n) continue; // all-zero is probed for every number
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      args[index] = v;
      vectors.push(args);
    }
  }
  return vectors;
}

/**
 * Every event of the agreement check for a filter built for `arch` alone: every number 0..max+64 of its table
 * (x32's with the bit), −1, the other x86 ABI's numbers (x32 forms on x86_64, plain ones on x32; samples
 * elsewhere), all arguments 0; the condition-flipping vectors of the profile on its conditional calls
 * (`socketcall(SYS_SOCKET, …)` as well where the arch multiplexes sockets); and one call of each other arch.
 */
export function agreementEvents(arch: Arch, profile: { syscalls: readonly OciEntry[] }): Event[] {
  const table = syscallTable(arch);
  const byNr = new Map(Object.entries(table).map(([n, nr]) => [nr, n] as const));
  const base = ARCH_INFO[arch].nrBase;
  const max = Math.max(...Object.values(table));
  const zero = [0n, 0n, 0n, 0n, 0n, 0n];
  const events: Event[] = [];
  const conditional = new Set(profile.syscalls.filter((e) => e.args?.length).flatMap((e) => [...(e.names ?? []), ...(e.name ? [e.name] : [])]));
  for (let nr = 0; nr <= max + 64; nr++) {
    const name = byNr.get(nr);
    events.push({ arch, nr: (nr + base) >>> 0, args: zero, ...(name ? { name } : {}) });
    if (name && conditional.has(name)) for (const args of conditionVectors(profile, name)) events.push({ arch, nr: (nr + base) >>> 0, args, name });
    if (name === "socketcall") {
      // socketcall(SYS_SOCKET, args): the filter sees only the call number and a pointer.
      for (const p of [0n, 0x1000n]) events.push({ arch, nr, args: [SYS_SOCKET, p, 0n, 0n, 0n, 0n], name });
    }
  }
  events.push({ arch, nr: -1, args: zero });
  const other = arch === "x32" ? Array.from({ length: max + 65 }, (_, i) => i) : arch === "x86_64" ? Array.from({ length: max + 65 }, (_, i) => (i | X32_SYSCALL_BIT) >>> 0) : [0, 1, 41, 59, 101, max].map((i) => (i | X32_SYSCALL_BIT) >>> 0);
  for (const nr of other) events.push({ arch, nr, args: zero });
  return events;
}

/** The same events with the high 32 bits of the varied argument set, on 64-bit registers only. */
function highBitVariants(events: readonly Event[]): Event[] {
  if (ARCH_INFO[events[0]!.arch].registerBits !== 64) return [];
  const out: Event[] = [];
  for (const e of events) {
    const i = e.args.findIndex((a) => a !== 0n);
    if (i < 0 || !e.name) continue;
    for (const high of [1n << 32n, 0xffffffff00000000n]) {
      const args = [...e.args];
      args[i] = args[i]! | high;
      out.push({ ...e, args });
    }
  }
  return out;
}

// ---- the comparison ---------------------------------------------------------------------------------------

type Runner = (data: SeccompData) => FilterRun;

function runOn(run: Runner, e: { arch: Arch | number; nr: number; args: readonly bigint[] }, endianArch: Arch): FilterRun {
  const auditArch = typeof e.arch === "number" ? e.arch : ARCH_INFO[e.arch].auditArch;
  return run({ nr: e.nr, arch: auditArch, args: e.args, byteOrder: ARCH_INFO[endianArch].endianness });
}

export interface Difference {
  readonly event: Event;
  readonly sbc: string;
  readonly libseccomp: string;
  /** Why the two differ by design; absent for a disagreement (a bench failure). */
  readonly reason?: string;
}

const show = (e: Event) =>
  `${e.arch} nr ${e.nr}${e.name ? ` (${e.name})` : ""} args [${e.args.map((a) => (a < 10n ? `${a}` : `0x${a.toString(16)}`)).join(", ")}]`;
export const showDifference = (d: Difference) => `${show(d.event)}: sbc ${d.sbc}, libseccomp ${d.libseccomp}${d.reason ? ` — ${d.reason}` : ""}`;

/**
 * Why sbc's verdict may differ from libseccomp's on `e` by design, or undefined. Each reason is narrow and
 * checked against the verdicts, so it cannot excuse a different difference: a high-bit one needs a 32-bit
 * argument and sbc's verdict for the low halves alone (`sbcOnLowHalves`).
 */
function designedDifference(e: Event, sbc: string, lib: string, maxNamed: number, highBits: boolean, unaddable: ReadonlySet<string>, defaultVerdict: string, plainlyAllowed: ReadonlySet<string>, sbcOnLowHalves: string): string | undefined {
  if (e.name && unaddable.has(`${e.arch}:${e.name}`) && lib === defaultVerdict && sbc === "allow" && plainlyAllowed.has(e.name)) {
    return `libseccomp 2.5.4's table for the arch lacks the call: it refuses a rule by its number (or, riscv64's 258, adds it as another number), so it gives the default action where the profile allows the call unconditionally; runc skips names libseccomp cannot resolve the same way`;
  }
  if (e.name === "socketcall" && e.args[0] === SYS_SOCKET && lib === "allow" && sbc !== "allow") {
    return "sbc narrower: socket's conditions on the domain cannot be checked through socketcall (its arguments are behind a pointer), so sbc refuses socketcall(SYS_SOCKET); libseccomp allows socketcall as the profile lists it";
  }
  if (sbc === `errno(${ENOSYS})` && lib === defaultVerdict && e.nr >>> 0 === 0xffffffff && (e.arch === "x86_64" || e.arch === "aarch64")) {
    return "runc's ENOSYS stub answers -1 (a tracer's skipped call) with ENOSYS on aarch64, and on x86_64 as Docker's archMap adds x32 (runc patchbpf/enosys_linux.go); the importer reproduces the stub, libseccomp alone gives the default";
  }
  if (sbc === `errno(${ENOSYS})` && lib !== "allow" && e.nr - ARCH_INFO[e.arch].nrBase > maxNamed) {
    return "runc's convention: ENOSYS for numbers above the newest call the profile names, so libc falls back";
  }
  if (highBits && e.name && sbc === sbcOnLowHalves) {
    const i = e.args.findIndex((a) => a > U32);
    if (i >= 0 && argBits(e.arch, e.name, i) === 32) return `the kernel reads ${e.name}'s arg${i} as 32-bit: sbc compares its low 32 bits, libseccomp all 64`;
  }
  return undefined;
}

export interface ArchComparison {
  readonly arch: Arch;
  /** (number, args) events on which the filters agree or differ by design. */
  readonly events: number;
  readonly numbers: number;
  readonly disagreements: readonly Difference[];
  /** Designed differences on events without high bits (socketcall, ENOSYS). */
  readonly designed: readonly Difference[];
  /** Events with high argument bits set, and how many differ for the 32-bit reading. */
  readonly highBitEvents: number;
  readonly highBit: readonly Difference[];
  readonly sizes: Readonly<Record<"sbc" | "o1" | "o2", ArchSize>>;
}

export interface ArchSize {
  readonly insns: number;
  readonly mean: number;
  readonly max: number;
}

/** Instructions and executed path over every call of `arch`'s table, all arguments 0. */
function sizeOf(program: readonly Insn[], run: Runner, arch: Arch): ArchSize {
  const base = ARCH_INFO[arch].nrBase;
  const paths = Object.values(syscallTable(arch)).map((nr) => runOn(run, { arch, nr: (nr + base) >>> 0, args: [] }, arch).executed);
  return { insns: program.length, mean: paths.reduce((a, b) => a + b, 0) / paths.length, max: Math.max(...paths) };
}

/** The profile's default action as the interpreter shows it (Docker's: `errno(1)`). */
function profileDefault(profile: { defaultAction?: string; defaultErrnoRet?: number }): string {
  if (profile.defaultAction === "SCMP_ACT_ERRNO") return `errno(${profile.defaultErrnoRet ?? 1})`;
  if (profile.defaultAction === "SCMP_ACT_ALLOW") return "allow";
  throw new Error(`the benchmark reads Docker-style profiles; default action \`${profile.defaultAction}\` is not handled`);
}

function namedMax(profile: { syscalls: readonly OciEntry[] }, arch: Arch): number {
  const table = syscallTable(arch);
  let max = -1;
  for (const e of profile.syscalls) for (const n of [...(e.names ?? []), ...(e.name ? [e.name] : [])]) if (Object.hasOwn(table, n)) max = Math.max(max, table[n]!);
  return max;
}

/** The comparison for one arch: sbc's filter and libseccomp's (o1 and o2) on every event. */
export function compareArch(profilePath: string, arch: Arch, dir: string): ArchComparison {
  const profile = JSON.parse(readFileSync(profilePath, "utf8")) as { defaultAction?: string; defaultErrnoRet?: number; syscalls: readonly OciEntry[] };
  const [o1Filter, o2Filter] = [libseccompDockerFilter(profilePath, [arch], dir, 1), libseccompDockerFilter(profilePath, [arch], dir, 2)];
  const programs = { sbc: sbcDockerFilter(profilePath, [arch]), o1: o1Filter.program, o2: o2Filter.program };
  const defaultVerdict = profileDefault(profile);
  // Names in an unconditional SCMP_ACT_ALLOW entry that applies everywhere (no includes, excludes or args).
  const plainlyAllowed = new Set(
    profile.syscalls.filter((e) => e.action === "SCMP_ACT_ALLOW" && !e.args?.length && !e.includes && !e.excludes).flatMap((e) => [...(e.names ?? []), ...(e.name ? [e.name] : [])]),
  );
  const runs = { sbc: prepareFilter(programs.sbc), o1: prepareFilter(programs.o1), o2: prepareFilter(programs.o2) };
  const events = agreementEvents(arch, profile);
  // A call of every other arch: the bad-arch action.
  const foreign = ARCHES.filter((a) => a !== arch && ARCH_INFO[a].auditArch !== ARCH_INFO[arch].auditArch).map((a) => ({ arch: a, nr: 0, args: [0n] }) as Event);
  const maxNamed = namedMax(profile, arch);
  const disagreements: Difference[] = [];
  const designed: Difference[] = [];
  const highBit: Difference[] = [];
  const check = (e: Event, highBits: boolean) => {
    const sbc = verdictOfRet(runOn(runs.sbc, e, arch).ret);
    const o1 = verdictOfRet(runOn(runs.o1, e, arch).ret);
    const o2 = verdictOfRet(runOn(runs.o2, e, arch).ret);
    const o1Unaddable = o1Filter.unaddable;
    if (o1 !== o2) disagreements.push({ event: e, sbc, libseccomp: `o1 ${o1} / o2 ${o2}`, reason: undefined });
    if (sbc === o1) return;
    // A high-bit difference is by design only if sbc answers as it does for the low halves alone.
    const low = highBits ? verdictOfRet(runOn(runs.sbc, { ...e, args: e.args.map((a) => a & U32) }, arch).ret) : sbc;
    const reason = designedDifference(e, sbc, o1, maxNamed, highBits, o1Unaddable, defaultVerdict, plainlyAllowed, low);
    const d = { event: e, sbc, libseccomp: o1, ...(reason ? { reason } : {}) };
    (reason ? (highBits ? highBit : designed) : disagreements).push(d);
  };
  for (const e of [...events, ...foreign]) check(e, false);
  const high = highBitVariants(events);
  for (const e of high) check(e, true);
  const numbers = new Set(events.map((e) => e.nr)).size;
  return {
    arch,
    events: events.length + foreign.length,
    numbers,
    disagreements,
    designed,
    highBitEvents: high.length,
    highBit,
    sizes: { sbc: sizeOf(programs.sbc, runs.sbc, arch), o1: sizeOf(programs.o1, runs.o1, arch), o2: sizeOf(programs.o2, runs.o2, arch) },
  };
}

/** sbc's size alone, for the arches libseccomp 2.5.4 lacks. */
export function sbcSize(profilePath: string, arch: Arch): ArchSize {
  const program = sbcDockerFilter(profilePath, [arch]);
  return sizeOf(program, prepareFilter(program), arch);
}

// ---- the x32 / i386 bypass check --------------------------------------------------------------------------

export interface BypassCheck {
  readonly filter: string;
  readonly event: string;
  readonly sbc: string;
  readonly libseccomp: string;
}

/**
 * socket(AF_ALG) and socket(AF_VSOCK), which the profile refuses, as i386 and x32 calls, and i386's
 * socketcall(SYS_SOCKET), on an x86_64 filter and on an x86_64+x32+i386 filter (Docker's `archMap` for amd64).
 * sbc must allow none; libseccomp's verdicts are shown beside.
 */
export function bypassChecks(profilePath: string, dir: string): BypassCheck[] {
  const out: BypassCheck[] = [];
  for (const arches of [["x86_64"], ["x86_64", "x32", "i386"]] as Arch[][]) {
    const sbc = prepareFilter(sbcDockerFilter(profilePath, arches));
    const lib = prepareFilter(libseccompDockerFilter(profilePath, arches, dir, 2).program);
    const socket = (a: Arch) => (syscallTable(a).socket! + ARCH_INFO[a].nrBase) >>> 0;
    const events: { label: string; arch: Arch; nr: number; args: bigint[] }[] = [];
    for (const [af, domain] of [["AF_ALG", 38n], ["AF_VSOCK", 40n]] as const) {
      events.push({ label: `i386 socket(${af})`, arch: "i386", nr: socket("i386"), args: [domain, 5n, 0n] });
      events.push({ label: `x32 socket(${af})`, arch: "x32", nr: socket("x32"), args: [domain, 5n, 0n] });
    }
    events.push({ label: "i386 socketcall(SYS_SOCKET, ptr)", arch: "i386", nr: syscallTable("i386").socketcall!, args: [SYS_SOCKET, 0x1000n] });
    for (const e of events) {
      out.push({
        filter: arches.join("+"),
        event: e.label,
        sbc: verdictOfRet(runOn(sbc, e, "x86_64").ret),
        libseccomp: verdictOfRet(runOn(lib, e, "x86_64").ret),
      });
    }
  }
  return out;
}

// ---- the report -------------------------------------------------------------------------------------------

const f1 = (x: number) => x.toFixed(1);

export function archTable(results: readonly ArchComparison[], sbcOnly: readonly { arch: Arch; size: ArchSize }[]): string {
  const rows = [
    "| arch | calls in the table | sbc insns | sbc mean / max | libseccomp o1 insns | o1 mean / max | libseccomp o2 insns | o2 mean / max | sbc ÷ o2 insns | events checked (numbers) | disagreements | designed differences | high-bit differences (32-bit args) |",
    "|---|---:|---:|---|---:|---|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const s = r.sizes;
    rows.push(
      `| ${r.arch} | ${Object.keys(syscallTable(r.arch)).length} | ${s.sbc.insns} | ${f1(s.sbc.mean)} / ${s.sbc.max} | ${s.o1.insns} | ${f1(s.o1.mean)} / ${s.o1.max} | ${s.o2.insns} | ${f1(s.o2.mean)} / ${s.o2.max} | ${(s.sbc.insns / s.o2.insns).toFixed(2)} | ${r.events} (${r.numbers}) | ${r.disagreements.length ? `**${r.disagreements.length}**` : "0"} | ${r.designed.length} | ${r.highBit.length} of ${r.highBitEvents} |`,
    );
  }
  for (const { arch, size } of sbcOnly) {
    rows.push(`| ${arch} | ${Object.keys(syscallTable(arch)).length} | ${size.insns} | ${f1(size.mean)} / ${size.max} | not in libseccomp 2.5.4 | - | - | - | - | - | - | - | - |`);
  }
  return rows.join("\n");
}

/**
 * The differences by design, one line per reason: the calls it explains on each arch (with a count when more
 * than one event), and the first example.
 */
export function summarize(ds: readonly Difference[]): string[] {
  const byReason = new Map<string, Difference[]>();
  for (const d of ds) byReason.set(d.reason ?? "", [...(byReason.get(d.reason ?? "") ?? []), d]);
  return [...byReason].map(([reason, g]) => {
    const perArch = new Map<Arch, Map<string, number>>();
    for (const d of g) {
      const calls = perArch.get(d.event.arch) ?? new Map<string, number>();
      perArch.set(d.event.arch, calls);
      const name = d.event.name ?? String(d.event.nr);
      calls.set(name, (calls.get(name) ?? 0) + 1);
    }
    const where = [...perArch].map(([arch, calls]) => `${arch} ${[...calls].map(([n, c]) => `\`${n}\`${c > 1 ? ` ×${c}` : ""}`).join(", ")}`).join("; ");
    const e = g[0]!;
    return `${reason}. ${where}. E.g. ${show(e.event)}: sbc ${e.sbc}, libseccomp ${e.libseccomp}`;
  });
}
