// The logic the CLI used to hold, now in lib/: the target registry (one entry shape for every backend,
// binary/text and default arches as declared) and exec's Landlock negotiation, which is pure and so can be
// asked about every kernel ABI and compatibility level without that kernel.

import { describe, expect, it } from "vitest";
import { compile } from "../lib/compile.js";
import { TARGETS } from "../lib/targets.js";
import { negotiateRun } from "../lib/exec-plan.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { MAX_ABI } from "../targets/landlock/abi.js";
import * as seccomp from "../targets/seccomp/index.js";
import * as landlock from "../targets/landlock/index.js";
import * as sbpl from "../targets/sbpl/index.js";
import * as oci from "../targets/oci-seccomp/index.js";
import type { IR } from "../ir/types.js";

const PRESET = { kind: "preset", name: "workspace-write" } as const;
const bound = (text?: string): IR => {
  const r = compilePolicy(text ? { kind: "text", path: "p.yaml", text } : PRESET, { params: { workspace: "/w", home: "/h", tmpdir: "/tmp", cwd: "/w" } });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.ir!;
};

describe("target registry", () => {
  it("every target emits bytes when binary and text otherwise", async () => {
    for (const [name, t] of Object.entries(TARGETS)) {
      const r = await compile(PRESET, { target: name, params: { workspace: "/w", home: "/h", tmpdir: "/tmp", cwd: "/w" } });
      expect(r.ok, name).toBe(true);
      expect(typeof r.output, name).toBe(t.binary ? "object" : "string");
    }
  });

  it("a target's declared default arches are the ones it builds for without --arch", async () => {
    for (const [name, t] of Object.entries(TARGETS)) {
      if (!t.defaultArches) continue;
      const implicit = await compile(PRESET, { target: name });
      const explicit = await compile(PRESET, { target: name, arch: t.defaultArches });
      expect(implicit.output, name).toEqual(explicit.output);
      const other = await compile(PRESET, { target: name, arch: "riscv64" });
      expect(other.output, name).not.toEqual(implicit.output);
    }
  });

  it("every backend's compile() has the one shape: an artifact with no error, none with one", () => {
    const ir = bound();
    const results = [
      seccomp.compile(ir, { arches: ["x86_64"] }),
      landlock.compile(ir, { abi: MAX_ABI }),
      sbpl.compile(ir, { params: "inline" }),
      oci.compile(ir, {}),
    ];
    for (const r of results) {
      expect(r.artifact).toBeDefined();
      expect(r.diagnostics.some((d) => d.severity === "error")).toBe(false);
    }
    // Mixed byte orders are an error of the seccomp backend: no artifact then.
    const mixed = seccomp.compile(ir, { arches: ["x86_64", "s390x"] });
    expect(mixed.artifact).toBeUndefined();
    expect(mixed.diagnostics.some((d) => d.severity === "error")).toBe(true);
  });
});

describe("exec's negotiation with the kernel (negotiateRun)", () => {
  const ir = bound();
  const needed = landlock.compile(ir, { abi: MAX_ABI }).artifact!.requiredAbi;
  const base = { arch: "x86_64", probeNamespaces: "user" } as const;

  it("the preset needs a Landlock ABI above 1, so older kernels are worth asking about", () => {
    expect(needed).toBeGreaterThan(1);
  });

  for (let abi = 0; abi <= MAX_ABI + 1; abi++) {
    it(`kernel ABI ${abi}: hard-requirement refuses below the needed ABI, best-effort and soft-requirement run with less`, () => {
      const hard = negotiateRun(ir, { ...base, kernelAbi: abi, compat: "hard-requirement" });
      const best = negotiateRun(ir, { ...base, kernelAbi: abi, compat: "best-effort" });
      const soft = negotiateRun(ir, { ...base, kernelAbi: abi, compat: "soft-requirement" });
      if (abi < needed) {
        expect(hard.kind).toBe("refused");
        if (hard.kind === "refused") expect(hard.diagnostic.code).toBe("SBC2503");
        expect(best.kind === "ready" && best.run.exact).toBe(false);
        expect(soft.kind === "ready" && soft.run.exact).toBe(false);
        if (soft.kind === "ready") expect(soft.run.table).toBeUndefined();
        if (best.kind === "ready") expect(best.run.table?.abi).toBe(abi === 0 ? undefined : abi);
      } else {
        for (const r of [hard, best, soft]) {
          expect(r.kind).toBe("ready");
          if (r.kind === "ready") {
            expect(r.run.exact).toBe(true);
            expect(r.run.kernelAbi).toBe(Math.min(abi, MAX_ABI));
            expect(r.run.notes).toEqual([]);
          }
        }
      }
    });
  }

  it("a required mount namespace the machine cannot give is refused (SBC2502), unless the run asks for auto", () => {
    const probeNamespaces = "none:unshare:EPERM";
    const refused = negotiateRun(ir, { ...base, probeNamespaces, kernelAbi: MAX_ABI, compat: "hard-requirement", namespaces: "require" });
    expect(refused.kind === "refused" && refused.diagnostic.code).toBe("SBC2502");
    expect(refused.kind === "refused" && refused.diagnostic.message).toMatch(/^`--namespaces require` requires a mount namespace.*unshare failed with EPERM/);
    expect(negotiateRun(ir, { ...base, probeNamespaces, kernelAbi: MAX_ABI, compat: "hard-requirement", namespaces: "auto" }).kind).toBe("ready");
  });

  it("a policy that restricts nothing gets neither a Landlock table nor a filter", () => {
    const open = bound("sbc: 1\nname: open\nextends: full-access\n");
    const r = negotiateRun(open, { ...base, kernelAbi: MAX_ABI, compat: "hard-requirement" });
    expect(r.kind).toBe("ready");
    if (r.kind === "ready") {
      expect(r.run.table).toBeUndefined();
      expect(r.run.filter).toBeUndefined();
    }
  });
});
