// The peer conformance suites (fixtures/conformance/): libseccomp's `tests/*-sim-*` and Kafel's tests,
// translated to sbc policies with their upstream argument vectors and expected actions. This module reads the
// fixtures and expands the vectors; tests/conformance.test.ts runs them through the BPF interpreter and the
// reference semantics, tests/kernel-conformance.test.ts through the real kernel. Format: docs/conformance.md.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { IR } from "../../ir/types.js";
import { commonEndianness, type Arch, type Endianness } from "../../linux-abi/index.js";
import { TARGETS } from "../../lib/targets.js";
import { decode, type Insn } from "../../targets/seccomp/bpf.js";
import {
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
} from "../../targets/seccomp/bpf.js";

export const CONFORMANCE_DIR = join(import.meta.dirname, "..", "..", "fixtures", "conformance");

/** Files a fixture directory may hold besides the local files its policy extends. */
export const FIXTURE_FILES = new Set(["case.yaml", "policy.yaml", "vectors.tsv"]);

/** One filter the fixture compiles: a single arch as a native filter, or several as one multi-arch filter. */
export interface FilterSpec {
  readonly arches: readonly string[];
  /**
   * Arches the filter does not serve whose vectors run against it too: a process of such an arch must get the
   * policy's foreign-arch action (libseccomp's bad-arch action).
   */
  readonly foreign: readonly string[];
  /** Set when an arch is one sbc cannot compile yet: the test asserts that it still cannot. */
  readonly pending?: string;
}

export type Status =
  | { readonly kind: "pass" }
  /** The policy uses syntax sbc does not have yet: it must fail to compile, with one of `codes`. */
  | { readonly kind: "pending"; readonly feature: string }
  /** sbc compiles it and gets at least one vector wrong: the reason says which and why. */
  | { readonly kind: "known-failure"; readonly reason: string; readonly lines: readonly number[] }
  /** sbc refuses the policy on purpose (fail closed), with exactly this error code; the reason says why. */
  | { readonly kind: "refused"; readonly code: string; readonly reason: string };

export interface Vector {
  /** Line in vectors.tsv, for messages. */
  readonly line: number;
  readonly arch: string;
  /** A syscall name, resolved per arch, or a number as the kernel presents it (u32; -1 is 0xffffffff). */
  readonly syscall: string | number;
  readonly args: readonly bigint[];
  /** The expected seccomp return value (action and data). */
  readonly ret: number;
  readonly expect: string;
}

export interface Fixture {
  readonly suite: string;
  readonly name: string;
  readonly dir: string;
  readonly source: string;
  readonly status: Status;
  readonly filters: readonly FilterSpec[];
  readonly notes?: string;
  /** vectors.tsv rows as written (ranges unexpanded). */
  readonly rows: number;
  /** Every row expanded: one event per value of each range. */
  readonly vectors: readonly Vector[];
}

export interface UpstreamCase {
  readonly case: string;
  readonly fixtures?: readonly string[];
  readonly notApplicable?: string;
}

export interface Suite {
  readonly name: string;
  readonly repo: string;
  readonly commit: string;
  readonly cases: readonly UpstreamCase[];
  readonly fixtures: readonly Fixture[];
}

/** Actions of libseccomp's and Kafel's vocabulary, written in vectors.tsv as sbc spells them. */
export function retOf(expect: string): number {
  const m = /^(errno|trace):(\d+)$/.exec(expect);
  if (m) {
    const data = Number(m[2]);
    if (data > 0xffff) throw new Error(`action data ${data} does not fit in 16 bits`);
    return ((m[1] === "errno" ? SECCOMP_RET_ERRNO : SECCOMP_RET_TRACE) | data) >>> 0;
  }
  const plain: Record<string, number> = {
    allow: SECCOMP_RET_ALLOW,
    log: SECCOMP_RET_LOG,
    "user-notif": SECCOMP_RET_USER_NOTIF,
    trap: SECCOMP_RET_TRAP,
    "kill-thread": SECCOMP_RET_KILL_THREAD,
    "kill-process": SECCOMP_RET_KILL_PROCESS,
  };
  const v = plain[expect];
  if (v === undefined) throw new Error(`unknown expected action \`${expect}\``);
  return v >>> 0;
}

/** A u64 from vectors.tsv: decimal or 0x-hex, `-` for an argument the upstream vector leaves unset (0). */
function num(text: string): bigint {
  if (!/^(-?\d+|0x[0-9a-f]+)$/i.test(text)) throw new Error(`bad number \`${text}\``);
  return BigInt.asUintN(64, BigInt(text));
}

/** The arches sbc targets or plans to (issue 12): a vector or filter naming another is a typo. */
export const PLANNED_ARCHES: ReadonlySet<string> = new Set(["x86_64", "aarch64", "i386", "x32", "arm", "riscv64", "ppc64le", "s390x", "loongarch64"]);

/**
 * Names libseccomp resolves to a pseudo number and then, in the `scmp_sys_resolver -t` its test harness runs,
 * to the multiplexer (src/syscalls.c: abi_syscall_resolve_name_munge, abi_syscall_rewrite) on the arches that
 * have one: upstream's `accept 5` on x86 is `socketcall(5, …)`, never the direct call. A vector must say so.
 */
const SOCKETCALL_NAMES = new Set(["socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair", "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg"]);
const IPC_NAMES = new Set(["semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl", "shmat", "shmdt", "shmget", "shmctl"]);
const MULTIPLEXING_ARCHES: ReadonlySet<string> = new Set(["i386", "ppc64le", "s390x"]);

/** Expanding more values than this from one range is a fixture mistake, not a test. */
const MAX_RANGE = 4096;

/** `-` → [0]; `N` → [N]; `LO..HI` → every value from LO to HI. */
function values(text: string): bigint[] {
  if (text === "-") return [0n];
  const r = /^(.+)\.\.(.+)$/.exec(text);
  if (!r) return [num(text)];
  const lo = num(r[1]!);
  const hi = num(r[2]!);
  if (hi < lo || hi - lo >= BigInt(MAX_RANGE)) throw new Error(`bad range \`${text}\``);
  const out: bigint[] = [];
  for (let v = lo; v <= hi; v++) out.push(v);
  return out;
}

function parseVectors(file: string): { rows: number; vectors: Vector[] } {
  const vectors: Vector[] = [];
  let rows = 0;
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const cols = line.split(/\t+/);
      if (cols.length !== 9) throw new Error(`${file}:${i + 1}: want 9 tab-separated columns (arch syscall arg0..arg5 expect), got ${cols.length}`);
      rows++;
      const [arch, sys, ...rest] = cols as [string, string, ...string[]];
      if (!PLANNED_ARCHES.has(arch)) throw new Error(`${file}:${i + 1}: unknown arch \`${arch}\``);
      if (MULTIPLEXING_ARCHES.has(arch) && (SOCKETCALL_NAMES.has(sys) || IPC_NAMES.has(sys))) {
        throw new Error(`${file}:${i + 1}: libseccomp's harness resolves \`${sys}\` on ${arch} to \`${SOCKETCALL_NAMES.has(sys) ? "socketcall" : "ipc"}\`: write that`);
      }
      const expect = rest[6]!;
      const ret = retOf(expect);
      const argValues = rest.slice(0, 6).map(values);
      const syscalls: (string | number)[] = /^[a-z_][a-z0-9_]*$/.test(sys) ? [sys] : values(sys).map((v) => Number(BigInt.asUintN(32, v)));
      for (const s of syscalls) {
        let combos: bigint[][] = [[]];
        for (const vs of argValues) combos = combos.flatMap((c) => vs.map((v) => [...c, v]));
        for (const args of combos) vectors.push({ line: i + 1, arch, syscall: s, args, ret, expect });
      }
    });
  return { rows, vectors };
}

function parseStatus(raw: unknown, where: string): Status {
  if (raw === undefined || raw === "pass") return { kind: "pass" };
  if (typeof raw === "object" && raw !== null) {
    const o = raw as Record<string, unknown>;
    if (typeof o.pending === "string") return { kind: "pending", feature: o.pending };
    if (typeof o["known-failure"] === "string" && Array.isArray(o.lines)) return { kind: "known-failure", reason: o["known-failure"], lines: o.lines as number[] };
    if (typeof o.refused === "string" && typeof o.reason === "string") return { kind: "refused", code: o.refused, reason: o.reason };
  }
  throw new Error(`${where}: status must be \`pass\`, \`{ pending: FEATURE }\`, \`{ known-failure: REASON, lines }\` or \`{ refused: CODE, reason }\``);
}

function loadFixture(suite: string, dir: string): Fixture {
  const meta = parse(readFileSync(join(dir, "case.yaml"), "utf8")) as Record<string, unknown>;
  const where = join(dir, "case.yaml");
  if (typeof meta.source !== "string") throw new Error(`${where}: \`source\` (upstream repo@commit and file) is required`);
  const filters = (meta.filters as Record<string, unknown>[] | undefined)?.map((f): FilterSpec => {
    const arches = f.arches as string[];
    if (!Array.isArray(arches) || !arches.length) throw new Error(`${where}: each filter needs \`arches\``);
    const foreign = (f.foreign ?? []) as string[];
    if (!Array.isArray(foreign)) throw new Error(`${where}: \`foreign\` is a list of arches`);
    for (const a of [...arches, ...foreign]) if (!PLANNED_ARCHES.has(a)) throw new Error(`${where}: unknown arch \`${a}\``);
    for (const a of foreign) if (arches.includes(a)) throw new Error(`${where}: \`${a}\` is both served and foreign`);
    return { arches, foreign, ...(typeof f.pending === "string" ? { pending: f.pending } : {}) };
  });
  if (!filters?.length) throw new Error(`${where}: \`filters\` is required`);
  const { rows, vectors } = parseVectors(join(dir, "vectors.tsv"));
  return {
    suite,
    name: dir.split("/").pop()!,
    dir,
    source: meta.source,
    status: parseStatus(meta.status, where),
    filters,
    ...(typeof meta.notes === "string" ? { notes: meta.notes } : {}),
    rows,
    vectors,
  };
}

export function loadSuites(): Suite[] {
  return readdirSync(CONFORMANCE_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((suite) => {
      const root = join(CONFORMANCE_DIR, suite);
      const up = parse(readFileSync(join(root, "UPSTREAM.yaml"), "utf8")) as Record<string, unknown>;
      const cases = (up.cases as Record<string, unknown>[]).map(
        (c): UpstreamCase => ({
          case: c.case as string,
          ...(c.fixtures ? { fixtures: c.fixtures as string[] } : {}),
          ...(typeof c["not-applicable"] === "string" ? { notApplicable: c["not-applicable"] } : {}),
        }),
      );
      const fixtures = readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort()
        .filter((name) => existsSync(join(root, name, "case.yaml")))
        .map((name) => loadFixture(suite, join(root, name)));
      return { name: suite, repo: up.repo as string, commit: up.commit as string, cases, fixtures };
    });
}

/**
 * The filter `sbc compile -t seccomp --arch …` writes for this IR: the CLI's own target, its raw bytes, and
 * those bytes decoded for the interpreter in the arches' byte order (big-endian for s390x), which is also the
 * order the interpreter must lay out `seccomp_data` in.
 */
export async function compileLikeCli(
  ir: IR,
  arches: readonly Arch[],
): Promise<{ bytes?: Uint8Array; program?: Insn[]; endianness: Endianness; diagnostics: Diagnostic[] }> {
  const endianness = commonEndianness(arches);
  if (!endianness) throw new Error(`a fixture filter mixes byte orders: [${arches}]`);
  const out = await TARGETS.seccomp!.emit(ir, { arches, withSpans: false });
  if (!(out.output instanceof Uint8Array)) return { endianness, diagnostics: out.diagnostics };
  return { bytes: out.output, program: decode(out.output, endianness), endianness, diagnostics: out.diagnostics };
}
