// The seccomp targets through the CLI: the bytes on disk are the compiled program, the other formats carry
// the same program, --arch selects the filter, and the CLI refuses what would go wrong (binary to a terminal
// is tested in-process only for the message; unknown arches are usage errors).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compilePolicy } from "../lib/index.js";
import { decode, encode } from "../targets/seccomp/bpf.js";
import { compileSeccomp } from "../targets/seccomp/index.js";
import { ensureBuilt, sbc, STACK_TRACE } from "./support/cli.js";
import { tempDir } from "./support/tmp.js";
import type { Arch } from "../linux-abi/index.js";

beforeAll(() => ensureBuilt());

const expected = (arches: Arch[]) => compileSeccomp(compilePolicy({ kind: "preset", name: "workspace-write" }).ir!, arches).filter!.program;

describe("sbc compile -t seccomp*", () => {
  it("-t seccomp -o writes exactly the compiled struct sock_filter bytes", async () => {
    const dir = tempDir();
    const out = join(dir, "ww.bpf");
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp", "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(decode(new Uint8Array(readFileSync(out)))).toEqual(expected(["x86_64"]));
  });

  it("--arch x86_64,aarch64 gives one filter for both, aarch64 alone another", async () => {
    const dir = tempDir();
    for (const [arches, file] of [[["x86_64", "aarch64"], "both.bpf"], [["aarch64"], "arm.bpf"]] as const) {
      const r = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp", "--arch", arches.join(","), "-o", join(dir, file)]);
      expect(r.code, r.stderr).toBe(0);
      expect(decode(new Uint8Array(readFileSync(join(dir, file))))).toEqual(expected([...arches]));
    }
  });

  it("--arch takes every supported arch; s390x's bytes are big-endian, and mixing byte orders is SBC2011", async () => {
    const dir = tempDir();
    for (const arches of [["x32"], ["i386"], ["arm"], ["riscv64"], ["ppc64le"], ["loongarch64"], ["x86_64", "x32", "i386"], ["s390x"]] as Arch[][]) {
      const file = join(dir, `${arches.join("+")}.bpf`);
      const r = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp", "--arch", arches.join(","), "-o", file]);
      expect(r.code, r.stderr).toBe(0);
      const order = arches[0] === "s390x" ? "big" : "little";
      expect(decode(new Uint8Array(readFileSync(file)), order), arches.join(",")).toEqual(expected(arches));
    }
    const disasm = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp-disasm", "--arch", "s390x"]);
    expect(disasm.stdout).toMatch(/ld \[20\] {2}; arg0\.lo/); // big-endian: the low word of arg0 is at 16 + 4
    const mixed = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp", "--arch", "x86_64,s390x"]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/SBC2011/);
    expect(mixed.stderr).not.toMatch(STACK_TRACE);
  });

  it("-t seccomp-json carries the same program (array and base64)", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp-json"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { arches: string[]; length: number; instructions: number[][]; base64: string };
    const p = expected(["x86_64"]);
    expect(j.arches).toEqual(["x86_64"]);
    expect(j.length).toBe(p.length);
    expect(j.instructions).toEqual(p.map((i) => [i.code, i.jt, i.jf, i.k >>> 0]));
    expect(Buffer.from(j.base64, "base64")).toEqual(Buffer.from(encode(p)));
  });

  it("-t seccomp-c declares the array and its sock_fprog with the right length", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp-c"]);
    expect(r.code, r.stderr).toBe(0);
    const p = expected(["x86_64"]);
    expect(r.stdout).toContain(`static struct sock_filter sbc_workspace_write_filter[${p.length}] = {`);
    expect(r.stdout).toContain(`.len = ${p.length},`);
    expect(r.stdout.match(/^\t\{ 0x/gm)?.length).toBe(p.length);
  });

  it("-t seccomp-disasm prints one line per instruction", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp-disasm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split("\n").length).toBe(expected(["x86_64"]).length);
  });

  it("an unknown arch is a usage error (exit 2) without a stack trace", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "seccomp", "--arch", "mips"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown arch `mips`/);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });
});

describe("5,000 rules on one syscall", () => {
  /** A policy of `count` rules on ioctl, each written by `rule(i)` as the lines after `- syscalls: ioctl`. */
  const policy = (count: number, rule: (i: number) => string) =>
    ["sbc: 1", "name: many-rules", "network: on", "syscalls:", "  default: { errno: EPERM }", "  rules:", ...Array.from({ length: count }, (_, i) => `    - syscalls: ioctl\n${rule(i)}`), ""].join("\n");

  it("compile when the filter is small (the rules' union is one test)", async () => {
    const file = join(tempDir(), "union.yaml");
    writeFileSync(file, policy(5000, (i) => `      action: allow\n      args: ["arg0 > ${i}"]`));
    const r = await sbc(["compile", file, "-t", "seccomp-json"], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { length: number }).length).toBeLessThanOrEqual(16);
  }, 60_000);

  it("give SBC2001 (exit 1, the normal diagnostic) when the filter cannot fit, never an internal error", async () => {
    const file = join(tempDir(), "values.yaml");
    writeFileSync(file, policy(5000, (i) => `      action: { errno: ${2 + (i % 3000)} }\n      args: ["arg1 == ${i * 7}"]`));
    const r = await sbc(["compile", file, "-t", "seccomp-disasm"], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/error\[SBC2001\]: the seccomp filter would have at least \d+ instructions; the kernel accepts at most 4096/);
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.stderr).not.toMatch(/internal error/);
  }, 60_000);
});

describe("sbc import oci-seccomp and -t oci-seccomp", () => {
  const docker = join(import.meta.dirname, "..", "fixtures", "data", "oci", "moby-seccomp-default.json");

  it("imports Docker's profile to the golden YAML, with warnings on stderr and exit 0", async () => {
    const r = await sbc(["import", "oci-seccomp", docker]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(import.meta.dirname, "..", "fixtures", "data", "oci", "moby-seccomp-default.imported.yaml"), "utf8"));
    expect(r.stderr).toMatch(/warning\[SBC1102\]/);
  });

  it("--arch takes every supported arch: the profile's entries for that arch are kept", async () => {
    const s390 = await sbc(["import", "oci-seccomp", docker, "--arch", "s390x", "-q"]);
    expect(s390.code, s390.stderr).toBe(0);
    expect(s390.stdout).toMatch(/\bs390_pci_mmio_read\b/);
    const i386 = await sbc(["import", "oci-seccomp", docker, "--arch", "i386", "-q"]);
    expect(i386.code, i386.stderr).toBe(0);
    expect(i386.stdout).toMatch(/\bmodify_ldt\b/); // includes.arches lists x86
    expect(i386.stdout).not.toMatch(/\barch_prctl\b(?![^\n]*left out)/);
    const bad = await sbc(["import", "oci-seccomp", docker, "--arch", "mips"]);
    expect(bad.code).toBe(2);
  });

  it("the imported policy compiles back to the golden OCI profile", async () => {
    const dir = tempDir();
    const yaml = join(dir, "docker.yaml");
    expect((await sbc(["import", "oci-seccomp", docker, "-o", yaml, "-q"])).code).toBe(0);
    const r = await sbc(["compile", yaml, "-t", "oci-seccomp"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(import.meta.dirname, "..", "fixtures", "data", "oci", "moby-seccomp-default.exported.json"), "utf8"));
  });

  it("rejects an unknown format, a missing file and broken JSON with the right exit codes", async () => {
    const dir = tempDir();
    expect((await sbc(["import", "oci-secomp", docker])).code).toBe(2);
    expect((await sbc(["import", "oci-seccomp", join(dir, "nope.json")])).code).toBe(2);
    const bad = join(dir, "bad.json");
    await import("node:fs").then((fs) => fs.writeFileSync(bad, '{"defaultAction": '));
    const r = await sbc(["import", "oci-seccomp", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[SBC1101\]/);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });
});
