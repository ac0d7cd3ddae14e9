// `sbc exec` and `sbc debug landlock`: run a command under a policy on Linux. The policy is compiled here —
// built-in parameters bound the way the native loader binds them (workspace = the current directory) — and
// negotiated with what the kernel offers (lib/exec-plan.ts: the Landlock table for the running kernel's ABI
// with its mount layer, the seccomp filter for this architecture); the native loader applies the resulting
// plan: in a private mount namespace when it can get one (and the policy lets it), else Landlock and seccomp
// alone, then execs the command. The plan is also stored in the plan cache, so the next run of the same
// policy here starts without Node (bin/sbc). `debug landlock` prints what is enforced, dropped and narrowed
// before it runs the command.

import { spawn } from "node:child_process";
import type { Duplex } from "node:stream";
import { resolve as resolvePath } from "node:path";
import { diag } from "../lib/report.js";
import type { Diagnostic } from "../lib/report.js";
import { environmentBindings } from "../lib/run-policy.js";
import { checkablePlanText, describeRun, negotiateRun, runPlanText, runsWithoutNode, unprotectableDiagnostic } from "../lib/exec-plan.js";
import { checkPlan, probeKernel, type NamespacesMode } from "../lib/loader-probe.js";
import { findLoader, loaderDiagnostic } from "../lib/loader.js";
import { EXIT_CANNOT_RUN, EXIT_FINDINGS, UsageError, exitLikeChild, forwardSignals } from "./exit.js";
import { compileForRun } from "./compile-for-run.js";
import { parseKernelOption, parseParams, parseResolveOption, printDiagnostics, renderPlain } from "./output.js";
import { buildId, cacheInput, loaderCacheKey, planCacheDir, sha256File, storePlan } from "../lib/plan-cache.js";

export { EXIT_CANNOT_RUN };

export type { NamespacesMode };

export interface ExecOptions {
  preset?: string;
  param: string[];
  compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  /** The run's choice, over the policy's `linux.namespaces`. */
  namespaces?: NamespacesMode;
  /** `--no-cache`: neither store the plan nor (in bin/sbc) look it up. */
  cache?: boolean;
  /** `--kernel X.Y`: overrides the policy's `syscalls.kernel`. */
  kernel?: string;
  debug?: boolean;
  /** `--explain`: trace the run and explain what the sandbox refused (lib/explain.ts). */
  explain?: boolean;
  /** `--format`, with --explain: the report as text or JSON. */
  format?: "human" | "json";
  /** `--resolve NAME=ADDR[,ADDR]`: the egress proxy's names (lib/proxy/decide.ts). */
  resolve?: string[];
  /** `--network-log FILE`: the egress proxy's connections, one JSON line each. */
  networkLog?: string;
  color: boolean;
}

function fail(message: string, help?: string): number {
  process.stderr.write(`sbc: ${message}\n${help ? `  help: ${help}\n` : ""}`);
  return EXIT_CANNOT_RUN;
}

/** The policy cannot be enforced as written here: its coded diagnostic at the rule that asks for it, and 125. */
function refuse(d: Diagnostic, color: boolean): number {
  printDiagnostics([d], { format: "human", color }, process.stderr);
  return EXIT_CANNOT_RUN;
}

export async function runExec(policy: string | undefined, argv: readonly string[], opts: ExecOptions): Promise<number> {
  if ((policy === undefined) === (opts.preset === undefined)) throw new UsageError("name a policy file or a --preset, not both and not neither");
  if (!argv.length) throw new UsageError("name the command to run after `--`", "for example `sbc exec --preset workspace-write -- make test`");
  if (opts.format !== undefined && !opts.explain) throw new UsageError("`--format` is the format of the `--explain` report", "add `--explain`");
  const resolved = await parseResolveOption(opts.resolve);
  if (process.platform !== "linux") {
    return fail(`sbc exec runs on Linux (Landlock and seccomp); this is ${process.platform}`, "on macOS use `sbc debug seatbelt`, which runs the command under the policy compiled to a Seatbelt profile");
  }
  // The package's loader, or one built now where install scripts did not run; never a run without one.
  const found = findLoader({ build: true });
  if (!found.ok) {
    printDiagnostics([loaderDiagnostic(found, "the command is not run")], { format: "human", color: opts.color }, process.stderr);
    return EXIT_CANNOT_RUN;
  }
  if (found.notice) process.stderr.write(`sbc: ${found.notice}\n`);
  const loader = found.path;
  const arch: "x86_64" | "aarch64" | undefined = process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : undefined;
  if (!arch) return fail(`no seccomp support for the ${process.arch} architecture`);
  if (opts.explain && arch !== "x86_64") {
    printDiagnostics([diag("explainUnsupported", `\`--explain\` traces the command on x86_64 only, not on ${arch}; the command is not run`, { help: "run without `--explain`" })], { format: "human", color: opts.color }, process.stderr);
    return EXIT_CANNOT_RUN;
  }

  // ---- compile, with the built-ins the loader binds (so this plan is the one bin/sbc finds in the cache) ----
  const explicit = parseParams(opts.param);
  const build = buildId();
  const input = build ? cacheInput(build, opts.namespaces, policy !== undefined ? { file: policy } : { preset: opts.preset! }) : undefined;
  const keyed = input ? loaderCacheKey(loader, input, opts.param) : undefined;
  const compat = opts.compat ?? "hard-requirement";
  const kernel = parseKernelOption(opts.kernel);
  const compiled = compileForRun(policy, opts.preset, { ...(keyed?.builtins ?? environmentBindings(process.cwd())), ...explicit }, opts.color, kernel);
  if ("status" in compiled) return compiled.status;
  const ir = compiled.ir;

  // ---- what the kernel offers, and what of the policy it can enforce ----
  const probe = probeKernel(loader);
  if ("error" in probe) return fail(`the loader could not probe the kernel: ${probe.error}`);
  const negotiated = negotiateRun(ir, { arch, kernelAbi: probe.landlockAbi, compat, probeNamespaces: probe.namespaces, ...(opts.namespaces ? { namespaces: opts.namespaces } : {}) });
  if (negotiated.kind === "errors") {
    printDiagnostics(negotiated.diagnostics, { format: "human", color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  if (negotiated.kind === "refused") return refuse(negotiated.diagnostic, opts.color);
  const run = negotiated.run;
  const notes = [...run.notes];
  // What compiling said (the policy's warnings, the Landlock table's and the filter's narrowings): said before
  // the command runs, as `sbc compile` says it, and stored with the plan so a cached run says it too.
  const warnings: Diagnostic[] = [...compiled.warnings, ...run.narrowed];

  // A protected name the loader would refuse (a link that points nowhere, a broken gitfile): said here, at the
  // rule that protects it, before anything runs. The loader's own check decides, so the two cannot disagree.
  const refusal = checkPlan(loader, checkablePlanText(run), opts.namespaces);
  if (refusal) return refuse(unprotectableDiagnostic(ir, refusal), opts.color);

  // Cache only what bin/sbc could look up: the default compatibility, no debugging, an exact plan.
  const cacheDir = planCacheDir();
  // The cache key does not know `--kernel`, so a run with it neither stores nor (bin/sbc) finds a plan.
  // A plan behind the egress proxy only when its relay can decide alone (the plan's table), and not from a run
  // that asked for what only Node does (`--network-log`, `--resolve`; bin/sbc never takes the fast path then).
  const proxyAlone = !run.netProxy || (runsWithoutNode(run) && opts.networkLog === undefined && !resolved);
  const caching = kernel === undefined && keyed !== undefined && cacheDir !== undefined && opts.cache !== false && !process.env.SBC_NO_CACHE && !opts.debug && !opts.explain && compat === "hard-requirement" && run.exact && proxyAlone;
  const deps = caching ? compiled.filesRead.map((path) => ({ path, sha256: sha256File(path) })) : [];
  const plan = runPlanText(run, caching ? { cacheKey: keyed!.key, deps } : {});
  printDiagnostics(warnings, { format: "human", color: opts.color }, process.stderr);
  if (caching) {
    // The stored plan carries the warnings (the loader prints them on a cached run); the one run now does not.
    const stored = warnings.length ? runPlanText(run, { cacheKey: keyed!.key, deps, diagnostics: renderPlain(warnings) }).text : plan.text;
    const why = storePlan(cacheDir!, keyed!.key, stored);
    if (why) notes.push(`not caching the plan: ${why}`);
  }
  for (const n of notes) process.stderr.write(`sbc: ${n}\n`);

  if (opts.debug) process.stderr.write(describeRun(run, plan, probe.namespaces, opts.namespaces).join("\n") + "\n");
  if (!run.netProxy && (resolved || opts.networkLog !== undefined)) {
    process.stderr.write(`sbc: the policy has no rules by domain, so no egress proxy runs: ${resolved ? "`--resolve`" : "`--network-log`"} has nothing to do\n`);
  }

  // ---- the egress proxy's side in Node: the decision service, its log (docs/proxy.md) ----
  const proxy = run.netProxy ? await import("../lib/proxy/index.js") : undefined;
  let log: import("../lib/proxy/index.js").NetworkLog | undefined;
  if (proxy && opts.networkLog !== undefined) {
    const opened = proxy.NetworkLog.open(opts.networkLog);
    if ("error" in opened) return refuse(diag("proxyStart", `${opened.error}; the command is not run`), opts.color);
    log = opened;
  }

  // ---- run ----
  const traceFd = opts.explain ? 4 : undefined;
  const proxyFd = run.netProxy ? (opts.explain ? 5 : 4) : undefined;
  const args = [
    ...(opts.debug ? ["--report"] : []),
    ...(traceFd !== undefined ? ["--trace-fd", `${traceFd}`] : []),
    ...(proxyFd !== undefined ? ["--proxy-fd", `${proxyFd}`] : []),
    ...(opts.namespaces ? ["--namespaces", opts.namespaces] : []),
    "--plan-fd",
    "3",
    "--",
    ...argv,
  ];
  const trace = opts.explain ? new (await import("../lib/explain.js")).TraceCollector() : undefined;
  let service: import("../lib/proxy/index.js").DecisionService | undefined;
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | number>((resolve) => {
    const stdio: ("inherit" | "pipe")[] = ["inherit", "inherit", "inherit", "pipe", ...(traceFd !== undefined ? (["pipe"] as const) : []), ...(proxyFd !== undefined ? (["pipe"] as const) : [])];
    const env = run.netProxy ? { ...process.env, ...proxy!.proxyEnvironment(run.netProxy.port) } : process.env;
    const child = spawn(loader, args, { stdio, env });
    if (proxyFd !== undefined) {
      // The service answers before the plan is written: the loader reads the plan first, so a service that
      // cannot start stops the run before the command does.
      const channel = (child.stdio as readonly unknown[])[proxyFd] as Duplex | null;
      if (!channel) {
        child.kill("SIGKILL");
        resolve(refuse(diag("proxyStart", "the egress proxy's control channel could not be opened; the command is not run"), opts.color));
        return;
      }
      service = new proxy!.DecisionService(ir, channel, {
        resolver: proxy!.resolverWith(resolved ?? new Map()),
        ...(log ? { log: (e) => log!.write(e) } : {}),
        warn: (m) => process.stderr.write(`sbc: ${m}\n`),
      });
    }
    const pipe = child.stdio[3] as NodeJS.WritableStream;
    pipe.on("error", () => undefined);
    pipe.end(plan.text);
    if (traceFd !== undefined) ((child.stdio as readonly unknown[])[traceFd] as NodeJS.ReadableStream).on("data", (b: Buffer) => trace!.add(b));
    forwardSignals(child);
    child.on("error", (e) => resolve(fail(`cannot start the loader: ${e.message}`)));
    // `close`, not `exit`: every record the tracer wrote has been read, and every line of the relay.
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  if (service) await service.finish();
  log?.close();
  if (log?.failure) process.stderr.write(`sbc: ${log.failure}\n`);
  if (typeof ended === "number") return ended;
  if (trace) {
    // Loaded only here: the evaluator's queries and the linter cost a run without --explain nothing.
    const { explainRecords, renderDenials } = await import("../lib/explain.js");
    const { explainProxyRefusals } = await import("../lib/explain.js");
    const denials = [
      ...explainRecords(ir, trace.records(), { arch, ...(policy !== undefined ? { policyFile: resolvePath(policy) } : { preset: opts.preset! }), ...(run.netProxy ? { proxied: true } : {}) }),
      ...(service ? explainProxyRefusals(service.refusals()) : []),
    ];
    process.stderr.write(opts.format === "json" ? JSON.stringify({ denials }) + "\n" : renderDenials(denials));
  }
  // After the report: a command killed by a signal ends sbc by the same signal.
  return exitLikeChild(ended.code, ended.signal);
}
