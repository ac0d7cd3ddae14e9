// Rules indexed by the region they cover, so the SBPL lowering finds the rules that may share a path with a
// given one without comparing every pair (a policy of 10,000 rules took minutes): a trie of anchor components
// per root. Its answers are supersets of `mayOverlap` and `within` (below, shared with lower.ts), which callers
// still apply; tests/sbpl-region-index.test.ts checks that contract.

/** What the index needs of a region: its root (null for `/`), its literal leading components, and its kind. */
export interface Placed {
  readonly kind: "subtree" | "exact" | "glob";
  readonly path: { readonly root: string | null };
  readonly anchor: readonly string[];
}

interface Node<T> {
  readonly children: Map<string, Node<T>>;
  /** Items whose region is the single path at this node (`exact`). */
  readonly points: T[];
  /** Items whose region reaches beneath this node (subtrees, globs). */
  readonly others: T[];
}

// ---- the overlap predicates the lowering decides with (the index answers supersets of them) ----

export function startsWith(xs: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= xs.length && prefix.every((p, i) => xs[i] === p);
}

/** Does `needle` occur in `hay` as consecutive components (ending no later than `hay`'s end, minus `tail`)? */
function occursIn(hay: readonly string[], needle: readonly string[], suffixOnly: boolean): boolean {
  if (!needle.length) return true;
  for (let k = 0; k + needle.length <= hay.length; k++) {
    if (suffixOnly && k + needle.length !== hay.length) continue;
    if (needle.every((n, i) => hay[k + i] === n)) return true;
  }
  return false;
}

/** Every path of `inner` lies in the subtree `outer` (known only with the same root). */
export function within(inner: Placed, outer: Placed): boolean {
  return outer.kind === "subtree" && inner.path.root === outer.path.root && startsWith(inner.anchor, outer.anchor);
}

/** Whether two regions may share a path (conservative: true when it cannot be ruled out). */
export function mayOverlap(a: Placed, b: Placed): boolean {
  const point = (r: Placed) => r.kind === "exact";
  if (a.path.root === b.path.root) {
    if (point(a) && point(b)) return startsWith(a.anchor, b.anchor) && a.anchor.length === b.anchor.length;
    if (point(a)) return startsWith(a.anchor, b.anchor);
    if (point(b)) return startsWith(b.anchor, a.anchor);
    return startsWith(a.anchor, b.anchor) || startsWith(b.anchor, a.anchor);
  }
  // Different roots: a parameter's value is unknown, so only a literal point can be ruled out, when the
  // parameter-rooted region's components cannot occur in it.
  const [lit, sym] = a.path.root === null ? [a, b] : b.path.root === null ? [b, a] : [undefined, undefined];
  if (!lit || !sym || !point(lit)) return true;
  return occursIn(lit.anchor, sym.anchor, point(sym));
}

const node = <T>(): Node<T> => ({ children: new Map(), points: [], others: [] });

function collectAll<T>(n: Node<T>, out: T[]): void {
  const stack = [n];
  while (stack.length) {
    const m = stack.pop()!;
    for (const x of m.points) out.push(x);
    for (const x of m.others) out.push(x);
    for (const c of m.children.values()) stack.push(c);
  }
}

export class RegionIndex<T> {
  private readonly roots = new Map<string | null, Node<T>>();

  add(region: Placed, item: T): void {
    let n = this.roots.get(region.path.root);
    if (!n) {
      n = node<T>();
      this.roots.set(region.path.root, n);
    }
    for (const c of region.anchor) {
      let next: Node<T> | undefined = n.children.get(c);
      if (!next) {
        next = node<T>();
        n.children.set(c, next);
      }
      n = next;
    }
    (region.kind === "exact" ? n.points : n.others).push(item);
  }

  /**
   * The items whose region may share a path with `region`, in no particular order. Under the same root that
   * is exactly `mayOverlap`: a point matches a region whose anchor is a prefix of its own (points only at the
   * same anchor), anything else also matches whatever lies beneath its anchor. Under a different root a
   * parameter's value is unknown, so every item there is a candidate.
   */
  candidates(region: Placed): T[] {
    const out: T[] = [];
    for (const [root, top] of this.roots) {
      if (root !== region.path.root) {
        collectAll(top, out);
        continue;
      }
      let n: Node<T> | undefined = top;
      for (const c of region.anchor) {
        for (const x of n.others) out.push(x);
        n = n.children.get(c);
        if (!n) break;
      }
      if (!n) continue;
      for (const x of n.points) out.push(x);
      for (const x of n.others) out.push(x);
      if (region.kind !== "exact") for (const c of n.children.values()) collectAll(c, out);
    }
    return out;
  }

  /** The items of every kind whose anchor is a prefix of `anchor` (itself included) under `root`, shortest first. */
  enclosing(root: string | null, anchor: readonly string[]): T[] {
    const out: T[] = [];
    let n = this.roots.get(root);
    for (let i = 0; n; i++) {
      for (const x of n.points) out.push(x);
      for (const x of n.others) out.push(x);
      if (i === anchor.length) break;
      n = n.children.get(anchor[i]!);
    }
    return out;
  }
}
