// The executable model of what Landlock ABI 4–10 adds beyond the filesystem, and of the loader's ABI
// negotiation: TCP and UDP port rights (UDP from ABI 10, with its autobind check), RESOLVE_UNIX for pathname
// unix sockets (ABI 9), and what a plan made for one ABI becomes on a kernel with another under each
// compatibility level (native/loader/main.c `check_abi`). This kernel runs ABI 7, so ABI 8–10 are proved
// here, against the IR's evaluator (model-net.property.test.ts), not on the kernel.

import type { IR, NetOp, Protocol } from "../../ir/types.js";
import { networkSyscalls } from "../../ir/evaluator/network-syscalls.js";
import { ACCESS_FS, ACCESS_NET, abiMasks, lowestAbiFor } from "./abi.js";
import type { LandlockTable } from "./lower.js";

export interface Negotiated {
  /** The table as applied; undefined when no ruleset is applied (soft-requirement, or no Landlock). */
  readonly table?: LandlockTable;
  /** hard-requirement on a kernel that lacks something the table handles: nothing runs. */
  readonly refused?: string;
  /** What the kernel does not enforce (best-effort), as the loader names it. */
  readonly dropped: { readonly fs: number; readonly net: number; readonly scoped: number; readonly restrictFlags: number };
}

/** The loader's negotiation: the table's masks against the kernel's ABI, decided by the table's compat level. */
export function negotiate(table: LandlockTable, kernelAbi: number): Negotiated {
  const need = lowestAbiFor({ fs: table.handledAccessFs, net: table.handledAccessNet, scoped: table.scoped, restrictFlags: table.restrictFlags });
  const k = abiMasks(kernelAbi);
  const dropped = { fs: table.handledAccessFs & ~k.fs, net: table.handledAccessNet & ~k.net, scoped: table.scoped & ~k.scoped, restrictFlags: table.restrictFlags & ~k.restrictFlags };
  if (need <= kernelAbi) return { table, dropped: { fs: 0, net: 0, scoped: 0, restrictFlags: 0 } };
  if (table.compat === "hard-requirement") return { refused: `the plan needs Landlock ABI ${need}, this kernel has ${kernelAbi}`, dropped };
  if (table.compat === "soft-requirement" || kernelAbi === 0) return { dropped };
  const handledAccessFs = table.handledAccessFs & k.fs;
  const handledAccessNet = table.handledAccessNet & k.net;
  const scoped = table.scoped & k.scoped;
  return {
    table: {
      ...table,
      handledAccessFs,
      handledAccessNet,
      scoped,
      restrictFlags: handledAccessFs | handledAccessNet | scoped ? table.restrictFlags & k.restrictFlags : 0,
      fs: table.fs.map((g) => ({ ...g, access: g.access & k.fs })).filter((g) => g.access !== 0),
      net: table.net.map((n) => ({ ...n, access: n.access & k.net })).filter((n) => n.access !== 0),
    },
    dropped,
  };
}

const CONNECT = { tcp: ACCESS_NET.connect_tcp, udp: ACCESS_NET.connect_send_udp } as const;
const BIND = { tcp: ACCESS_NET.bind_tcp, udp: ACCESS_NET.bind_udp } as const;

/** Landlock's hook on one call of a fresh socket: a right not handled is allowed, a handled one needs a port rule. */
export function landlockNetAllows(table: LandlockTable | undefined, q: { readonly protocol: Protocol; readonly op: NetOp; readonly port: number }): boolean {
  if (!table) return true;
  const has = (bit: number, port: number) => (table.handledAccessNet & bit) === 0 || table.net.some((n) => n.port === port && (n.access & bit) !== 0);
  if (q.op === "bind") return has(BIND[q.protocol], q.port);
  if (!has(CONNECT[q.protocol], q.port)) return false;
  // ABI 10: a UDP socket that connects (or sends) unbound is bound to an ephemeral port first, which Landlock
  // checks as a bind to port 0. TCP's implicit bind is not checked.
  return q.protocol === "tcp" || has(BIND.udp, 0);
}

/**
 * The Linux bundle on one call: the seccomp filter creates a socket of the protocol only where the network
 * section allows some of it (`networkSyscalls`), then Landlock decides by port. Host-blind, as Linux is.
 */
export function linuxNetAllows(ir: IR, table: LandlockTable | undefined, q: { readonly protocol: Protocol; readonly op: NetOp; readonly port: number }): boolean {
  const domains = networkSyscalls(ir).allowedDomains;
  const sockets = domains === "all" || (domains.includes("AF_INET") && ir.network.rules.some((r) => r.effect === "allow" && r.protocols.includes(q.protocol)));
  return sockets && landlockNetAllows(table, q);
}

/**
 * RESOLVE_UNIX on connecting to a socket file at `path` bound outside the sandbox: a right not handled is
 * allowed; else a grant on the path or an ancestor must carry it (grants as the launcher applies them to a
 * tree where every grant path exists; `children` grants cover every entry but the except paths).
 */
export function landlockUnixConnectAllows(table: LandlockTable | undefined, path: string): boolean {
  if (!table || (table.handledAccessFs & ACCESS_FS.resolve_unix) === 0) return true;
  const within = (p: string, base: string) => base === "/" || p === base || p.startsWith(base + "/");
  return table.fs.some((g) => {
    if ((g.access & ACCESS_FS.resolve_unix) === 0) return false;
    if (g.mode === "file") return path === g.path;
    if (!within(path, g.path)) return false;
    if (g.mode === "beneath") return true;
    // children: every entry that existed at launch, descending along the except paths, which are left out; a
    // directory on the way to an except path gets no rule of its own (its other entries do).
    const rel = g.path === "/" ? path.slice(1) : path.slice(g.path.length + 1);
    if (!rel) return false;
    const under = (a: string, b: string) => a === b || a.startsWith(b + "/");
    return !(g.except ?? []).some((e) => under(rel, e) || under(e, rel));
  });
}
