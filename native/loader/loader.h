/* sbc-loader: what the loader's files share. The loader applies a compiled plan (a mount layer in a private
 * mount namespace, a Landlock ruleset, a seccomp filter) to itself and execs a command; native/README.md is the
 * reference for the plan format, the exit statuses, the messages and the namespace sequence.
 *
 *   main.c      the command line, the choice of mode, the two-process structure, signals, capabilities, exec
 *   plan.c      reading and checking a plan (format 2), parameters, `dep` hashes
 *   resolve.c   walking a path component by component without following a link the plan did not name
 *   mounts.c    the mount layer: namespace, phase A (resolve), phase B (apply), pins, created directories
 *   landlock.c  the ruleset: grants, symlink-safe expansion, carving what a denied name resolves to
 *   relay.c     the egress proxy (`net-proxy`): the listener inside the network namespace, the relay outside
 *   decide.c    the relay's own decisions from the plan's `proxy-table` (no `sbc exec` behind it)
 *   cache.c     the plan cache's key and its safety checks
 *   sha256.c    FIPS 180-4 SHA-256
 *   util.c      messages, memory, paths, errno names
 *
 * Every file includes this header first: it sets _GNU_SOURCE before any system header. */

#ifndef SBC_LOADER_H
#define SBC_LOADER_H

#define _GNU_SOURCE
#include <linux/filter.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses, as env(1) uses them: the loader's own failure, a command that cannot run, one that is missing. */
#define EXIT_LOADER 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

/* A plan is a few kilobytes; a seccomp filter at the kernel's 4096-instruction limit is 64 KiB of hex. */
#define MAX_PLAN_BYTES (64u << 20)
/* struct sock_fprog.len is an unsigned short: a longer program cannot be handed to the kernel at all. */
#define MAX_FILTER_INSNS 0xffff
#define MAX_MOUNT_LINES 4096
#define MAX_PARAMS 64

/* ---- util.c ---- */

extern int report;   /* --report: one stderr line per applied, skipped or carved item */
extern int checking; /* --check: answer by the exit status only (0 would run, 1 would not), no message */
/* While `--else` tries a plan source: die() jumps here instead (nothing has been changed yet), silently. */
extern jmp_buf *try_jump;

/* How a failure leaves the process. In the namespace child before `ok` a message goes to the parent through
 * the status pipe (`refuse TEXT`), so that it is printed once and never taken for a namespace failure. */
extern int status_fd;     /* the child's end of the status pipe, -1 elsewhere */
extern int status_open;   /* 1 while the child has not written `ok` yet */

void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One step of applying the plan failed: name the step and what the kernel said. */
#define fail_step(step_fmt, ...) die(EXIT_LOADER, step_fmt ": %s", __VA_ARGS__, strerror(errno))
#define bad_plan(line, fmt, ...) die(EXIT_LOADER, "plan line %u: " fmt, (unsigned)(line), __VA_ARGS__)

/* User input quoted in a message, on one line and cut at 96 bytes: bytes outside 0x20-0x7e become `%XX`. */
const char *shown(const char *s);
/* The same, whole, in a new buffer: for text the plan carries (the fallback note). */
char *shown_all(const char *s);
/* A path as a plan spells it, whole: every byte outside 0x21-0x7e, and `%`, as `%XX`. */
const char *enc(const char *path);
char *encode_alloc(const char *path);

void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* `dir/name`, without doubling the slash of `/`. */
char *path_join(const char *dir, const char *name);
/* Is `a` equal to `b` or beneath it (component-wise)? */
int path_within(const char *a, const char *b);
/* Is `a` strictly beneath `b`? */
int path_below(const char *a, const char *b);
/* The number of components: `/` 0, `/a/b` 2. */
int path_depth(const char *p);
/* A path relative to `root`, which `p` lies strictly beneath. */
const char *path_rel(const char *p, const char *root);

int hex_digit(char c);
int parse_mask(const char *s, uint64_t *out);
int parse_decimal(const char *s, uint64_t max, uint64_t *out);
const char *errno_name(int e);
int errno_from_name(const char *name);
const char *signal_name(int sig);

/* Writes all of `buf` (retrying on EINTR and short writes); -1 with errno on failure. */
int write_all(int fd, const void *buf, size_t n);

/* trace.c: `--trace-fd` (sbc exec --explain). */
int trace_supported(void);
void trace_fork(int fd);
struct sock_filter *trace_rewrite_filter(const struct sock_filter *in, unsigned short len);
void trace_install_watch(void);
void trace_set_learn(void);
/* Reads fd to EOF into a NUL-terminated heap buffer; at most `max` bytes (else -1 with errno EFBIG). */
int read_all(int fd, size_t max, char **out, size_t *size);

/* openat2(RESOLVE_NO_SYMLINKS): opens a real path (one without a symlink in it). With O_NOFOLLOW|O_PATH a
 * trailing symlink is opened itself. -1 with errno ELOOP when some component is a link, as when a path we
 * resolved was changed under us. */
int open_real(const char *path, int flags);

/* ---- sha256.c ---- */

struct sha256 {
  uint32_t h[8];
  uint64_t length; /* bytes */
  unsigned char block[64];
  size_t used;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, unsigned char digest[32]);
void sha256_hex(const unsigned char digest[32], char out[65]);

/* ---- plan.c ---- */

enum missing_policy { MISSING_SKIP, MISSING_ERROR };
enum ns_mode { NS_AUTO, NS_REQUIRE, NS_NEVER };

/* `fs`: a rule on the path; `fs-file`: a rule only if the path is not a directory (an exact rule on a file);
 * `fs-children`: a rule on each entry of the directory that exists now, except the listed relative paths,
 * descending into an entry when an except path goes deeper. */
enum fs_kind { FS_BENEATH, FS_FILE, FS_CHILDREN };

struct except_entry {
  char *rel;          /* decoded, relative to the rule's path */
  int mount_enforced; /* written `!`: the mount layer may enforce it instead */
  int dropped;        /* namespace mode: its mount line was applied in full, so Landlock does not carve it */
};

struct fs_rule {
  enum fs_kind kind;
  uint64_t mask;
  enum missing_policy missing;
  const char *encoded; /* the path as the plan spells it: one printable field, used in every message */
  char *path;          /* decoded, parameters substituted */
  struct except_entry *except;
  int n_except;
  unsigned line;
};

struct net_rule {
  uint64_t mask;
  uint64_t port;
};

struct mount_line {
  const char *encoded;
  char *path; /* decoded, substituted, lexical: absolute, no empty, `.` or `..` component */
  int ro, noexec;
  int file; /* `mount-file`: applied only to something that is not a directory (an `exact:` allow) */
  unsigned line;
  /* set by the mount layer */
  int applied; /* applied in full: every target mounted, every pin made */
};

struct dep {
  const char *encoded;
  char *path;
  char hex[65];
  unsigned line;
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

/* What to do when the kernel's Landlock lacks something the plan handles (rust-landlock's levels). */
enum compat_level { COMPAT_HARD, COMPAT_SOFT, COMPAT_BEST };

/* The egress proxy's decision table (`proxy-table` and its lines; decide.c). */
struct proxy_ip {
  int family; /* 4 or 6 */
  unsigned char b[16];
};
struct proxy_cidr {
  struct proxy_ip ip;
  int prefix;
};
struct proxy_rule {
  int allow;
  char *pattern;             /* `proxy-name`: the normalized pattern, NULL for any name */
  struct proxy_cidr *cidrs;  /* `proxy-addr`: the blocks, or `any` */
  int n_cidrs, any;
  unsigned (*ports)[2];
  int n_ports;
  char *label;               /* `the rule `...` at file:line:col`, as refusals name it */
};
struct proxy_special {
  struct proxy_cidr cidr;
  char *text, *what;
};

struct plan {
  struct param params[MAX_PARAMS];
  int n_params;
  long abi;
  enum compat_level compat; /* the `compat` line; hard-requirement when absent */
  char *diagnostics;        /* the `diagnostics` line, decoded (the compiler's warnings, printed before the run), or NULL */
  char *abi_note;           /* set by the ABI negotiation: what this kernel does not enforce, or NULL */
  uint64_t handled_fs, handled_net, scoped, restrict_flags;
  enum ns_mode namespaces;
  int has_cache_key;
  char cache_key[65];
  struct dep *deps;
  size_t n_deps;
  char *fallback_note; /* decoded, or NULL */
  struct mount_line *mounts;
  size_t n_mounts;
  struct fs_rule *fs;
  size_t n_fs;
  struct net_rule *net;
  size_t n_net;
  unsigned net_proxy_port;    /* `net-proxy 127.0.0.1 PORT`: the egress proxy's port in the netns, 0 without */
  int proxy_table;            /* `proxy-table`: the relay can decide without `sbc exec` */
  struct proxy_rule *proxy_names, *proxy_addrs;
  int n_proxy_names, n_proxy_addrs;
  struct proxy_special *proxy_specials;
  int n_proxy_specials;
  char **proxy_env; /* `proxy-env NAME VALUE`, decoded as `NAME=VALUE`: set for the command */
  int n_proxy_env;
  struct sock_filter *filter; /* NULL when the plan has no seccomp line */
  unsigned short filter_len;
};

/* --param NAME=PATH from the command line, in order (the last of a name wins). */
extern const char **cli_param_names, **cli_param_values;
extern int n_cli_params;

int valid_param_name(const char *s);
/* The value a parameter gets here (--param, else the built-ins), made canonical; NULL with *why set when it
 * has none or is not usable. */
char *param_value(const char *name, const char **why);
char *read_plan_fd(int fd, size_t *size);
void parse_plan(char *text, size_t size, struct plan *plan);
/* Every `dep` file still hashes to what the plan says; else "the plan is stale" (status 125). */
void check_deps(const struct plan *plan);

/* ---- resolve.c ---- */

enum walk_status { WALK_FOUND, WALK_MISSING, WALK_DANGLING, WALK_UNREACHABLE };

struct walk_link {
  char *path;   /* the link itself: real directory + its name */
  char *parent; /* the real directory it is in */
  dev_t dev;
  ino_t ino;
};

struct walk_dir {
  char *path; /* a real directory the walk went through (not the last component) */
  char *parent;
  dev_t dev;
  ino_t ino;
};

struct walk {
  enum walk_status status;
  char *real;    /* FOUND: the real path; MISSING: the deepest existing real ancestor */
  char **missing; /* MISSING: the components that do not exist, in order */
  int n_missing;
  char *parent;  /* FOUND: the real directory the last component was found in */
  dev_t dev;     /* FOUND: what the path is */
  ino_t ino;
  mode_t mode;
  struct walk_link *links;
  int n_links;
  struct walk_dir *dirs;
  int n_dirs;
  char *dangling;        /* DANGLING: the link that does not resolve */
  char *dangling_target; /* its content */
  int err;               /* UNREACHABLE: the errno */
};

/* Walks `rel` (components separated by `/`; `.` and `..` allowed when `dotdot` is set) from the real
 * directory `start`, with lstat on each prefix. A symlink is followed only by realpath of that one prefix (the
 * name is the plan's, or a gitfile's); its location is recorded. Dies (fail_step) on an error other than a
 * missing component, a dangling link or EACCES. */
void walk_path(const char *start, const char *rel, int dotdot, struct walk *w);
void walk_free(struct walk *w);

/* For a real path that is a regular file named `.git` whose first line is `gitdir: X`: the real gitdir and,
 * when X/commondir exists, the real common dir (else NULL). Returns 0 when the file is not a gitfile, 1 when
 * both resolved, -1 when a path does not resolve (then *why says which). `walks` receive the lexical walks of
 * X and of the commondir (for pins), when not NULL. */
int read_gitfile(const char *real_file, const char *real_dir, char **gitdir, char **commondir, char **why,
                 struct walk *gitdir_walk, struct walk *commondir_walk);
/* How a message names a plan path: `${workspace}/.git (/w/.git)`, or the path alone when it has no parameter. */
char *spelled_path(const char *encoded, const char *path);
struct plan;
/* The refusal a run would meet at a protected name (a dangling link, an unresolvable gitfile), with the name's
 * lexical path in *path, or NULL. `namespace_mode`: the mount lines count, and `!` entries are theirs. */
char *refusal_scan(const struct plan *plan, int namespace_mode, char **path);

/* The refusal message for a name that resolves to nothing: names the plan's spelling and what is wrong. */
char *dangling_message(const char *encoded, const char *path, const struct walk *w);

/* ---- mounts.c ---- */

enum ns_kind { NS_KIND_USER, NS_KIND_ADMIN };

/* The namespace child's set-up, steps 1-5 (unshare to chdir). A step the kernel refuses ends the child through
 * `fail STEP ERRNO` on the status pipe (exit 125); a refusal through `refuse TEXT`. */
void namespace_setup(struct plan *plan, const char *saved_cwd);
/* --probe: the namespace sequence in a throwaway child; "user", "admin" or "none:STEP:ERRNO". `net`: with a
 * network namespace too. */
char *namespace_probe(int net);
/* A plan with `net-proxy` and no mount lines: a network namespace alone (and a user namespace when needed),
 * then netns_listen. */
void netns_setup(const struct plan *plan);
/* Reports a failed set-up step to the parent and exits 125; outside the child, dies with the step. */
void setup_fail(const char *step, int err) __attribute__((noreturn));
int has_effective_cap(int cap);

/* ---- landlock.c ---- */

long landlock_abi(void);
/* The masks Landlock ABI `abi` supports (0 for none), built up one version at a time. */
void landlock_abi_masks(long abi, uint64_t *fs, uint64_t *net, uint64_t *scoped, uint64_t *restrict_flags);
/* The lowest ABI that supports every mask of the plan (0 when it handles nothing). */
long landlock_abi_needed(const struct plan *plan);
long landlock_errata(void);
/* Creates the ruleset and adds every rule (opening paths now); -1 when the plan handles nothing. */
int build_ruleset(const struct plan *plan);
void restrict_self(const struct plan *plan, int ruleset);

/* ---- relay.c ---- */

/* The namespace side's end of the socketpair the listener is passed on (-1 without `net-proxy`). */
extern int relay_handoff_fd;
/* In the new network namespace: `lo` up, the listener on 127.0.0.1:PORT, passed to the relay; setup_fail on
 * any failure. */
void netns_listen(const struct plan *plan);
/* The relay: receives the listener on `handoff`, then serves it on threads, asking on `control`. 0 when no
 * listener came. */
int relay_start(int control, int handoff);
/* decide.c: the relay's own decisions from the plan's table (when it has no control channel). */
int proxy_parse_ip(const char *s, struct proxy_ip *ip);
int proxy_parse_cidr(const char *s, struct proxy_cidr *c);
void proxy_format_ip(const struct proxy_ip *ip, char out[64]);
int proxy_parse_host(const char *raw, struct proxy_ip *ip, char name[256]);
char *proxy_decide(const struct plan *plan, const char *host, unsigned port);
int proxy_decide_main(const struct plan *plan, char **resolve, int n_resolve);
/* `--resolve NAME=ADDR[,ADDR]` entries for proxy_decide (kept, not copied; the fuzz harness sets them too). */
void proxy_set_resolve(char **resolve, int n_resolve);
extern const struct plan *relay_plan;
/* Waits up to `ms` for the connections being served to end (they write their `X` lines). */
void relay_drain(int ms);

/* ---- cache.c ---- */

/* The cache key for --cache-input `input` and the parameters bound here; prints the lines of --cache-key when
 * `print` is set. */
void cache_key(const char *input, char out[65], int print);
/* Opens DIR and `<key>.plan` with the safety checks of native/README.md and returns the plan's text. */
char *cache_read(const char *dir, const char key[65], size_t *size);

#endif
