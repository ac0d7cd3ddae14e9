// `sbc learn`: run a command observed — the native loader's tracer records every file, socket and refused
// syscall it uses, with no sandbox in the way — and write a policy that allows what it did (lib/learn.ts),
// as YAML, the DSL, or JSON for agent harnesses.

import { spawn } from "node:child_process";
import type { Duplex } from "node:stream";
import { existsSync, realpathSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { resolve as resolvePath } from "node:path";
import { diag } from "../lib/report.js";
import { environmentBindings } from "../lib/run-policy.js";
import { findLoader, loaderDiagnostic } from "../lib/loader.js";
import { EXIT_CANNOT_RUN, EXIT_FINDINGS, UsageError, forwardSignals } from "./exit.js";
import { parseParams, parseResolveOption, printDiagnostics, writeAtomic } from "./output.js";

export interface LearnCommandOptions {
  extend?: string;
  format?: "yaml" | "dsl" | "json";
  output?: string;
  param: string[];
  /** `--network-by name`: run behind the egress proxy and learn names (docs/learn.md); default `address`. */
  networkBy?: "name" | "address";
  /** `--resolve NAME=ADDR[,ADDR]`, with `--network-by name`: as `sbc exec`'s. */
  resolve?: string[];
  color: boolean;
}

function canonical(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export async function runLearn(argv: readonly string[], opts: LearnCommandOptions): Promise<number> {
  if (!argv.length) throw new UsageError("name the command to observe after `--`", "for example `sbc learn -o agent.yaml -- npm test`");
  const format = opts.format ?? (opts.output?.endsWith(".sbc") ? "dsl" : "yaml");
  const byName = opts.networkBy === "name";
  const resolveEntries = opts.resolve ?? [];
  if (resolveEntries.length && !byName) throw new UsageError("`--resolve` names the egress proxy's addresses, which runs only with `--network-by name`", "add `--network-by name`");
  const resolved = await parseResolveOption(resolveEntries);
  if (process.platform !== "linux") {
    process.stderr.write(`sbc: sbc learn runs on Linux (it observes the command with ptrace); this is ${process.platform}\n`);
    return EXIT_CANNOT_RUN;
  }
  const arch = process.arch === "x64" ? ("x86_64" as const) : undefined;
  if (!arch) {
    printDiagnostics([diag("learnUnsupported", `\`sbc learn\` observes the command on x86_64 only, not on ${process.arch}; the command is not run`)], { format: "human", color: opts.color }, process.stderr);
    return EXIT_CANNOT_RUN;
  }
  const found = findLoader({ build: true });
  if (!found.ok) {
    printDiagnostics([loaderDiagnostic(found, "the command is not run")], { format: "human", color: opts.color }, process.stderr);
    return EXIT_CANNOT_RUN;
  }
  if (found.notice) process.stderr.write(`sbc: ${found.notice}\n`);

  const { compileObserver, commandStarted, observationPlanText, observe, learnPolicy, extendsPath, presetNames, DEFAULT_PROXY_PORT } = await import("../lib/learn.js");
  const { TraceCollector } = await import("../lib/explain.js");
  const env = environmentBindings(process.cwd());
  const bindings = { ...env, ...parseParams(opts.param) };
  // The built-ins as the kernel sees them: the learned rules are for the files, not for the names of links.
  const workspace = canonical(bindings.workspace) ?? process.cwd();
  const learnBindings = { workspace, ...(bindings.home ? { home: canonical(bindings.home)! } : {}), ...(bindings.tmpdir ? { tmpdir: canonical(bindings.tmpdir)! } : {}) };
  const outPath = resolvePath(opts.output ?? (format === "dsl" ? "learned.sbc" : "learned.yaml"));

  // ---- the observer: the base (--extend) or the standalone syscall section ----
  let base: Parameters<typeof compileObserver>[0] = { kind: "standalone" };
  let extendName: string | undefined;
  if (opts.extend !== undefined) {
    const isFile = opts.extend.includes("/") || /\.(ya?ml|sbc)$/.test(opts.extend) || !presetNames().includes(opts.extend);
    if (isFile && !existsSync(opts.extend)) throw new UsageError(`\`--extend ${opts.extend}\` is neither a preset nor a policy file`, `presets: ${presetNames().join(", ")}`);
    base = isFile ? { kind: "file", path: resolvePath(opts.extend) } : { kind: "preset", name: opts.extend };
    extendName = isFile ? extendsPath(resolvePath(opts.extend), outPath) : opts.extend;
  }
  const observer = compileObserver(base, bindings);
  if ("errors" in observer) {
    printDiagnostics(observer.errors, { format: "human", color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }

  // ---- run, observed ----
  process.stderr.write(`sbc learn: observing \`${argv.join(" ").slice(0, 80)}\` with NO sandbox (nothing is enforced while learning, as with strace-based learners)\n`);
  // `--network-by name`: in a network namespace behind the egress proxy, as `sbc exec` runs rules by domain;
  // every name is allowed while learning (nothing else is enforced either), every request recorded.
  const proxy = byName ? await import("../lib/proxy/index.js") : undefined;
  const proxyPort = byName ? DEFAULT_PROXY_PORT : undefined;
  if (byName) process.stderr.write(`sbc learn: the command's network goes through sbc's egress proxy (127.0.0.1:${proxyPort} in a network namespace of its own): names are learned; a tool that ignores the proxy variables cannot connect\n`);
  const plan = observationPlanText(observer.ir, arch, proxyPort !== undefined ? { port: proxyPort } : undefined);
  const trace = new TraceCollector();
  const requests: import("../lib/learn.js").ProxyRequestSeen[] = [];
  let service: import("../lib/proxy/index.js").DecisionService | undefined;
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: string }>((resolve) => {
    // The policy goes to stdout unless -o: then the command's own output goes to stderr, not into it.
    const args = ["--trace-fd", "4", "--trace-learn", ...(byName ? ["--proxy-fd", "5"] : ["--namespaces", "never"]), "--plan-fd", "3", "--", ...argv];
    const env = proxy ? { ...process.env, ...proxy.proxyEnvironment(proxyPort!) } : process.env;
    const child = spawn(found.path, args, { stdio: ["inherit", opts.output ? "inherit" : 2, "inherit", "pipe", "pipe", ...(byName ? (["pipe"] as const) : [])], env });
    if (proxy) {
      // The service answers before the plan is written (the loader reads the plan first), as in `sbc exec`.
      const channel = (child.stdio as readonly unknown[])[5] as Duplex | null;
      if (!channel) {
        child.kill("SIGKILL");
        resolve({ error: "the egress proxy's control channel could not be opened" });
        return;
      }
      const map = resolved ?? new Map<string, readonly string[]>();
      const resolver = proxy.resolverWith(map);
      const trusted = new Set(map.keys());
      service = new proxy.DecisionService(observer.ir, channel, {
        resolver,
        decide: async (q) => {
          const d = await proxy.decideLearning(observer.ir, q, resolver, trusted);
          if (d.decision === "deny") process.stderr.write(`sbc learn: the egress proxy refused ${q.kind} \`${d.host}:${q.port}\`: ${d.text.replace(/^sbc: /, "")}\n`);
          return d;
        },
        // Every request, allowed or refused, as the service finishes it (an allowed one when it ends).
        log: (e) => requests.push({ via: e.via, host: e.host, port: e.port, decision: e.decision, ...(e.address !== undefined ? { address: e.address } : {}), ...(e.text !== undefined ? { text: e.text } : {}) }),
        warn: (m) => process.stderr.write(`sbc: ${m}\n`),
      });
    }
    const pipe = child.stdio[3] as NodeJS.WritableStream;
    pipe.on("error", () => undefined);
    pipe.end(plan);
    (child.stdio[4] as NodeJS.ReadableStream).on("data", (b: Buffer) => trace.add(b));
    forwardSignals(child);
    child.on("error", (e) => resolve({ error: e.message }));
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  if (service) await service.finish();
  if ("error" in ended) {
    process.stderr.write(`sbc: cannot start the loader: ${ended.error}\n`);
    return EXIT_CANNOT_RUN;
  }
  const status = ended.code ?? 128 + (ended.signal ? (osConstants.signals[ended.signal] ?? 9) : 9);
  // Not found, not executable, or the loader refused (it said why): nothing was learned, nothing is written.
  if (!commandStarted(trace.records(), arch)) {
    process.stderr.write("sbc learn: the command did not start: no policy written\n");
    return status === 0 ? EXIT_CANNOT_RUN : status;
  }
  if (status !== 0) {
    printDiagnostics([diag("learnCommandFailed", `the command ${ended.signal ? `was killed by ${ended.signal}` : `exited with status ${status}`}: the policy covers what it did until then`)], { format: "human", color: opts.color }, process.stderr);
  }

  // ---- the policy ----
  const observed = observe(trace.records(), observer.ir, arch, proxyPort !== undefined ? { port: proxyPort, requests } : undefined);
  const learned = await learnPolicy(observed, {
    arch,
    bindings: learnBindings,
    ...(extendName !== undefined ? { extend: { name: extendName, ir: observer.ir } } : {}),
    command: argv,
    path: outPath,
    format: format === "dsl" ? "dsl" : "yaml",
  });
  const text =
    format === "json"
      ? JSON.stringify({ policy: learned.yaml, command: argv, status, ...observedJson(learned.observed), secrets: learned.secrets, review: learned.review, findings: learned.findings }, null, 2) + "\n"
      : learned.policy;
  if (opts.output) writeAtomic(opts.output, text);
  else process.stdout.write(text);
  const note = [`${observed.files.length} paths, ${observed.network.length} network peers${observed.names ? `, ${observed.names.length} names through the proxy` : ""}, ${observed.syscalls.length} refused syscalls seen`];
  if (learned.secrets.length) note.push(`${learned.secrets.length} secret${learned.secrets.length === 1 ? "" : "s"} NOT allowed (listed at the top of the policy)`);
  if (learned.review.length) note.push(`${learned.review.length} more for a person to decide`);
  if (learned.findings.length) note.push(`${learned.findings.length} finding${learned.findings.length === 1 ? " remains" : "s remain"}`);
  process.stderr.write(`sbc learn: ${note.join("; ")}${opts.output ? `; wrote ${opts.output}` : ""}\n`);
  return status;
}

/** JSON's `observed` as before, and beside it (`--network-by name`) the names asked of the proxy, with counts. */
function observedJson(observed: import("../lib/learn.js").Observed): { observed: object; names?: readonly import("../lib/learn.js").NameUse[] } {
  const { names, ...rest } = observed;
  return names ? { observed: rest, names } : { observed: rest };
}
