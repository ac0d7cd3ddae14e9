// An executable model of Landlock for a rule table and a filesystem as it is at launch: which inodes the
// launcher puts rules on (expanding `children` grants over the entries that exist), and whether an access
// is then allowed — a right granted on an inode covers everything beneath it, a right that is not handled
// is always allowed, a file rule carries only file rights. Tests compare it with the IR's evaluator.

import { components, isWithin, joinComponents } from "../../compiler/paths.js";
import { ACCESS_FILE, ACCESS_FS } from "./abi.js";
import type { LandlockTable } from "./lower.js";

/** The filesystem at launch: every existing path, and whether it is a directory. */
export type Snapshot = ReadonlyMap<string, "dir" | "file">;

export interface AppliedRule {
  readonly path: string;
  readonly access: number;
}

/** The rules the loader ends up adding (native/sbc-loader.c): one per existing inode, masked to file rights on files. */
export function expandTable(table: LandlockTable, fs: Snapshot): AppliedRule[] {
  const out: AppliedRule[] = [];
  const add = (path: string, access: number) => {
    const kind = fs.get(path);
    if (!kind) return; // missing at launch: skipped (or an error, by ifMissing; the model skips)
    const mask = kind === "dir" ? access : access & ACCESS_FILE;
    if (mask) out.push({ path, access: mask });
  };
  const childrenOf = (dir: string) => [...fs.keys()].filter((p) => p !== dir && components(p).length === components(dir).length + 1 && isWithin(p, dir)).sort();
  const expand = (dir: string, access: number, except: readonly string[][]) => {
    if (fs.get(dir) !== "dir") return;
    for (const child of childrenOf(dir)) {
      const name = components(child).pop()!;
      const deeper = except.filter((e) => e[0] === name);
      if (!deeper.length) add(child, access);
      else if (deeper.some((e) => e.length === 1)) continue; // an except path ends here: carved out
      // An except path goes through this entry: descend, unless it is a file (nothing beneath to carve).
      else if (fs.get(child) === "dir") expand(child, access, deeper.map((e) => e.slice(1)));
      else add(child, access);
    }
  };
  for (const g of table.fs) {
    if (g.mode === "beneath") add(g.path, g.access);
    else if (g.mode === "file") {
      if (fs.get(g.path) === "file") add(g.path, g.access);
    } else expand(g.path, g.access, (g.except ?? []).map((e) => e.split("/")));
  }
  return out;
}

/** Rights about a directory's content: the kernel checks them on the parent of the entry made or removed. */
const CONTENT_RIGHTS = ACCESS_FS.remove_dir | ACCESS_FS.remove_file | ACCESS_FS.make_char | ACCESS_FS.make_dir | ACCESS_FS.make_reg | ACCESS_FS.make_sock | ACCESS_FS.make_fifo | ACCESS_FS.make_block | ACCESS_FS.make_sym | ACCESS_FS.refer;

/**
 * Is `right` for `path` allowed? For content rights `path` is the entry created, removed or moved, and the
 * kernel asks its parent directory; for the others it asks `path`. A path created after launch inherits from
 * its ancestors.
 */
export function landlockAllows(table: LandlockTable, rules: readonly AppliedRule[], path: string, right: number): boolean {
  if ((table.handledAccessFs & right) === 0) return true;
  const at = right & CONTENT_RIGHTS ? joinComponents(components(path).slice(0, -1)) : path;
  if (right & CONTENT_RIGHTS && path === "/") return false;
  return rules.some((r) => (r.access & right) !== 0 && isWithin(at, r.path));
}

/**
 * What the loader does with a table's symbolic parameters (native/sbc-loader.c, `param` lines): substitute
 * the values and check the placement the table assumes. Paths here are taken as they are (the loader also
 * resolves symlinks first). Returns the concrete table, or why the loader refuses it.
 */
export function resolveTable(table: LandlockTable, values: Readonly<Record<string, string>>): { table?: LandlockTable; refused?: string } {
  if (!table.params?.length) return { table };
  const subst = (p: string): string => {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}(\/.*)?$/.exec(p);
    if (!m) return p;
    const v = values[m[1]!];
    if (v === undefined) throw new Error(`no value for \${${m[1]}}`);
    return v === "/" ? (m[2] ?? "/") : v + (m[2] ?? "");
  };
  for (const p of table.params) {
    const v = values[p.name];
    if (v === undefined) return { refused: `parameter \`${p.name}\` has no value` };
    if (v === "/") return { refused: `parameter \`${p.name}\` is \`/\`` };
    for (const [anchors, mayEqual] of [
      [p.apart, false],
      [p.apartOrSame, true],
    ] as const) {
      for (const a of anchors) {
        const at = subst(a);
        const same = at === v;
        if ((same && !mayEqual) || (!same && (isWithin(v, at) || isWithin(at, v)))) return { refused: `\${${p.name}} = ${v} is not apart from ${a} = ${at}` };
      }
    }
  }
  const { params: _params, ...rest } = table;
  const relative = (root: string, e: string) => {
    if (!e.startsWith("${")) return e;
    const abs = subst(e);
    if (!isWithin(abs, root) || abs === root) throw new Error(`except ${e} = ${abs} is not beneath ${root}`);
    return components(abs).slice(components(root).length).join("/");
  };
  return {
    table: {
      ...rest,
      fs: table.fs.map((g) => {
        const path = subst(g.path);
        return { ...g, path, ...(g.except ? { except: g.except.map((e) => relative(path, e)) } : {}) };
      }),
    },
  };
}
