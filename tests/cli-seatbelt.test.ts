// The SBPL target through the CLI: `sbc compile -t sbpl` (inline, and `--sbpl-params`), and `sbc debug
// seatbelt`, which off macOS prints the profile and the exact sandbox-exec command line and exits 125 with
// nothing run. The launcher itself is tested in-process with a stand-in executable, since there is no
// sandbox-exec here; the CLI only ever runs /usr/bin/sandbox-exec.

import { chmodSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_CANNOT_RUN } from "../cli/exec-command.js";
import { runSandboxExec, runSeatbelt, SANDBOX_EXEC, seatbeltArgs, shellQuote } from "../cli/seatbelt-command.js";
import { bindIr } from "../ir/bind.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { compileSbpl } from "../targets/sbpl/index.js";
import { canonicalPath } from "../targets/sbpl/strings.js";
import { ensureBuilt, sbc, STACK_TRACE } from "./support/cli.js";
import { tempDir } from "./support/tmp.js";

beforeAll(() => ensureBuilt(), 180_000);

const BINDINGS = { workspace: "/Users/me/proj", home: "/Users/me", tmpdir: "/var/folders/x/T" };

/** Split a POSIX shell command line made of bare words and single-quoted words (what shellQuote writes). */
function shellSplit(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === " ") {
      i++;
      continue;
    }
    let word = "";
    while (i < line.length && line[i] !== " ") {
      if (line[i] === "'") {
        const end = line.indexOf("'", i + 1);
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (line[i] === "\\") {
        word += line[i + 1];
        i += 2;
      } else word += line[i++];
    }
    out.push(word);
  }
  return out;
}

describe("sbc compile -t sbpl", () => {
  it("writes the inline profile for the bound preset", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "sbpl", ...Object.entries(BINDINGS).flatMap(([k, v]) => ["-p", `${k}=${v}`])]);
    expect(r.code, r.stderr).toBe(0);
    const ir = compilePolicy({ kind: "preset", name: "workspace-write" }, { params: BINDINGS }).ir!;
    expect(r.stdout).toBe(compileSbpl(ir, { params: "inline" }).profile);
    expect(r.stdout).toContain('(subpath "/private/var/folders/x/T")');
    expect(r.stderr).toBe("");
  });

  it("refuses to write a parameter it has no value for, with a hint", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "sbpl"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("SBC2303");
    expect(r.stderr).toContain("--sbpl-params");
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it("--sbpl-params leaves paths to -D and lists them at the top", async () => {
    const r = await sbc(["compile", "--preset", "workspace-write", "-t", "sbpl", "--sbpl-params"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(";   -D workspace=${workspace}\n");
    expect(r.stdout).toContain('(subpath (param "workspace"))');
    expect(r.stdout).toBe(compileSbpl(compilePolicy({ kind: "preset", name: "workspace-write" }).ir!, { params: "param" }).profile);
  });

  it("--sbpl-params with another target is a usage error", async () => {
    const r = await sbc(["compile", "--preset", "read-only", "-t", "ir", "--sbpl-params"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--sbpl-params");
  });
});

describe("sbc debug seatbelt off macOS", () => {
  it("prints the profile and the exact command line, runs nothing, and exits 125", async () => {
    const cwd = tempDir("sbc-seatbelt-");
    const r = await sbc(["debug", "seatbelt", "--preset", "workspace-write", "--", "echo", "it's a test", "$HOME"], { cwd });
    expect(r.code, r.stderr).toBe(EXIT_CANNOT_RUN);
    expect(r.stderr).toMatch(/^sbc: not running the command: sandbox-exec exists only on macOS, and this is \w+/m);
    // The profile, a blank line, then the command line (which holds the profile again, quoted).
    const at = r.stdout.indexOf("\n\n/usr/bin/sandbox-exec ");
    expect(at).toBeGreaterThan(0);
    expect(r.stdout.endsWith("\n")).toBe(true);
    const argv = shellSplit(r.stdout.slice(at + 2, -1));
    expect(argv[0]).toBe("/usr/bin/sandbox-exec");
    expect(argv[1]).toBe("-p");
    expect(r.stdout.slice(0, at + 1)).toBe(argv[2]);
    const dashdash = argv.indexOf("--");
    expect(argv.slice(dashdash + 1)).toEqual(["echo", "it's a test", "$HOME"]);
    const defines = argv.slice(3, dashdash);
    expect(defines.filter((_, i) => i % 2 === 0).every((d) => d === "-D")).toBe(true);
    const values = defines.filter((_, i) => i % 2 === 1);
    // The workspace is the current directory, as `sbc exec` binds it, in the kernel's spelling; here it
    // lies inside /tmp, so it is its protected `.git` that shows up.
    expect(values.some((v) => v.endsWith("=" + canonicalPath(realpathSync(cwd)) + "/.git")), values.join(" ")).toBe(true);
    for (const v of values) expect(v).not.toContain("${");
    // Every param the profile refers to is defined.
    for (const m of argv[2]!.matchAll(/\(param "([^"]+)"\)/g)) expect(values.some((v) => v.startsWith(m[1] + "="))).toBe(true);
  });

  it("a user parameter without a value is a usage error", async () => {
    const dir = tempDir("sbc-seatbelt-");
    writeFileSync(join(dir, "p.yaml"), "sbc: 1\nname: p\nparams:\n  data:\n    description: d\nfilesystem:\n  - allow: read\n    path: ${data}\n");
    const r = await sbc(["debug", "seatbelt", "p.yaml", "--", "true"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("`data` has no value");
    const ok = await sbc(["debug", "seatbelt", "p.yaml", "-p", "data=/srv/data", "--", "true"], { cwd: dir });
    expect(ok.code).toBe(EXIT_CANNOT_RUN);
    expect(ok.stdout).toContain("=/srv/data ");
  });

  it("needs a command", async () => {
    const r = await sbc(["debug", "seatbelt", "--preset", "read-only"]);
    expect(r.code).toBe(2);
  });
});

describe("the sandbox-exec launcher", () => {
  it("builds -p PROFILE, -D KEY=VALUE pairs, --, then the command", () => {
    expect(seatbeltArgs("(version 1)", [["a", "/x"], ["b", "/y z"]], ["ls", "-l"])).toEqual(["-p", "(version 1)", "-D", "a=/x", "-D", "b=/y z", "--", "ls", "-l"]);
    expect(shellQuote("a'b c")).toBe("'a'\\''b c'");
    expect(shellQuote("/usr/bin/x")).toBe("/usr/bin/x");
    expect(SANDBOX_EXEC).toBe("/usr/bin/sandbox-exec");
  });

  it("returns the command's status, and 125 when it cannot start", async () => {
    const dir = tempDir("sbc-seatbelt-");
    const fake = join(dir, "fake-sandbox-exec");
    writeFileSync(fake, '#!/bin/sh\n[ "$1" = "-p" ] && exit 7\nexit 3\n');
    chmodSync(fake, 0o755);
    expect(await runSandboxExec(fake, ["-p", "(version 1)", "--", "true"])).toBe(7);
    expect(await runSandboxExec(join(dir, "missing"), ["--", "true"])).toBe(EXIT_CANNOT_RUN);
  });

  it("on macOS runs /usr/bin/sandbox-exec by its absolute path (absent here: 125)", async () => {
    const cwd = process.cwd();
    const status = await runSeatbelt(undefined, ["true"], { preset: "read-only", param: [], color: false }, "darwin");
    expect(status).toBe(EXIT_CANNOT_RUN);
    expect(process.cwd()).toBe(cwd);
  });
});

describe("the profile and its bindings agree", () => {
  it("binding first or defining later give the same decisions' paths", () => {
    const ir = compilePolicy({ kind: "preset", name: "workspace-write" }).ir!;
    const bound = bindIr(ir, BINDINGS).ir!;
    const inline = compileSbpl(bound, { params: "inline" }).profile!;
    const param = compileSbpl(bound, { params: "param" });
    let text = param.profile!.replace(/^; sandbox-exec parameters[^\n]*\n(;   -D [^\n]*\n)*/m, "");
    for (const [k, v] of param.defines) text = text.split(`(param "${k}")`).join(JSON.stringify(v));
    expect(text).toBe(inline);
  });
});
