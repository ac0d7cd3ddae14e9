// Landlock ABI 1–10 on the network and on unix socket paths, proved against the IR's evaluator through the
// model (model-net.ts), since this kernel runs ABI 7: for random network sections, lowered for every ABI, the
// Linux bundle (seccomp's socket kinds, then Landlock's ports) never allows a call the IR denies for some
// host, unless the policy accepted that widening by name; where it would, the lowering is an error (SBC2210)
// instead of a table. From ABI 10 UDP is enforced by port; from ABI 9 unix connects by path (RESOLVE_UNIX).
// And the loader's negotiation: a table made for ABI 10 on every older kernel, per compatibility level.
// SBC_PROPERTY_SEED / SBC_PROPERTY_RUNS vary the runs.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CODES } from "../../diagnostics/codes.js";
import { evaluateNetwork, evaluateUnixPath } from "../../ir/evaluator/evaluate.js";
import { networkSyscalls } from "../../ir/evaluator/network-syscalls.js";
import type { IR, NetOp, NetRule, Protocol, UnixPathRule, Widening } from "../../ir/types.js";
import { ACCESS_CLASSES } from "../../ir/access.js";
import { makeIr } from "../../tests/support/ir.js";
import { propertyOptions } from "../../tests/support/property.js";
import { ABIS, ACCESS_FS, ACCESS_NET, MAX_ABI, abiMasks } from "./abi.js";
import { lowerLandlock, type Compat } from "./lower.js";
import { landlockNetAllows, landlockUnixConnectAllows, linuxNetAllows, negotiate } from "./model-net.js";

const HOSTS = ["10.0.0.2", "192.0.2.7", "::1"];
const PORTS = [0, 1, 2, 53, 443];
const OPS: NetOp[] = ["connect", "bind"];
const PROTOCOLS: Protocol[] = ["tcp", "udp"];

const netRule = fc.record({
  effect: fc.constantFrom("allow" as const, "allow" as const, "deny" as const),
  ops: fc.subarray(OPS, { minLength: 1 }),
  protocols: fc.subarray(PROTOCOLS, { minLength: 1 }),
  hosts: fc.constantFrom<NetRule["hosts"]>("any", "any", ["10.0.0.0/8"], "loopback"),
  ports: fc.constantFrom<NetRule["ports"]>([[0, 65535]], [[53, 53]], [[0, 0]], [[1, 2]], [[53, 53], [443, 443]]),
});

function policy(rules: readonly Omit<NetRule, "layer">[], accept: readonly Widening[]): IR {
  // The filesystem open (nothing handled), so a table's ABI is its network's.
  const filesystem = [{ effect: "allow" as const, access: [...ACCESS_CLASSES], kind: "subtree" as const, path: "/", ifMissing: "skip" as const, layer: 0 }];
  const ir = makeIr({ unix: "allow", filesystem, netRules: rules.map((r) => ({ ...r, layer: 0, ops: [...r.ops].sort(), protocols: [...r.protocols].sort() })) });
  return accept.length ? { ...ir, linux: { ...ir.linux, acceptWidening: { widenings: [...accept].sort() } } } : ir;
}

describe("Landlock network rights for every ABI (model)", () => {
  it("never widens what the policy did not accept; a widening is SBC2210, not a table", () => {
    fc.assert(
      fc.property(fc.array(netRule, { maxLength: 4 }), fc.subarray<Widening>(["hosts", "udp"]), (rules, accept) => {
        const ir = policy(rules, accept);
        for (const abi of ABIS) {
          const r = lowerLandlock(ir, { abi });
          if (!r.table) {
            // Only a widening stops the lowering here: UDP below ABI 10 that the policy did not accept (SBC2210),
            // or an ABI that lacks what the policy restricts, under hard-requirement (SBC2211: TCP below 4).
            const codes = r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code);
            expect(codes.length).toBeGreaterThan(0);
            for (const c of codes) expect([CODES.linuxWidened.code, CODES.landlockAbiWidened.code]).toContain(c);
            if (codes.includes(CODES.linuxWidened.code)) expect(abi < 10 && !accept.includes("udp")).toBe(true);
            if (codes.includes(CODES.landlockAbiWidened.code)) expect(lowerLandlock(ir, { abi: MAX_ABI }).table!.requiredAbi).toBeGreaterThan(abi);
            continue;
          }
          const masks = abiMasks(abi);
          for (const protocol of PROTOCOLS) {
            for (const op of OPS) {
              for (const port of PORTS) {
                if (!linuxNetAllows(ir, r.table, { protocol, op, port })) continue;
                const ok = HOSTS.every((host) => evaluateNetwork(ir, { op, protocol, host, port }).decision === "allow");
                if (ok) continue;
                // Allowed on Linux for a host the IR denies: accepted by name, or a right this ABI lacks.
                const excused =
                  (protocol === "udp" && abi < 10 && accept.includes("udp")) ||
                  (accept.includes("hosts") && HOSTS.some((host) => evaluateNetwork(ir, { op, protocol, host, port }).decision === "allow")) ||
                  // TCP below ABI 4 only where nothing restricts TCP (else SBC2211 above): every port is allowed anyway.
                  (protocol === "tcp" && (masks.net & ACCESS_NET.connect_tcp) === 0 && false);
                expect(excused, `${protocol} ${op} ${port} at ABI ${abi}: ${JSON.stringify(rules)} accept ${accept}`).toBe(true);
              }
            }
          }
        }
      }),
      propertyOptions(40),
    );
  }, 120_000);

  it("from ABI 10 enforces UDP by port, exactly where the policy allows a port for every host", () => {
    fc.assert(
      fc.property(fc.array(netRule, { maxLength: 4 }), (rules) => {
        const ir = policy(rules, []);
        const t = lowerLandlock(ir, { abi: 10 }).table!;
        for (const op of OPS) {
          for (const port of PORTS) {
            const everyHost = HOSTS.every((host) => evaluateNetwork(ir, { op, protocol: "udp", host, port }).decision === "allow");
            // Autobind: an unbound UDP socket's first connect needs a bind to port 0 too (narrower, SBC2201).
            const autobind = op === "connect" && !HOSTS.every((host) => evaluateNetwork(ir, { op: "bind", protocol: "udp", host, port: 0 }).decision === "allow");
            if (everyHost && !autobind) expect(linuxNetAllows(ir, t, { protocol: "udp", op, port }), `udp ${op} ${port}: ${JSON.stringify(rules)}`).toBe(true);
          }
        }
      }),
      propertyOptions(100),
    );
  }, 60_000);

  it("handles the UDP rights only from ABI 10 and only where the policy allows some UDP, so TCP-only policies stay at their ABI", () => {
    const tcpOnly = policy([{ effect: "allow", ops: ["connect"], protocols: ["tcp"], hosts: "any", ports: [[443, 443]] }], []);
    const udp = policy([{ effect: "allow", ops: ["connect", "bind"], protocols: ["udp"], hosts: "any", ports: [[53, 53]] }], []);
    for (const abi of ABIS) {
      expect(lowerLandlock(tcpOnly, { abi, compat: "best-effort" }).table!.handledAccessNet).toBe(abi >= 4 ? ACCESS_NET.bind_tcp | ACCESS_NET.connect_tcp : 0);
      const u = lowerLandlock(udp, { abi });
      if (abi < 10) expect(u.table).toBeUndefined();
      else {
        expect(u.table!.handledAccessNet & (ACCESS_NET.bind_udp | ACCESS_NET.connect_send_udp)).toBe(ACCESS_NET.bind_udp | ACCESS_NET.connect_send_udp);
        expect(u.table!.requiredAbi).toBe(10);
        expect(landlockNetAllows(u.table, { protocol: "udp", op: "connect", port: 53 })).toBe(false); // no bind to port 0: autobind refused
        expect(landlockNetAllows(u.table, { protocol: "udp", op: "bind", port: 53 })).toBe(true);
      }
    }
    expect(lowerLandlock(tcpOnly, { abi: 10 }).table!.requiredAbi).toBe(4);
  });
});

describe("RESOLVE_UNIX for unix socket paths (ABI 9, model)", () => {
  const unixRule = fc.record({
    effect: fc.constantFrom("allow" as const, "deny" as const),
    ops: fc.constantFrom<UnixPathRule["ops"]>(["connect"], ["bind", "connect"], ["bind"]),
    path: fc.constantFrom("/", "/run", "/run/a", "/run/a/b", "/srv", "/srv/x"),
    layer: fc.constant(0),
  });
  const PROBES = ["/run/s", "/run/a/s", "/run/a/b/s", "/run/a/c/s", "/srv/s", "/srv/x/s", "/tmp/s"];

  it("grants connect exactly where the unix rules allow it, and the filter then leaves connect(2) to Landlock", () => {
    fc.assert(
      fc.property(fc.array(unixRule, { maxLength: 4 }), fc.boolean(), (paths, abstract) => {
        const base = makeIr({ unix: { pairs: "allow", abstract: abstract ? "allow" : "deny", paths } });
        const ir: IR = { ...base, filesystem: [{ effect: "allow", access: ["read"], kind: "subtree", path: "/", ifMissing: "skip", layer: 0 }] };
        for (const abi of ABIS) {
          const t = lowerLandlock(ir, { abi, compat: "best-effort" }).table!;
          const handled = (t.handledAccessFs & ACCESS_FS.resolve_unix) !== 0;
          const limited = networkSyscalls(ir).unixNarrowings.some((n) => n.op === "connect");
          // Handled exactly where the filter alone would narrow connects, and only from ABI 9.
          expect(handled).toBe(abi >= 9 && limited);
          if (!handled) continue;
          expect(networkSyscalls(ir, { unixPathsByLandlock: true }).unixNarrowings.some((n) => n.op === "connect")).toBe(false);
          for (const p of PROBES) {
            expect(landlockUnixConnectAllows(t, p), `${p} at ABI ${abi}: ${JSON.stringify(paths)}`).toBe(evaluateUnixPath(ir, "connect", p).decision === "allow");
          }
        }
      }),
      propertyOptions(300),
    );
  });
});

describe("the loader's ABI negotiation (model)", () => {
  const udpDns = policy(
    [
      { effect: "allow", ops: ["connect"], protocols: ["tcp", "udp"], hosts: "any", ports: [[53, 53]] },
      { effect: "allow", ops: ["bind"], protocols: ["udp"], hosts: "any", ports: [[0, 0]] },
    ],
    ["udp"],
  );
  const table = (compat: Compat) => lowerLandlock(udpDns, { abi: MAX_ABI, compat }).table!;

  it("runs a table on every kernel that has what it handles, whatever ABI it was made for", () => {
    const tcpOnly = lowerLandlock(policy([{ effect: "allow", ops: ["connect"], protocols: ["tcp"], hosts: "any", ports: [[443, 443]] }], []), { abi: MAX_ABI }).table!;
    for (const k of ABIS) {
      const n = negotiate(tcpOnly, k);
      if (k >= 4) expect(n).toEqual({ table: tcpOnly, dropped: { fs: 0, net: 0, scoped: 0, restrictFlags: 0 } });
      else expect(n.refused).toBe(`the plan needs Landlock ABI 4, this kernel has ${k}`);
    }
  });

  it("hard-requirement refuses, soft-requirement drops the ruleset, best-effort drops what the kernel lacks and keeps the rest", () => {
    for (const k of ABIS) {
      const hard = negotiate(table("hard-requirement"), k);
      const soft = negotiate(table("soft-requirement"), k);
      const best = negotiate(table("best-effort"), k);
      if (k >= 10) {
        for (const n of [hard, soft, best]) expect(n.table).toBeDefined();
        continue;
      }
      expect(hard.refused).toBe(`the plan needs Landlock ABI 10, this kernel has ${k}`);
      expect(soft.table).toBeUndefined();
      const m = abiMasks(k);
      expect(best.dropped.net).toBe((ACCESS_NET.bind_udp | ACCESS_NET.connect_send_udp | ACCESS_NET.bind_tcp | ACCESS_NET.connect_tcp) & ~m.net);
      expect(best.table!.handledAccessNet & ~m.net).toBe(0);
      expect(best.table!.handledAccessFs & ~m.fs).toBe(0);
      expect(best.table!.net.every((n) => n.access !== 0 && (n.access & ~m.net) === 0)).toBe(true);
      // What is kept is still enforced: TCP port 53 only, from ABI 4.
      if (k >= 4) {
        expect(landlockNetAllows(best.table, { protocol: "tcp", op: "connect", port: 53 })).toBe(true);
        expect(landlockNetAllows(best.table, { protocol: "tcp", op: "connect", port: 54 })).toBe(false);
      }
      // UDP is then the seccomp filter's alone: every port (the widening the policy accepted, and best-effort said).
      expect(landlockNetAllows(best.table, { protocol: "udp", op: "connect", port: 54 })).toBe(true);
    }
  });
});
