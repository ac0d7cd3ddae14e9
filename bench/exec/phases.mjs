// Where `sbc exec --preset workspace-write -- CMD…` spends its time, step by step, in one fresh Node process:
// the same steps as runExec in cli/exec-command.ts, from the same built modules (dist/, what
// bin/sbc.js runs), each timed with process.hrtime.bigint(). Prints one JSON object of milliseconds per step on
// stdout; exits 0 only if the command ran under the plan and exited 0. Node's own start-up (before this file's
// first line) is not in it: bench/exec.ts times `node -e 0` for that.
//
// Plain JavaScript run by plain `node`, not tsx: a TypeScript loader would add its own cost to every import.
//
//   node bench/exec/phases.mjs PRESET -- CMD ARGS…     (in the workspace directory)

const t0 = process.hrtime.bigint();
const marks = [];
let last = t0;
const mark = (name) => {
  const now = process.hrtime.bigint();
  marks.push([name, Number(now - last) / 1e6]);
  last = now;
};

const dist = new URL("../../dist/", import.meta.url);
const [preset, sep, ...argv] = process.argv.slice(2);
if (!preset || sep !== "--" || !argv.length) {
  process.stderr.write("usage: node bench/exec/phases.mjs PRESET -- CMD ARGS…\n");
  process.exit(2);
}

await import(new URL("cli/main.js", dist).href);
mark("import the CLI (commander)");
await import(new URL("cli/exec-command.js", dist).href);
const { compilePolicy } = await import(new URL("compiler/passes/index.js", dist).href);
const { buildId, cacheInput, loaderCacheKey, planCacheDir, sha256File, storePlan } = await import(new URL("lib/plan-cache.js", dist).href);
mark("import the compiler (exec-command.js)");

const { spawn, spawnSync } = await import("node:child_process");
const { fileURLToPath } = await import("node:url");
const loader = fileURLToPath(new URL("../../native/build/sbc-loader", import.meta.url));
// As sbc exec does: the built-ins as the loader binds them, and the key the plan is stored under.
const keyed = loaderCacheKey(loader, cacheInput(buildId() ?? "none", undefined, { preset }), []);
if (!keyed) throw new Error("sbc-loader --cache-key failed");
mark("sbc-loader --cache-key (the built-ins, the cache key)");

const input = { kind: "preset", name: preset };
const compiled = compilePolicy(input, { params: keyed.builtins });
if (!compiled.ir || compiled.diagnostics.some((d) => d.severity === "error")) throw new Error("the preset does not compile with the built-ins bound");
const ir = compiled.ir;
mark("compile: load, merge, bind, check");

const probe = spawnSync(loader, ["--probe"], { encoding: "utf8" });
const m = /landlock-abi=(\d+)/.exec(probe.stdout ?? "");
if (probe.status !== 0 || !m) throw new Error(`sbc-loader --probe failed: ${probe.stderr}`);
const { MAX_ABI } = await import(new URL("targets/landlock/abi.js", dist).href);
const kernelAbi = Math.min(Number(m[1]), MAX_ABI);
mark("sbc-loader --probe");

const { lowerLandlock } = await import(new URL("targets/landlock/lower.js", dist).href);
const { compileSeccomp } = await import(new URL("targets/seccomp/index.js", dist).href);
const { encode } = await import(new URL("targets/seccomp/bpf.js", dist).href);
const { buildPlan } = await import(new URL("targets/landlock/plan.js", dist).href);
mark("import the Landlock and seccomp targets");

const full = lowerLandlock(ir, { abi: MAX_ABI });
if (!full.table) throw new Error("no Landlock table");
let table = kernelAbi > 0 ? lowerLandlock(ir, { abi: kernelAbi, compat: "hard-requirement" }).table : undefined;
if (kernelAbi < full.table.requiredAbi) throw new Error(`the kernel's Landlock ABI ${kernelAbi} is below the policy's ${full.table.requiredAbi}`);
if (table && table.handledAccessFs === 0 && table.handledAccessNet === 0 && table.scoped === 0) table = undefined;
mark("Landlock lowering (the newest ABI, then the kernel's)");

const arch = process.arch === "x64" ? "x86_64" : "aarch64";
const filter = compileSeccomp(ir, [arch]);
if (!filter.filter) throw new Error("no seccomp filter");
const bytes = encode(filter.filter.program);
mark("seccomp compile and encode");

const deps = compiled.filesRead.map((path) => ({ path, sha256: sha256File(path) }));
const plan = buildPlan(table, bytes, { mounts: full.table.mounts, cacheKey: keyed.key, deps });
mark("plan: write the loader's plan");

// Into a throwaway directory: the phases must not fill the run's plan cache.
const dir = planCacheDir({ SBC_CACHE_DIR: `${planCacheDir() ?? "/tmp"}-phases` });
const why = storePlan(dir, keyed.key, plan.text);
if (why) throw new Error(why);
mark("store the plan in the plan cache");

const code = await new Promise((resolve) => {
  const child = spawn(loader, ["--plan-fd", "3", "--", ...argv], { stdio: ["inherit", "inherit", "inherit", "pipe"] });
  child.stdio[3].on("error", () => undefined);
  child.stdio[3].end(plan.text);
  child.on("error", () => resolve(125));
  child.on("exit", (c, s) => resolve(c ?? (s ? 128 : 1)));
});
mark("loader applies the plan and runs the command");

const out = Object.fromEntries(marks);
out.total = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exitCode = code;
