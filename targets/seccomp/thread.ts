// Jump threading over what a path already knows. A test whose outcome follows from the tests before it on
// every path that reaches it (the same word compared again: `arg0.hi == 0` repeated by each of several
// OR'd rules, or `jeq 0` right after a failed `jgt 0`) is skipped: the edge goes straight to the outcome.
// Facts are intersected over all incoming edges, so nothing is assumed that one path does not guarantee.

import { wordKey, type DNode, type JumpOp, type Word } from "./lower.js";
import { topoOrder } from "./topo-order.js";

/** What is known about one (word, mask) value: an interval, excluded values, and jset results. */
interface Fact {
  lo: number;
  hi: number;
  not: Set<number>;
  jset: Map<number, boolean>;
}

type Facts = Map<string, Fact>;

const keyOf = (n: { word: Word; mask?: number }) => `${wordKey(n.word)}&${n.mask ?? ""}`;

function decide(f: Fact | undefined, op: JumpOp, k: number): boolean | undefined {
  if (!f) return undefined;
  switch (op) {
    case "jeq":
      if (f.lo === f.hi) return f.lo === k;
      if (k < f.lo || k > f.hi || f.not.has(k)) return false;
      return undefined;
    case "jgt":
      if (f.lo > k) return true;
      if (f.hi <= k) return false;
      return undefined;
    case "jge":
      if (f.lo >= k) return true;
      if (f.hi < k) return false;
      return undefined;
    case "jset":
      if (f.lo === f.hi) return (f.lo & k) !== 0;
      if (f.jset.has(k)) return f.jset.get(k);
      if (f.hi < 2 ** 31 && (k & ~(2 ** (32 - Math.clz32(f.hi)) - 1)) === k) return false; // every bit of k above hi
      return undefined;
  }
}

/** Excluded values kept per word: enough for chains of OR'd `==` rules, bounded so big filters stay linear. */
const MAX_EXCLUDED = 32;

function learn(facts: Facts, key: string, op: JumpOp, k: number, outcome: boolean): Facts {
  const out: Facts = new Map(facts);
  const old = facts.get(key);
  const f: Fact = old ? { lo: old.lo, hi: old.hi, not: new Set(old.not), jset: new Map(old.jset) } : { lo: 0, hi: 0xffffffff, not: new Set(), jset: new Map() };
  if (op === "jeq") {
    if (outcome) f.lo = f.hi = k;
    else if (f.not.size < MAX_EXCLUDED) {
      f.not.add(k);
      while (f.not.has(f.lo) && f.lo < f.hi) f.lo++;
      while (f.not.has(f.hi) && f.hi > f.lo) f.hi--;
    }
  } else if (op === "jgt") {
    if (outcome) f.lo = Math.max(f.lo, k + 1);
    else f.hi = Math.min(f.hi, k);
  } else if (op === "jge") {
    if (outcome) f.lo = Math.max(f.lo, k);
    else f.hi = Math.min(f.hi, k - 1);
  } else f.jset.set(k, outcome);
  out.set(key, f);
  return out;
}

function meet(a: Facts, b: Facts): Facts {
  const out: Facts = new Map();
  for (const [key, fa] of a) {
    const fb = b.get(key);
    if (!fb) continue;
    out.set(key, {
      lo: Math.min(fa.lo, fb.lo),
      hi: Math.max(fa.hi, fb.hi),
      not: new Set([...fa.not].filter((v) => fb.not.has(v))),
      jset: new Map([...fa.jset].filter(([k, v]) => fb.jset.get(k) === v)),
    });
  }
  return out;
}

/** Node in the threaded graph: like DNode, with successors that may skip decided tests. */
export type TNode =
  | { readonly kind: "ret"; readonly id: number; readonly value: number }
  | { readonly kind: "test"; readonly id: number; readonly word: Word; readonly mask?: number; readonly op: JumpOp; readonly k: number; yes: TNode; no: TNode; readonly note?: string };

export function threadJumps(root: DNode): TNode {
  // Copy the DAG children first (reverse topological order), so a chain of thousands of rules needs no deep recursion.
  const copy = new Map<number, TNode>();
  for (const n of topoOrder(root, (d) => (d.kind === "test" ? [d.yes, d.no] : [])).reverse()) {
    copy.set(
      n.id,
      n.kind === "ret"
        ? { kind: "ret", id: n.id, value: n.value }
        : { kind: "test", id: n.id, word: n.word, ...(n.mask !== undefined ? { mask: n.mask } : {}), op: n.op, k: n.k, yes: copy.get(n.yes.id)!, no: copy.get(n.no.id)!, ...(n.note ? { note: n.note } : {}) },
    );
  }
  const top = copy.get(root.id)!;
  const order = topoOrder(top, (n) => (n.kind === "test" ? [n.yes, n.no] : []));
  const incoming = new Map<number, Facts>();
  incoming.set(top.id, new Map());
  for (const n of order) {
    const facts = incoming.get(n.id);
    if (facts === undefined || n.kind !== "test") continue; // unreachable after threading, or a leaf
    // The dispatch on nr and arch is a balanced tree already; facts about arguments are what pay off.
    if (n.word.kind !== "arg") {
      // Its edges carry no facts about arguments: whatever another path knows does not hold on these.
      for (const t of [n.yes, n.no]) incoming.set(t.id, new Map());
      continue;
    }
    for (const outcome of [true, false]) {
      let known = learn(facts, keyOf(n), n.op, n.k, outcome);
      let target = outcome ? n.yes : n.no;
      for (;;) {
        if (target.kind !== "test") break;
        const d = decide(known.get(keyOf(target)), target.op, target.k);
        if (d === undefined) break;
        known = learn(known, keyOf(target), target.op, target.k, d);
        target = d ? target.yes : target.no;
      }
      if (outcome) n.yes = target;
      else n.no = target;
      const prev = incoming.get(target.id);
      incoming.set(target.id, prev === undefined ? known : meet(prev, known));
    }
  }
  return top;
}
