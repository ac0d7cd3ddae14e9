// `npm run bench`: every benchmark in turn (seccomp against libseccomp, sbc exec against the Codex sandbox, the DSL parser's start-up, the CLI's cold start);
// exits with the worst status (2 > 1 > 0), so a missed target is visible.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const tsx = join(import.meta.dirname, "..", "node_modules", "tsx", "dist", "cli.mjs");
let worst = 0;
for (const script of ["seccomp.ts", "scale.ts", "exec.ts", "dsl.ts", "startup.ts"]) {
  const r = spawnSync(process.execPath, [tsx, join(import.meta.dirname, script), ...process.argv.slice(2)], { stdio: "inherit" });
  worst = Math.max(worst, r.status ?? 2);
}
process.exitCode = worst;
