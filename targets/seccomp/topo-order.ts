// Topological order of the decision graphs (lowering, jump threading and code generation all walk them). An
// explicit stack instead of recursion: a policy of thousands of rules on one syscall is a chain that deep.

/** Topological order of a DAG (reverse post-order; children visited in the order `kids` gives them). */
export function topoOrder<N extends { id: number }>(root: N, kids: (n: N) => readonly N[]): N[] {
  const seen = new Set<number>([root.id]);
  const post: N[] = [];
  const stack: { n: N; ks: readonly N[]; i: number }[] = [{ n: root, ks: kids(root), i: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.i < top.ks.length) {
      const c = top.ks[top.i++]!;
      if (!seen.has(c.id)) {
        seen.add(c.id);
        stack.push({ n: c, ks: kids(c), i: 0 });
      }
    } else {
      post.push(top.n);
      stack.pop();
    }
  }
  return post.reverse();
}
