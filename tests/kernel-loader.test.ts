// native/build/sbc-loader on the real kernel: hand-written plans (format 2, Landlock alone: no mount lines)
// over temporary directories, each checked by what a sandboxed `sh` or `python3` can and cannot do afterwards.
// This pins down the loader's protocol (plan format, every parse error, exit statuses, --report lines) and the
// Landlock behaviour `sbc exec` relies on: file masking, symlinks, REFER, TRUNCATE, TCP ports, and the seccomp
// filter installed last. The mount layer, the process structure, symlink safety and the cache have their own
// files (kernel-loader-*.test.ts). Commands only ever write inside the temporary directories.

import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { expect, it } from "vitest";
import { errnoValue, syscallNumber } from "../linux-abi/index.js";
import { ACCESS_FS, ACCESS_NET, SCOPE } from "../targets/landlock/abi.js";
import {
  AUDIT_ARCH_X86_64,
  BPF_ABS,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_RET,
  BPF_W,
  OFFSET_ARCH,
  OFFSET_NR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  encode,
  insn,
} from "../targets/seccomp/bpf.js";
import { LOADER_TEST_ABI, describeLoader, encodePath, planText, probeLoader, runLoader, type PlanSpec } from "./support/loader.js";
import { tempDir } from "./support/tmp.js";

function errno(name: string): number {
  const n = errnoValue(name);
  if (n === undefined) throw new Error(`no errno \`${name}\``);
  return n;
}
const EACCES = errno("EACCES");
const EXDEV = errno("EXDEV");
const EPERM = errno("EPERM");
const ECONNREFUSED = errno("ECONNREFUSED");
const GETPPID = (() => {
  const n = syscallNumber("x86_64", "getppid");
  if (n === undefined) throw new Error("no x86_64 syscall `getppid`");
  return n;
})();

const FS = ACCESS_FS;
/** Everything ABI 5-7 can handle on the filesystem. */
const ALL_FS = 0xffff;
/** What `sh`, `python3` and the dynamic loader need from the rest of the system: read and execute. */
const READ_EXEC = FS.execute | FS.read_file | FS.read_dir;
/** The system's own python, not a version-manager shim that would need to write its own state. */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

const hex = (n: number) => `0x${n.toString(16)}`;

/** A plan in the loader's text format (format 2, `namespaces auto`, no mount lines: Landlock alone). */
const plan = (spec: PlanSpec) => planText(spec);

/** A fresh, fully resolved temporary directory (Landlock rules bind inodes, so paths are given resolved). */
function scratch(): string {
  return realpathSync(tempDir("sbc-loader-"));
}

/** Read and execute everywhere, plus `extra` rules: the usual shape of a plan. */
function fsPlan(extra: PlanSpec["fs"], more: Omit<PlanSpec, "fs"> = {}): string {
  return plan({ ...more, fs: [[READ_EXEC, "error", "/"], ...(extra ?? [])] });
}

const sh = (script: string) => ["sh", "-c", script];
const py = (script: string) => [PYTHON, "-c", script];
/** A python snippet that runs `call` and prints `ok` or the errno it failed with. */
const pyTry = (call: string) => py(`import os, socket\ntry:\n    ${call}\n    print("ok")\nexcept OSError as e:\n    print(e.errno)`);

describeLoader("sbc-loader", () => {
  it("--probe reports the kernel's Landlock ABI, its errata and seccomp", () => {
    const p = probeLoader();
    expect(p.line).toMatch(/^landlock-abi=\d+ errata=0x[0-9a-f]+ seccomp=1 namespaces=\S+ io-uring=\S+$/);
    expect(p.landlockAbi).toBeGreaterThanOrEqual(LOADER_TEST_ABI);
  });

  it("fs-children grants every entry but the carved ones, descending along a nested except path", () => {
    const t = scratch();
    for (const d of ["root/src", "root/.git/hooks", "root/deep/keep", "root/deep/secret"]) mkdirSync(join(t, d), { recursive: true });
    writeFileSync(join(t, "root", "file.txt"), "f\n");
    const text = fsPlan([]).replace("end\n", `fs-children ${hex(ALL_FS)} error ${encodePath(join(t, "root"))} .git deep/secret\nend\n`);
    const r = runLoader(
      text,
      sh(
        `cd ${t}/root && echo a > src/a && echo b >> file.txt && echo c > deep/keep/c && echo ok; ` +
          `touch .git/hooks/x; echo git=$?; touch deep/secret/x; echo secret=$?; touch new; echo new=$?`,
      ),
      { report: true },
    );
    expect(r.stdout).toBe("ok\ngit=1\nsecret=1\nnew=1\n");
    expect(r.stderr).toMatch(/carved out .*\/root\/\.git\n/);
    expect(r.stderr).toMatch(/carved out .*\/root\/deep\/secret\n/);
    expect(existsSync(join(t, "root", ".git", "hooks", "x"))).toBe(false);
  });

  it("fs-file applies to a file and is skipped for a directory", () => {
    const t = scratch();
    mkdirSync(join(t, "dir"));
    writeFileSync(join(t, "f"), "");
    const text = fsPlan([]).replace("end\n", `fs-file ${hex(FS.write_file)} skip ${encodePath(join(t, "f"))}\nfs-file ${hex(FS.write_file)} skip ${encodePath(join(t, "dir"))}\nend\n`);
    const r = runLoader(text, sh(`echo x >> ${t}/f && echo file-ok; echo y > ${t}/dir/g; echo dir=$?`), { report: true });
    expect(r.stdout).toBe("file-ok\ndir=2\n");
    expect(r.stderr).toMatch(/skipped fs-file .*\/dir: a directory/);
  });

  it("lets the command write inside an allowed directory", () => {
    const t = scratch();
    mkdirSync(join(t, "rw"));
    const r = runLoader(fsPlan([[ALL_FS, "error", join(t, "rw")]]), sh(`echo hello > ${t}/rw/f && cat ${t}/rw/f`));
    expect(r).toMatchObject({ status: 0, stdout: "hello\n", stderr: "" });
    expect(readFileSync(join(t, "rw", "f"), "utf8")).toBe("hello\n");
  });

  it("denies writing outside with EACCES and creates nothing", () => {
    const t = scratch();
    mkdirSync(join(t, "rw"));
    mkdirSync(join(t, "other"));
    const r = runLoader(fsPlan([[ALL_FS, "error", join(t, "rw")]]), pyTry(`open("${t}/other/f", "w")`));
    expect(r).toMatchObject({ status: 0, stdout: `${EACCES}\n` });
    const s = runLoader(fsPlan([[ALL_FS, "error", join(t, "rw")]]), sh(`echo x > ${t}/other/f; echo x > ${t}/f`));
    expect(s.status).not.toBe(0);
    expect(s.stderr).toContain("Permission denied");
    expect(existsSync(join(t, "other", "f"))).toBe(false);
    expect(existsSync(join(t, "f"))).toBe(false);
  });

  it("reads /etc/hostname and executes /usr/bin/true with read rights on /", () => {
    const r = runLoader(fsPlan([]), sh("cat /etc/hostname && /usr/bin/true && echo ran"));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${readFileSync("/etc/hostname", "utf8")}ran\n`);
  });

  it("exits 126 when Landlock denies executing the command", () => {
    const r = runLoader(plan({ fs: [[FS.read_file | FS.read_dir, "error", "/"]] }), ["/usr/bin/true"]);
    expect(r.status).toBe(126);
    expect(r.stderr).toBe("sbc-loader: execvp(/usr/bin/true): Permission denied\n");
  });

  it("grants nothing through a symlink inside the allowed directory that points outside", () => {
    const t = scratch();
    mkdirSync(join(t, "rw"));
    mkdirSync(join(t, "outside"));
    writeFileSync(join(t, "outside", "existing"), "keep\n");
    symlinkSync(join(t, "outside"), join(t, "rw", "to-dir"));
    symlinkSync(join(t, "outside", "existing"), join(t, "rw", "to-file"));
    const p = fsPlan([[ALL_FS, "error", join(t, "rw")]]);
    expect(runLoader(p, pyTry(`open("${t}/rw/to-dir/new", "w")`)).stdout).toBe(`${EACCES}\n`);
    expect(runLoader(p, pyTry(`open("${t}/rw/to-file", "a").write("x")`)).stdout).toBe(`${EACCES}\n`);
    expect(existsSync(join(t, "outside", "new"))).toBe(false);
    expect(readFileSync(join(t, "outside", "existing"), "utf8")).toBe("keep\n");
  });

  it("masks directory rights off a rule on a file, and the file rule works", () => {
    const t = scratch();
    const file = join(t, "notes.txt");
    writeFileSync(file, "one\n");
    const r = runLoader(fsPlan([[ALL_FS, "error", file]]), sh(`echo two >> ${file}; echo x > ${t}/sibling`), { report: true });
    const fileMask = FS.execute | FS.write_file | FS.read_file | FS.truncate | FS.ioctl_dev;
    expect(r.stderr).toContain(`applied fs 0xffff/${hex(fileMask)} FILE ${file}\n`);
    expect(r.stderr).toContain(`applied fs ${hex(READ_EXEC)}/${hex(READ_EXEC)} DIR /\n`);
    expect(r.stderr).toContain(`cannot create ${t}/sibling: Permission denied`);
    expect(readFileSync(file, "utf8")).toBe("one\ntwo\n");
    expect(existsSync(join(t, "sibling"))).toBe(false);
  });

  it("skips a rule whose only rights are directory rights when its path is a file", () => {
    const t = scratch();
    const file = join(t, "f");
    writeFileSync(file, "");
    const r = runLoader(fsPlan([[FS.make_reg | FS.read_dir, "error", file]]), ["true"], { report: true });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`skipped fs ${file}: not a directory, and 0x108 has no file rights\n`);
  });

  it("skips a missing path marked `skip` and fails 125 on one marked `error`", () => {
    const t = scratch();
    const missing = join(t, "no", "such");
    const skipped = runLoader(fsPlan([[ALL_FS, "skip", missing]]), sh("echo ran"), { report: true });
    expect(skipped).toMatchObject({ status: 0, stdout: "ran\n" });
    expect(skipped.stderr).toContain(`skipped fs ${missing}: No such file or directory\n`);

    const failed = runLoader(fsPlan([[ALL_FS, "error", missing]]), sh("echo ran"));
    expect(failed).toMatchObject({ status: 125, stdout: "", stderr: `sbc-loader: open(${missing}): No such file or directory\n` });
  });

  it("encodes paths with spaces, `%` and non-ASCII bytes as one field", () => {
    const t = scratch();
    const odd = join(t, "a b%c é");
    mkdirSync(odd);
    expect(encodePath(odd)).toBe(`${t}/a%20b%25c%20%C3%A9`);
    const r = runLoader(fsPlan([[ALL_FS, "error", odd]]), ["sh", "-c", 'echo ok > "$1/f"', "sh", odd], { report: true });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`applied fs 0xffff/0xffff DIR ${encodePath(odd)}\n`);
    expect(readFileSync(join(odd, "f"), "utf8")).toBe("ok\n");
  });

  it("renames across two allowed directories with REFER, and fails with EXDEV without it", () => {
    const t = scratch();
    for (const d of ["a", "b"]) mkdirSync(join(t, d));
    writeFileSync(join(t, "a", "f"), "moved\n");
    const rename = pyTry(`os.rename("${t}/a/f", "${t}/b/f")`);
    const noRefer = ALL_FS & ~FS.refer;
    const denied = runLoader(fsPlan([[noRefer, "error", join(t, "a")], [noRefer, "error", join(t, "b")]]), rename);
    expect(denied.stdout).toBe(`${EXDEV}\n`);
    expect(existsSync(join(t, "a", "f"))).toBe(true);

    const allowed = runLoader(fsPlan([[ALL_FS, "error", join(t, "a")], [ALL_FS, "error", join(t, "b")]]), rename);
    expect(allowed.stdout).toBe("ok\n");
    expect(readFileSync(join(t, "b", "f"), "utf8")).toBe("moved\n");
  });

  it("truncates an existing file only with TRUNCATE", () => {
    const t = scratch();
    mkdirSync(join(t, "d"));
    const file = join(t, "d", "data");
    writeFileSync(file, "content\n");
    const truncate = pyTry(`open("${file}", "w")`);
    const denied = runLoader(fsPlan([[ALL_FS & ~FS.truncate, "error", join(t, "d")]]), truncate);
    expect(denied.stdout).toBe(`${EACCES}\n`);
    expect(readFileSync(file, "utf8")).toBe("content\n");

    const allowed = runLoader(fsPlan([[ALL_FS, "error", join(t, "d")]]), truncate);
    expect(allowed.stdout).toBe("ok\n");
    expect(readFileSync(file, "utf8")).toBe("");
  });

  it("denies TCP connect with EACCES when net is handled, and lets it through to a port with a rule", async () => {
    const port = await closedPort();
    const connect = pyTry(`socket.create_connection(("127.0.0.1", ${port}), timeout=10)`);
    const netOnly = { handledFs: 0, handledNet: ACCESS_NET.bind_tcp | ACCESS_NET.connect_tcp };

    const denied = runLoader(plan(netOnly), connect);
    expect(denied).toMatchObject({ status: 0, stdout: `${EACCES}\n` });

    const allowed = runLoader(plan({ ...netOnly, net: [[ACCESS_NET.connect_tcp, port]] }), connect, { report: true });
    expect(allowed).toMatchObject({ status: 0, stdout: `${ECONNREFUSED}\n` });
    expect(allowed.stderr).toContain(`applied net 0x2 ${port}\n`);
    expect(allowed.stderr).toContain("landlock abi=7 handled-fs=0x0 handled-net=0x3 scoped=0x0 restrict-flags=0x0\n");
  });

  it("scopes signals to the sandbox with a 24-byte ruleset", () => {
    // Signal 0 only checks permission: the parent (this test worker) receives nothing either way.
    const signalParent = pyTry("os.kill(os.getppid(), 0)");
    const scoped = runLoader(plan({ handledFs: 0, scoped: SCOPE.signal }), signalParent, { report: true });
    expect(scoped).toMatchObject({ status: 0, stdout: `${EPERM}\n` });
    expect(scoped.stderr).toContain("landlock abi=7 handled-fs=0x0 handled-net=0x0 scoped=0x2 restrict-flags=0x0\n");
    expect(runLoader(plan({ handledFs: 0, scoped: SCOPE.abstract_unix_socket }), signalParent).stdout).toBe("ok\n");
  });

  it("fails 125 naming the step and the errno when the kernel refuses one", () => {
    const cases: Array<[PlanSpec, string]> = [
      // A rule on a socket (this process's stdout, through /proc): Landlock rules need a filesystem inode.
      [{ fs: [[FS.read_file, "error", "/proc/self/fd/1"]] }, "landlock_add_rule(/proc/self/fd/1): File descriptor in bad state"],
      [{ abi: 0, handledFs: 0, seccomp: encode([insn(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), insn(0xffff)]) }, "seccomp(SECCOMP_SET_MODE_FILTER): Invalid argument"],
    ];
    for (const [spec, message] of cases) {
      const r = runLoader(plan(spec), sh("echo ran"));
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 125, stdout: "", stderr: `sbc-loader: ${message}\n` });
    }
  });

  it("installs the plan's seccomp filter last", () => {
    const filter = getppidErrnoFilter(1234);
    // syscall(2) reports the failure through errno; glibc's getppid() does not check for one (getppid cannot fail),
    // so os.getppid() shows the raw -errno the filter made the kernel return.
    const check = py(
      `import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nr = libc.syscall(${GETPPID})\nprint(r, ctypes.get_errno(), os.getppid())`,
    );
    const alone = runLoader(plan({ abi: 0, handledFs: 0, seccomp: filter }), check, { report: true });
    expect(alone).toMatchObject({ status: 0, stdout: "-1 1234 -1234\n", stderr: "landlock none\ncapabilities dropped\nseccomp 6 instructions\n" });

    // With Landlock too: the filter comes after landlock_restrict_self, and both hold.
    const t = scratch();
    const both = runLoader(fsPlan([], { seccomp: filter }), [...check.slice(0, 2), `${check[2]}\nopen("${t}/f", "w")`]);
    expect(both.stdout).toBe("-1 1234 -1234\n");
    expect(both.stderr).toContain("PermissionError");
    expect(existsSync(join(t, "f"))).toBe(false);

    const without = runLoader(plan({ abi: 0, handledFs: 0 }), check);
    expect(without.stdout).toBe(`${process.pid} 0 ${process.pid}\n`);
  });

  // The ABI negotiation (native/README.md): what counts is what a plan handles, and the plan's `compat` line
  // decides when the kernel lacks some of it. This kernel runs ABI 7; ABI 8-10 plans are the newer ones.
  it("runs a plan made for a newer ABI that handles nothing the kernel lacks, and refuses one that does (hard-requirement)", () => {
    const kernel = probeLoader().landlockAbi;
    if (kernel >= 10) return; // nothing newer to lack
    const t = scratch();
    const ran = runLoader(fsPlan([[ALL_FS, "error", t]], { abi: 10 }), sh("echo ran"), { report: true });
    expect(ran).toMatchObject({ status: 0, stdout: "ran\n" });
    expect(ran.stderr).toContain("landlock abi=10 handled-fs=0xffff");
    const cases: Array<[PlanSpec, number]> = [
      [{ abi: 9, handledFs: 0x1ffff }, 9], // RESOLVE_UNIX
      [{ abi: 8, restrictFlags: 1 << 3 }, 8], // TSYNC
      [{ abi: 10, handledNet: 0xf }, 10], // the UDP rights
      [{ abi: kernel, handledNet: 0xf, preamble: ["compat hard-requirement"] }, 10], // the masks count, not `abi`
    ];
    for (const [spec, needs] of cases) {
      if (needs <= kernel) continue;
      const r = runLoader(plan(spec), sh("echo ran"));
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 125,
        stdout: "",
        stderr: `sbc-loader: the plan needs Landlock ABI ${needs}, this kernel has ${kernel}\n`,
      });
    }
  });

  it("best-effort drops what the kernel lacks, says what, and enforces the rest", async () => {
    const kernel = probeLoader().landlockAbi;
    if (kernel >= 9) return;
    const t = scratch();
    const port = await closedPort();
    const RESOLVE_UNIX = 1 << 16;
    const UDP = ACCESS_NET.bind_udp | ACCESS_NET.connect_send_udp;
    const spec: PlanSpec = {
      abi: 10,
      handledFs: 0xffff | RESOLVE_UNIX,
      handledNet: ACCESS_NET.bind_tcp | ACCESS_NET.connect_tcp | UDP,
      preamble: ["compat best-effort"],
      fs: [
        [READ_EXEC | RESOLVE_UNIX, "error", "/"],
        [ALL_FS, "error", t],
      ],
      // A UDP-only rule is left with nothing and dropped; the TCP half of a mixed one stays.
      net: [
        [ACCESS_NET.connect_send_udp, 53],
        [ACCESS_NET.connect_tcp | ACCESS_NET.connect_send_udp, port],
      ],
    };
    const script = pyTry(`socket.create_connection(("127.0.0.1", ${port}), timeout=10)\n    socket.create_connection(("127.0.0.1", ${port === 65535 ? 65534 : port + 1}), timeout=10)`);
    const r = runLoader(plan(spec), script, { report: true });
    // The first connect reaches the closed port (allowed: ECONNREFUSED), so the second is not tried.
    expect(r).toMatchObject({ status: 0, stdout: `${ECONNREFUSED}\n` });
    expect(r.stderr).toContain(`sbc: this kernel has Landlock ABI ${kernel}, the plan needs 10: not enforced here: resolve_unix, bind_udp, connect_send_udp (compatibility: best-effort)\n`);
    expect(r.stderr).toContain("landlock abi=10 handled-fs=0xffff handled-net=0x3 scoped=0x0 restrict-flags=0x0\n");
    expect(r.stderr).toContain(`applied net 0x2 ${port}\n`);
    expect(r.stderr).not.toContain("applied net 0x0");
    // The filesystem is still confined: nothing outside the granted directory can be written.
    const outside = scratch();
    const w = runLoader(plan(spec), sh(`echo x > ${outside}/f; echo rc=$?`));
    expect(w.stdout).toBe("rc=2\n");
    expect(existsSync(join(outside, "f"))).toBe(false);
  });

  it("soft-requirement runs without Landlock when the kernel lacks something, and says so", () => {
    const kernel = probeLoader().landlockAbi;
    if (kernel >= 10) return;
    const outside = scratch();
    const r = runLoader(plan({ abi: 10, handledNet: 0xf, preamble: ["compat soft-requirement"], fs: [[READ_EXEC, "error", "/"]] }), sh(`echo x > ${outside}/f; echo rc=$?`), { report: true });
    expect(r).toMatchObject({ status: 0, stdout: "rc=0\n" });
    expect(r.stderr).toContain(`sbc: this kernel has Landlock ABI ${kernel}, the plan needs 10: running WITHOUT Landlock (compatibility: soft-requirement)\n`);
    expect(r.stderr).toContain("landlock none\n");
  });

  it("prints the plan's diagnostics before the command runs, and refuses a bad compat line", () => {
    const text = "warning[SBC2201]: a narrowing\n\n0 errors, 1 warning\n";
    const r = runLoader(fsPlan([], { preamble: [`diagnostics ${encodePath(text)}`] }), sh("echo ran"));
    expect(r).toMatchObject({ status: 0, stdout: "ran\n", stderr: text });
    const bad = runLoader(fsPlan([], { preamble: ["compat maybe"] }), sh("echo ran"));
    expect(bad).toMatchObject({ status: 125, stdout: "", stderr: "sbc-loader: plan line 8: `maybe` is not a compatibility level\n" });
  });

  it("refuses malformed plans with the line at fault, before running anything", () => {
    const t = scratch();
    const good = fsPlan([[ALL_FS, "error", t]]).split("\n");
    // good: 1 header, 2 abi, 3 handled-fs, 4 handled-net, 5 scoped, 6 restrict-flags, 7 namespaces, 8 fs /, 9 fs t, 10 end
    const withLine = (n: number, text: string) => good.map((l, i) => (i === n - 1 ? text : l)).join("\n");
    const cases: Array<[string, string]> = [
      [withLine(1, "sbc-loader-plan 1"), "plan line 1: plan format 1 is not supported by this loader; recompile"],
      [withLine(1, "sbc-loader-plan 3"), "plan line 1: expected `sbc-loader-plan 2`"],
      [withLine(9, "frobnicate 1"), "plan line 9: unknown directive `frobnicate`"],
      [withLine(3, "handled-fs 0xfffg"), "plan line 3: `0xfffg` is not a 0x hex mask"],
      [withLine(3, "handled-fs ffff"), "plan line 3: `ffff` is not a 0x hex mask"],
      [withLine(9, "fs 0xffff error tmp/x"), "plan line 9: `tmp/x` is not an absolute path"],
      [withLine(9, "fs 0x10000 error /tmp"), "plan line 9: mask 0x10000 has rights outside handled-fs 0xffff"],
      [withLine(9, "fs 0x0 error /tmp"), "plan line 9: an fs rule with an empty mask"],
      [withLine(9, "fs 0x1 maybe /tmp"), "plan line 9: `maybe` is neither `skip` nor `error`"],
      [withLine(9, "fs 0x1 skip /a%2"), "plan line 9: `%` not followed by two hex digits in `/a%2`"],
      [withLine(9, "fs 0x1  skip /tmp"), "plan line 9: fields must be separated by single spaces"],
      [withLine(9, "fs\t0x1 skip /tmp"), "plan line 9: unknown directive `fs%090x1`"],
      [withLine(9, "fs 0x1 skip /caf\u00e9"), "plan line 9: byte 0xc3 in path `/caf%C3%A9` must be percent-encoded"],
      [withLine(9, "net 0x2 443"), "plan line 9: mask 0x2 has rights outside handled-net 0x0"],
      [withLine(9, "seccomp 0600000000007f"), "plan line 9: the seccomp filter is 14 hex digits, not a whole number of 8-byte instructions"],
      [withLine(9, "seccomp 06000000zz00ff7f"), "plan line 9: the seccomp filter is not hex (instruction 0)"],
      [withLine(9, "abi 7"), "plan line 9: `abi` given twice"],
      [withLine(9, ""), "plan line 9: an empty line"],
      [good.filter((l) => l !== "end").join("\n"), "plan line 10: the plan ends without `end`"],
      [`${good.join("\n")}fs 0x1 skip /tmp\n`, "plan line 11: text after `end`"],
      [good.filter((l) => !l.startsWith("scoped")).join("\n"), "plan line 7: `fs` before `scoped`: the header must be complete before the first rule"],
      [withLine(9, "fs 0x1 skip ${nope}/x"), "plan line 9: `${nope}/x` names a parameter that no `param` line declares"],
      [withLine(9, "fs 0x1 skip ${a"), "plan line 9: `${a` is neither an absolute path nor `${name}/...`"],
      [withLine(8, "param 9x"), "plan line 8: `9x` is not a parameter name"],
      [withLine(9, "param sbc_test_unset"), "plan line 9: `param` after the first rule"],
      [withLine(8, "param sbc_test_unset"), "plan line 8: parameter `sbc_test_unset` has no value: pass --param sbc_test_unset=PATH"],
      [plan({ abi: 0 }), "plan line 2: `abi 0` (no Landlock) with handled rights or scopes"],
      ["", "the plan is empty"],
    ];
    for (const [text, message] of cases) {
      const r = runLoader(text, sh(`echo ran > ${t}/ran`));
      expect({ status: r.status, stderr: r.stderr }, JSON.stringify(text)).toEqual({ status: 125, stderr: `sbc-loader: ${message}\n` });
    }
    expect(existsSync(join(t, "ran"))).toBe(false);
  });

  it("refuses malformed format-2 directives (namespaces, cache-key, dep, fallback-note, mount, `!`) with their line", () => {
    const t = scratch();
    const key = "a".repeat(64);
    const header = ["sbc-loader-plan 2", "abi 7", "handled-fs 0xffff", "handled-net 0x0", "scoped 0x0", "restrict-flags 0x0"];
    // Lines 1-6 are `header`; line 7 is `namespaces auto` unless a case says otherwise.
    const text = (...lines: string[]) => [...header, ...lines, "end", ""].join("\n");
    const ns = "namespaces auto";
    const root = "mount / ro exec";
    const ws = `mount ${t} rw exec`;
    const cases: Array<[string, string]> = [
      [text("fs 0xd skip /"), "plan line 7: `fs` before `namespaces`: the header must be complete before the first rule"],
      [text("namespaces maybe"), "plan line 7: `maybe` is not `auto`, `require` or `never`"],
      [text(ns, "namespaces never"), "plan line 8: `namespaces` given twice"],
      [text("namespaces"), "plan line 7: expected `namespaces VALUE`"],
      [text(`cache-key ${key}`, ns), "plan line 7: `cache-key` before `namespaces`: the header comes first"],
      [text("param workspace", ns), "plan line 7: `param` before `namespaces`: the header comes first"],
      [text(ns, "cache-key ABC"), "plan line 8: `ABC` is not 64 lowercase hex digits"],
      [text(ns, `cache-key ${key.toUpperCase()}`), `plan line 8: \`${key.toUpperCase()}\` is not 64 lowercase hex digits`],
      [text(ns, `cache-key ${key}`, `cache-key ${key}`), "plan line 9: `cache-key` given twice"],
      [text(ns, root, `cache-key ${key}`), "plan line 9: `cache-key` after the first rule"],
      [text(ns, `dep /etc/hostname`), "plan line 8: expected `dep PATH SHA256`"],
      [text(ns, `dep etc/hostname ${key}`), "plan line 8: `etc/hostname` is not an absolute path"],
      [text(ns, `dep /etc/hostname ${key}0`), `plan line 8: \`${key}0\` is not 64 lowercase hex digits`],
      [text(ns, "fs 0xd skip /", `dep /etc/hostname ${key}`), "plan line 9: `dep` after the first rule"],
      [text(ns, "fallback-note a", "fallback-note b"), "plan line 9: `fallback-note` given twice"],
      [text(ns, "fallback-note no\u00e9"), "plan line 8: byte 0xc3 in text `no%C3%A9` must be percent-encoded"],
      [text(ns, "fallback-note a%0"), "plan line 8: `%` not followed by two hex digits in `a%0`"],
      [text(ns, "mount / ro"), "plan line 8: expected `mount PATH rw|ro exec|noexec`"],
      [text(ns, ws), `plan line 8: the first \`mount\` line must be \`mount / ...\`, not \`${t}\``],
      [text(ns, root, "mount / rw exec"), "plan line 9: `mount /` given twice"],
      [text(ns, root, `mount ${t} rx exec`), "plan line 9: `rx` is neither `rw` nor `ro`"],
      [text(ns, root, `mount ${t} ro nox`), "plan line 9: `nox` is neither `exec` nor `noexec`"],
      [text(ns, root, `mount ${t}/a/../b ro exec`), `plan line 9: mount path \`${t}/a/../b\` (here \`${t}/a/../b\`) has an empty, \`.\` or \`..\` component`],
      [text(ns, root, `mount ${t}/ ro exec`), `plan line 9: mount path \`${t}/\` (here \`${t}/\`) has an empty, \`.\` or \`..\` component`],
      [text(ns, root, `mount ${t}/.git ro exec`, ws), `plan line 10: mount path \`${t}\` (here \`${t}\`) is above the earlier mount line 9 (\`${t}/.git\`): mount lines come parents first`],
      [text(ns, root, ws, `fs-children 0x7ff2 skip ${t} !.git`), `plan line 10: \`!.git\`: no \`mount\` line for \`${t}/.git\``],
      [text(ns, root, ws, `mount ${t}/.git rw exec`, `fs-children 0x7ff2 skip ${t} !.git`), "plan line 11: `!.git`: mount line 10 (`rw exec`) does not deny every right of 0x7ff2"],
      [text(ns, root, ws, `mount ${t}/.git ro exec`, `fs-children 0x7ff3 skip ${t} !.git`), "plan line 11: `!.git`: mount line 10 (`ro exec`) does not deny every right of 0x7ff3"],
      [text(ns, root, ws, `mount ${t}/.git ro noexec`, `fs-children 0x7ff6 skip ${t} !.git`), "plan line 11: `!.git`: mount line 10 (`ro noexec`) does not deny every right of 0x7ff6"],
      [text(ns, root, ws, `fs-children 0x7ff2 skip ${t} !`), "plan line 10: an empty except path"],
      [text(ns, root, ...Array.from({ length: 4096 }, (_, i) => `mount ${t}/d${i} ro exec`)), "plan line 4104: more than 4096 `mount` lines"],
    ];
    for (const [plan, message] of cases) {
      const r = runLoader(plan, sh(`echo ran > ${t}/ran`));
      expect({ status: r.status, stderr: r.stderr }, plan.slice(0, 400)).toEqual({ status: 125, stderr: `sbc-loader: ${message}\n` });
    }
    expect(existsSync(join(t, "ran"))).toBe(false);
    // The same shapes, well formed, run: `!` on a line whose mount denies everything, `ro noexec` covering EXECUTE too.
    const ok = text(ns, root, ws, `mount ${t}/.git ro noexec`, `fs 0xd skip /`, `fs-children 0x7ff3 skip ${t} !.git`, `fallback-note a%20note`, "");
    expect(runLoader(ok.replace(`fallback-note a%20note\n\nend`, "end"), sh("echo ran")).stdout).toBe("ran\n");
  });

  it("exits 127 for a command that does not exist and 126 for one that is not executable", () => {
    const t = scratch();
    const notFound = runLoader(fsPlan([]), [join(t, "no-such-command")]);
    expect(notFound).toMatchObject({ status: 127, stderr: `sbc-loader: execvp(${t}/no-such-command): No such file or directory\n` });
    expect(runLoader(fsPlan([]), ["sbc-no-such-command-on-path"]).status).toBe(127);

    writeFileSync(join(t, "script"), "#!/bin/sh\necho ran\n");
    chmodSync(join(t, "script"), 0o644);
    const notExecutable = runLoader(plan({ abi: 0, handledFs: 0 }), [join(t, "script")]);
    expect(notExecutable).toMatchObject({ status: 126, stdout: "" });
  });
});

/** A filter that fails getppid with `errno` on x86_64 and allows everything else. */
function getppidErrnoFilter(errnoValueToReturn: number): Uint8Array {
  return encode([
    insn(BPF_LD | BPF_W | BPF_ABS, OFFSET_ARCH),
    insn(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
    insn(BPF_LD | BPF_W | BPF_ABS, OFFSET_NR),
    insn(BPF_JMP | BPF_JEQ | BPF_K, GETPPID, 0, 1),
    insn(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | errnoValueToReturn),
    insn(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  ]);
}

/** A loopback TCP port with nothing listening: bound by the kernel's choice, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no TCP address"));
      server.close(() => resolve(address.port));
    });
  });
}
