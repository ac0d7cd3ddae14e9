/* Reading and checking a plan (format 2). The whole plan is parsed and checked before anything is applied, so
 * a malformed plan changes nothing; every error names its line. Parameters are bound here (--param, else the
 * built-ins of this process) and their placement checked; `dep` files are hashed by check_deps. */

#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Landlock rights a read-only mount denies (write, truncate, make, remove, refer) and the one `noexec` denies:
 * an except entry may be `!` (mount-enforced) only when its mount line denies every right of the line's mask. */
#define RIGHTS_DENIED_BY_RO 0x7ff2ull
#define RIGHT_EXECUTE 0x1ull

const char **cli_param_names, **cli_param_values;
int n_cli_params;

static const struct plan *current_plan;

int valid_param_name(const char *s) {
  if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) return 0;
  for (s++; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

static const struct param *find_param(const struct plan *plan, const char *name, size_t len) {
  for (int i = 0; i < plan->n_params; i++)
    if (strlen(plan->params[i].name) == len && strncmp(plan->params[i].name, name, len) == 0) return &plan->params[i];
  return NULL;
}

/* Percent-decoding: the encoding is strict (every byte outside 0x21-0x7e, and `%`, is `%XX`), so a raw byte
 * outside that range means the plan's writer has a bug; refuse it rather than guess. */
static char *decode_text(const char *s, unsigned line, const char *what) {
  char *out = xcalloc(strlen(s) + 1, 1), *o = out;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x21 || c > 0x7e) bad_plan(line, "byte 0x%02x in %s `%s` must be percent-encoded", c, what, shown(s));
    if (c != '%') {
      *o++ = (char)c;
      continue;
    }
    int hi = hex_digit(p[1]), lo = hi < 0 ? -1 : hex_digit(p[2]);
    if (hi < 0 || lo < 0) bad_plan(line, "`%%` not followed by two hex digits in `%s`", shown(s));
    if (hi == 0 && lo == 0) bad_plan(line, "`%%00` in `%s`: a %s cannot contain NUL", shown(s), what);
    *o++ = (char)(hi << 4 | lo);
    p += 2;
  }
  *o = '\0';
  return out;
}

static char *decode_literal(const char *s, unsigned line) {
  char *out = decode_text(s, line, "path");
  if (out[0] != '/') bad_plan(line, "`%s` is not an absolute path", shown(s));
  return out;
}

/* A path field: percent-encoded and absolute, or `${name}` (+ `/rest`) for a parameter the plan declared. */
static char *decode_path(const char *s, unsigned line) {
  if (s[0] != '$') return decode_literal(s, line);
  const char *close = strchr(s, '}');
  if (s[1] != '{' || !close || (close[1] != '\0' && close[1] != '/'))
    bad_plan(line, "`%s` is neither an absolute path nor `${name}/...`", shown(s));
  const struct param *p = current_plan ? find_param(current_plan, s + 2, (size_t)(close - s - 2)) : NULL;
  if (!p) bad_plan(line, "`%s` names a parameter that no `param` line declares", shown(s));
  if (close[1] == '\0') return xstrdup(p->value);
  char *rest = decode_literal(close + 1, line);
  char *out = xasprintf("%s%s", p->value, rest);
  free(rest);
  return out;
}

/* No empty, `.` or `..` component after the leading slash (and so no trailing slash, except `/` itself). */
static int lexically_clean(const char *abs) {
  if (strcmp(abs, "/") == 0) return 1;
  for (const char *c = abs + 1; c;) {
    const char *slash = strchr(c, '/');
    size_t len = slash ? (size_t)(slash - c) : strlen(c);
    if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) return 0;
    c = slash ? slash + 1 : NULL;
  }
  return 1;
}

/* An except path of `fs-children`: percent-decoded like a path, but relative, with no empty, `.` or `..`
 * component, since it names entries beneath the rule's directory. */
static char *decode_relative(const char *s, unsigned line) {
  char *prefixed = xasprintf("/%s", s);
  char *abs = decode_path(prefixed, line);
  free(prefixed);
  if (abs[1] == '\0') bad_plan(line, "%s", "an empty except path");
  if (!lexically_clean(abs))
    bad_plan(line, "except path `%s` must be relative, without empty, `.` or `..` components", shown(s));
  return abs + 1;
}

/* An except path written from a parameter (`${name}/rest`): substituted, then made relative to the rule's
 * directory, which it must lie strictly beneath. */
static char *decode_param_except(const char *s, const char *dir, unsigned line) {
  char *abs = decode_path(s, line);
  if (!path_below(abs, dir) || !lexically_clean(abs))
    bad_plan(line, "except path `%s` (here `%s`) is not beneath `%s`", shown(s), shown(abs), shown(dir));
  return (char *)path_rel(abs, dir);
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

/* A SHA-256 as the plan writes it: 64 lowercase hex digits. */
static int is_sha256_hex(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return 0;
  return n == 64;
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

/* ---- parameters ---- */

/* An absolute path without empty, `.` or `..` components (a trailing slash is dropped), resolved through
 * symlinks when it exists: rules bind inodes, so the placement check must compare where paths really lead. */
static char *canonical_value(const char *v, const char **why) {
  if (v[0] != '/') {
    *why = "is not an absolute path";
    return NULL;
  }
  size_t n = strlen(v);
  while (n > 1 && v[n - 1] == '/') n--;
  char *copy = xcalloc(n + 1, 1);
  memcpy(copy, v, n);
  if (!lexically_clean(copy)) {
    free(copy);
    *why = "has an empty, `.` or `..` component";
    return NULL;
  }
  char *real = realpath(copy, NULL);
  if (real) {
    free(copy);
    return real;
  }
  return copy;
}

char *param_value(const char *name, const char **why) {
  const char *v = NULL;
  for (int i = 0; i < n_cli_params; i++)
    if (strcmp(cli_param_names[i], name) == 0) v = cli_param_values[i];
  char *cwd = NULL;
  if (!v && (strcmp(name, "workspace") == 0 || strcmp(name, "cwd") == 0)) {
    cwd = getcwd(NULL, 0);
    if (!cwd) fail_step("%s", "getcwd");
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
  if (!v) {
    *why = "has no value";
    return NULL;
  }
  char *value = canonical_value(v, why);
  free(cwd);
  return value;
}

/* The value of a parameter the plan declares: --param, else the built-ins from this process. */
static char *resolve_param(const char *name, unsigned line) {
  const char *why = NULL;
  char *value = param_value(name, &why);
  if (!value && strcmp(why, "has no value") == 0)
    bad_plan(line, "parameter `%s` has no value: pass --param %s=PATH", name, name);
  if (!value) bad_plan(line, "parameter `%s` %s", name, why);
  if (strcmp(value, "/") == 0)
    bad_plan(line, "parameter `%s` is `/`: the plan was compiled for a value apart from its other paths; compile it with --param %s=/", name, name);
  return value;
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
        char *hint = xstrdup("");
        for (int k = 0; k < plan->n_params; k++) {
          char *more = xasprintf("%s --param %s=%s", hint, plan->params[k].name, enc(plan->params[k].value));
          free(hint);
          hint = more;
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

/* ---- the plan ---- */

char *read_plan_fd(int fd, size_t *size) {
  char *text;
  if (read_all(fd, MAX_PLAN_BYTES, &text, size) != 0) {
    if (errno == EFBIG) die(EXIT_LOADER, "the plan is larger than %u bytes", MAX_PLAN_BYTES);
    fail_step("read(plan fd %d)", fd);
  }
  close(fd);
  return text;
}

enum header_field { H_ABI, H_HANDLED_FS, H_HANDLED_NET, H_SCOPED, H_RESTRICT_FLAGS, H_NAMESPACES, H_COUNT };
static const char *const HEADER_NAMES[H_COUNT] = {"abi", "handled-fs", "handled-net", "scoped", "restrict-flags", "namespaces"};

/* Directives allowed between the header and the first rule. */
static int is_preamble(const char *d) {
  return strcmp(d, "param") == 0 || strcmp(d, "cache-key") == 0 || strcmp(d, "dep") == 0 || strcmp(d, "fallback-note") == 0 ||
         strcmp(d, "compat") == 0 || strcmp(d, "diagnostics") == 0 || strcmp(d, "net-proxy") == 0 ||
         strncmp(d, "proxy-", 6) == 0;
}

/* `lo-hi[,lo-hi]...`, each within 0-65535. */
static void parse_proxy_ports(struct proxy_rule *r, char *s, unsigned line) {
  for (char *save = NULL, *p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
    char *dash = strchr(p, '-');
    uint64_t lo, hi;
    if (!dash) bad_plan(line, "`%s` is not a port range LO-HI", shown(p));
    *dash = '\0';
    if (parse_decimal(p, 65535, &lo) != 0 || parse_decimal(dash + 1, 65535, &hi) != 0 || lo > hi)
      bad_plan(line, "`%s-%s` is not a port range LO-HI within 0-65535", shown(p), shown(dash + 1));
    r->ports = xrealloc(r->ports, (size_t)r->n_ports + 1, sizeof *r->ports);
    r->ports[r->n_ports][0] = (unsigned)lo;
    r->ports[r->n_ports++][1] = (unsigned)hi;
  }
  if (!r->n_ports) bad_plan(line, "%s", "a proxy rule without ports");
}

/* A normalized domain pattern as ir/hosts.ts writes it: `name`, `*.name` or `**.name`, lower case. */
static int proxy_pattern_ok(const char *p) {
  if (strncmp(p, "**.", 3) == 0) p += 3;
  else if (strncmp(p, "*.", 2) == 0) p += 2;
  size_t n = strlen(p);
  if (n == 0 || n > 253 || p[0] == '.' || p[n - 1] == '.' || strstr(p, "..")) return 0;
  return strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == n;
}

/* `proxy-name allow|deny PATTERN|* PORTS LABEL` and `proxy-addr allow|deny CIDR[,CIDR]|any PORTS LABEL`: the
 * decision table, in first-match order (the compiler put the denies first). */
static void parse_proxy_rule(struct plan *plan, char **f, int nf, unsigned line, int name) {
  if (!plan->proxy_table) bad_plan(line, "`%s` before `proxy-table`", f[0]);
  if (nf != 5) bad_plan(line, "expected `%s allow|deny %s PORTS LABEL`", f[0], name ? "PATTERN|*" : "CIDR[,CIDR]|any");
  struct proxy_rule r = {0};
  if (strcmp(f[1], "allow") == 0) r.allow = 1;
  else if (strcmp(f[1], "deny") != 0) bad_plan(line, "`%s` is neither `allow` nor `deny`", shown(f[1]));
  if (name) {
    if (strcmp(f[2], "*") != 0) {
      if (!proxy_pattern_ok(f[2])) bad_plan(line, "`%s` is not a normalized domain pattern", shown(f[2]));
      r.pattern = f[2];
    }
  } else if (strcmp(f[2], "any") == 0) {
    r.any = 1;
  } else {
    for (char *save = NULL, *c = strtok_r(f[2], ",", &save); c; c = strtok_r(NULL, ",", &save)) {
      r.cidrs = xrealloc(r.cidrs, (size_t)r.n_cidrs + 1, sizeof *r.cidrs);
      if (!proxy_parse_cidr(c, &r.cidrs[r.n_cidrs++])) bad_plan(line, "`%s` is not an address or CIDR block", shown(c));
    }
  }
  parse_proxy_ports(&r, f[3], line);
  r.label = decode_text(f[4], line, "label");
  struct proxy_rule **list = name ? &plan->proxy_names : &plan->proxy_addrs;
  int *n = name ? &plan->n_proxy_names : &plan->n_proxy_addrs;
  *list = xrealloc(*list, (size_t)*n + 1, sizeof **list);
  (*list)[(*n)++] = r;
}

static void parse_mount(struct plan *plan, char **f, int nf, unsigned line, int file) {
  if (nf != 4) bad_plan(line, "expected `%s PATH rw|ro exec|noexec`", file ? "mount-file" : "mount");
  if (plan->n_mounts == MAX_MOUNT_LINES) bad_plan(line, "more than %d `mount` lines", MAX_MOUNT_LINES);
  struct mount_line *m = &plan->mounts[plan->n_mounts];
  m->encoded = f[1];
  m->path = decode_path(f[1], line);
  m->line = line;
  m->file = file;
  if (!lexically_clean(m->path))
    bad_plan(line, "mount path `%s` (here `%s`) has an empty, `.` or `..` component", shown(f[1]), enc(m->path));
  if (strcmp(f[2], "ro") == 0) m->ro = 1;
  else if (strcmp(f[2], "rw") != 0) bad_plan(line, "`%s` is neither `rw` nor `ro`", shown(f[2]));
  if (strcmp(f[3], "noexec") == 0) m->noexec = 1;
  else if (strcmp(f[3], "exec") != 0) bad_plan(line, "`%s` is neither `exec` nor `noexec`", shown(f[3]));
  int is_root = strcmp(m->path, "/") == 0;
  if (file && is_root) bad_plan(line, "%s", "`mount-file /`: `/` is a directory");
  if (plan->n_mounts == 0 && !is_root)
    bad_plan(line, "the first `mount` line must be `mount / ...`, not `%s`", shown(f[1]));
  if (plan->n_mounts > 0 && is_root) bad_plan(line, "%s", "`mount /` given twice");
  for (size_t j = 0; j < plan->n_mounts; j++)
    if (path_below(plan->mounts[j].path, m->path))
      bad_plan(line, "mount path `%s` (here `%s`) is above the earlier mount line %u (`%s`): mount lines come parents first",
               shown(f[1]), enc(m->path), plan->mounts[j].line, shown(plan->mounts[j].encoded));
  plan->n_mounts++;
}

/* A `!` entry promises that its mount line denies every right of the line's mask; the loader checks the
 * promise, since in namespace mode it then grants the entry through the whole directory. */
static void check_mount_enforced(const struct plan *plan) {
  for (size_t i = 0; i < plan->n_fs; i++) {
    const struct fs_rule *r = &plan->fs[i];
    for (int k = 0; k < r->n_except; k++) {
      if (!r->except[k].mount_enforced) continue;
      char *full = path_join(r->path, r->except[k].rel);
      const struct mount_line *m = NULL;
      for (size_t j = 0; j < plan->n_mounts && !m; j++)
        if (!plan->mounts[j].file && strcmp(plan->mounts[j].path, full) == 0) m = &plan->mounts[j];
      if (!m) bad_plan(r->line, "`!%s`: no `mount` line for `%s`", enc(r->except[k].rel), enc(full));
      uint64_t undeniable = r->mask & ~(RIGHTS_DENIED_BY_RO | RIGHT_EXECUTE);
      if (undeniable || ((r->mask & RIGHTS_DENIED_BY_RO) && !m->ro) || ((r->mask & RIGHT_EXECUTE) && !m->noexec))
        bad_plan(r->line, "`!%s`: mount line %u (`%s %s`) does not deny every right of 0x%llx", enc(r->except[k].rel),
                 m->line, m->ro ? "ro" : "rw", m->noexec ? "noexec" : "exec", (unsigned long long)r->mask);
      free(full);
    }
  }
}

void parse_plan(char *text, size_t size, struct plan *plan) {
  if (memchr(text, '\0', size)) die(EXIT_LOADER, "the plan contains a NUL byte");
  current_plan = plan;
  /* Upper bounds for the rule arrays: one rule per line at most. */
  size_t lines_max = 1;
  for (size_t i = 0; i < size; i++) lines_max += text[i] == '\n';
  plan->fs = xcalloc(lines_max, sizeof *plan->fs);
  plan->net = xcalloc(lines_max, sizeof *plan->net);
  plan->deps = xcalloc(lines_max, sizeof *plan->deps);
  plan->mounts = xcalloc(lines_max < MAX_MOUNT_LINES ? lines_max : MAX_MOUNT_LINES, sizeof *plan->mounts);
  char **f = xcalloc(MAX_FIELDS, sizeof *f);

  unsigned seen[H_COUNT] = {0}; /* the line of each header directive, 0 until seen */
  int ended = 0, rules_started = 0, seen_compat = 0;
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
      if (strcmp(raw, "sbc-loader-plan 1") == 0)
        bad_plan(line, "%s", "plan format 1 is not supported by this loader; recompile");
      if (strcmp(raw, "sbc-loader-plan 2") != 0) bad_plan(line, "%s", "expected `sbc-loader-plan 2`");
      continue;
    }
    if (raw[0] == '\0') bad_plan(line, "%s", "an empty line");
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
      seen[header] = line;
      uint64_t v;
      if (header == H_ABI) {
        if (parse_decimal(f[1], 1000, &v) != 0) bad_plan(line, "`%s` is not an ABI version", shown(f[1]));
        plan->abi = (long)v;
        continue;
      }
      if (header == H_NAMESPACES) {
        if (strcmp(f[1], "auto") == 0) plan->namespaces = NS_AUTO;
        else if (strcmp(f[1], "require") == 0) plan->namespaces = NS_REQUIRE;
        else if (strcmp(f[1], "never") == 0) plan->namespaces = NS_NEVER;
        else bad_plan(line, "`%s` is not `auto`, `require` or `never`", shown(f[1]));
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

    if (is_preamble(d)) {
      if (rules_started) bad_plan(line, "`%s` after the first rule", d);
      for (int h = 0; h < H_COUNT; h++)
        if (!seen[h]) bad_plan(line, "`%s` before `%s`: the header comes first", d, HEADER_NAMES[h]);
    }
    if (strcmp(d, "param") == 0) {
      if (nf < 2) bad_plan(line, "%s", "expected `param NAME [ANCHOR...]`");
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
    if (strcmp(d, "cache-key") == 0) {
      if (nf != 2) bad_plan(line, "%s", "expected `cache-key HEX`");
      if (plan->has_cache_key) bad_plan(line, "%s", "`cache-key` given twice");
      if (!is_sha256_hex(f[1])) bad_plan(line, "`%s` is not 64 lowercase hex digits", shown(f[1]));
      memcpy(plan->cache_key, f[1], 65);
      plan->has_cache_key = 1;
      continue;
    }
    if (strcmp(d, "dep") == 0) {
      if (nf != 3) bad_plan(line, "%s", "expected `dep PATH SHA256`");
      struct dep *dp = &plan->deps[plan->n_deps];
      dp->encoded = f[1];
      dp->path = decode_path(f[1], line);
      if (!is_sha256_hex(f[2])) bad_plan(line, "`%s` is not 64 lowercase hex digits", shown(f[2]));
      memcpy(dp->hex, f[2], 65);
      dp->line = line;
      plan->n_deps++;
      continue;
    }
    if (strcmp(d, "compat") == 0) {
      if (nf != 2) bad_plan(line, "%s", "expected `compat best-effort|soft-requirement|hard-requirement`");
      if (seen_compat) bad_plan(line, "%s", "`compat` given twice");
      seen_compat = 1;
      if (strcmp(f[1], "best-effort") == 0) plan->compat = COMPAT_BEST;
      else if (strcmp(f[1], "soft-requirement") == 0) plan->compat = COMPAT_SOFT;
      else if (strcmp(f[1], "hard-requirement") == 0) plan->compat = COMPAT_HARD;
      else bad_plan(line, "`%s` is not a compatibility level", shown(f[1]));
      continue;
    }
    if (strcmp(d, "diagnostics") == 0) {
      if (nf != 2) bad_plan(line, "%s", "expected `diagnostics TEXT`");
      if (plan->diagnostics) bad_plan(line, "%s", "`diagnostics` given twice");
      plan->diagnostics = decode_text(f[1], line, "text");
      continue;
    }
    if (strcmp(d, "net-proxy") == 0) {
      /* The network goes through sbc's egress proxy: a network namespace with loopback only, and a listener on
       * 127.0.0.1:PORT in it that the relay (outside) serves. Only that address: the listener is all there is. */
      if (nf != 3) bad_plan(line, "%s", "expected `net-proxy 127.0.0.1 PORT`");
      if (plan->net_proxy_port) bad_plan(line, "%s", "`net-proxy` given twice");
      if (strcmp(f[1], "127.0.0.1") != 0) bad_plan(line, "net-proxy address `%s` is not `127.0.0.1`", shown(f[1]));
      uint64_t port;
      if (parse_decimal(f[2], 65535, &port) != 0 || port == 0) bad_plan(line, "`%s` is not a port (1-65535)", shown(f[2]));
      plan->net_proxy_port = (unsigned)port;
      continue;
    }
    if (strcmp(d, "proxy-table") == 0) {
      /* The egress proxy's decisions travel with the plan: the relay decides itself without `sbc exec`. */
      if (nf != 1) bad_plan(line, "%s", "expected `proxy-table`");
      if (plan->proxy_table) bad_plan(line, "%s", "`proxy-table` given twice");
      if (!plan->net_proxy_port) bad_plan(line, "%s", "`proxy-table` without `net-proxy` before it");
      plan->proxy_table = 1;
      continue;
    }
    if (strcmp(d, "proxy-name") == 0 || strcmp(d, "proxy-addr") == 0) {
      parse_proxy_rule(plan, f, nf, line, d[6] == 'n');
      continue;
    }
    if (strcmp(d, "proxy-env") == 0) {
      if (!plan->proxy_table) bad_plan(line, "%s", "`proxy-env` before `proxy-table`");
      if (nf != 3) bad_plan(line, "%s", "expected `proxy-env NAME VALUE`");
      if (strspn(f[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(f[1]) || (f[1][0] >= '0' && f[1][0] <= '9'))
        bad_plan(line, "`%s` is not an environment variable name", shown(f[1]));
      char *value = decode_text(f[2], line, "value");
      plan->proxy_env = xrealloc(plan->proxy_env, (size_t)plan->n_proxy_env + 1, sizeof *plan->proxy_env);
      plan->proxy_env[plan->n_proxy_env++] = xasprintf("%s=%s", f[1], value);
      free(value);
      continue;
    }
    if (strcmp(d, "proxy-special") == 0) {
      if (!plan->proxy_table) bad_plan(line, "%s", "`proxy-special` before `proxy-table`");
      if (nf != 3) bad_plan(line, "%s", "expected `proxy-special CIDR WHAT`");
      plan->proxy_specials = xrealloc(plan->proxy_specials, (size_t)plan->n_proxy_specials + 1, sizeof *plan->proxy_specials);
      struct proxy_special *sp = &plan->proxy_specials[plan->n_proxy_specials++];
      sp->text = xstrdup(f[1]);
      if (!proxy_parse_cidr(f[1], &sp->cidr) || !strchr(f[1], '/')) bad_plan(line, "`%s` is not a CIDR block", shown(f[1]));
      sp->what = decode_text(f[2], line, "text");
      continue;
    }
    if (strcmp(d, "fallback-note") == 0) {
      if (nf != 2) bad_plan(line, "%s", "expected `fallback-note TEXT`");
      if (plan->fallback_note) bad_plan(line, "%s", "`fallback-note` given twice");
      plan->fallback_note = decode_text(f[1], line, "text");
      continue;
    }

    int is_fs = strcmp(d, "fs") == 0 || strcmp(d, "fs-file") == 0 || strcmp(d, "fs-children") == 0;
    int is_rule = is_fs || strcmp(d, "net") == 0 || strcmp(d, "seccomp") == 0 || strcmp(d, "mount") == 0 || strcmp(d, "mount-file") == 0;
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
      r->line = line;
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
        for (int i = 0; i < r->n_except; i++) {
          const char *e = f[4 + i];
          struct except_entry *x = &r->except[i];
          if (e[0] == '!') {
            x->mount_enforced = 1;
            e++;
            if (e[0] == '\0') bad_plan(line, "%s", "an empty except path");
          }
          x->rel = e[0] == '$' ? decode_param_except(e, r->path, line) : decode_relative(e, line);
        }
      }
      plan->n_fs++;
    } else if (strcmp(d, "mount") == 0 || strcmp(d, "mount-file") == 0) {
      parse_mount(plan, f, nf, line, strcmp(d, "mount-file") == 0);
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
  free(f);
  if (line == 0) die(EXIT_LOADER, "the plan is empty");
  if (!ended) bad_plan(line + 1, "%s", "the plan ends without `end`");
  for (int h = 0; h < H_COUNT; h++)
    if (!seen[h]) bad_plan(line, "the plan has no `%s`", HEADER_NAMES[h]);
  int handles = (plan->handled_fs | plan->handled_net | plan->scoped) != 0;
  if (plan->abi == 0 && handles) bad_plan(seen[H_ABI], "%s", "`abi 0` (no Landlock) with handled rights or scopes");
  if (!handles && plan->restrict_flags != 0)
    bad_plan(seen[H_RESTRICT_FLAGS], "%s", "restrict-flags without a ruleset (nothing is handled)");
  check_mount_enforced(plan);
  check_placement(plan);
}

/* SHA-256 of a whole file, read with O_RDONLY; -1 with errno when it cannot be read (or is not a regular file:
 * a FIFO would block, a directory has no content to compare). */
static int hash_file(const char *path, char hex[65]) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    return -1;
  }
  struct sha256 s;
  sha256_init(&s);
  unsigned char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (r == 0) break;
    sha256_update(&s, buf, (size_t)r);
  }
  close(fd);
  unsigned char digest[32];
  sha256_final(&s, digest);
  sha256_hex(digest, hex);
  return 0;
}

void check_deps(const struct plan *plan) {
  for (size_t i = 0; i < plan->n_deps; i++) {
    const struct dep *d = &plan->deps[i];
    char hex[65];
    if (hash_file(d->path, hex) != 0)
      die(EXIT_LOADER, "the plan is stale: %s changed since it was compiled (cannot read it: %s)", enc(d->path), strerror(errno));
    if (strcmp(hex, d->hex) != 0) die(EXIT_LOADER, "the plan is stale: %s changed since it was compiled", enc(d->path));
  }
}
