/* sbc-loader: apply a fully resolved sandbox plan (a Landlock ruleset, a seccomp filter) to this process, then
 * exec a command. `sbc exec` decides everything and resolves every path; the loader only checks that the plan is
 * well formed and hands it to the kernel, refusing rather than weakening it. See native/README.md for the plan
 * format, the exit statuses and the --report lines.
 *
 *   sbc-loader --probe                                 prints `landlock-abi=N errata=0xE seccomp=0|1`
 *   sbc-loader [--report] [--param NAME=PATH]... --plan-fd N -- CMD ARGS...
 *                                                      reads the plan from fd N, applies it, execvp(CMD)
 *   sbc-loader --check [--param NAME=PATH]... --plan-fd N
 *                                                      exits 0 if that plan would be applied here, else 1
 *
 * A plan may leave parameters symbolic (`param` lines, paths that start with `${name}`): their values come from
 * --param, or for the built-ins from this process (workspace and cwd: the working directory; home: $HOME;
 * tmpdir: $TMPDIR or /tmp). The plan states where it assumes each value lies; the loader checks that and
 * refuses to run otherwise, since a table lowered for one placement can be wrong for another.
 *
 * The Landlock structs and constants are our own (Debian 12's <linux/landlock.h> predates ABI 4); their layout
 * is the kernel's uapi include/uapi/linux/landlock.h. */

#define _GNU_SOURCE
#include <dirent.h>
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Landlock's syscalls were added after the syscall tables were unified: the same numbers on every architecture. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

/* Exit statuses, as env(1) uses them: the loader's own failure, a command that cannot run, one that is missing. */
#define EXIT_LOADER 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

/* A plan is a few kilobytes; a seccomp filter at the kernel's 4096-instruction limit is 64 KiB of hex. */
#define MAX_PLAN_BYTES (64u << 20)
/* struct sock_fprog.len is an unsigned short: a longer program cannot be handed to the kernel at all. */
#define MAX_FILTER_INSNS 0xffff

/* ---- Landlock uapi (include/uapi/linux/landlock.h) ---- */

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_CREATE_RULESET_ERRATA (1u << 1)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

#define LL_ACCESS_FS_EXECUTE (1ull << 0)
#define LL_ACCESS_FS_WRITE_FILE (1ull << 1)
#define LL_ACCESS_FS_READ_FILE (1ull << 2)
#define LL_ACCESS_FS_TRUNCATE (1ull << 14)
#define LL_ACCESS_FS_IOCTL_DEV (1ull << 15)
#define LL_ACCESS_FS_RESOLVE_UNIX (1ull << 16)
/* The rights the kernel accepts in a rule on something that is not a directory (security/landlock/fs.c
 * ACCESS_FILE). RESOLVE_UNIX is ABI 9; an older kernel rejects it when the ruleset is created, so listing it
 * here changes nothing there. */
#define LL_ACCESS_FILE                                                                                          \
  (LL_ACCESS_FS_EXECUTE | LL_ACCESS_FS_WRITE_FILE | LL_ACCESS_FS_READ_FILE | LL_ACCESS_FS_TRUNCATE |           \
   LL_ACCESS_FS_IOCTL_DEV | LL_ACCESS_FS_RESOLVE_UNIX)

/* The struct grows one u64 per ABI that added a kind of handled access; the kernel reads only `size` bytes, so
 * passing the prefix a plan needs keeps older kernels happy (copy_struct_from_user semantics). */
struct ll_ruleset_attr {
  uint64_t handled_access_fs; /* ABI 1: 8 bytes */
  uint64_t handled_access_net; /* ABI 4: 16 bytes */
  uint64_t scoped;            /* ABI 6: 24 bytes */
};

struct ll_path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
  uint64_t allowed_access;
  uint64_t port; /* host byte order */
};

_Static_assert(sizeof(struct ll_path_beneath_attr) == 12, "landlock_path_beneath_attr is packed, 12 bytes");
_Static_assert(sizeof(struct ll_net_port_attr) == 16, "landlock_net_port_attr is 16 bytes");

static long ll_create_ruleset(const struct ll_ruleset_attr *attr, size_t size, uint32_t flags) {
  return syscall(__NR_landlock_create_ruleset, attr, size, flags);
}
static long ll_add_rule(int ruleset_fd, int type, const void *attr) {
  return syscall(__NR_landlock_add_rule, ruleset_fd, type, attr, 0);
}
static long ll_restrict_self(int ruleset_fd, uint32_t flags) {
  return syscall(__NR_landlock_restrict_self, ruleset_fd, flags);
}

/* The kernel's Landlock ABI version, or 0 when Landlock is not built in (ENOSYS), disabled at boot
 * (EOPNOTSUPP) or hidden from us (a container's seccomp profile). */
static long landlock_abi(void) {
  long abi = ll_create_ruleset(NULL, 0, LL_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : abi;
}

/* ---- the plan ---- */

enum missing_policy { MISSING_SKIP, MISSING_ERROR };

/* `fs`: a rule on the path; `fs-file`: a rule only if the path is not a directory (an exact rule on a file);
 * `fs-children`: a rule on each entry of the directory that exists now, except the listed relative paths,
 * descending into an entry when an except path goes deeper. */
enum fs_kind { FS_BENEATH, FS_FILE, FS_CHILDREN };

struct fs_rule {
  enum fs_kind kind;
  uint64_t mask;
  enum missing_policy missing;
  const char *encoded; /* the path as the plan spells it: one printable field, used in every message */
  char *path;          /* decoded */
  char **except;       /* fs-children: decoded relative paths */
  int n_except;
};

struct net_rule {
  uint64_t mask;
  uint64_t port;
};

/* A symbolic parameter of the plan: its resolved value, and the anchors it must lie apart from (neither inside
 * nor around), each marked when it may also be equal. */
struct param {
  const char *name;
  char *value;
  char **refs;
  int *may_equal;
  int n_refs;
  unsigned line;
};

#define MAX_PARAMS 64

struct plan {
  struct param params[MAX_PARAMS];
  int n_params;
  long abi;
  uint64_t handled_fs, handled_net, scoped, restrict_flags;
  struct fs_rule *fs;
  size_t n_fs;
  struct net_rule *net;
  size_t n_net;
  struct sock_filter *filter; /* NULL when the plan has no seccomp line */
  unsigned short filter_len;
};

static void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* `--check`: answer only whether the plan would be applied here, by the exit status, without a message. */
static int checking;

static void die(int status, const char *fmt, ...) {
  if (checking) exit(1);
  va_list ap;
  va_start(ap, fmt);
  fputs("sbc-loader: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(status);
}

/* One step of applying the plan failed: name the step and what the kernel said. */
#define fail_step(step_fmt, ...) die(EXIT_LOADER, step_fmt ": %s", __VA_ARGS__, strerror(errno))

#define bad_plan(line, fmt, ...) die(EXIT_LOADER, "plan line %u: " fmt, (line), __VA_ARGS__)

/* User input quoted in a message, kept on one line: bytes outside 0x20-0x7e become `%XX`, and long input is cut.
 * Rotates over a few static buffers, enough for every argument of one message. */
static const char *shown(const char *s) {
  enum { SHOWN_MAX = 96, SHOWN_BUFFERS = 4 };
  static char buffers[SHOWN_BUFFERS][SHOWN_MAX * 3 + 4];
  static int next;
  char *out = buffers[next++ % SHOWN_BUFFERS], *o = out;
  size_t i = 0;
  for (; s[i] && i < SHOWN_MAX; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c <= 0x7e) *o++ = (char)c;
    else o += sprintf(o, "%%%02X", c);
  }
  strcpy(o, s[i] ? "..." : "");
  return out;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) die(EXIT_LOADER, "out of memory");
  return p;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* `0x` and 1 to 16 hex digits. */
static int parse_mask(const char *s, uint64_t *out) {
  if (s[0] != '0' || s[1] != 'x' || s[2] == '\0') return -1;
  size_t n = strlen(s + 2);
  if (n > 16) return -1;
  uint64_t v = 0;
  for (const char *p = s + 2; *p; p++) {
    int d = hex_digit(*p);
    if (d < 0) return -1;
    v = v << 4 | (uint64_t)d;
  }
  *out = v;
  return 0;
}

/* Plain decimal, no sign, no leading zeros (other than `0` itself), at most `max`. */
static int parse_decimal(const char *s, uint64_t max, uint64_t *out) {
  if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) return -1;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (uint64_t)(*p - '0');
    if (v > max) return -1;
  }
  *out = v;
  return 0;
}

/* Percent-decoding of an absolute path. The encoding is strict (every byte outside 0x21-0x7e, and `%`, is
 * `%XX`), so a raw byte outside that range means the plan's writer has a bug; refuse it rather than guess. */
static char *decode_literal(const char *s, unsigned line);
static const struct plan *current_plan;

static const struct param *find_param(const struct plan *plan, const char *name, size_t len) {
  for (int i = 0; i < plan->n_params; i++)
    if (strlen(plan->params[i].name) == len && strncmp(plan->params[i].name, name, len) == 0) return &plan->params[i];
  return NULL;
}

/* A path field: percent-encoded and absolute, or `${name}` (+ `/rest`) for a parameter the plan declared. */
static char *decode_path(const char *s, unsigned line) {
  if (s[0] != '$') return decode_literal(s, line);
  const char *close = strchr(s, '}');
  if (s[1] != '{' || !close || (close[1] != '\0' && close[1] != '/'))
    bad_plan(line, "`%s` is neither an absolute path nor `${name}/...`", shown(s));
  const struct param *p = current_plan ? find_param(current_plan, s + 2, (size_t)(close - s - 2)) : NULL;
  if (!p) bad_plan(line, "`%s` names a parameter that no `param` line declares", shown(s));
  if (close[1] == '\0') {
    char *v = xcalloc(strlen(p->value) + 1, 1);
    strcpy(v, p->value);
    return v;
  }
  char *rest = decode_literal(close + 1, line);
  char *out = xcalloc(strlen(p->value) + strlen(rest) + 1, 1);
  sprintf(out, "%s%s", p->value, rest);
  free(rest);
  return out;
}

static char *decode_literal(const char *s, unsigned line) {
  char *out = xcalloc(strlen(s) + 1, 1), *o = out;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x21 || c > 0x7e) bad_plan(line, "byte 0x%02x in path `%s` must be percent-encoded", c, shown(s));
    if (c != '%') {
      *o++ = (char)c;
      continue;
    }
    int hi = hex_digit(p[1]), lo = hi < 0 ? -1 : hex_digit(p[2]);
    if (hi < 0 || lo < 0) bad_plan(line, "`%%` not followed by two hex digits in `%s`", shown(s));
    if (hi == 0 && lo == 0) bad_plan(line, "`%%00` in `%s`: a path cannot contain NUL", shown(s));
    *o++ = (char)(hi << 4 | lo);
    p += 2;
  }
  *o = '\0';
  if (out[0] != '/') bad_plan(line, "`%s` is not an absolute path", shown(s));
  return out;
}

/* An except path of `fs-children`: percent-decoded like a path, but relative, with no empty, `.` or `..`
 * component, since it names entries beneath the rule's directory. */
static char *decode_relative(const char *s, unsigned line) {
  size_t n = strlen(s);
  char *prefixed = xcalloc(n + 2, 1);
  prefixed[0] = '/';
  memcpy(prefixed + 1, s, n);
  char *abs = decode_path(prefixed, line);
  free(prefixed);
  char *rel = abs + 1;
  if (rel[0] == '\0') bad_plan(line, "%s", "an empty except path");
  for (char *c = rel; c;) {
    char *slash = strchr(c, '/');
    size_t len = slash ? (size_t)(slash - c) : strlen(c);
    if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
      bad_plan(line, "except path `%s` must be relative, without empty, `.` or `..` components", shown(s));
    c = slash ? slash + 1 : NULL;
  }
  return rel;
}

/* An except path written from a parameter (`${name}/rest`): substituted, then made relative to the rule's
 * directory, which it must lie strictly beneath. */
static char *decode_param_except(const char *s, const char *dir, unsigned line) {
  char *abs = decode_path(s, line);
  size_t n = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
  if (strncmp(abs, dir, n) != 0 || abs[n] != '/' || abs[n + 1] == '\0')
    bad_plan(line, "except path `%s` (here `%s`) is not beneath `%s`", shown(s), shown(abs), shown(dir));
  return abs + n + 1;
}

/* Raw little-endian `struct sock_filter` records in hex (u16 code, u8 jt, u8 jf, u32 k), as encode() in
 * targets/seccomp/bpf.ts produces them; decoded field by field so the format does not depend on the host. */
static void parse_filter(const char *hex, unsigned line, struct plan *plan) {
  size_t n = strlen(hex);
  if (n == 0 || n % 16 != 0)
    bad_plan(line, "the seccomp filter is %zu hex digits, not a whole number of 8-byte instructions", n);
  size_t count = n / 16;
  if (count > MAX_FILTER_INSNS)
    bad_plan(line, "the seccomp filter has %zu instructions, more than %d", count, MAX_FILTER_INSNS);
  struct sock_filter *insns = xcalloc(count, sizeof *insns);
  for (size_t i = 0; i < count; i++) {
    unsigned char b[8];
    for (int j = 0; j < 8; j++) {
      int hi = hex_digit(hex[i * 16 + j * 2]), lo = hex_digit(hex[i * 16 + j * 2 + 1]);
      if (hi < 0 || lo < 0) bad_plan(line, "the seccomp filter is not hex (instruction %zu)", i);
      b[j] = (unsigned char)(hi << 4 | lo);
    }
    insns[i].code = (uint16_t)(b[0] | b[1] << 8);
    insns[i].jt = b[2];
    insns[i].jf = b[3];
    insns[i].k = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
  }
  plan->filter = insns;
  plan->filter_len = (unsigned short)count;
}

#define MAX_FIELDS 1024 /* `fs-children MASK MISSING PATH EXCEPT...`, `param NAME ANCHOR...` */

/* Splits `line` in place at single spaces. Returns the field count, or -1 on an empty field (a leading,
 * trailing or doubled space) or more than MAX_FIELDS fields. */
static int split_fields(char *line, char **fields) {
  int n = 0;
  for (char *p = line;;) {
    if (n == MAX_FIELDS) return -1;
    fields[n++] = p;
    char *space = strchr(p, ' ');
    if (!space) break;
    *space = '\0';
    p = space + 1;
  }
  for (int i = 0; i < n; i++)
    if (fields[i][0] == '\0') return -1;
  return n;
}

/* ---- symbolic parameters ---- */

static const char **cli_param_names, **cli_param_values;
static int n_cli_params;

static int valid_param_name(const char *s) {
  if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) return 0;
  for (s++; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

/* An absolute path without empty, `.` or `..` components (a trailing slash is dropped), resolved through
 * symlinks when it exists: rules bind inodes, so the placement check must compare where paths really lead. */
static char *canonical_value(const char *name, const char *v, unsigned line) {
  if (v[0] != '/') bad_plan(line, "parameter `%s` = `%s` is not an absolute path", name, shown(v));
  size_t n = strlen(v);
  while (n > 1 && v[n - 1] == '/') n--;
  char *copy = xcalloc(n + 1, 1);
  memcpy(copy, v, n);
  for (char *c = copy + 1; c && *c;) {
    char *slash = strchr(c, '/');
    size_t len = slash ? (size_t)(slash - c) : strlen(c);
    if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
      bad_plan(line, "parameter `%s` = `%s` has an empty, `.` or `..` component", name, shown(v));
    c = slash ? slash + 1 : NULL;
  }
  char *real = realpath(copy, NULL);
  if (real) {
    free(copy);
    return real;
  }
  return copy;
}

/* The value of a parameter the plan declares: --param, else the built-ins from this process. */
static char *resolve_param(const char *name, unsigned line) {
  const char *v = NULL;
  for (int i = 0; i < n_cli_params; i++)
    if (strcmp(cli_param_names[i], name) == 0) v = cli_param_values[i];
  char cwd[PATH_MAX];
  if (!v && (strcmp(name, "workspace") == 0 || strcmp(name, "cwd") == 0)) {
    if (!getcwd(cwd, sizeof cwd)) fail_step("%s", "getcwd");
    v = cwd;
  }
  if (!v && strcmp(name, "home") == 0) {
    v = getenv("HOME");
    if (!v || v[0] != '/') {
      struct passwd *pw = getpwuid(getuid());
      v = pw ? pw->pw_dir : NULL;
    }
  }
  if (!v && strcmp(name, "tmpdir") == 0) {
    const char *const vars[] = {"TMPDIR", "TMP", "TEMP"};
    for (int i = 0; i < 3 && !v; i++)
      if (getenv(vars[i]) && getenv(vars[i])[0] == '/') v = getenv(vars[i]);
    if (!v) v = "/tmp";
  }
  if (!v) bad_plan(line, "parameter `%s` has no value: pass --param %s=PATH", name, name);
  char *value = canonical_value(name, v, line);
  if (strcmp(value, "/") == 0)
    bad_plan(line, "parameter `%s` is `/`: the plan was compiled for a value apart from its other paths; compile it with --param %s=/", name, name);
  return value;
}

/* Is `a` equal to `b` or beneath it? */
static int path_within(const char *a, const char *b) {
  size_t n = strlen(b);
  return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

/* The plan's placement of each parameter: apart from each anchor (neither inside nor around it), or also
 * equal where the plan marks it `=`. A table lowered for that placement can be wider than the policy for
 * another one, so anything else is refused before a rule is added. */
static void check_placement(const struct plan *plan) {
  for (int i = 0; i < plan->n_params; i++) {
    const struct param *p = &plan->params[i];
    for (int j = 0; j < p->n_refs; j++) {
      char *anchor = decode_path(p->refs[j], p->line);
      char *real = realpath(anchor, NULL);
      const char *at = real ? real : anchor;
      int same = strcmp(p->value, at) == 0;
      if ((same && !p->may_equal[j]) || (!same && (path_within(p->value, at) || path_within(at, p->value)))) {
        /* The hint binds every parameter, so the recompiled plan has nothing left to assume. */
        char hint[4096] = "";
        for (int k = 0; k < plan->n_params; k++) {
          size_t used = strlen(hint);
          snprintf(hint + used, sizeof hint - used, " --param %s=%s", plan->params[k].name, shown(plan->params[k].value));
        }
        die(EXIT_LOADER,
            "plan line %u: the plan assumes ${%s} (here `%s`) is neither inside nor around `%s`%s (here `%s`); compile the "
            "plan for these values: sbc compile -t linux%s",
            p->line, p->name, shown(p->value), shown(p->refs[j]), p->may_equal[j] ? " unless equal to it" : "", shown(at), hint);
      }
      free(real);
      free(anchor);
    }
  }
}

enum header_field { H_ABI, H_HANDLED_FS, H_HANDLED_NET, H_SCOPED, H_RESTRICT_FLAGS, H_COUNT };
static const char *const HEADER_NAMES[H_COUNT] = {"abi", "handled-fs", "handled-net", "scoped", "restrict-flags"};

/* Parses and checks the whole plan before anything is applied, so a malformed plan changes nothing. */
static void parse_plan(char *text, size_t size, struct plan *plan) {
  if (memchr(text, '\0', size)) die(EXIT_LOADER, "the plan contains a NUL byte");
  current_plan = plan;
  /* Upper bounds for the rule arrays: one rule per line at most. */
  size_t lines_max = 1;
  for (size_t i = 0; i < size; i++) lines_max += text[i] == '\n';
  plan->fs = xcalloc(lines_max, sizeof *plan->fs);
  plan->net = xcalloc(lines_max, sizeof *plan->net);

  int seen[H_COUNT] = {0}; /* the line of each header directive, 0 until seen */
  int ended = 0, rules_started = 0;
  unsigned line = 0;
  char *cursor = text, *end_of_text = text + size;
  while (cursor < end_of_text) {
    char *nl = memchr(cursor, '\n', (size_t)(end_of_text - cursor));
    if (!nl) nl = end_of_text; /* a last line without its newline is accepted */
    *nl = '\0';
    char *raw = cursor;
    cursor = nl + 1;
    line++;

    if (ended) bad_plan(line, "%s", "text after `end`");
    if (line == 1) {
      if (strcmp(raw, "sbc-loader-plan 1") != 0) bad_plan(line, "%s", "expected `sbc-loader-plan 1`");
      continue;
    }
    if (raw[0] == '\0') bad_plan(line, "%s", "an empty line");
    char *f[MAX_FIELDS];
    int nf = split_fields(raw, f);
    if (nf < 0) bad_plan(line, "%s", "fields must be separated by single spaces");
    const char *d = f[0];

    int header = -1;
    for (int h = 0; h < H_COUNT; h++)
      if (strcmp(d, HEADER_NAMES[h]) == 0) header = h;
    if (header >= 0) {
      if (nf != 2) bad_plan(line, "expected `%s VALUE`", d);
      if (seen[header]) bad_plan(line, "`%s` given twice", d);
      if (rules_started) bad_plan(line, "`%s` after the first rule", d);
      seen[header] = (int)line;
      uint64_t v;
      if (header == H_ABI) {
        if (parse_decimal(f[1], 1000, &v) != 0) bad_plan(line, "`%s` is not an ABI version", shown(f[1]));
        plan->abi = (long)v;
        continue;
      }
      if (parse_mask(f[1], &v) != 0) bad_plan(line, "`%s` is not a 0x hex mask", shown(f[1]));
      if (header == H_HANDLED_FS) plan->handled_fs = v;
      else if (header == H_HANDLED_NET) plan->handled_net = v;
      else if (header == H_SCOPED) plan->scoped = v;
      else if (header == H_RESTRICT_FLAGS) {
        if (v > UINT32_MAX) bad_plan(line, "restrict-flags `%s` does not fit in 32 bits", f[1]);
        plan->restrict_flags = v;
      }
      continue;
    }

    if (strcmp(d, "end") == 0) {
      if (nf != 1) bad_plan(line, "%s", "expected `end`");
      ended = 1;
      continue;
    }
    if (strcmp(d, "param") == 0) {
      if (nf < 2) bad_plan(line, "%s", "expected `param NAME [ANCHOR...]`");
      if (rules_started) bad_plan(line, "%s", "`param` after the first rule");
      if (!valid_param_name(f[1])) bad_plan(line, "`%s` is not a parameter name", shown(f[1]));
      if (find_param(plan, f[1], strlen(f[1]))) bad_plan(line, "parameter `%s` declared twice", f[1]);
      if (plan->n_params == MAX_PARAMS) bad_plan(line, "more than %d parameters", MAX_PARAMS);
      struct param *p = &plan->params[plan->n_params];
      p->name = f[1];
      p->line = line;
      p->n_refs = nf - 2;
      p->refs = xcalloc((size_t)p->n_refs + 1, sizeof *p->refs);
      p->may_equal = xcalloc((size_t)p->n_refs + 1, sizeof *p->may_equal);
      for (int j = 0; j < p->n_refs; j++) {
        p->may_equal[j] = f[2 + j][0] == '=';
        p->refs[j] = f[2 + j] + p->may_equal[j];
      }
      p->value = resolve_param(p->name, line);
      plan->n_params++;
      continue;
    }
    int is_fs = strcmp(d, "fs") == 0 || strcmp(d, "fs-file") == 0 || strcmp(d, "fs-children") == 0;
    int is_rule = is_fs || strcmp(d, "net") == 0 || strcmp(d, "seccomp") == 0;
    if (!is_rule) bad_plan(line, "unknown directive `%s`", shown(d));
    if (!rules_started) {
      for (int h = 0; h < H_COUNT; h++)
        if (!seen[h])
          bad_plan(line, "`%s` before `%s`: the header must be complete before the first rule", d, HEADER_NAMES[h]);
      rules_started = 1;
    }

    if (is_fs) {
      struct fs_rule *r = &plan->fs[plan->n_fs];
      r->kind = strcmp(d, "fs") == 0 ? FS_BENEATH : strcmp(d, "fs-file") == 0 ? FS_FILE : FS_CHILDREN;
      if (r->kind != FS_CHILDREN && nf != 4) bad_plan(line, "expected `%s MASK skip|error PATH`", d);
      if (r->kind == FS_CHILDREN && nf < 5) bad_plan(line, "%s", "expected `fs-children MASK skip|error PATH EXCEPT...`");
      if (parse_mask(f[1], &r->mask) != 0) bad_plan(line, "`%s` is not a 0x hex mask", shown(f[1]));
      if (r->mask == 0) bad_plan(line, "%s", "an fs rule with an empty mask");
      if (r->mask & ~plan->handled_fs)
        bad_plan(line, "mask %s has rights outside handled-fs 0x%llx", f[1], (unsigned long long)plan->handled_fs);
      if (strcmp(f[2], "skip") == 0) r->missing = MISSING_SKIP;
      else if (strcmp(f[2], "error") == 0) r->missing = MISSING_ERROR;
      else bad_plan(line, "`%s` is neither `skip` nor `error`", shown(f[2]));
      r->path = decode_path(f[3], line);
      r->encoded = f[3];
      if (r->kind == FS_CHILDREN) {
        r->n_except = nf - 4;
        r->except = xcalloc((size_t)r->n_except, sizeof *r->except);
        for (int i = 0; i < r->n_except; i++)
          r->except[i] = f[4 + i][0] == '$' ? decode_param_except(f[4 + i], r->path, line) : decode_relative(f[4 + i], line);
      }
      plan->n_fs++;
    } else if (strcmp(d, "net") == 0) {
      if (nf != 3) bad_plan(line, "%s", "expected `net MASK PORT`");
      struct net_rule *r = &plan->net[plan->n_net];
      if (parse_mask(f[1], &r->mask) != 0) bad_plan(line, "`%s` is not a 0x hex mask", shown(f[1]));
      if (r->mask == 0) bad_plan(line, "%s", "a net rule with an empty mask");
      if (r->mask & ~plan->handled_net)
        bad_plan(line, "mask %s has rights outside handled-net 0x%llx", f[1], (unsigned long long)plan->handled_net);
      if (parse_decimal(f[2], 65535, &r->port) != 0) bad_plan(line, "`%s` is not a port (0-65535)", shown(f[2]));
      plan->n_net++;
    } else {
      if (nf != 2) bad_plan(line, "%s", "expected `seccomp HEX`");
      if (plan->filter) bad_plan(line, "%s", "a second `seccomp` line");
      parse_filter(f[1], line, plan);
    }
  }
  if (line == 0) die(EXIT_LOADER, "the plan is empty");
  if (!ended) bad_plan(line + 1, "%s", "the plan ends without `end`");
  for (int h = 0; h < H_COUNT; h++)
    if (!seen[h]) bad_plan(line, "the plan has no `%s`", HEADER_NAMES[h]);
  int handles = (plan->handled_fs | plan->handled_net | plan->scoped) != 0;
  if (plan->abi == 0 && handles)
    bad_plan((unsigned)seen[H_ABI], "%s", "`abi 0` (no Landlock) with handled rights or scopes");
  if (!handles && plan->restrict_flags != 0)
    bad_plan((unsigned)seen[H_RESTRICT_FLAGS], "%s", "restrict-flags without a ruleset (nothing is handled)");
  check_placement(plan);
}

static char *read_plan(int fd, size_t *size) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) die(EXIT_LOADER, "out of memory");
  for (;;) {
    if (n == cap) {
      if (cap >= MAX_PLAN_BYTES) die(EXIT_LOADER, "the plan is larger than %u bytes", MAX_PLAN_BYTES);
      cap *= 2;
      char *bigger = realloc(buf, cap);
      if (!bigger) die(EXIT_LOADER, "out of memory");
      buf = bigger;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail_step("read(plan fd %d)", fd);
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  *size = n;
  return buf;
}

/* ---- applying it ---- */

static int report;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  if (!report) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* Opens the rule's path (following symlinks: a rule binds the inode it resolves to) and adds the rule, masked
 * to the file rights when the inode is not a directory. A missing path is skipped or fatal as the plan says. */
static void add_fs_rule(int ruleset, const struct fs_rule *r) {
  int fd = open(r->path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    int missing = errno == ENOENT || errno == ENOTDIR || errno == ELOOP;
    if (missing && r->missing == MISSING_SKIP) {
      say("skipped fs %s: %s", r->encoded, strerror(errno));
      return;
    }
    fail_step("open(%s)", r->encoded);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) fail_step("fstat(%s)", r->encoded);
  int is_dir = S_ISDIR(st.st_mode);
  uint64_t mask = is_dir ? r->mask : r->mask & LL_ACCESS_FILE;
  if (mask == 0) {
    say("skipped fs %s: not a directory, and 0x%llx has no file rights", r->encoded, (unsigned long long)r->mask);
    close(fd);
    return;
  }
  struct ll_path_beneath_attr attr = {.allowed_access = mask, .parent_fd = fd};
  if (ll_add_rule(ruleset, LL_RULE_PATH_BENEATH, &attr) != 0) fail_step("landlock_add_rule(%s)", r->encoded);
  close(fd);
  say("applied fs 0x%llx/0x%llx %s %s", (unsigned long long)r->mask, (unsigned long long)mask, is_dir ? "DIR" : "FILE",
      r->encoded);
}

/* Adds a rule on `path` (an entry found while expanding): the same as an `fs` line that skips when missing. */
static void add_entry_rule(int ruleset, uint64_t mask, char *path) {
  struct fs_rule r = {.kind = FS_BENEATH, .mask = mask, .missing = MISSING_SKIP, .encoded = path, .path = path};
  add_fs_rule(ruleset, &r);
}

/* `fs-children`: a rule on each entry of `dir` except the carved ones. `except` holds the remaining relative
 * paths; an entry that an except path names exactly is left out, one that an except path goes through is
 * descended into (a file there has nothing beneath it to carve, so it gets its rule). Entries created after
 * this point get nothing from this directive: that is the documented cost of a carve-out. */
static void expand_children(int ruleset, uint64_t mask, const char *dir, char **except, int n_except) {
  DIR *d = opendir(dir);
  if (!d) fail_step("opendir(%s)", dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *name = e->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    size_t nlen = strlen(name);
    int carved = 0, n_deeper = 0;
    char **deeper = xcalloc((size_t)n_except + 1, sizeof *deeper);
    for (int i = 0; i < n_except; i++) {
      const char *x = except[i];
      if (strncmp(x, name, nlen) != 0) continue;
      if (x[nlen] == '\0') carved = 1;
      else if (x[nlen] == '/') deeper[n_deeper++] = (char *)x + nlen + 1;
    }
    size_t dlen = strlen(dir);
    char *child = xcalloc(dlen + nlen + 2, 1);
    snprintf(child, dlen + nlen + 2, "%s%s%s", dir, dir[dlen - 1] == '/' ? "" : "/", name);
    if (carved) {
      say("carved out %s", child);
    } else if (n_deeper > 0) {
      struct stat st;
      if (stat(child, &st) == 0 && S_ISDIR(st.st_mode)) expand_children(ruleset, mask, child, deeper, n_deeper);
      else add_entry_rule(ruleset, mask, child);
    } else {
      add_entry_rule(ruleset, mask, child);
    }
    free(deeper);
  }
  closedir(d);
}

/* Creates the ruleset and adds every rule; -1 when the plan handles nothing (no ruleset at all). */
static int build_ruleset(const struct plan *plan) {
  if (plan->abi > 0) {
    long have = landlock_abi();
    if (have < plan->abi) die(EXIT_LOADER, "the plan needs Landlock ABI %ld, this kernel has %ld", plan->abi, have);
  }
  if ((plan->handled_fs | plan->handled_net | plan->scoped) == 0) return -1;
  struct ll_ruleset_attr attr = {
      .handled_access_fs = plan->handled_fs, .handled_access_net = plan->handled_net, .scoped = plan->scoped};
  size_t size = plan->scoped ? 24 : plan->handled_net ? 16 : 8;
  int ruleset = (int)ll_create_ruleset(&attr, size, 0);
  if (ruleset < 0) fail_step("landlock_create_ruleset(size %zu)", size);

  for (size_t i = 0; i < plan->n_fs; i++) {
    const struct fs_rule *r = &plan->fs[i];
    if (r->kind == FS_BENEATH) {
      add_fs_rule(ruleset, r);
      continue;
    }
    struct stat st;
    if (stat(r->path, &st) != 0) {
      int missing = errno == ENOENT || errno == ENOTDIR || errno == ELOOP;
      if (missing && r->missing == MISSING_SKIP) {
        say("skipped %s %s: %s", r->kind == FS_FILE ? "fs-file" : "fs-children", r->encoded, strerror(errno));
        continue;
      }
      fail_step("stat(%s)", r->encoded);
    }
    if (r->kind == FS_FILE) {
      if (S_ISDIR(st.st_mode)) say("skipped fs-file %s: a directory (an exact rule cannot cover one)", r->encoded);
      else add_fs_rule(ruleset, r);
    } else if (!S_ISDIR(st.st_mode)) {
      say("skipped fs-children %s: not a directory", r->encoded);
    } else {
      say("expanding %s entry by entry", r->encoded);
      expand_children(ruleset, r->mask, r->path, r->except, r->n_except);
    }
  }
  for (size_t i = 0; i < plan->n_net; i++) {
    const struct net_rule *r = &plan->net[i];
    struct ll_net_port_attr na = {.allowed_access = r->mask, .port = r->port};
    if (ll_add_rule(ruleset, LL_RULE_NET_PORT, &na) != 0)
      fail_step("landlock_add_rule(port %llu)", (unsigned long long)r->port);
    say("applied net 0x%llx %llu", (unsigned long long)r->mask, (unsigned long long)r->port);
  }
  return ruleset;
}

static void restrict_self(const struct plan *plan, int ruleset) {
  if (ll_restrict_self(ruleset, (uint32_t)plan->restrict_flags) != 0)
    fail_step("landlock_restrict_self(flags 0x%llx)", (unsigned long long)plan->restrict_flags);
  close(ruleset);
  say("landlock abi=%ld handled-fs=0x%llx handled-net=0x%llx scoped=0x%llx restrict-flags=0x%llx", plan->abi,
      (unsigned long long)plan->handled_fs, (unsigned long long)plan->handled_net, (unsigned long long)plan->scoped,
      (unsigned long long)plan->restrict_flags);
}

static int install_filter(const struct sock_fprog *prog) {
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) == 0) return 0;
  if (errno != ENOSYS) return -1;
  /* Kernels before 3.17 have no seccomp(2); the prctl form installs the same filter. */
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0);
}

/* Whether seccomp filters can be installed: with a NULL program the kernel fails with EFAULT after it has
 * accepted the mode, and with EINVAL (or ENOSYS) when filter mode is not there. */
static int seccomp_available(void) {
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL) != 0 && errno == ENOSYS)
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0);
  return errno == EFAULT;
}

static int probe(void) {
  long abi = landlock_abi();
  long errata = abi > 0 ? ll_create_ruleset(NULL, 0, LL_CREATE_RULESET_ERRATA) : 0;
  /* Kernels older than the errata flag reject it with EINVAL: no erratum is known fixed there. */
  if (errata < 0) errata = 0;
  printf("landlock-abi=%ld errata=0x%lx seccomp=%d\n", abi, (unsigned long)errata, seccomp_available());
  return fflush(stdout) == 0 ? 0 : EXIT_LOADER;
}

static void usage(void) __attribute__((noreturn));
static void usage(void) {
  die(EXIT_LOADER, "usage: `sbc-loader --probe`, `sbc-loader --check [--param NAME=PATH]... --plan-fd N` or `sbc-loader [--report] [--param NAME=PATH]... --plan-fd N -- CMD [ARGS...]`");
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) return probe();

  int plan_fd = -1, i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--report") == 0) {
      report = 1;
    } else if (strcmp(argv[i], "--check") == 0) {
      checking = 1;
    } else if (strcmp(argv[i], "--param") == 0 && i + 1 < argc) {
      const char *kv = argv[++i], *eq = strchr(kv, '=');
      if (!eq || eq == kv) die(EXIT_LOADER, "--param `%s`: expected NAME=PATH", shown(kv));
      char *name = xcalloc((size_t)(eq - kv) + 1, 1);
      memcpy(name, kv, (size_t)(eq - kv));
      if (!valid_param_name(name)) die(EXIT_LOADER, "--param `%s`: `%s` is not a parameter name", shown(kv), shown(name));
      cli_param_names = realloc(cli_param_names, (size_t)(n_cli_params + 1) * sizeof *cli_param_names);
      cli_param_values = realloc(cli_param_values, (size_t)(n_cli_params + 1) * sizeof *cli_param_values);
      if (!cli_param_names || !cli_param_values) die(EXIT_LOADER, "out of memory");
      cli_param_names[n_cli_params] = name;
      cli_param_values[n_cli_params++] = eq + 1;
    } else if (strcmp(argv[i], "--plan-fd") == 0 && i + 1 < argc) {
      uint64_t v;
      if (parse_decimal(argv[++i], INT_MAX, &v) != 0)
        die(EXIT_LOADER, "--plan-fd `%s` is not a file descriptor", shown(argv[i]));
      plan_fd = (int)v;
    } else {
      usage();
    }
  }
  if (checking) {
    /* Everything the real run checks before its first rule: the plan, the parameters and their placement,
     * the kernel's Landlock ABI and seccomp. Exit 0 when it would go ahead, 1 (silently) otherwise. */
    if (plan_fd <= 2 || i != argc) exit(1);
    size_t size;
    char *text = read_plan(plan_fd, &size);
    struct plan plan = {0};
    parse_plan(text, size, &plan);
    if (plan.abi > 0 && landlock_abi() < plan.abi) exit(1);
    if (plan.filter && !seccomp_available()) exit(1);
    return 0;
  }
  if (plan_fd < 0 || i + 1 >= argc) usage();
  if (plan_fd <= 2) die(EXIT_LOADER, "--plan-fd %d: stdin, stdout and stderr belong to the command", plan_fd);
  char **command = &argv[i + 1];

  size_t size;
  char *text = read_plan(plan_fd, &size);
  struct plan plan = {0};
  parse_plan(text, size, &plan);
  for (int k = 0; k < plan.n_params; k++) say("param %s=%s", plan.params[k].name, plan.params[k].value);

  int ruleset = build_ruleset(&plan);
  /* Without CAP_SYS_ADMIN the kernel requires no_new_privs for both; we set it even with the capability, so the
   * sandbox cannot be left through a set-user-ID program. A plan that restricts nothing leaves it alone. */
  if ((ruleset >= 0 || plan.filter) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    fail_step("%s", "prctl(PR_SET_NO_NEW_PRIVS)");
  if (ruleset >= 0) restrict_self(&plan, ruleset);
  else say("landlock none");

  if (plan.filter) {
    /* Reported before installing: the filter may deny write(2). */
    say("seccomp %u instructions", (unsigned)plan.filter_len);
    fflush(stderr);
    struct sock_fprog prog = {.len = plan.filter_len, .filter = plan.filter};
    if (install_filter(&prog) != 0) fail_step("%s", "seccomp(SECCOMP_SET_MODE_FILTER)");
  } else {
    say("seccomp none");
  }

  execvp(command[0], command);
  int err = errno;
  die(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, "execvp(%s): %s", shown(command[0]), strerror(err));
}
