// Hostile and odd inputs through the CLI (issue 13, item 6): files that are not regular files, extended files
// that are not policies (their text must never be printed), outputs that are devices, FIFOs, links or
// directories, and a command word mistaken for the policy file.

import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, sbc } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

const POLICY = "sbc: 1\nfilesystem:\n  - allow: read\n    path: /usr\n";
const SECRET = "root:x:0:0:SECRET-6f1d2c:/root:/bin/bash";

beforeAll(() => ensureBuilt(), 300_000);

function mkfifo(path: string): boolean {
  try {
    execFileSync("mkfifo", [path]);
    return true;
  } catch {
    return false;
  }
}

describe("reading: what a path names is checked before it is read", () => {
  it("a directory, a FIFO and /dev/zero are named for what they are, without blocking", async () => {
    const dir = tempDir();
    const fifo = join(dir, "policy.yaml");
    expect(mkfifo(fifo)).toBe(true);
    const fromFifo = await sbc(["check", fifo], { timeoutMs: 20_000 });
    expect(fromFifo.code).toBe(2);
    expect(fromFifo.stderr).toContain("it is not a regular file (a FIFO)");
    const fromZero = await sbc(["check", "/dev/zero"], { timeoutMs: 20_000 });
    expect(fromZero.code).toBe(2);
    expect(fromZero.stderr).toContain("it is not a regular file (a character device)");
    const fromDir = await sbc(["compile", dir, "-t", "ir"], { timeoutMs: 20_000 });
    expect(fromDir.code).toBe(2);
    expect(fromDir.stderr).toContain("it is a directory");
  });

  it("an extended FIFO or directory is reported at the `extends:` entry", async () => {
    const dir = tempDir();
    expect(mkfifo(join(dir, "base.yaml"))).toBe(true);
    mkdirSync(join(dir, "d.yaml"));
    writeFiles(dir, { "a.yaml": "sbc: 1\nextends: ./base.yaml\n", "b.yaml": "sbc: 1\nextends: ./d.yaml\n" });
    const a = await sbc(["check", join(dir, "a.yaml")], { timeoutMs: 20_000 });
    expect(a.code).toBe(1);
    expect(a.stdout + a.stderr).toMatch(/SBC0101.*it is not a regular file \(a FIFO\)/);
    const b = await sbc(["check", join(dir, "b.yaml")], { timeoutMs: 20_000 });
    expect(b.code).toBe(1);
    expect(b.stdout + b.stderr).toMatch(/SBC0101.*it is a directory/);
  });

  it("a file over the size limit is refused with SBC0110 before it is parsed", async () => {
    const dir = tempDir();
    const big = join(dir, "big.yaml");
    writeFileSync(big, "sbc: 1\n" + "#".repeat(5 * 1024 * 1024) + "\n");
    const r = await sbc(["check", big], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("SBC0110");
    expect(r.stdout + r.stderr).toContain("over the 512 KiB limit");
    const fmt = await sbc(["fmt", "--check", big], { timeoutMs: 20_000 });
    expect(fmt.code).toBe(1);
    expect(fmt.stdout + fmt.stderr).toContain("SBC0110");
  });
});

describe("extends: no text of a file that is not a policy is printed", () => {
  it("a file without a policy extension is not opened (extends: ../../etc/passwd)", async () => {
    const dir = tempDir();
    writeFiles(dir, { "etc/passwd": SECRET + "\n", "p/policy.yaml": "sbc: 1\nextends: ../etc/passwd\n" });
    const r = await sbc(["check", join(dir, "p/policy.yaml")], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("SBC0111");
    expect(r.stdout + r.stderr).not.toContain("SECRET-6f1d2c");
  });

  it("a `.yaml` file that is not a policy is refused without its text, whatever its error", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "creds.yaml": `aws_secret_access_key: ${SECRET}\n`,
      "broken.yaml": `${SECRET}: [\n`,
      "list.yml": `- ${SECRET}\n`,
      "bytes.yaml": Buffer.concat([Buffer.from(SECRET), Buffer.from([0xff, 0xfe])]),
    });
    for (const f of ["creds.yaml", "broken.yaml", "list.yml", "bytes.yaml"]) {
      writeFiles(dir, { "policy.yaml": `sbc: 1\nextends: ./${f}\n` });
      const r = await sbc(["check", join(dir, "policy.yaml"), "--format", "json"], { timeoutMs: 20_000 });
      expect(r.code, f).toBe(1);
      expect(r.stderr + r.stdout, f).toContain("SBC0111");
      expect(r.stderr + r.stdout, f).not.toContain("SECRET-6f1d2c");
    }
  });

  it("an extended policy with an error is still shown in full (it has an `sbc:` key)", async () => {
    const dir = tempDir();
    writeFiles(dir, { "base.yaml": "sbc: 1\nfilesystem:\n  - allow: raed\n    path: /usr\n", "policy.yaml": "sbc: 1\nextends: ./base.yaml\n" });
    const r = await sbc(["check", join(dir, "policy.yaml")], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("base.yaml:3");
    expect(r.stdout + r.stderr).not.toContain("SBC0111");
  });
});

describe("-o: the output is replaced atomically only when it is a regular file", () => {
  const compileTo = (out: string) => sbc(["compile", "--preset", "read-only", "-t", "sbpl", "-o", out], { timeoutMs: 30_000 });

  it("a character device is written through, not replaced (mknod when root, else /dev/null)", async () => {
    const dir = tempDir();
    let dev = "/dev/null";
    if (process.getuid?.() === 0) {
      dev = join(dir, "null");
      execFileSync("mknod", [dev, "c", "1", "3"]);
    }
    const r = await compileTo(dev);
    expect(r.code).toBe(0);
    expect(lstatSync(dev).isCharacterDevice()).toBe(true);
  });

  it("a FIFO is written through and stays a FIFO", async () => {
    const dir = tempDir();
    const fifo = join(dir, "out.sb");
    expect(mkfifo(fifo)).toBe(true);
    const reader = sbcReader(fifo);
    const r = await compileTo(fifo);
    expect(r.code).toBe(0);
    expect(await reader).toContain("(version 1)");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it("/dev/stdout (a link to a pipe) is written through", async () => {
    const r = await compileTo("/dev/stdout");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("(version 1)");
  });

  it("a symlink to a regular file is refused and left alone; a directory is refused", async () => {
    const dir = tempDir();
    writeFiles(dir, { "real.sb": "old\n" });
    symlinkSync("real.sb", join(dir, "link.sb"));
    const r = await compileTo(join(dir, "link.sb"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("it is a symbolic link");
    expect(lstatSync(join(dir, "link.sb")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "real.sb"), "utf8")).toBe("old\n");
    const d = await compileTo(dir);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain("it is a directory");
  });

  it("a regular file is replaced and keeps its permission bits; fmt --write and convert -o alike", async () => {
    const dir = tempDir();
    writeFiles(dir, { "out.sb": "old\n", "p.yaml": "sbc: 1\nfilesystem:\n  -   allow: read\n      path: /usr\n" });
    execFileSync("chmod", ["600", join(dir, "out.sb"), join(dir, "p.yaml")]);
    expect((await compileTo(join(dir, "out.sb"))).code).toBe(0);
    expect(statSync(join(dir, "out.sb")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "out.sb"), "utf8")).toContain("(version 1)");
    expect((await sbc(["fmt", "--write", join(dir, "p.yaml")], { timeoutMs: 30_000 })).code).toBe(0);
    expect(statSync(join(dir, "p.yaml")).mode & 0o777).toBe(0o600);
    symlinkSync("p.sbc.real", join(dir, "p.sbc"));
    const c = await sbc(["convert", join(dir, "p.yaml"), "--to", "dsl", "-o", join(dir, "p.sbc")], { timeoutMs: 30_000 });
    expect(c.code).toBe(2);
    expect(existsSync(join(dir, "p.sbc.real"))).toBe(false);
  });
});

describe("a command word is not taken for the policy file", () => {
  for (const args of [
    ["exec", "--", "true"],
    ["debug", "landlock", "--", "true"],
    ["debug", "seatbelt", "--", "true"],
    ["eval", "--", "read", "/x"],
  ]) {
    it(`sbc ${args.join(" ")}`, async () => {
      const r = await sbc(args, { timeoutMs: 20_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("name a policy file or --preset before `--`");
    });
  }

  it("a policy before `--` still works", async () => {
    const dir = tempDir();
    writeFiles(dir, { "p.yaml": POLICY });
    const r = await sbc(["eval", join(dir, "p.yaml"), "--", "read", "/usr/x"], { timeoutMs: 20_000 });
    expect(r.stderr).not.toContain("before `--`");
    expect(r.code).toBe(0);
  });
});

/** Read a FIFO to its end in a child (`cat`), so the CLI's open for writing finds a reader. */
function sbcReader(fifo: string): Promise<string> {
  return import("node:child_process").then(
    ({ spawn }) =>
      new Promise((resolve, reject) => {
        const p = spawn("cat", [fifo]);
        let out = "";
        p.stdout.on("data", (b: Buffer) => (out += b.toString()));
        p.on("error", reject);
        p.on("close", () => resolve(out));
      }),
  );
}
