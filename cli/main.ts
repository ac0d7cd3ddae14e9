// The `sbc` command line. This module only parses arguments; each command's implementation is imported when
// that command runs, so `sbc --help` and `sbc --version` load nothing of the compiler.

import { Command, CommanderError, Option } from "commander";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT_USAGE, UsageError } from "./exit.js";
import { DIAGNOSTIC_FORMATS, MAX_ABI } from "../lib/limits.js";

function version(): string {
  // dist/cli/main.js or cli/main.ts → package.json two levels up, or one.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "sbc") return pkg.version ?? "0.0.0";
    } catch {
      // keep looking
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}

function collectParam(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseMaxWarnings(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--max-warnings takes a whole number, found \`${v}\``);
  return Number(v);
}

/**
 * Commander fills `[policy]` from the words after `--` when none came before it, so `sbc exec -- true` would
 * read `true` as the policy file. A policy file must be named before `--`.
 */
function policyBeforeDashDash(program: Command, policy: string | undefined, preset: string | undefined, example: string): void {
  if (policy === undefined || preset !== undefined) return;
  // Commander keeps the argv it parsed in `rawArgs` (not in its typings).
  const raw = ((program as unknown as { rawArgs?: string[] }).rawArgs ?? []).slice(2);
  const dd = raw.indexOf("--");
  if (dd >= 0 && !raw.slice(0, dd).includes(policy)) throw new UsageError("name a policy file or --preset before `--`", `for example \`${example}\``);
}

export function buildProgram(): Command {
  const program = new Command("sbc")
    .description("Compile sandbox policies to Seatbelt, Landlock and seccomp; check them; evaluate them.")
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true)
    .exitOverride();

  const formatOption = () => new Option("--format <format>", "diagnostics format").choices(DIAGNOSTIC_FORMATS).default("human");

  program
    .command("compile")
    .description("compile a policy (YAML or the sbc DSL) for a target")
    .argument("[policy]", "policy file")
    .option("--preset <name>", "compile a built-in preset instead of a file")
    .requiredOption("-t, --target <target>", "what to emit: ir, seccomp (raw BPF), seccomp-c, seccomp-disasm, seccomp-json, oci-seccomp, landlock, landlock-c, linux, sbpl (macOS Seatbelt)")
    .option("--abi <n>", `for landlock targets: the Landlock ABI to build the table for, 1–${MAX_ABI} (default ${MAX_ABI}, the newest sbc knows)`)
    .addOption(new Option("--compat <level>", "for landlock targets: what a launcher does on an older kernel").choices(["best-effort", "soft-requirement", "hard-requirement"]))
    .option("--strict", "for landlock targets: make every narrowing an error instead of a warning")
    .option("--sbpl-params", "for -t sbpl: pass every path as a sandbox-exec -D parameter (listed at the top of the profile) instead of writing it into the profile; parameters without a value stay for the caller to define")
    .option("--proxy-port <port>", "for -t sbpl: the policy's rules by domain allow outbound only to sbc's egress proxy on localhost:PORT, which the caller runs (docs/proxy.md)")
    .option("--arch <arches>", "for seccomp targets: x86_64, x32, i386, aarch64, arm, riscv64, ppc64le, s390x, loongarch64, or several comma-separated (one multi-arch filter); default x86_64 (oci-seccomp: x86_64,aarch64)")
    .option("-o, --output <file>", "write the result to a file (atomically) instead of stdout")
    .option("-p, --param <name=path>", "bind a parameter (repeatable)", collectParam, [])
    .option("--with-spans", "include source locations in the IR")
    .option("--kernel <X.Y>", "the newest kernel whose syscalls the policy knows (overrides syscalls.kernel): with syscalls.newer, the calls added after it get that action")
    .addOption(new Option("--stop-after <stage>", "stop after a compiler stage (IR targets): build-ir skips the checks").choices(["build-ir", "check"]))
    .addOption(formatOption())
    .option("-q, --quiet", "report errors only, not warnings")
    .option("--no-color", "never colour the output")
    .action(async (policy: string | undefined, opts) => {
      const { runCompile } = await import("./compile-command.js");
      if (opts.sbplParams) {
        if (opts.target !== "sbpl") throw new UsageError("--sbpl-params goes with `-t sbpl`");
        opts.target = "sbpl-params";
      }
      process.exitCode = await runCompile(policy, opts);
    });

  program
    .command("check")
    .description("validate policies, run the tests written in them and lint them (for pre-commit and CI)")
    .argument("[files...]", "policy files, directories (walked for .sbc, .yaml, .yml), quoted globs, or - for stdin")
    .option("--preset <name>", "also check a built-in preset (repeatable)", collectParam, [])
    .option("-p, --param <name=path>", "bind a parameter (repeatable)", collectParam, [])
    .addOption(formatOption())
    .option("-q, --quiet", "report errors only, not warnings")
    .option("--max-warnings <n>", "fail when there are more warnings than this", parseMaxWarnings)
    .option("--kernel <X.Y>", "the newest kernel whose syscalls the policy knows (overrides syscalls.kernel): with syscalls.newer, the calls added after it get that action")
    .option("-c, --config <file>", "use this config file instead of the nearest sbc.config.json/.yaml or package.json `sbc` key")
    .option("--no-config", "use no config file")
    .option("--stdin-filename <name>", "with -: the name stdin's policy is reported and configured under")
    .option("--no-error-on-unmatched-pattern", "a directory or pattern that matches no policy is not an error")
    .option("--fix", "apply the fixes lint rules offer to the files checked (atomically), then report what remains")
    .option("--fix-dry-run", "like --fix, but write nothing (with -, the fixed text still goes to stdout)")
    .option("--verbose", "print a summary line (policies checked, errors, warnings, fixed, time) to stderr")
    .option("--target <targets>", "run the policy's tests on these targets' models and report their diagnostics: seccomp, landlock, sbpl, all or none, comma-separated or repeated (default all)", collectParam, [])
    .option("--arch <arches>", "for the seccomp target: the filter's arches, as for compile (default x86_64)")
    .option("--abi <n>", `for the landlock target: the Landlock ABI, as for compile (default ${MAX_ABI})`)
    .option("--no-color", "never colour the output")
    .action(async (files: string[], opts) => {
      const { runCheck } = await import("./check-command.js");
      process.exitCode = await runCheck(files, opts);
    });

  program
    .command("import")
    .description("turn a foreign profile into an sbc policy (YAML)")
    .argument("<format>", "the profile's format: oci-seccomp (Docker/OCI seccomp JSON)")
    .argument("<file>", "the profile")
    .option("-o, --output <file>", "write the policy to a file (atomically) instead of stdout")
    .option("--arch <arch>", "the container's architecture, for arch-specific entries: x86_64 (default), x32, i386, aarch64, arm, riscv64, ppc64le, s390x or loongarch64")
    .option("--cap <capability>", "a capability the container has, for cap-specific entries (repeatable), e.g. CAP_SYS_ADMIN", collectParam, [])
    .option("--min-kernel <version>", "the host kernel, for minKernel entries (default: every minKernel condition holds)")
    .addOption(formatOption())
    .option("-q, --quiet", "report errors only, not warnings")
    .option("--no-color", "never colour the output")
    .action(async (format: string, file: string, opts) => {
      const { runImport } = await import("./import-command.js");
      process.exitCode = await runImport(format, file, opts);
    });

  program
    .command("build")
    .description("compile every output the project config's `build` section lists, writing only those that changed")
    .option("-c, --config <file>", "use this config file instead of the nearest sbc.config.json/.yaml or package.json `sbc` key")
    .option("--check", "write nothing; list the outputs that are stale or missing and exit 1 if there are any (for CI)")
    .option("--watch", "build, then rebuild whenever a file the build read changes (the policies, the files they extend, the config), until Ctrl-C")
    .option("--depfile <file>", "also write a Make/Ninja depfile naming, for every output, the files it was built from (only when it changed)")
    .addOption(formatOption())
    .option("-q, --quiet", "report errors only, not warnings; list only what was written or is stale")
    .option("--no-color", "never colour the output")
    .action(async (opts) => {
      const { runBuildCommand } = await import("./build-command.js");
      process.exitCode = await runBuildCommand(opts);
    });

  program
    .command("convert")
    .description("rewrite a policy in the other syntax (DSL `.sbc` ⇄ YAML), comments kept")
    .argument("<policy>", "policy file (.sbc, .yaml or .yml)")
    .requiredOption("--to <syntax>", "the syntax to write: dsl or yaml")
    .option("-o, --output <file>", "write the result to a file (atomically) instead of stdout")
    .addOption(formatOption())
    .option("-q, --quiet", "report errors only, not warnings")
    .option("--no-color", "never colour the output")
    .action(async (policy: string, opts) => {
      const { runConvert } = await import("./convert-command.js");
      process.exitCode = await runConvert(policy, opts);
    });

  program
    .command("fmt")
    .description("format policies (.sbc through the DSL printer, YAML through Prettier); stdout unless --check or --write")
    .argument("<files...>", "policy files (.sbc, .yaml or .yml)")
    .option("--check", "list the files that are not formatted and exit 1 if there are any")
    .option("--write", "rewrite the files that are not formatted (atomically)")
    .addOption(formatOption())
    .option("--no-color", "never colour the output")
    .action(async (files: string[], opts) => {
      const { runFmt } = await import("./fmt-command.js");
      process.exitCode = await runFmt(files, opts);
    });

  const execCommand = (parent: Command, name: string, description: string, debug: boolean) =>
    parent
      .command(name)
      .description(description)
      .argument("[policy]", "policy file (or use --preset)")
      .argument("[command...]", "the command and its arguments, after `--`")
      .option("--preset <name>", "run under a built-in preset")
      .option("-p, --param <name=path>", "bind a parameter (repeatable); built-ins default to this process's environment", collectParam, [])
      .addOption(new Option("--compat <level>", "what to do on a kernel that cannot enforce everything").choices(["best-effort", "soft-requirement", "hard-requirement"]).default("hard-requirement"))
      .addOption(
        new Option("--namespaces <mode>", "whether to use a private mount namespace: auto (when one can be had; else Landlock alone, said in one line), require, never; overrides the policy's linux.namespaces").choices([
          "auto",
          "require",
          "never",
        ]),
      )
      .option("--no-cache", "neither look up nor store the compiled plan in the plan cache")
      .option("--explain", "after the run, list every access the sandbox refused, the layer and the rule that decided it, and what would allow it (x86_64; traces the command with ptrace)")
      .addOption(new Option("--format <format>", "with --explain: the report as text or one JSON document, on stderr").choices(["human", "json"]))
      .option("--kernel <X.Y>", "the newest kernel whose syscalls the policy knows (overrides syscalls.kernel): with syscalls.newer, the calls added after it get that action")
      .option("--resolve <name=addr[,addr]>", "for rules by domain: the egress proxy resolves NAME to these addresses instead of asking DNS (repeatable; like curl's --resolve, for tests)", collectParam, [])
      .option("--network-log <file>", "for rules by domain: write each connection through the egress proxy to FILE as a JSON line (time, host, port, decision, rule, address, bytes)")
      .option("--no-color", "never colour the output")
      .action(async (policy: string | undefined, command: string[], opts) => {
        policyBeforeDashDash(program, policy, opts.preset, `sbc ${debug ? "debug landlock" : "exec"} --preset workspace-write -- ${command[0] ?? policy ?? "make"}`);
        const { runExec } = await import("./exec-command.js");
        // With --preset the first word of the command lands in [policy].
        const argv = opts.preset !== undefined && policy !== undefined ? [policy, ...command] : command;
        process.exitCode = await runExec(opts.preset !== undefined ? undefined : policy, argv, { ...opts, debug });
      });
  execCommand(program, "exec", "run a command under a policy (Linux: Landlock and seccomp through the native loader)", false);
  program
    .command("learn")
    .description("run a command observed, with no sandbox, and write a policy that allows what it did (Linux x86_64; docs/learn.md)")
    .argument("<command...>", "the command and its arguments, after `--`")
    .option("--extend <preset|file>", "learn only what this preset or policy refuses; the policy extends it")
    .addOption(new Option("--format <format>", "the policy as YAML, the DSL, or one JSON document for harnesses (policy, observed, secrets, findings)").choices(["yaml", "dsl", "json"]))
    .option("-o, --output <file>", "write the policy to a file (atomically) instead of stdout")
    .option("-p, --param <name=path>", "bind a built-in (workspace, home, tmpdir) for learning; default: this process's environment", collectParam, [])
    .addOption(
      new Option("--network-by <how>", "learn TCP peers by address and port (default), or by name: the command runs behind sbc's egress proxy, which records the names it asks for (rules by domain; tools that ignore the proxy variables cannot connect)")
        .choices(["address", "name"])
        .default("address"),
    )
    .option("--resolve <name=addr[,addr]>", "with --network-by name: the egress proxy resolves NAME to these addresses instead of asking DNS, and lets them through though private (repeatable; like curl's --resolve, for tests)", collectParam, [])
    .option("--no-color", "never colour the output")
    .action(async (command: string[], opts) => {
      const { runLearn } = await import("./learn-command.js");
      process.exitCode = await runLearn(command, opts);
    });
  const debug = program.command("debug").description("show what a target enforces, then run a command under it");
  execCommand(debug, "landlock", "print the effective Landlock rules after ABI negotiation and launch-time expansion, then run the command", true);

  debug
    .command("seatbelt")
    .description("print the Seatbelt profile and the sandbox-exec command line, then run the command under it (macOS)")
    .argument("[policy]", "policy file (or use --preset)")
    .argument("[command...]", "the command and its arguments, after `--`")
    .option("--preset <name>", "run under a built-in preset")
    .option("-p, --param <name=path>", "bind a parameter (repeatable); built-ins default to this process's environment", collectParam, [])
    .option("--resolve <name=addr[,addr]>", "for rules by domain: the egress proxy resolves NAME to these addresses instead of asking DNS (repeatable)", collectParam, [])
    .option("--network-log <file>", "for rules by domain: write each connection through the egress proxy to FILE as a JSON line")
    .option("--no-color", "never colour the output")
    .action(async (policy: string | undefined, command: string[], opts) => {
      policyBeforeDashDash(program, policy, opts.preset, `sbc debug seatbelt --preset workspace-write -- ${command[0] ?? policy ?? "make"}`);
      const { runSeatbelt } = await import("./seatbelt-command.js");
      // With --preset the first word of the command lands in [policy].
      const argv = opts.preset !== undefined && policy !== undefined ? [policy, ...command] : command;
      process.exitCode = await runSeatbelt(opts.preset !== undefined ? undefined : policy, argv, opts);
    });

  program
    .command("doctor")
    .description("say what this machine offers `sbc exec` (Landlock, seccomp, mount namespaces, io_uring) and which mechanism it will use")
    .addOption(new Option("--format <format>", "output format").choices(["human", "json"]).default("human"))
    .action(async (opts) => {
      const { runDoctor } = await import("./doctor-command.js");
      process.exitCode = await runDoctor(opts);
    });

  program
    .command("diff")
    .description("show what a policy change widens and narrows: every access, socket, syscall and command decision that changes, with the rule on each side")
    .argument("<old>", "the old policy: a file, preset:NAME, git:REV:path, or - for stdin")
    .argument("<new>", "the new policy, the same way")
    .addOption(new Option("--format <format>", "output format").choices(["human", "json", "markdown", "sarif"]).default("human"))
    .option("--allow-widening", "exit 0 even when the new policy widens the old one")
    .option("--target <targets>", "also ask these targets' models and report where one differs from the IR: seccomp, landlock, sbpl, all or none, comma-separated or repeated (default: the IR only)", collectParam, [])
    .option("--arch <arches>", "for the seccomp target: the filter's arches, as for compile (default x86_64)")
    .option("--abi <n>", "for the landlock target: the Landlock ABI, as for compile (default 10)")
    .option("-p, --param <name=path>", "bind a parameter in each policy that declares it (repeatable); unbound ones get the test stand-ins", collectParam, [])
    .option("--kernel <X.Y>", "the newest kernel whose syscalls the policies know (overrides syscalls.kernel in both)")
    .option("--no-color", "never colour the output")
    .action(async (oldPolicy: string, newPolicy: string, opts) => {
      const { runDiff } = await import("./diff-command.js");
      process.exitCode = await runDiff(oldPolicy, newPolicy, opts);
    });

  program
    .command("eval")
    .description("ask the reference evaluator about one access and show the rule that decides it")
    .argument("[policy]", "policy file (or use --preset)")
    .argument("[query...]", "ACCESS PATH | connect|bind HOST:PORT [tcp|udp] | unix socketpair | unix connect|bind PATH | unix connect @NAME | syscall NAME [ARG...] | command ARGV...")
    .option("--preset <name>", "evaluate a built-in preset")
    .option("-p, --param <name=path>", "bind a parameter (repeatable); built-ins default to this process's environment", collectParam, [])
    .option("--kernel <X.Y>", "the newest kernel whose syscalls the policy knows (overrides syscalls.kernel): with syscalls.newer, the calls added after it get that action")
    .addOption(new Option("--format <format>", "output format").choices(["human", "json"]).default("human"))
    .option("--no-color", "never colour the output")
    .action(async (policy: string | undefined, query: string[], opts) => {
      policyBeforeDashDash(program, policy, opts.preset, `sbc eval --preset workspace-write -- ${[policy, ...query].join(" ")}`);
      const { runEval } = await import("./eval-command.js");
      // With --preset the first word of the query lands in [policy].
      const words = opts.preset !== undefined && policy !== undefined ? [policy, ...query] : query;
      process.exitCode = await runEval(opts.preset !== undefined ? undefined : policy, words, opts);
    });

  return program;
}

/** A closed pipe (`sbc … | head`) ends the run quietly instead of with a stack trace. */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  const program = buildProgram();
  program.configureOutput({
    writeErr: (s) => process.stderr.write(s),
    writeOut: (s) => process.stdout.write(s),
  });
  if (argv.length <= 2) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`sbc: ${e.message}\n`);
      if (e.help) process.stderr.write(`  help: ${e.help}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`sbc: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    process.stderr.write("  this is a bug in sbc; please report it together with the input that caused it\n");
    if (process.env.SBC_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ""}\n`);
    return EXIT_USAGE;
  }
}
