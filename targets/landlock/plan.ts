// From a Landlock table (with its mount layer) and a seccomp filter to the plan the native loader applies —
// also the `linux` target's bundle (plan format 2, native/README.md). Every path is percent-encoded so that any
// byte string is one field. The loader expands `fs-children` over the entries that exist when it runs, keeps
// `fs-file` only for files, and applies the `mount` lines in a private mount namespace when it can get one:
// mechanism, no policy. targets/landlock/model.ts models the same launch for the tests.

import type { LandlockTable } from "./lower.js";
import { fsRightNames, hexMask } from "./abi.js";

export type Namespaces = "auto" | "require" | "never";

export interface Plan {
  readonly text: string;
  /** Notes on what the loader does at launch: for `sbc debug landlock`. */
  readonly report: readonly string[];
  /** What is lost when no mount namespace can be had (empty when nothing is). */
  readonly fallbackNote: string;
}

export interface PlanOptions {
  /** The mount layer, when it is not the table's own (a run without a Landlock ruleset still gets its mounts). */
  readonly mounts?: LandlockTable["mounts"];
  /** The policy's `linux.namespaces` (a run may override it: `sbc-loader --namespaces`). Default `auto`. */
  readonly namespaces?: Namespaces;
  /** For the plan cache: the key the plan is stored under, and the files it was compiled from with their SHA-256. */
  readonly cacheKey?: string;
  readonly deps?: readonly { readonly path: string; readonly sha256: string }[];
  /**
   * The compiler's warnings, as the CLI prints them: the loader prints this text before it runs the command, so
   * a plan run without Node (bin/sbc's fast path, a cached plan, a bundle) says what a compile would have said.
   */
  readonly diagnostics?: string;
  /**
   * The egress proxy (docs/proxy.md): the loader runs the command in a network namespace of its own with a
   * listener on 127.0.0.1:port there, relayed to `sbc exec`'s decisions (`--proxy-fd`) or, with `table` (the
   * `proxy-table` lines lib/proxy/table.ts makes), decided by the relay itself when no `sbc exec` is behind it.
   */
  readonly netProxy?: { readonly port: number; readonly table?: readonly string[] };
}

/** Percent-encodes a path so any byte string is one field; a leading `${name}` stays as it is (the loader substitutes it). */
export function encodePath(p: string): string {
  let out = "";
  for (const b of Buffer.from(p, "utf8")) out += b > 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  return out;
}

/** Except paths are relative: encode them as paths and drop the leading slash (a `${name}/…` entry stays absolute). */
function encodeExcept(e: string): string {
  return e.startsWith("${") ? encodePath(e) : encodePath("/" + e).slice(1);
}

/**
 * What Landlock alone cannot keep, for the one line the loader prints when it falls back: the carve-outs the
 * mount layer would have enforced (they cost new entries in their directory again), metadata changes outside
 * the writable roots, and mapping files the policy does not let run.
 */
export function fallbackNote(table: LandlockTable | undefined, mounts: LandlockTable["mounts"]): string {
  const parts: string[] = [];
  const costly = new Map<string, Set<string>>();
  for (const g of table?.fs ?? []) {
    if (g.mode !== "children" || !g.mountEnforced?.length) continue;
    const s = costly.get(g.path) ?? new Set<string>();
    for (const e of g.mountEnforced) s.add(e);
    costly.set(g.path, s);
  }
  for (const [root, names] of [...costly].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    parts.push(`nothing new can be created directly in ${root} (its entries are granted one by one to keep ${[...names].sort().join(", ")} read-only)`);
  }
  if (mounts.some((m) => !m.writable)) parts.push("chmod, chown, utimes and xattrs are not confined");
  if (mounts.some((m) => !m.executable)) parts.push("ld.so can map files the policy does not let run");
  return parts.join("; ");
}

export function buildPlan(table: LandlockTable | undefined, seccomp: Uint8Array | undefined, options: PlanOptions = {}): Plan {
  const lines = ["sbc-loader-plan 2"];
  const report: string[] = [];
  const mounts = options.mounts ?? table?.mounts ?? [];
  const note = fallbackNote(table, mounts);
  if (table) {
    lines.push(`abi ${table.abi}`, `handled-fs ${hexMask(table.handledAccessFs)}`, `handled-net ${hexMask(table.handledAccessNet)}`, `scoped ${hexMask(table.scoped)}`, `restrict-flags ${hexMask(table.restrictFlags)}`);
  } else {
    lines.push("abi 0", "handled-fs 0x0", "handled-net 0x0", "scoped 0x0", "restrict-flags 0x0");
  }
  lines.push(`namespaces ${options.namespaces ?? "auto"}`);
  if (options.netProxy) {
    lines.push(`net-proxy 127.0.0.1 ${options.netProxy.port}`, ...(options.netProxy.table ?? []));
    report.push(`the command runs in a network namespace of its own (loopback only); sbc's egress proxy listens on 127.0.0.1:${options.netProxy.port} there`);
  }
  // A symbolic parameter: the launcher resolves it, then checks the placement the table assumes (an anchor it
  // must lie apart from, or `=anchor`: apart from or equal to).
  for (const p of table?.params ?? []) {
    lines.push(["param", p.name, ...p.apart.map(encodePath), ...p.apartOrSame.map((a) => "=" + encodePath(a))].join(" "));
    report.push(`\${${p.name}} is resolved at launch; the table assumes it is neither inside nor around ${[...p.apart, ...p.apartOrSame.map((a) => `${a} (or equal to it)`)].join(", ") || "any other path"}`);
  }
  // The compatibility level, for the loader's ABI negotiation; hard-requirement (refuse) when absent.
  if (table && table.compat !== "hard-requirement") lines.push(`compat ${table.compat}`);
  if (options.diagnostics) lines.push(`diagnostics ${encodePath(options.diagnostics)}`);
  if (options.cacheKey) lines.push(`cache-key ${options.cacheKey}`);
  for (const d of options.deps ?? []) lines.push(`dep ${encodePath(d.path)} ${d.sha256}`);
  if (note && mounts.length) lines.push(`fallback-note ${encodePath(note)}`);
  for (const m of mounts) {
    lines.push(`${m.file ? "mount-file" : "mount"} ${encodePath(m.path)} ${m.writable ? "rw" : "ro"} ${m.executable ? "exec" : "noexec"}`);
    if (m.path !== "/") report.push(`${m.path}${m.file ? " (if it is not a directory)" : ""} is mounted ${m.writable ? "read-write" : "read-only"}${m.executable ? "" : ", noexec"} in the mount namespace`);
    else report.push(`everything is mounted ${m.writable ? "read-write" : "read-only"}${m.executable ? "" : ", noexec"} in the mount namespace, except the paths below`);
  }
  for (const g of table?.fs ?? []) {
    const head = `${hexMask(g.access)} ${g.ifMissing} ${encodePath(g.path)}`;
    if (g.mode === "beneath") lines.push(`fs ${head}`);
    else if (g.mode === "file") lines.push(`fs-file ${head}`);
    else {
      const enforced = new Set(g.mountEnforced ?? []);
      lines.push(`fs-children ${head} ${(g.except ?? []).map((e) => (enforced.has(e) ? "!" : "") + encodeExcept(e)).join(" ")}`);
      const kept = (g.except ?? []).filter((e) => !enforced.has(e));
      const rights = `[${fsRightNames(g.access).join(",")}]`;
      if (!kept.length) report.push(`${g.path} is granted whole in a mount namespace (the mounts keep ${[...enforced].join(", ")}); without one, entry by entry except those ${rights}`);
      else report.push(`${g.path} is granted entry by entry at launch, except ${(g.except ?? []).join(", ")} ${rights}; new entries directly in it get nothing`);
    }
  }
  for (const n of table?.net ?? []) lines.push(`net ${hexMask(n.access)} ${n.port}`);
  if (seccomp) lines.push(`seccomp ${Buffer.from(seccomp).toString("hex")}`);
  lines.push("end", "");
  return { text: lines.join("\n"), report, fallbackNote: note };
}
