// From a Landlock table (and a seccomp filter) to the plan the native loader applies — also the `linux`
// target's bundle. Every path is percent-encoded so that any byte string is one field. The loader expands
// `fs-children` over the entries that exist when it runs and keeps `fs-file` only for files: mechanism, no
// policy; targets/landlock/model.ts models the same expansion for the tests.

import type { LandlockTable } from "./lower.js";
import { fsRightNames, hexMask } from "./abi.js";

export interface Plan {
  readonly text: string;
  /** Notes on the grants the loader expands: for `sbc debug landlock`. */
  readonly report: readonly string[];
}

/** Percent-encodes a path so any byte string is one field; a leading `${name}` stays as it is (the loader substitutes it). */
export function encodePath(p: string): string {
  let out = "";
  for (const b of Buffer.from(p, "utf8")) out += b > 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  return out;
}


export function buildPlan(table: LandlockTable | undefined, seccomp: Uint8Array | undefined): Plan {
  const lines = ["sbc-loader-plan 2"];
  const report: string[] = [];
  if (table) {
    lines.push(`abi ${table.abi}`, `handled-fs ${hexMask(table.handledAccessFs)}`, `handled-net ${hexMask(table.handledAccessNet)}`, `scoped ${hexMask(table.scoped)}`, `restrict-flags ${hexMask(table.restrictFlags)}`, "namespaces auto");
    // A symbolic parameter: the launcher resolves it, then checks the placement the table assumes (an
    // anchor it must lie apart from, or `=anchor`: apart from or equal to).
    for (const p of table.params ?? []) {
      lines.push(["param", p.name, ...p.apart.map(encodePath), ...p.apartOrSame.map((a) => "=" + encodePath(a))].join(" "));
      report.push(`\${${p.name}} is resolved at launch; the table assumes it is neither inside nor around ${[...p.apart, ...p.apartOrSame.map((a) => `${a} (or equal to it)`)].join(", ") || "any other path"}`);
    }
    for (const g of table.fs) {
      const head = `${hexMask(g.access)} ${g.ifMissing} ${encodePath(g.path)}`;
      if (g.mode === "beneath") lines.push(`fs ${head}`);
      else if (g.mode === "file") lines.push(`fs-file ${head}`);
      else {
        // Except paths are relative: encode them as paths and drop the leading slash.
        lines.push(`fs-children ${head} ${(g.except ?? []).map((e) => (e.startsWith("${") ? encodePath(e) : encodePath("/" + e).slice(1))).join(" ")}`);
        report.push(`${g.path} is granted entry by entry at launch, except ${(g.except ?? []).join(", ")} [${fsRightNames(g.access).join(",")}]; new entries directly in it get nothing`);
      }
    }
    for (const n of table.net) lines.push(`net ${hexMask(n.access)} ${n.port}`);
  } else {
    lines.push("abi 0", "handled-fs 0x0", "handled-net 0x0", "scoped 0x0", "restrict-flags 0x0", "namespaces auto");
  }
  if (seccomp) lines.push(`seccomp ${Buffer.from(seccomp).toString("hex")}`);
  lines.push("end", "");
  return { text: lines.join("\n"), report };
}
