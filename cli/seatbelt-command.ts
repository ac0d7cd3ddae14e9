// `sbc debug seatbelt`: compile a policy to a Seatbelt profile with its paths as `-D` parameters (built-ins
// bound from this process, as `sbc exec` binds them), show the profile and the exact sandbox-exec command line,
// and on macOS run the command under it. Elsewhere nothing runs: the command line is printed and the status
// is 125, like `sbc exec` when it cannot sandbox, so a script notices. A policy with rules by domain runs
// behind sbc's egress proxy: the Node relay on an ephemeral port of 127.0.0.1, the only outbound the profile
// allows for the names (docs/proxy.md, "macOS").

import { spawn } from "node:child_process";
import { canonicalBindings } from "../lib/spawn.js";
import { environmentBindings } from "../lib/run-policy.js";
import { DEFAULT_PROXY_PORT, seatbeltProfile } from "../lib/seatbelt.js";
import { diag } from "../lib/report.js";
import { EXIT_CANNOT_RUN, EXIT_FINDINGS, UsageError, exitLikeChild, forwardSignals } from "./exit.js";
import { compileForRun } from "./compile-for-run.js";
import { parseParams, parseResolveOption, printDiagnostics } from "./output.js";

/** The only sandbox-exec sbc runs: an absolute path, never looked up in PATH (a planted copy would win). */
export const SANDBOX_EXEC = "/usr/bin/sandbox-exec";

export interface SeatbeltOptions {
  preset?: string;
  param: string[];
  color: boolean;
  /** `--resolve NAME=ADDR[,ADDR]`: the egress proxy's names (lib/proxy/decide.ts). */
  resolve?: string[];
  /** `--network-log FILE`: one JSON line per connection through the egress proxy. */
  networkLog?: string;
}

/** sandbox-exec's arguments: `-p PROFILE`, one `-D KEY=VALUE` per define, `--`, the command. */
export function seatbeltArgs(profile: string, defines: readonly (readonly [string, string])[], command: readonly string[]): string[] {
  return ["-p", profile, ...defines.flatMap(([k, v]) => ["-D", `${k}=${v}`]), "--", ...command];
}

/** POSIX shell quoting: words of safe characters as they are, anything else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_/.,:=@%+-]+$/.test(word)) return word;
  return "'" + word.replace(/'/g, "'\\''") + "'";
}

/** Run `exe` with `args`, passing signals on; resolves to the command's status (125 when it cannot start). */
export function runSandboxExec(exe: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(exe, args, { stdio: "inherit", ...(env ? { env } : {}) });
    forwardSignals(child);
    child.on("error", (e) => {
      process.stderr.write(`sbc: cannot start ${exe}: ${e.message}\n`);
      resolve(EXIT_CANNOT_RUN);
    });
    child.on("exit", (code, signal) => resolve(exitLikeChild(code, signal)));
  });
}

/** `sandboxExec`: the launcher's path, for tests only (the CLI always runs SANDBOX_EXEC). */
export async function runSeatbelt(
  policy: string | undefined,
  argv: readonly string[],
  opts: SeatbeltOptions,
  platform: NodeJS.Platform = process.platform,
  sandboxExec: string = SANDBOX_EXEC,
): Promise<number> {
  if ((policy === undefined) === (opts.preset === undefined)) throw new UsageError("name a policy file or a --preset, not both and not neither");
  if (!argv.length) throw new UsageError("name the command to run after `--`", "for example `sbc debug seatbelt --preset workspace-write -- make test`");
  const darwin = platform === "darwin";
  const resolved = await parseResolveOption(opts.resolve);

  const explicit = parseParams(opts.param);
  const env = environmentBindings(process.cwd());
  // Built-ins are always known parameters, so binding them all is safe whatever the policy uses.
  const bindings = darwin ? canonicalBindings({ ...env, ...explicit }) : { ...env, ...explicit };
  const compiled = compileForRun(policy, opts.preset, bindings, opts.color);
  if ("status" in compiled) return compiled.status;

  // Rules by domain: the egress proxy (the Node relay, lib/proxy/host-proxy.ts) runs on the host's loopback,
  // and the profile lets the command reach only its port for them. Off macOS nothing runs, so no proxy starts:
  // the profile shown has the default port where the run would have the relay's ephemeral one.
  const proxied = (compiled.ir.network.domains ?? []).length > 0;
  if (!proxied && (resolved || opts.networkLog !== undefined)) {
    process.stderr.write(`sbc: the policy has no rules by domain, so no egress proxy runs: ${resolved ? "`--resolve`" : "`--network-log`"} has nothing to do\n`);
  }
  const cannotStart = (why: string) => {
    printDiagnostics([diag("proxyStart", `${why}; the command is not run`)], { format: "human", color: opts.color }, process.stderr);
    return EXIT_CANNOT_RUN;
  };
  let proxy: import("../lib/proxy/host-proxy.js").HostProxy | undefined;
  let log: import("../lib/proxy/run.js").NetworkLog | undefined;
  if (proxied && darwin) {
    const { NetworkLog } = await import("../lib/proxy/run.js");
    if (opts.networkLog !== undefined) {
      const opened = NetworkLog.open(opts.networkLog);
      if ("error" in opened) return cannotStart(opened.error);
      log = opened;
    }
    try {
      const { startHostProxy } = await import("../lib/proxy/host-proxy.js");
      const l = log;
      proxy = await startHostProxy(compiled.ir, {
        ...(resolved ? { resolve: resolved } : {}),
        ...(l ? { log: (e) => l.write(e) } : {}),
        warn: (m) => process.stderr.write(`sbc: ${m}\n`),
      });
    } catch (e) {
      log?.close();
      return cannotStart(`the egress proxy could not listen on 127.0.0.1 (${(e as Error).message})`);
    }
  }
  try {
    return await runProfile(compiled.ir, argv, opts, platform, sandboxExec, proxied ? (proxy?.port ?? DEFAULT_PROXY_PORT) : undefined, proxy?.env);
  } finally {
    await proxy?.stop();
    log?.close();
    if (log?.failure) process.stderr.write(`sbc: ${log.failure}\n`);
  }
}

/** Compile the profile (for the proxy's port, if any), show it, and on macOS run the command under it. */
async function runProfile(
  ir: import("../lib/seatbelt.js").SeatbeltIr,
  argv: readonly string[],
  opts: SeatbeltOptions,
  platform: NodeJS.Platform,
  sandboxExec: string,
  proxyPort: number | undefined,
  proxyEnv: Readonly<Record<string, string>> | undefined,
): Promise<number> {
  const darwin = platform === "darwin";
  const out = seatbeltProfile(ir, proxyPort !== undefined ? { proxyPort } : {});
  printDiagnostics(out.diagnostics, { format: "human", color: opts.color }, process.stderr);
  if (out.profile === undefined) return EXIT_FINDINGS;
  const missing = out.missing;
  if (missing.length) {
    throw new UsageError(`parameter${missing.length > 1 ? "s" : ""} ${missing.map((m) => `\`${m}\``).join(", ")} ha${missing.length > 1 ? "ve" : "s"} no value`, `bind ${missing.length > 1 ? "them" : "it"} with \`--param ${missing[0]}=PATH\``);
  }

  const args = seatbeltArgs(out.profile, out.defines, argv);
  const line = [SANDBOX_EXEC, ...args].map(shellQuote).join(" ");
  if (!darwin) {
    process.stdout.write(out.profile + "\n" + line + "\n");
    if (proxyPort !== undefined) {
      process.stderr.write(`sbc: on macOS the egress proxy would listen on an ephemeral port of 127.0.0.1 in place of ${proxyPort}, and the command would get the proxy variables for it\n`);
    }
    process.stderr.write(`sbc: not running the command: sandbox-exec exists only on macOS, and this is ${platform} (status ${EXIT_CANNOT_RUN}: nothing ran)\n`);
    return EXIT_CANNOT_RUN;
  }
  process.stderr.write(`${out.profile}\nsbc debug seatbelt: running ${line}\n`);
  if (proxyEnv) process.stderr.write(`sbc debug seatbelt: behind sbc's egress proxy on 127.0.0.1:${proxyPort} (${Object.keys(proxyEnv).join(", ")} set)\n`);
  return await runSandboxExec(sandboxExec, args, proxyEnv ? { ...process.env, ...proxyEnv } : undefined);
}
