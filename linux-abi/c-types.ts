// How many bits of a register the kernel keeps for a syscall parameter of a given C type, on a 64-bit kernel.
// The SYSCALL_DEFINE wrapper (include/linux/syscalls.h) receives every argument as a `long` (`__SC_LONG`) and
// passes it on as `(__force t) a` (`__SC_CAST`): a C conversion to the declared type, which keeps the low
// 32 bits for an `int`, the low 16 for `umode_t` (an `unsigned short`), and everything for a `long` or a pointer.
// Used by the generator of arg-widths.generated.ts, which fails on a type missing here.

export type ArgBits = 8 | 16 | 32 | 64;

/** Scalar types (after `const`/`volatile` are dropped) and their width on every 64-bit Linux ABI. */
const SCALAR_BITS: Readonly<Record<string, ArgBits>> = {
  // C's own
  char: 8,
  "unsigned char": 8,
  "signed char": 8,
  short: 16,
  "unsigned short": 16,
  int: 32,
  "signed int": 32,
  unsigned: 32,
  "unsigned int": 32,
  long: 64,
  "unsigned long": 64,
  "long long": 64,
  "unsigned long long": 64,
  // fixed-width kernel types
  u8: 8,
  u16: 16,
  u32: 32,
  __u32: 32,
  __s32: 32,
  uint32_t: 32,
  u64: 64,
  __u64: 64,
  s64: 64,
  // typedefs of int / unsigned int (include/uapi/asm-generic/posix_types.h, include/linux/types.h)
  pid_t: 32,
  uid_t: 32,
  gid_t: 32,
  qid_t: 32, // __kernel_uid32_t
  clockid_t: 32,
  timer_t: 32,
  key_t: 32,
  key_serial_t: 32, // int32_t
  mqd_t: 32,
  rwf_t: 32, // __kernel_rwf_t is int
  // unsigned short typedefs
  umode_t: 16,
  old_uid_t: 16, // __kernel_old_uid_t on x86 and arm (only their 16-bit uid calls take it)
  old_gid_t: 16,
  // long-sized typedefs
  size_t: 64,
  off_t: 64,
  loff_t: 64, // long long
  aio_context_t: 64, // __kernel_ulong_t
  uintptr_t: 64,
  old_sigset_t: 64, // unsigned long
  // pointer typedefs
  cap_user_header_t: 64,
  cap_user_data_t: 64,
  __sighandler_t: 64,
};

/** Types that are 64-bit even where `long` is 32-bit: on a 32-bit ABI they take two registers. */
const LONG_LONG = new Set(["long long", "unsigned long long", "u64", "__u64", "s64", "loff_t"]);

export interface CParam {
  /** The whole declaration, whitespace normalized (`const char __user *filename`). */
  readonly decl: string;
  /** The declared type, as written (`unsigned int`, `const char __user *`). */
  readonly type: string;
  /** The parameter name, or "" when the prototype leaves it out (`sys_socket(int, int, int)`). */
  readonly name: string;
  readonly bits: ArgBits;
  /** A `long long`-sized scalar: split over two registers on a 32-bit ABI. */
  readonly split: boolean;
}

const QUALIFIERS = new Set(["const", "volatile", "__user", "__force"]);
const TYPE_WORDS = new Set(["unsigned", "signed", "int", "long", "short", "char"]);

/** One parameter declaration of a prototype (`unsigned int fd`, `struct iocb __user * __user *`, `int`). */
export function parseCParam(decl: string): CParam | string {
  const d = decl.trim().replace(/\s+/g, " ");
  if (d.includes("*")) {
    const after = d.slice(d.lastIndexOf("*") + 1).trim();
    const name = /^[A-Za-z_]\w*$/.test(after) ? after : "";
    const type = name ? d.slice(0, d.length - name.length).trim() : d;
    return { decl: d, type, name, bits: 64, split: false };
  }
  const words = d.split(" ");
  const bare = (ws: readonly string[]) => ws.filter((w) => !QUALIFIERS.has(w)).join(" ");
  const known = (t: string) => t.startsWith("enum ") || Object.hasOwn(SCALAR_BITS, t);
  let type = d;
  let name = "";
  const last = words[words.length - 1]!;
  if (words.length > 1 && !TYPE_WORDS.has(last) && known(bare(words.slice(0, -1)))) {
    name = last;
    type = words.slice(0, -1).join(" ");
  }
  const t = bare(type.split(" "));
  if (t.startsWith("enum ")) return { decl: d, type, name, bits: 32, split: false }; // enums with small values are ints
  if (!Object.hasOwn(SCALAR_BITS, t)) return `unknown C type \`${t}\` in \`${d}\``;
  return { decl: d, type, name, bits: SCALAR_BITS[t]!, split: LONG_LONG.has(t) };
}

/** A whole parameter list: `void` for none. */
export function parseCParams(list: string): CParam[] | string {
  if (list.trim() === "void") return [];
  const out: CParam[] = [];
  for (const decl of list.split(",")) {
    const p = parseCParam(decl);
    if (typeof p === "string") return p;
    out.push(p);
  }
  return out;
}
