// spawnSandboxed: run a command under a policy from a TypeScript program (an agent harness, a build tool),
// the way `sbc exec` runs it — on Linux through the native loader with the `linux` target's plan, on macOS
// through sandbox-exec with the `sbpl` profile (behind the Node relay for rules by domain) — and hand back the
// ordinary ChildProcess.

import { spawn, type ChildProcess, type IOType, type StdioOptions } from "node:child_process";
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import type { Stream } from "node:stream";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { environmentBindings } from "../compiler/passes/environment.js";
import { freeParams } from "../ir/bind.js";
import type { Arch } from "../linux-abi/index.js";
import { compile, type CompileInput } from "./compile.js";
import { PolicyError, SandboxUnavailableError, UsageError } from "./errors.js";
import { findLoader } from "./loader.js";
import type { Duplex } from "node:stream";
import type { IR } from "../ir/types.js";
import { DEFAULT_PROXY_PORT } from "../ir/backend.js";
import { proxyEnvironment } from "./proxy/run.js";

/** The only sandbox-exec run: an absolute path, never looked up in PATH (a planted copy would win). */
const SANDBOX_EXEC = "/usr/bin/sandbox-exec";

export interface SpawnSandboxedOptions {
  /** Values of the policy's parameters, over the built-ins (`workspace` and `cwd` = `cwd`, `home`, `tmpdir`). */
  readonly params?: Readonly<Record<string, string>>;
  /** The command's working directory, and the value of `${workspace}` and `${cwd}` (default: the process's). */
  readonly cwd?: string;
  /** The command's environment (default: the process's). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The command's stdio, as for child_process.spawn (default `pipe` for all three). On Linux the plan reaches
   * the loader on the first descriptor after these (fd 3 unless more are given), closed before the command runs.
   */
  readonly stdio?: StdioOptions;
  /** Linux: the mount namespace, over the policy's `linux.namespaces` (`sbc exec --namespaces`). */
  readonly namespaces?: "auto" | "require" | "never";
  /**
   * Linux: what the loader does on a kernel whose Landlock is older than the policy needs (`sbc exec
   * --compat`): refuse (`hard-requirement`, the default), run without Landlock, or enforce what it can.
   */
  readonly compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  /** `--kernel X.Y`: the newest kernel whose syscalls the policy knows (overrides `syscalls.kernel`). */
  readonly kernel?: string;
  /** A policy with rules by domain: names the egress proxy resolves to these addresses (`sbc exec --resolve`; names are normalized, a bad entry is a UsageError before anything runs). */
  readonly resolve?: Readonly<Record<string, readonly string[]>>;
  readonly signal?: AbortSignal;
}

/** What spawnSandboxed runs: a program, its arguments, and on Linux the plan the loader reads. */
export interface SandboxedCommand {
  /** The program started: the native loader (Linux) or sandbox-exec (macOS). */
  readonly file: string;
  readonly args: readonly string[];
  /** Linux: the loader's plan (the `linux` target's text), written to descriptor `planFd`. */
  readonly plan?: { readonly text: string; readonly fd: number };
  /**
   * A policy with rules by domain. Linux: the egress proxy's control channel is descriptor `fd` of the loader
   * (spawnSandboxed answers it on `ir`, the bound IR the plan was compiled from, docs/proxy.md). macOS: the
   * profile lets the command reach only localhost:`port`, where the proxy must listen (spawnSandboxed starts
   * the Node relay there). `env`: the proxy variables the command must get.
   */
  readonly proxy?: { readonly fd?: number; readonly port?: number; readonly env: Readonly<Record<string, string>>; readonly ir: IR };
  /** Warnings of compiling the policy (the errors are thrown as a PolicyError). */
  readonly diagnostics: readonly Diagnostic[];
  /** Every file the policy was read from (see CompileOutput.files). */
  readonly files: readonly string[];
}

/** A ChildProcess that also carries the warnings of compiling its policy. */
export type SandboxedProcess = ChildProcess & { readonly sandbox: SandboxedCommand };

const SECCOMP_ARCH: Partial<Record<NodeJS.Architecture, Arch>> = { x64: "x86_64", arm64: "aarch64" };

/** The stdio entries the caller gave, three at least (spawn's default is `pipe` for each). */
function stdioList(stdio: StdioOptions | undefined): (IOType | "ipc" | Stream | number | null | undefined)[] {
  if (stdio === undefined) return ["pipe", "pipe", "pipe"];
  if (typeof stdio === "string") return [stdio, stdio, stdio];
  const list = [...stdio];
  while (list.length < 3) list.push(undefined);
  return list;
}

/** On macOS the kernel sees canonical paths: resolve the bindings' links (TMPDIR is under /var → /private/var). */
export function canonicalBindings(bindings: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(bindings)) {
    try {
      out[k] = realpathSync(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/**
 * Compile `policy` for this machine and say how to run `argv` under it, without running anything: the
 * program and arguments spawnSandboxed starts. Throws PolicyError (the policy has errors or a parameter without
 * a value), SandboxUnavailableError (this machine cannot sandbox) or UsageError (bad options).
 */
export async function sandboxedCommand(
  policy: CompileInput,
  argv: readonly string[],
  options: SpawnSandboxedOptions & { readonly platform?: NodeJS.Platform; readonly arch?: NodeJS.Architecture; readonly proxyPort?: number } = {},
): Promise<SandboxedCommand> {
  if (!argv.length || argv.some((a) => typeof a !== "string")) throw new UsageError("name the command to run: `argv` is a non-empty list of strings");
  const platform = options.platform ?? process.platform;
  if (platform !== "linux" && platform !== "darwin") {
    throw new SandboxUnavailableError(`commands are sandboxed on Linux (Landlock and seccomp) and macOS (sandbox-exec); this is ${platform}`);
  }
  if (options.namespaces !== undefined && !["auto", "require", "never"].includes(options.namespaces)) {
    throw new UsageError(`unknown namespaces mode \`${String(options.namespaces)}\``, "modes: auto, require, never");
  }
  const cwd = resolve(options.cwd ?? process.cwd());
  // Built-ins are always known parameters, so binding them all is safe whatever the policy uses; these are the
  // values `sbc exec` and the loader bind.
  const bound = { ...environmentBindings(cwd), ...(options.params ?? {}) };
  const common = { ...(options.kernel !== undefined ? { kernel: options.kernel } : {}) };

  if (platform === "darwin") {
    // Rules by domain reach only the egress proxy on localhost:proxyPort (SBC1423; the default port until the
    // caller says where its proxy listens: spawnSandboxed compiles again for the Node relay's port).
    const proxyPort = options.proxyPort ?? DEFAULT_PROXY_PORT;
    const r = await compile(policy, { target: "sbpl", params: canonicalBindings(bound), proxyPort, ...common });
    const profile = checked(r, policy);
    const proxy = r.ir?.network.domains?.length ? { port: proxyPort, env: proxyEnvironment(proxyPort), ir: r.ir } : undefined;
    return { file: SANDBOX_EXEC, args: ["-p", profile, "--", ...argv], ...(proxy ? { proxy } : {}), diagnostics: r.diagnostics, files: r.files };
  }

  const arch = SECCOMP_ARCH[options.arch ?? process.arch];
  if (!arch) throw new SandboxUnavailableError(`no seccomp support for the ${options.arch ?? process.arch} architecture`);
  // The loader of `sbc exec`: the package's, or one built on first use into the per-user cache (lib/loader.ts).
  const found = findLoader({ build: true });
  if (!found.ok) throw new SandboxUnavailableError(found.message, found.help);
  const loader = found.path;
  // The plan is built for the newest Landlock ABI; the loader negotiates with the running kernel by `compat`
  // (refuses, drops Landlock, or enforces what it can), as it does for `sbc exec`'s cached plans.
  const r = await compile(policy, { target: "linux", arch, params: bound, compat: options.compat ?? "hard-requirement", ...common });
  const text = checked(r, policy);
  const fd = Math.max(3, stdioList(options.stdio).length);
  // Rules by domain: the plan has `net-proxy`, and the loader needs the control channel on the next descriptor.
  const proxy = r.ir?.network.domains?.length ? { fd: fd + 1, env: proxyEnvironment(DEFAULT_PROXY_PORT), ir: r.ir } : undefined;
  const args = [...(options.namespaces ? ["--namespaces", options.namespaces] : []), "--plan-fd", String(fd), ...(proxy ? ["--proxy-fd", String(proxy.fd)] : []), "--", ...argv];
  return { file: loader, args, plan: { text, fd }, ...(proxy ? { proxy } : {}), diagnostics: r.diagnostics, files: r.files };
}

/** The artifact of a compile that must have succeeded with every parameter bound; else a PolicyError. */
function checked(r: Awaited<ReturnType<typeof compile>>, policy: CompileInput): string {
  const name = policy.kind === "preset" ? `preset \`${policy.name}\`` : policy.kind === "file" ? `\`${policy.path}\`` : "the policy text";
  if (!r.ok || typeof r.output !== "string") {
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    throw new PolicyError(`${name} has ${errors.length} error${errors.length === 1 ? "" : "s"}, so nothing was run`, r.diagnostics);
  }
  const free = r.ir ? freeParams(r.ir) : [];
  if (free.length) {
    const d = free.map((p) => diag("unboundParam", `parameter \`${p}\` has no value`, { help: `bind it with \`params: { ${p}: "/some/path" }\`` }));
    throw new PolicyError(`${name} has parameters without a value (${free.map((p) => `\`${p}\``).join(", ")}), so nothing was run`, [...r.diagnostics, ...d]);
  }
  return r.output;
}

/**
 * Run `argv` under `policy`: on Linux through the native loader (Landlock, seccomp, a mount namespace when it
 * can get one), on macOS through sandbox-exec. Resolves to the started ChildProcess once the policy compiled;
 * rejects with PolicyError, SandboxUnavailableError or UsageError before anything runs. A command the loader
 * refuses to start (a kernel too old for a hard requirement, a protected path it cannot protect) exits 125
 * with the reason on its stderr.
 */
export async function spawnSandboxed(policy: CompileInput, argv: readonly string[], options: SpawnSandboxedOptions = {}): Promise<SandboxedProcess> {
  return spawnSandboxedOn(process.platform, SANDBOX_EXEC, policy, argv, options);
}

/** spawnSandboxed for `platform`, with sandbox-exec at `sandboxExec` (tests stand one in; not exported by lib/). */
export async function spawnSandboxedOn(
  platform: NodeJS.Platform,
  sandboxExec: string,
  policy: CompileInput,
  argv: readonly string[],
  options: SpawnSandboxedOptions = {},
): Promise<SandboxedProcess> {
  const cmd = await sandboxedCommand(policy, argv, { ...options, platform });
  // Checked before anything starts: a bad entry is a UsageError, never a half-started run.
  const resolved = cmd.proxy ? await resolveOption(options) : new Map<string, readonly string[]>();
  if (platform === "darwin") return spawnBehindHostProxy(cmd, sandboxExec, policy, argv, options, resolved);
  const stdio = stdioList(options.stdio);
  if (cmd.plan) {
    while (stdio.length < cmd.plan.fd) stdio.push("ignore");
    stdio.push("pipe");
  }
  if (cmd.proxy) stdio.push("pipe");
  const env = cmd.proxy ? { ...(options.env ?? process.env), ...cmd.proxy.env } : options.env;
  const child = spawn(cmd.file, [...cmd.args], {
    stdio,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  if (cmd.proxy) {
    // The decision service answers the relay on the bound IR the plan was compiled from; if the channel cannot
    // be had, the loader refuses the plan (exit 125) before the command runs.
    const channel = (child.stdio as readonly unknown[])[cmd.proxy.fd!] as Duplex | null;
    const ir = cmd.proxy.ir;
    if (channel) {
      const { DecisionService } = await import("./proxy/service.js");
      const { resolverWith } = await import("./proxy/decide.js");
      new DecisionService(ir, channel, { resolver: resolverWith(resolved) });
    }
  }
  if (cmd.plan) {
    const pipe = child.stdio[cmd.plan.fd] as NodeJS.WritableStream | null;
    // The loader reads the plan before anything else; if it died first, the exit status says why.
    pipe?.on("error", () => undefined);
    pipe?.end(cmd.plan.text);
  }
  return Object.assign(child, { sandbox: cmd });
}

/** The `resolve` option as the proxy looks names up (normalized, as `--resolve`); a bad entry is a UsageError. */
async function resolveOption(options: SpawnSandboxedOptions): Promise<ReadonlyMap<string, readonly string[]>> {
  const { resolveMap } = await import("./proxy/decide.js");
  const r = resolveMap(Object.entries(options.resolve ?? {}), (name) => `\`resolve\` entry \`${name}\``);
  if (!r.ok) throw new UsageError(r.message, "names map to IP addresses: `{ \"registry.test\": [\"127.0.0.1\"] }`");
  return r.map;
}

/**
 * macOS: with rules by domain, the Node relay starts first (an ephemeral port of 127.0.0.1; SandboxUnavailableError
 * if it cannot listen), the profile is compiled for its port, the command gets the proxy variables, and the
 * relay stops when the command has ended.
 */
async function spawnBehindHostProxy(
  first: SandboxedCommand,
  sandboxExec: string,
  policy: CompileInput,
  argv: readonly string[],
  options: SpawnSandboxedOptions,
  resolved: ReadonlyMap<string, readonly string[]>,
): Promise<SandboxedProcess> {
  let cmd = first;
  let proxy: import("./proxy/host-proxy.js").HostProxy | undefined;
  if (first.proxy) {
    const { startHostProxy } = await import("./proxy/host-proxy.js");
    try {
      proxy = await startHostProxy(first.proxy.ir, { resolve: resolved });
    } catch (e) {
      throw new SandboxUnavailableError(`sbc's egress proxy could not listen on 127.0.0.1: ${(e as Error).message}`);
    }
    // Compiled again for the relay's port (the port is known only now); the relay decides on the first IR.
    try {
      cmd = await sandboxedCommand(policy, argv, { ...options, platform: "darwin", proxyPort: proxy.port });
    } catch (e) {
      await proxy.stop();
      throw e;
    }
  }
  const env = proxy ? { ...(options.env ?? process.env), ...proxy.env } : options.env;
  const child = spawn(sandboxExec, [...cmd.args], {
    stdio: options.stdio ?? "pipe",
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  if (proxy) {
    const stop = () => void proxy.stop();
    child.once("close", stop);
    child.once("error", stop);
  }
  return Object.assign(child, { sandbox: cmd });
}
