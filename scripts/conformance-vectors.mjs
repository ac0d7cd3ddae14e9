#!/usr/bin/env node
// Print the vectors.tsv of a libseccomp conformance fixture from an upstream `tests/NN-sim-*.tests` file: the
// `bpf-sim` rows, one per sbc arch, in sbc's notation. Used to refresh fixtures/conformance/libseccomp (see
// docs/conformance.md); the policies are translated by hand.
//
//   node scripts/conformance-vectors.mjs FILE.tests --native x86_64,aarch64[,i386] > vectors.tsv
//
// `all`, `all_le`, `all_64` (rows for the native arch of the machine running libseccomp's tests) become one row
// per arch in --native that fits; `+arch` rows keep their arch; `arch` rows (native-only) are kept when the arch
// is in --native. Arches sbc has no plans for (mips*, sh, ppc, ppc64, s390, parisc*, m68k) are dropped, and
// counted in a comment. `N` (no value: libseccomp's simulator passes 0) becomes `-`, `LO-HI` becomes `LO..HI`.

import { readFileSync } from "node:fs";

const ARCH = { x86: "i386", x86_64: "x86_64", x32: "x32", arm: "arm", aarch64: "aarch64", loongarch64: "loongarch64", ppc64le: "ppc64le", riscv64: "riscv64", s390x: "s390x" };
// tests/regression: GLBL_ARCH_LE_SUPPORT and GLBL_ARCH_BE_SUPPORT, mapped to sbc names.
const ALL_LE = ["i386", "x86_64", "x32", "arm", "aarch64", "loongarch64", "ppc64le", "riscv64"];
const ALL_BE = ["s390x"];
const BITS64 = new Set(["x86_64", "aarch64", "loongarch64", "ppc64le", "riscv64", "s390x"]);

const [file, flag, nativeList] = process.argv.slice(2);
if (!file || flag !== "--native" || !nativeList) {
  console.error("usage: conformance-vectors.mjs FILE.tests --native ARCH[,ARCH...]");
  process.exit(2);
}
const native = nativeList.split(",");

function arches(spec) {
  const add = [];
  const avoid = new Set();
  let dropped = 0;
  for (const tok of spec.split(",")) {
    if (tok === "all" || tok === "all_le") add.push(...native);
    else if (tok === "all_64") add.push(...native.filter((a) => BITS64.has(a)));
    else if (tok === "+all_le") add.push(...ALL_LE);
    else if (tok === "+all_be") add.push(...ALL_BE);
    else if (tok.startsWith("-")) avoid.add(ARCH[tok.slice(1)] ?? tok.slice(1));
    else if (tok.startsWith("+")) {
      const a = ARCH[tok.slice(1)];
      if (a) add.push(a);
      else dropped++;
    } else {
      const a = ARCH[tok];
      if (a && native.includes(a)) add.push(a);
      else if (!a) dropped++;
    }
  }
  return { list: [...new Set(add)].filter((a) => !avoid.has(a)), dropped };
}

// libseccomp's harness resolves names with `scmp_sys_resolver -t`: on arches with socketcall/ipc multiplexers a
// socket or System V IPC name becomes the multiplexer (src/syscalls.c, abi_syscall_resolve_name_munge and
// abi_syscall_rewrite), so upstream's `accept 5` on x86 is `socketcall(5)`.
const MULTIPLEXED = new Set(["i386", "ppc64le", "s390x"]);
const SOCKETCALL = new Set("socket bind connect listen accept getsockname getpeername socketpair send recv sendto recvfrom shutdown setsockopt getsockopt sendmsg recvmsg accept4 recvmmsg sendmmsg".split(" "));
const IPC = new Set("semop semget semctl semtimedop msgsnd msgrcv msgget msgctl shmat shmdt shmget shmctl".split(" "));
const resolve = (arch, sys) => (!MULTIPLEXED.has(arch) ? sys : SOCKETCALL.has(sys) ? "socketcall" : IPC.has(sys) ? "ipc" : sys);

const range = (t) => (t === "N" ? "-" : t.replace(/^(-?[0-9a-fA-Fx]+)-([0-9a-fA-Fx]+)$/, "$1..$2"));
function action(r) {
  const m = /^(ERRNO|TRACE)\((\d+)\)$/.exec(r);
  if (m) return `${m[1].toLowerCase()}:${m[2]}`;
  const words = { ALLOW: "allow", KILL: "kill-thread", KILL_PROCESS: "kill-process", TRAP: "trap", LOG: "log" };
  if (!words[r]) throw new Error(`unknown result ${r}`);
  return words[r];
}

const out = [];
let dropped = 0;
let inSim = false;
for (const raw of readFileSync(file, "utf8").split("\n")) {
  const line = raw.trim();
  if (line.startsWith("test type:")) {
    inSim = line === "test type: bpf-sim";
    continue;
  }
  if (!inSim || line === "" || line.startsWith("#")) continue;
  const cols = line.split(/\s+/);
  if (cols.length !== 10) throw new Error(`unexpected row: ${line}`);
  const [, spec, sys, ...rest] = cols;
  const a = arches(spec);
  dropped += a.dropped;
  for (const arch of a.list) out.push([arch, range(resolve(arch, sys)), ...rest.slice(0, 6).map(range), action(rest[6])].join("\t"));
}
console.log("# arch\tsyscall\targ0\targ1\targ2\targ3\targ4\targ5\texpect");
if (dropped) console.log(`# ${dropped} row-arch pair(s) for arches sbc does not plan (mips, sh, ppc, s390, ...) are not translated`);
for (const l of out) console.log(l);
