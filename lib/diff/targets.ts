// `sbc diff --target`: the same probes asked of each target's executable model (the BPF interpreter on the
// compiled filter, the Landlock launch model, the Seatbelt model), through the target-fidelity checks of
// `sbc check --target`. Reported only where a target's answer to "did this widen?" differs from the IR's.

import { ACTION_STRICTNESS } from "../../ir/evaluator/evaluate.js";
import type { IR, PolicyTest } from "../../ir/types.js";
import { targetDivergences, type FidelityOptions } from "../target-fidelity.js";
import { nameList } from "../../compiler/lint/probe.js";
import { directionOf, probePolicies, type Decider, type DiffOptions, type Direction, type ProbeAnswer, type ProbeChange, type ProbeResult, type Section } from "./index.js";

/** A probe that widens or narrows on a target where the IR says otherwise, grouped like IR changes. */
export interface TargetChange {
  /** The target and where: `landlock (ABI 10, in a mount namespace)`, `seccomp (x86_64)`, `sbpl (macOS Seatbelt)`. */
  readonly where: string;
  /** On the target; `unchanged` when the target answers the same for both policies. */
  readonly direction: Direction | "unchanged";
  /** What the IR says of the same probes. */
  readonly irDirection: Direction | "unchanged";
  readonly section: Section;
  readonly summary: string;
  /** The IR's deciding rules (the target's answer comes from how it enforces them). */
  readonly old: Decider;
  readonly new: Decider;
  /** The target's answers. */
  readonly probes: readonly ProbeChange[];
}

/** A probe written as a policy test that expects the IR's answer; its name is its index. */
function asTest(r: ProbeResult, side: ProbeAnswer, i: number): PolicyTest | undefined {
  const name = `p${i}`;
  const expect = side.answer === "allow" ? "allow" : "deny";
  const q = r.ask;
  switch (q.kind) {
    case "fs":
      return { kind: "fs", access: q.access, path: q.path, expect, name };
    case "net":
      return { kind: "net", op: q.op, protocol: q.protocol, host: q.host, port: q.port, expect, name };
    case "unix":
      return { ...q, kind: "unix", expect, name } as PolicyTest;
    case "syscall":
      return side.action ? { kind: "syscall", syscall: q.syscall, args: q.args.map((a) => `0x${a.toString(16)}`), expect: side.action, name } : undefined;
    case "command":
      // No kernel mechanism decides command lines: no target to ask.
      return undefined;
    case "name":
      // No target enforces names (SBC1410): nothing to ask.
      return undefined;
  }
}

/** A model's answer as an answer and a rank comparable with the IR's (`errno EPERM` → `errno(EPERM)`). */
function targetAnswer(got: string, section: Section): { answer: string; rank: number } {
  if (section !== "syscalls") return got === "allowed" ? { answer: "allow", rank: 0 } : { answer: "deny", rank: 1 };
  const [type, data] = got.split(" ");
  const rank = ACTION_STRICTNESS[type as keyof typeof ACTION_STRICTNESS] ?? ACTION_STRICTNESS["kill-process"];
  return { answer: data !== undefined ? `${type}(${data})` : type!, rank };
}

/** The target key of a divergence: landlock's `where` names the policy's mount mode, which may differ between the two. */
function keyOf(target: string, where: string): string {
  return target === "seccomp" ? where : target;
}

export async function diffOnTargets(oldIr: IR, newIr: IR, options: FidelityOptions & DiffOptions): Promise<TargetChange[]> {
  const results = probePolicies(oldIr, newIr, options);
  const ask = async (ir: IR, side: "old" | "new") => {
    const tests = results.flatMap((r, i) => asTest(r, r[side], i) ?? []);
    const found = await targetDivergences({ ...ir, tests }, options);
    const by = new Map<string, Map<number, string>>();
    const where = new Map<string, string>();
    for (const d of found) {
      const key = keyOf(d.target, d.where);
      where.set(key, d.where);
      if (!by.has(key)) by.set(key, new Map());
      by.get(key)!.set(Number(d.test.name!.slice(1)), d.got);
    }
    return { by, where };
  };
  const a = await ask(oldIr, "old");
  const b = await ask(newIr, "new");
  const keys = [...new Set([...a.by.keys(), ...b.by.keys()])].sort();
  const groups = new Map<string, { change: Omit<TargetChange, "summary" | "probes">; subjects: string[]; probes: ProbeChange[] }>();
  for (const key of keys) {
    const where = b.where.get(key) ?? a.where.get(key)!;
    for (const i of new Set([...(a.by.get(key)?.keys() ?? []), ...(b.by.get(key)?.keys() ?? [])])) {
      const r = results[i]!;
      const gotA = a.by.get(key)?.get(i);
      const gotB = b.by.get(key)?.get(i);
      const ta = gotA !== undefined ? targetAnswer(gotA, r.section) : r.old;
      const tb = gotB !== undefined ? targetAnswer(gotB, r.section) : r.new;
      const direction = directionOf(ta, tb) ?? "unchanged";
      const irDirection = directionOf(r.old, r.new) ?? "unchanged";
      if (direction === irDirection) continue;
      const g = [key, direction, irDirection, r.section, ta.answer, tb.answer, r.old.decider.text, r.new.decider.text].join("\u0001");
      let entry = groups.get(g);
      if (!entry) groups.set(g, (entry = { change: { where, direction, irDirection, section: r.section, old: r.old.decider, new: r.new.decider }, subjects: [], probes: [] }));
      entry.subjects.push(r.query);
      entry.probes.push({ query: r.query, old: ta.answer, new: tb.answer });
    }
  }
  const order = ["widened", "narrowed", "changed", "unchanged"];
  return [...groups.values()]
    .map(({ change, subjects, probes }) => ({ ...change, probes, summary: `${nameList(subjects)}: ${probes[0]!.old === probes[0]!.new ? `${probes[0]!.old} in both` : `${probes[0]!.old} → ${probes[0]!.new}`}` }))
    .sort((x, y) => order.indexOf(x.direction) - order.indexOf(y.direction) || (x.where < y.where ? -1 : x.where > y.where ? 1 : 0));
}


