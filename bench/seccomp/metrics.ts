// What the benchmark measures without the kernel, all through sbc's own models of it: executed instructions
// per syscall (the BPF interpreter), the action-cache fraction (the emulation of seccomp_is_const_allow), the
// x32 check, and the differential check that two filters implement the same policy. Pure: programs in,
// numbers out.

import type { IR } from "../../lib/index.js";
import { cacheStats } from "../../targets/seccomp/action-cache.js";
import { AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, type Insn } from "../../targets/seccomp/bpf.js";
import { actionOf, prepareFilter } from "../../targets/seccomp/interpreter.js";

export const ARCH = AUDIT_ARCH_X86_64;

export interface PathStats {
  readonly insns: number;
  readonly meanAll: number;
  readonly meanAllowed: number;
  readonly meanDenied: number;
  readonly max: number;
  readonly allowed: number;
  readonly denied: number;
  /** Numbers the kernel's action cache serves (out of `numbers.length`). */
  readonly cached: number;
  readonly cacheFraction: number;
  /** Numbers denied natively whose x32 form (`nr | 0x40000000`) the filter allows. */
  readonly x32Allowed: readonly number[];
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Path statistics over `numbers` with every argument 0, as in shared/reference/seccomp-generators.md §1. */
export function pathStats(program: readonly Insn[], numbers: readonly number[]): PathStats {
  const run = prepareFilter(program);
  const allowed: number[] = [];
  const denied: number[] = [];
  const x32Allowed: number[] = [];
  for (const nr of numbers) {
    const r = run({ nr, arch: ARCH });
    if (actionOf(r.ret).action === "allow") allowed.push(r.executed);
    else {
      denied.push(r.executed);
      if (actionOf(run({ nr: (nr | X32_SYSCALL_BIT) >>> 0, arch: ARCH }).ret).action === "allow") x32Allowed.push(nr);
    }
  }
  const all = [...allowed, ...denied];
  const cache = cacheStats(program, ARCH, numbers);
  return {
    insns: program.length,
    meanAll: mean(all),
    meanAllowed: mean(allowed),
    meanDenied: mean(denied),
    max: Math.max(...all),
    allowed: allowed.length,
    denied: denied.length,
    cached: cache.eligible.length,
    cacheFraction: cache.fraction,
    x32Allowed,
  };
}

/** Instructions the filter runs for one call. */
export function executedFor(program: readonly Insn[], nr: number, args: readonly bigint[]): number {
  return prepareFilter(program)({ nr, arch: ARCH, args }).executed;
}

// ---- the differential check ----------------------------------------------------------------------------

const U64 = (1n << 64n) - 1n;

/**
 * Argument vectors worth probing for each syscall the rules name. Bases: all zero, and for each rule with
 * conditions the vector that puts each tested argument on its condition's value. From each base, every
 * tested argument is varied alone over the values at and around every boundary of the conditions on it
 * (v−1, v, v+1; for a mask also the mask's bits and their complement), on their low 32 bits, so combinations
 * of OR'd multi-argument rules are exercised.
 */
export function probeVectors(ir: IR, syscallNumbers: Readonly<Record<string, number>>): Map<number, bigint[][]> {
  const perSyscall = new Map<number, { values: Map<number, Set<bigint>>; bases: bigint[][] }>();
  for (const rule of ir.syscalls.rules) {
    for (const name of rule.syscalls) {
      const nr = syscallNumbers[name];
      if (nr === undefined) continue;
      const entry = perSyscall.get(nr) ?? { values: new Map<number, Set<bigint>>(), bases: [[0n, 0n, 0n, 0n, 0n, 0n]] };
      perSyscall.set(nr, entry);
      if (rule.conditions.length) {
        const base = [0n, 0n, 0n, 0n, 0n, 0n];
        for (const c of rule.conditions) base[c.arg] = BigInt(c.value);
        entry.bases.push(base);
      }
      for (const c of rule.conditions) {
        const set = entry.values.get(c.arg) ?? new Set<bigint>();
        entry.values.set(c.arg, set);
        const v = BigInt(c.value);
        const around = [v, v - 1n, v + 1n];
        if (c.mask !== undefined) {
          const m = BigInt(c.mask);
          around.push(m, v | (~m & U64), ~m & U64, m | v);
        }
        // Low 32 bits only: sbc compares arguments the kernel reads as 32-bit on those, libseccomp on all 64, so
        // vectors with high bits differ by design; the per-arch Docker comparison lists them apart.
        for (const x of around) set.add(BigInt.asUintN(64, x) & 0xffffffffn);
      }
    }
  }
  const out = new Map<number, bigint[][]>();
  for (const [nr, { values, bases }] of perSyscall) {
    const seen = new Set<string>();
    const vectors: bigint[][] = [];
    const add = (v: bigint[]) => {
      const key = v.join(",");
      if (!seen.has(key)) (seen.add(key), vectors.push(v));
    };
    for (const base of bases) {
      add(base);
      for (const [arg, vs] of values) {
        for (const v of vs) {
          const args = [...base];
          args[arg] = v;
          add(args);
        }
      }
    }
    out.set(nr, vectors);
  }
  return out;
}

export interface Disagreement {
  readonly nr: number;
  readonly args: readonly bigint[];
  /** The verdict of each decider, in the order given. */
  readonly verdicts: readonly string[];
}

/** `allow`, `errno(1)`, `kill-process` …: the action and, for errno and trace, its data. */
export function verdictOfRet(ret: number): string {
  const { action, data } = actionOf(ret);
  return action === "errno" || action === "trace" ? `${action}(${data})` : action;
}

/**
 * Ask every decider (a filter, or the IR's reference evaluator) about each number in `numbers` with all
 * arguments 0, and about `vectors` for the numbers that have them. Returns the disagreements (none means: the
 * same policy on everything probed), the probe count and each filter's longest path over the probes.
 */
export function compareDeciders(
  filters: readonly (readonly Insn[])[],
  reference: (nr: number, args: readonly bigint[]) => string,
  numbers: readonly number[],
  vectors: ReadonlyMap<number, readonly (readonly bigint[])[]>,
  /** The arguments filter `i` is run on (default: the probe's own). */
  argsFor: (i: number, nr: number, args: readonly bigint[]) => readonly bigint[] = (_i, _nr, args) => args,
): { probes: number; disagreements: Disagreement[]; worst: number[] } {
  const runs = filters.map((p) => prepareFilter(p));
  const disagreements: Disagreement[] = [];
  const worst = filters.map(() => 0);
  let probes = 0;
  for (const nr of numbers) {
    for (const args of vectors.get(nr) ?? [[]]) {
      probes++;
      const verdicts = runs.map((run, i) => {
        const r = run({ nr, arch: ARCH, args: argsFor(i, nr, args) });
        worst[i] = Math.max(worst[i]!, r.executed);
        return verdictOfRet(r.ret);
      });
      verdicts.push(reference(nr, args));
      if (verdicts.some((v) => v !== verdicts[0])) disagreements.push({ nr, args, verdicts });
    }
  }
  return { probes, disagreements, worst };
}

/** The verdict of one filter for one event, for reports. */
export function verdictOf(program: readonly Insn[], nr: number, args: readonly bigint[] = []): string {
  return verdictOfRet(prepareFilter(program)({ nr, arch: ARCH, args }).ret);
}
