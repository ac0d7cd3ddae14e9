/* The Landlock step, in both modes (native/README.md, "Applying a plan"). Grants named by the plan bind what
 * their path resolves to; everything found while expanding `fs-children` is opened without following links,
 * and a link found there gets no rule: a link the policy did not name grants nothing. A denied name that is a
 * link (or a gitfile) protects what it leads to: every grant above that place gets it as one more except entry
 * for the denied rights.
 *
 * The Landlock structs and constants are our own (Debian 12's <linux/landlock.h> predates ABI 4); their layout
 * is the kernel's uapi include/uapi/linux/landlock.h. */

#include "loader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* What each ABI adds (include/uapi/linux/landlock.h): fs rights, net rights, scopes, restrict_self flags.
 * 8 adds TSYNC, 9 RESOLVE_UNIX, 10 the UDP rights (and quiet flags, which sbc does not use). */
static const struct {
  uint64_t fs, net, scoped, flags;
} ABI_ADDS[] = {
    {0, 0, 0, 0},
    {(1ull << 13) - 1, 0, 0, 0},
    {1ull << 13, 0, 0, 0},
    {1ull << 14, 0, 0, 0},
    {0, 3, 0, 0},
    {1ull << 15, 0, 0, 0},
    {0, 0, 3, 0},
    {0, 0, 0, 7},
    {0, 0, 0, 1ull << 3},
    {1ull << 16, 0, 0, 0},
    {0, (1ull << 2) | (1ull << 3), 0, 0},
};
enum { ABI_KNOWN = (int)(sizeof ABI_ADDS / sizeof ABI_ADDS[0]) - 1 };

void landlock_abi_masks(long abi, uint64_t *fs, uint64_t *net, uint64_t *scoped, uint64_t *restrict_flags) {
  *fs = *net = *scoped = *restrict_flags = 0;
  for (long v = 1; v <= abi && v <= ABI_KNOWN; v++) {
    *fs |= ABI_ADDS[v].fs;
    *net |= ABI_ADDS[v].net;
    *scoped |= ABI_ADDS[v].scoped;
    *restrict_flags |= ABI_ADDS[v].flags;
  }
}

long landlock_abi_needed(const struct plan *plan) {
  if ((plan->handled_fs | plan->handled_net | plan->scoped | plan->restrict_flags) == 0) return 0;
  for (long v = 1; v <= ABI_KNOWN; v++) {
    uint64_t fs, net, scoped, flags;
    landlock_abi_masks(v, &fs, &net, &scoped, &flags);
    if (!(plan->handled_fs & ~fs) && !(plan->handled_net & ~net) && !(plan->scoped & ~scoped) && !(plan->restrict_flags & ~flags))
      return v;
  }
  return ABI_KNOWN + 1;
}

/* The kernel's Landlock ABI version, or 0 when Landlock is not built in (ENOSYS), disabled at boot
 * (EOPNOTSUPP) or hidden from us (a container's seccomp profile). */
long landlock_abi(void) {
  long abi = ll_create_ruleset(NULL, 0, LL_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : abi;
}

/* Kernels older than the errata flag reject it with EINVAL: no erratum is known fixed there. */
long landlock_errata(void) {
  long errata = ll_create_ruleset(NULL, 0, LL_CREATE_RULESET_ERRATA);
  return errata < 0 ? 0 : errata;
}

/* ---- grants ---- */

/* Part of a grant's rights with its except paths (relative to the grant's real root). Carving a target out
 * for some rights splits a part in two; with no except path, a part is one rule on the root. */
struct part {
  uint64_t mask;
  char **except;
  int n_except;
};

struct grant {
  const struct fs_rule *rule;
  int fd; /* O_PATH, following links: the grant binds what the plan's path resolves to */
  struct stat st;
  char *real; /* its real path, computed when a carve needs it */
  struct part *parts;
  int n_parts;
};

static void add_part(struct grant *g, uint64_t mask, char **except, int n_except) {
  g->parts = xrealloc(g->parts, (size_t)g->n_parts + 1, sizeof *g->parts);
  g->parts[g->n_parts++] = (struct part){.mask = mask, .except = except, .n_except = n_except};
}

/* Opens a grant's path (following links) and checks its kind; 0 when the rule is skipped. */
static int open_grant(const struct fs_rule *r, struct grant *g) {
  static const char *const KIND[] = {"fs", "fs-file", "fs-children"};
  g->rule = r;
  g->fd = open(r->path, O_PATH | O_CLOEXEC);
  if (g->fd < 0) {
    int missing = errno == ENOENT || errno == ENOTDIR || errno == ELOOP;
    if (missing && r->missing == MISSING_SKIP) {
      say("skipped %s %s: %s", KIND[r->kind], r->encoded, strerror(errno));
      return 0;
    }
    fail_step("open(%s)", r->encoded);
  }
  if (fstat(g->fd, &g->st) != 0) fail_step("fstat(%s)", r->encoded);
  if (r->kind == FS_FILE && S_ISDIR(g->st.st_mode)) {
    say("skipped fs-file %s: a directory (an exact rule cannot cover one)", r->encoded);
    close(g->fd);
    return 0;
  }
  if (r->kind == FS_CHILDREN && !S_ISDIR(g->st.st_mode)) {
    say("skipped fs-children %s: not a directory", r->encoded);
    close(g->fd);
    return 0;
  }
  if (r->kind != FS_CHILDREN) {
    add_part(g, r->mask, NULL, 0);
    return 1;
  }
  char **except = xcalloc((size_t)r->n_except, sizeof *except);
  int n = 0;
  for (int i = 0; i < r->n_except; i++) {
    if (r->except[i].dropped) say("mount-enforced %s", enc(path_join(r->path, r->except[i].rel)));
    else except[n++] = r->except[i].rel;
  }
  /* Every entry enforced by the mount layer: the line is one rule on its directory, like `fs`. */
  add_part(g, r->mask, except, n);
  if (n == 0) say("granting %s whole: every except entry is mount-enforced", r->encoded);
  return 1;
}

static const char *grant_real(struct grant *g) {
  if (g->real) return g->real;
  char *real = realpath(g->rule->path, NULL);
  struct stat st;
  if (!real || stat(real, &st) != 0 || st.st_dev != g->st.st_dev || st.st_ino != g->st.st_ino)
    die(EXIT_LOADER, "%s changed while sbc read the plan; run the command again", g->rule->encoded);
  g->real = real;
  return real;
}

/* What a denied name resolves to (a target `t` with the denied rights `m`) is carved out of every grant
 * above it for those rights; a grant on it loses them; grants beneath it are the policy's deeper allows. */
static void carve_target(struct grant *grants, size_t n, const char *t, uint64_t m) {
  for (size_t i = 0; i < n; i++) {
    struct grant *g = &grants[i];
    if (g->fd < 0) continue;
    const char *root = grant_real(g);
    if (strcmp(root, t) == 0) {
      uint64_t lost = 0;
      for (int k = 0; k < g->n_parts; k++) {
        lost |= g->parts[k].mask & m;
        g->parts[k].mask &= ~m;
      }
      if (lost) say("dropped 0x%llx on %s: a denied name resolves to it", (unsigned long long)lost, enc(t));
      continue;
    }
    if (!S_ISDIR(g->st.st_mode) || !path_below(t, root)) continue;
    const char *rel = path_rel(t, root);
    int n_parts = g->n_parts;
    for (int k = 0; k < n_parts; k++) {
      uint64_t bits = g->parts[k].mask & m;
      if (!bits) continue;
      char **except = xcalloc((size_t)g->parts[k].n_except + 1, sizeof *except);
      if (g->parts[k].n_except) memcpy(except, g->parts[k].except, (size_t)g->parts[k].n_except * sizeof *except);
      except[g->parts[k].n_except] = xstrdup(rel);
      g->parts[k].mask &= ~bits;
      add_part(g, bits, except, g->parts[k].n_except + 1);
      say("carving %s out of %s for 0x%llx: a denied name resolves to it", enc(t), g->rule->encoded, (unsigned long long)bits);
    }
  }
}

#define LL_ACCESS_FS_READ_DIR (1ull << 3)
/* How many entries of a read-denied directory are looked at for links that lead out of it. */
#define MAX_DENIED_SCAN 4096

/* A read-denied directory may hold links that lead out of it (GNU stow makes `~/.ssh/id_ed25519` a link to
 * `../dotfiles/ssh/id_ed25519`): reading through the link reads the target, which Landlock judges where it
 * lies. Each such target is carved out like the directory itself. Only read denials are scanned: a name
 * denied only changes (a protected `.git`) cannot get new links from the command, since the mount layer or
 * Landlock keeps it unchanged, and scanning a repository's objects on every command would cost. A name some
 * line carves for reading is scanned for every line that carves it, each carving with its own rights. The scan
 * reads entry types from readdir (no stat per entry) and stops after MAX_DENIED_SCAN entries, saying so in
 * the report (native/README.md). */
static void scan_denied(struct grant *grants, size_t n, const char *top, const char *dir, uint64_t m, int depth, int *budget) {
  if (depth > 32) return;
  int fd = open_real(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (--*budget < 0) {
      if (*budget == -1) say("scanned %d entries of %s for links that lead out of it: the rest is not looked at", MAX_DENIED_SCAN, enc(top));
      break;
    }
    unsigned char type = e->d_type;
    char *path = path_join(dir, e->d_name);
    if (type == DT_UNKNOWN) {
      struct stat st;
      type = lstat(path, &st) != 0 ? DT_UNKNOWN : S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    }
    if (type == DT_DIR) scan_denied(grants, n, top, path, m, depth + 1, budget);
    else if (type == DT_LNK) {
      char *real = realpath(path, NULL);
      if (real && !path_within(real, top)) {
        say("denied %s leads out to %s", enc(path), enc(real));
        carve_target(grants, n, real, m);
      }
      free(real);
    }
    free(path);
  }
  closedir(d);
}

/* Is `lexical` a name some line carves out for reading (a read-denied name)? */
static int read_denied(const struct grant *grants, size_t n, const char *lexical) {
  for (size_t i = 0; i < n; i++) {
    const struct fs_rule *r = grants[i].rule;
    if (grants[i].fd < 0 || r->kind != FS_CHILDREN || !(r->mask & (LL_ACCESS_FS_READ_FILE | LL_ACCESS_FS_READ_DIR))) continue;
    for (int k = 0; k < r->n_except; k++) {
      char *x = path_join(r->path, r->except[k].rel);
      int same = strcmp(x, lexical) == 0;
      free(x);
      if (same) return 1;
    }
  }
  return 0;
}

/* §4.3 of the design: each remaining except entry that goes through a link or is a gitfile. */
static void carve_resolved(struct grant *grants, size_t n) {
  for (size_t i = 0; i < n; i++) {
    struct grant *g = &grants[i];
    const struct fs_rule *r = g->rule;
    if (g->fd < 0 || r->kind != FS_CHILDREN) continue;
    for (int k = 0; k < r->n_except; k++) {
      const struct except_entry *e = &r->except[k];
      if (e->dropped) continue;
      struct walk w;
      walk_path(grant_real(g), e->rel, 0, &w);
      char *lexical = path_join(r->path, e->rel);
      char *spelled = xasprintf("%s/%s", r->encoded, enc(e->rel));
      char *targets[3] = {NULL, NULL, NULL};
      if (w.status == WALK_DANGLING) die(EXIT_LOADER, "%s", dangling_message(spelled, lexical, &w));
      if (w.status == WALK_UNREACHABLE) say("cannot resolve %s: %s", enc(lexical), strerror(w.err));
      if (w.status == WALK_MISSING && w.n_links > 0) {
        char *full = xstrdup(w.real);
        for (int c = 0; c < w.n_missing; c++) {
          char *next = path_join(full, w.missing[c]);
          free(full);
          full = next;
        }
        targets[0] = full;
      }
      if (w.status == WALK_FOUND) {
        if (w.n_links > 0) targets[0] = xstrdup(w.real);
        const char *slash = strrchr(e->rel, '/');
        const char *last = slash ? slash + 1 : e->rel;
        if (S_ISREG(w.mode) && strcmp(last, ".git") == 0) {
          char *why;
          if (read_gitfile(w.real, w.parent, &targets[1], &targets[2], &why, NULL, NULL) < 0)
            die(EXIT_LOADER, "%s is a gitfile that %s: sbc cannot protect what it points at; fix or remove the file",
                spelled_path(spelled, lexical), why);
        }
      }
      for (int t = 0; t < 3; t++)
        if (targets[t]) {
          say("denied %s resolves to %s", enc(lexical), enc(targets[t]));
          carve_target(grants, n, targets[t], r->mask);
          free(targets[t]);
        }
      if (w.status == WALK_FOUND && S_ISDIR(w.mode) && read_denied(grants, n, lexical)) {
        int budget = MAX_DENIED_SCAN;
        scan_denied(grants, n, w.real, w.real, r->mask, 0, &budget);
      }
      free(lexical);
      free(spelled);
      walk_free(&w);
    }
  }
}

/* ---- rules ---- */

/* Adds a rule on `fd`, masked to the file rights when the inode is not a directory. */
static void add_rule(int ruleset, int fd, const struct stat *st, uint64_t requested, const char *shown_path) {
  int is_dir = S_ISDIR(st->st_mode);
  uint64_t mask = is_dir ? requested : requested & LL_ACCESS_FILE;
  if (mask == 0) {
    say("skipped fs %s: not a directory, and 0x%llx has no file rights", shown_path, (unsigned long long)requested);
    return;
  }
  struct ll_path_beneath_attr attr = {.allowed_access = mask, .parent_fd = fd};
  if (ll_add_rule(ruleset, LL_RULE_PATH_BENEATH, &attr) != 0) fail_step("landlock_add_rule(%s)", shown_path);
  say("applied fs 0x%llx/0x%llx %s %s", (unsigned long long)requested, (unsigned long long)mask, is_dir ? "DIR" : "FILE",
      shown_path);
}

/* A rule on each entry of the directory `dirfd` except the carved ones. `except` holds relative paths; an entry
 * an except path names exactly is left out, one an except path goes through is descended into if it is a real
 * directory (a file there has nothing beneath it to carve, so it gets its rule). Entries are opened without
 * following links, and a link gets nothing. Entries created after this point get nothing from this grant. */
static void expand(int ruleset, uint64_t mask, int dirfd, const char *dir, char **except, int n_except) {
  int rfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) fail_step("opendir(%s)", enc(dir));
  DIR *d = fdopendir(rfd);
  if (!d) fail_step("opendir(%s)", enc(dir));
  char **deeper = xcalloc((size_t)n_except + 1, sizeof *deeper);
  struct dirent *e;
  for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
    const char *name = e->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    size_t nlen = strlen(name);
    int carved = 0, n_deeper = 0;
    for (int i = 0; i < n_except; i++) {
      const char *x = except[i];
      if (strncmp(x, name, nlen) != 0) continue;
      if (x[nlen] == '\0') carved = 1;
      else if (x[nlen] == '/') deeper[n_deeper++] = (char *)x + nlen + 1;
    }
    char *child = path_join(dir, name);
    if (carved) {
      say("carved out %s", enc(child));
      free(child);
      continue;
    }
    int efd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (efd < 0) {
      if (errno != ENOENT) fail_step("open(%s)", enc(child));
      say("skipped fs %s: %s", enc(child), strerror(errno));
      free(child);
      continue;
    }
    struct stat st;
    if (fstat(efd, &st) != 0) fail_step("fstat(%s)", enc(child));
    if (S_ISLNK(st.st_mode)) {
      say("skipped link %s", enc(child));
    } else if (n_deeper > 0 && S_ISDIR(st.st_mode)) {
      char **sub = xcalloc((size_t)n_deeper, sizeof *sub);
      memcpy(sub, deeper, (size_t)n_deeper * sizeof *sub);
      expand(ruleset, mask, efd, child, sub, n_deeper);
      free(sub);
    } else {
      add_rule(ruleset, efd, &st, mask, enc(child));
    }
    close(efd);
    free(child);
  }
  if (errno != 0) fail_step("readdir(%s)", enc(dir));
  free(deeper);
  closedir(d);
}

int build_ruleset(const struct plan *plan) {
  if ((plan->handled_fs | plan->handled_net | plan->scoped) == 0) return -1;
  struct ll_ruleset_attr attr = {
      .handled_access_fs = plan->handled_fs, .handled_access_net = plan->handled_net, .scoped = plan->scoped};
  size_t size = plan->scoped ? 24 : plan->handled_net ? 16 : 8;
  int ruleset = (int)ll_create_ruleset(&attr, size, 0);
  if (ruleset < 0) fail_step("landlock_create_ruleset(size %zu)", size);

  struct grant *grants = xcalloc(plan->n_fs, sizeof *grants);
  for (size_t i = 0; i < plan->n_fs; i++)
    if (!open_grant(&plan->fs[i], &grants[i])) grants[i].fd = -1;
  carve_resolved(grants, plan->n_fs);

  for (size_t i = 0; i < plan->n_fs; i++) {
    struct grant *g = &grants[i];
    if (g->fd < 0) continue;
    for (int k = 0; k < g->n_parts; k++) {
      const struct part *p = &g->parts[k];
      if (p->mask == 0) continue;
      if (p->n_except == 0) {
        add_rule(ruleset, g->fd, &g->st, p->mask, g->rule->encoded);
      } else {
        say("expanding %s entry by entry", g->rule->encoded);
        expand(ruleset, p->mask, g->fd, g->rule->path, p->except, p->n_except);
      }
    }
    close(g->fd);
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

void restrict_self(const struct plan *plan, int ruleset) {
  if (ll_restrict_self(ruleset, (uint32_t)plan->restrict_flags) != 0)
    fail_step("landlock_restrict_self(flags 0x%llx)", (unsigned long long)plan->restrict_flags);
  close(ruleset);
  say("landlock abi=%ld handled-fs=0x%llx handled-net=0x%llx scoped=0x%llx restrict-flags=0x%llx", plan->abi,
      (unsigned long long)plan->handled_fs, (unsigned long long)plan->handled_net, (unsigned long long)plan->scoped,
      (unsigned long long)plan->restrict_flags);
}
