// The native loader (native/loader, `sbc-loader`) as the library reaches it: where it is, what its probe says
// the kernel offers, and its verdict on a plan's protected names. The one place that runs it for questions;
// running a command under it is the caller's (the CLI's `exec`).

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../compiler/package-root.js";

export type NamespacesMode = "auto" | "require" | "never";

export interface KernelProbe {
  /** The kernel's Landlock ABI (0: none). */
  readonly landlockAbi: number;
  readonly seccomp: boolean;
  /** `user`, `admin`, or `none:STEP:ERRNO` (why no mount namespace can be had). */
  readonly namespaces: string;
  /** /proc/sys/kernel/io_uring_disabled, or `absent`, `unknown`. */
  readonly ioUring: string;
  /** The probe's line as printed. */
  readonly line: string;
}

export function loaderPath(): string {
  return join(packageRoot(), "native", "build", "sbc-loader");
}

/** `sbc-loader --probe`, parsed; `{ error }` when the loader cannot answer. */
export function probeKernel(loader: string = loaderPath()): KernelProbe | { error: string } {
  const probe = spawnSync(loader, ["--probe"], { encoding: "utf8" });
  const line = (probe.stdout ?? "").trim();
  const field = (name: string) => new RegExp(`(?:^| )${name}=(\\S+)`).exec(line)?.[1];
  const abi = field("landlock-abi");
  if (probe.status !== 0 || abi === undefined) return { error: (probe.stderr || probe.error?.message || line || "no answer").trim() };
  return { landlockAbi: Number(abi), seccomp: field("seccomp") === "1", namespaces: field("namespaces") ?? "unknown", ioUring: field("io-uring") ?? "unknown", line };
}

/** The loader's `--check --explain` on a plan: the protected name it would refuse, and why; undefined otherwise. */
export function checkPlan(loader: string, text: string, namespaces: NamespacesMode | undefined): { path: string; why: string } | undefined {
  const r = spawnSync(loader, ["--check", "--explain", ...(namespaces ? ["--namespaces", namespaces] : []), "--plan-fd", "0"], { input: text, encoding: "utf8" });
  const m = /^refuse (\S+) (.*)$/m.exec(r.stdout ?? "");
  if (r.status !== 1 || !m) return undefined;
  return { path: Buffer.from(m[1]!.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8"), why: m[2]! };
}
