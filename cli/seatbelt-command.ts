// `sbc debug seatbelt`: compile a policy to a Seatbelt profile with its paths as `-D` parameters (built-ins
// bound from this process, as `sbc exec` binds them), show the profile and the exact sandbox-exec command line,
// and on macOS run the command under it. Elsewhere nothing runs: the command line is printed and the status
// is 125, like `sbc exec` when it cannot sandbox, so a script notices.

import { spawn } from "node:child_process";
import { canonicalBindings } from "../lib/spawn.js";
import { environmentBindings } from "../lib/run-policy.js";
import { seatbeltProfile } from "../lib/seatbelt.js";
import { diag } from "../lib/report.js";
import { EXIT_CANNOT_RUN, EXIT_FINDINGS, UsageError, exitLikeChild, forwardSignals } from "./exit.js";
import { compileForRun } from "./compile-for-run.js";
import { parseParams, printDiagnostics } from "./output.js";

/** The only sandbox-exec sbc runs: an absolute path, never looked up in PATH (a planted copy would win). */
export const SANDBOX_EXEC = "/usr/bin/sandbox-exec";

export interface SeatbeltOptions {
  preset?: string;
  param: string[];
  color: boolean;
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
export function runSandboxExec(exe: string, args: readonly string[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(exe, args, { stdio: "inherit" });
    forwardSignals(child);
    child.on("error", (e) => {
      process.stderr.write(`sbc: cannot start ${exe}: ${e.message}\n`);
      resolve(EXIT_CANNOT_RUN);
    });
    child.on("exit", (code, signal) => resolve(exitLikeChild(code, signal)));
  });
}

export async function runSeatbelt(policy: string | undefined, argv: readonly string[], opts: SeatbeltOptions, platform: NodeJS.Platform = process.platform): Promise<number> {
  if ((policy === undefined) === (opts.preset === undefined)) throw new UsageError("name a policy file or a --preset, not both and not neither");
  if (!argv.length) throw new UsageError("name the command to run after `--`", "for example `sbc debug seatbelt --preset workspace-write -- make test`");
  const darwin = platform === "darwin";

  const explicit = parseParams(opts.param);
  const env = environmentBindings(process.cwd());
  // Built-ins are always known parameters, so binding them all is safe whatever the policy uses.
  const bindings = darwin ? canonicalBindings({ ...env, ...explicit }) : { ...env, ...explicit };
  const compiled = compileForRun(policy, opts.preset, bindings, opts.color);
  if ("status" in compiled) return compiled.status;

  // Rules by domain need sbc's egress proxy, whose relay (the loader's network namespace) is Linux only: no
  // proxy runs here, so nothing by name could be reached, and nothing runs (docs/proxy.md, "macOS").
  const domains = compiled.ir.network.domains ?? [];
  if (domains.length) {
    const first = domains.find((r) => r.span) ?? domains[0]!;
    printDiagnostics(
      [
        diag("proxyUnsupported", "the policy has rules by domain, which need sbc's egress proxy, and it runs on Linux only; the command is not run", {
          ...(first.span ? { span: first.span } : {}),
          help: "on macOS, run an HTTP proxy that enforces the names yourself and compile with `sbc compile -t sbpl --proxy-port PORT`; or use `hosts:` with addresses",
        }),
      ],
      { format: "human", color: opts.color },
      process.stderr,
    );
    return EXIT_CANNOT_RUN;
  }
  const out = seatbeltProfile(compiled.ir);
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
    process.stderr.write(`sbc: not running the command: sandbox-exec exists only on macOS, and this is ${platform} (status ${EXIT_CANNOT_RUN}: nothing ran)\n`);
    return EXIT_CANNOT_RUN;
  }
  process.stderr.write(`${out.profile}\nsbc debug seatbelt: running ${line}\n`);
  return await runSandboxExec(SANDBOX_EXEC, args);
}
