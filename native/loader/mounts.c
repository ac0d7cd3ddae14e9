/* The mount layer, in the namespace child (native/README.md, "Namespace mode"). Every mount line gives the
 * subtree at its path two attributes, writable and executable, until a deeper line; `/` is the default.
 *
 * Phase A resolves each line's path component by component (resolve.c) into targets (real paths), the places
 * to pin (symlinks and directories on the way that the command could otherwise rename or replace) and the
 * names to create; nothing changes yet. Phase B clones every target first, while every mount still has the
 * host's flags, then makes every mount read-only (or noexec) at once, attaches the clones over their targets,
 * shallowest first, with their attributes set, creates and covers missing protected names, and pins. A line
 * is applied in full when all of that worked; Landlock then trusts it for the `!` entries.
 *
 * No flag is ever cleared: a writable target is a clone taken before everything was made read-only, so it and
 * every mount beneath it keep exactly the host's flags (read-only or noexec on the host stays so). */

#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- uapi (<linux/mount.h>), defined here: Debian 12's glibc and kernel headers disagree about them, and
 * older ones lack them. The syscall numbers are the same on every architecture (added after 5.1). ---- */

#define SBC_NR_open_tree 428
#define SBC_NR_move_mount 429
#define SBC_NR_fsopen 430
#define SBC_NR_fsconfig 431
#define SBC_NR_fsmount 432
#define SBC_NR_mount_setattr 442

#define SBC_OPEN_TREE_CLONE 1u
#define SBC_OPEN_TREE_CLOEXEC O_CLOEXEC
#define SBC_AT_RECURSIVE 0x8000
#define SBC_MOVE_MOUNT_F_EMPTY_PATH 0x04u
#define SBC_MOVE_MOUNT_T_EMPTY_PATH 0x40u
#define SBC_MOUNT_ATTR_RDONLY 0x1ull
#define SBC_MOUNT_ATTR_NOSUID 0x2ull
#define SBC_MOUNT_ATTR_NODEV 0x4ull
#define SBC_MOUNT_ATTR_NOEXEC 0x8ull
#define SBC_FSOPEN_CLOEXEC 1u
#define SBC_FSMOUNT_CLOEXEC 1u
#define SBC_FSCONFIG_SET_STRING 1u
#define SBC_FSCONFIG_CMD_CREATE 6u

struct sbc_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

static int sys_open_tree(int dfd, const char *path, unsigned flags) {
  return (int)syscall(SBC_NR_open_tree, dfd, path, flags);
}
static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags) {
  return (int)syscall(SBC_NR_move_mount, from_dfd, from, to_dfd, to, flags);
}
static int sys_mount_setattr(int dfd, const char *path, unsigned flags, uint64_t set, uint64_t clr) {
  struct sbc_mount_attr attr = {.attr_set = set, .attr_clr = clr};
  return (int)syscall(SBC_NR_mount_setattr, dfd, path, flags, &attr, sizeof attr);
}

/* ---- failing ---- */

/* netns_setup: a plan with `net-proxy` and no mount lines, which has no status pipe and no fallback. */
static int netns_alone;

void setup_fail(const char *step, int err) {
  if (netns_alone && status_fd < 0)
    die(EXIT_LOADER,
        "this plan routes the network through sbc's egress proxy, which needs a network namespace, and none can be "
        "made here: %s: %s\nsbc-loader: help: `sbc doctor` shows what this machine lacks",
        step, strerror(err));
  if (status_fd >= 0) {
    char *line = xasprintf("fail %s %s\n", step, errno_name(err));
    (void)write_all(status_fd, line, strlen(line));
    _exit(EXIT_LOADER);
  }
  errno = err;
  fail_step("%s", step);
}

static void tell_parent(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tell_parent(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *line = xvasprintf(fmt, ap);
  va_end(ap);
  if (write_all(status_fd, line, strlen(line)) != 0) setup_fail("status-pipe", errno);
  free(line);
}

int has_effective_cap(int cap) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capget, &h, d) != 0) return 0;
  return (int)((d[cap / 32].effective >> (cap % 32)) & 1u);
}

/* ---- step 1: the namespace ---- */

static int write_proc(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = write_all(fd, text, strlen(text));
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/* unshare, the id maps and MS_PRIVATE: what both the real set-up and the probe do first. `net`: a network
 * namespace too (a plan with `net-proxy`); `mounts`: a mount namespace (0 only for a plan without mount lines,
 * which needs the network namespace alone). */
static enum ns_kind enter_namespace(int net, int mounts) {
  int extra = (net ? CLONE_NEWNET : 0) | (mounts ? CLONE_NEWNS : 0);
  if (has_effective_cap(CAP_SYS_ADMIN)) {
    /* Already privileged here (root, or inside a user namespace we own): a mount namespace is enough, and
     * ids stay as they are. */
    if (unshare(extra) != 0) setup_fail("unshare", errno);
  } else {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | extra) != 0) setup_fail("unshare", errno);
    /* Ids mapped to themselves: files keep their owners, and exec drops the namespace's capabilities. */
    if (write_proc("/proc/self/setgroups", "deny") != 0 && errno != ENOENT) setup_fail("setgroups", errno);
    char map[64];
    snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
    if (write_proc("/proc/self/uid_map", map) != 0) setup_fail("uid_map", errno);
    snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
    if (write_proc("/proc/self/gid_map", map) != 0) setup_fail("gid_map", errno);
    if (mounts && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) setup_fail("mount_private", errno);
    return NS_KIND_USER;
  }
  if (mounts && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) setup_fail("mount_private", errno);
  return NS_KIND_ADMIN;
}

void netns_setup(const struct plan *plan) {
  netns_alone = 1;
  enum ns_kind kind = enter_namespace(1, 0);
  if (kind == NS_KIND_ADMIN) say("%s", "namespace admin (network namespace only)");
  else say("namespace user uid=%u gid=%u (network namespace only)", (unsigned)geteuid(), (unsigned)getegid());
  netns_listen(plan);
  netns_alone = 0;
}

char *namespace_probe(int net) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return xasprintf("none:pipe:%s", errno_name(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return xasprintf("none:fork:%s", errno_name(errno));
  }
  if (pid == 0) {
    try_jump = NULL; /* a failure here ends this child, never resumes --else's loop in it */
    close(fds[0]);
    status_fd = fds[1];
    status_open = 1;
    enum ns_kind kind = enter_namespace(net, 1);
    if (sys_mount_setattr(AT_FDCWD, "/", SBC_AT_RECURSIVE, SBC_MOUNT_ATTR_RDONLY, 0) != 0) setup_fail("mount_setattr", errno);
    int t = sys_open_tree(AT_FDCWD, "/", SBC_OPEN_TREE_CLONE | SBC_OPEN_TREE_CLOEXEC | SBC_AT_RECURSIVE);
    if (t < 0) setup_fail("open_tree", errno);
    if (sys_move_mount(t, "", AT_FDCWD, "/", SBC_MOVE_MOUNT_F_EMPTY_PATH) != 0) setup_fail("move_mount", errno);
    /* What a missing protected name needs: a new read-only tmpfs (made, not attached). */
    int fs = (int)syscall(SBC_NR_fsopen, "tmpfs", SBC_FSOPEN_CLOEXEC);
    if (fs < 0) setup_fail("fsopen", errno);
    if (syscall(SBC_NR_fsconfig, fs, SBC_FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) setup_fail("fsconfig", errno);
    if (syscall(SBC_NR_fsmount, fs, SBC_FSMOUNT_CLOEXEC, (unsigned)SBC_MOUNT_ATTR_RDONLY) < 0) setup_fail("fsmount", errno);
    const char *ok = kind == NS_KIND_ADMIN ? "ok admin\n" : "ok user\n";
    (void)write_all(status_fd, ok, strlen(ok));
    _exit(0);
  }
  close(fds[1]);
  char *text;
  size_t size;
  int r = read_all(fds[0], 4096, &text, &size);
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (r != 0) return xasprintf("none:pipe:%s", errno_name(errno));
  char *out;
  char step[64], err[64];
  if (strcmp(text, "ok user\n") == 0) out = xstrdup("user");
  else if (strcmp(text, "ok admin\n") == 0) out = xstrdup("admin");
  else if (sscanf(text, "fail %63s %63s", step, err) == 2) out = xasprintf("none:%s:%s", step, err);
  else if (WIFSIGNALED(status)) out = xasprintf("none:child:%s", signal_name(WTERMSIG(status)));
  else out = xasprintf("none:child:status-%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  free(text);
  return out;
}

/* ---- phase A: resolve ---- */

struct target {
  char *real;
  int ro, noexec;
  int created;       /* missing: made in phase B (mkdir + an empty read-only tmpfs) */
  char *base;        /* created: the deepest existing real ancestor */
  char **missing;    /* created: the components to make under base */
  int n_missing;
  dev_t dev;         /* existing: what phase A saw (created: the base) */
  ino_t ino;
  int tree;         /* existing: its clone, taken before step 1 (-1 until then) */
  int depth, order;
  int *lines;
  int n_lines;
};

struct pin {
  char *path;
  int link;
  dev_t dev;
  ino_t ino;
  int *lines;
  int n_lines;
};

static struct target *targets;
static int n_targets;
static struct pin *pins;
static int n_pins;
static int root_ro, root_noexec;

static void add_line(int **lines, int *n, int line) {
  for (int i = 0; i < *n; i++)
    if ((*lines)[i] == line) return;
  *lines = xrealloc(*lines, (size_t)*n + 1, sizeof **lines);
  (*lines)[(*n)++] = line;
}

static struct target *find_target(const char *real) {
  for (int i = 0; i < n_targets; i++)
    if (strcmp(targets[i].real, real) == 0) return &targets[i];
  return NULL;
}

/* Targets with the same real path are merged: read-only wins, noexec wins. A target that is `/` itself
 * joins the `/` line (step 1): a mount over the root directory would not be seen by path lookups, which start
 * at the process's root beneath it. */
static struct target *add_target(const char *real, int ro, int noexec, int line) {
  if (strcmp(real, "/") == 0) {
    static struct target root_target;
    root_ro |= ro;
    root_noexec |= noexec;
    return &root_target;
  }
  struct target *t = find_target(real);
  if (!t) {
    targets = xrealloc(targets, (size_t)n_targets + 1, sizeof *targets);
    t = &targets[n_targets];
    memset(t, 0, sizeof *t);
    t->real = xstrdup(real);
    t->tree = -1;
    t->depth = path_depth(real);
    t->order = n_targets++;
  }
  t->ro |= ro;
  t->noexec |= noexec;
  add_line(&t->lines, &t->n_lines, line);
  return t;
}

/* The attributes a real path will have: those of the deepest target at or above it (`/` by default). */
static void region_of(const char *real, int *ro, int *noexec) {
  *ro = root_ro;
  *noexec = root_noexec;
  size_t best = 0;
  for (int i = 0; i < n_targets; i++) {
    size_t len = strlen(targets[i].real);
    if (len > best && path_within(real, targets[i].real)) {
      best = len;
      *ro = targets[i].ro;
      *noexec = targets[i].noexec;
    }
  }
}

static int region_writable(const char *real) {
  int ro, noexec;
  region_of(real, &ro, &noexec);
  return !ro;
}

static void add_pin(const char *path, int link, dev_t dev, ino_t ino, int line) {
  struct pin *p = NULL;
  for (int i = 0; i < n_pins && !p; i++)
    if (strcmp(pins[i].path, path) == 0) p = &pins[i];
  if (!p) {
    pins = xrealloc(pins, (size_t)n_pins + 1, sizeof *pins);
    p = &pins[n_pins++];
    *p = (struct pin){.path = xstrdup(path), .link = link, .dev = dev, .ino = ino};
  }
  add_line(&p->lines, &p->n_lines, line);
}

/* Records what a walk went through, for the pins decided once every target is known. Each walk is allocated
 * on its own: pointers to it are kept while more walks are added. */
struct pending_walk {
  struct walk *w;
  int line;
};
static struct pending_walk *walks;
static int n_walks;

static struct walk *new_walk(int line) {
  walks = xrealloc(walks, (size_t)n_walks + 1, sizeof *walks);
  struct walk *w = xcalloc(1, sizeof *w);
  walks[n_walks++] = (struct pending_walk){.w = w, .line = line};
  return w;
}

static void not_applied(struct plan *plan, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void not_applied(struct plan *plan, int line, const char *fmt, ...) {
  struct mount_line *m = &plan->mounts[line];
  if (m->applied) {
    va_list ap;
    va_start(ap, fmt);
    char *why = xvasprintf(fmt, ap);
    va_end(ap);
    say("not applied mount %s: %s", m->encoded, why);
    free(why);
  }
  m->applied = 0;
}

static void refuse_changed(const char *real) {
  die(EXIT_LOADER, "%s changed while sbc set up the mount namespace; run the command again", enc(real));
}

/* Targets a line reaches elsewhere — through a symlink, or a gitfile's repository — are added once every
 * line's own targets are known, and take only the attributes the line changes against the line lexically
 * above it (the rest from the region they land in): a line there to make a place noexec must not make what
 * its link points at writable, and a protected `.git` link must not make its target executable in a noexec
 * place. A gitfile's repository only ever gets restrictions. */
struct indirect {
  char *real;
  int line;
  int denying_only; /* a gitfile's repository */
  dev_t dev;
  ino_t ino;
};
static struct indirect *indirects;
static int n_indirects;

static void defer_target(const char *real, int line, int denying_only, dev_t dev, ino_t ino) {
  indirects = xrealloc(indirects, (size_t)n_indirects + 1, sizeof *indirects);
  indirects[n_indirects++] = (struct indirect){.real = xstrdup(real), .line = line, .denying_only = denying_only, .dev = dev, .ino = ino};
}

/* The nearest earlier line whose path is a proper ancestor of line i's (the root line when none). */
static const struct mount_line *line_above(const struct plan *plan, int i) {
  const struct mount_line *above = &plan->mounts[0];
  for (int j = 1; j < i; j++) {
    const struct mount_line *m = &plan->mounts[j];
    if (!m->file && path_below(plan->mounts[i].path, m->path) && strlen(m->path) > strlen(above->path)) above = m;
  }
  return above;
}

static void add_indirect_targets(const struct plan *plan) {
  for (int k = 0; k < n_indirects; k++) {
    const struct indirect *x = &indirects[k];
    const struct mount_line *m = &plan->mounts[x->line], *above = line_above(plan, x->line);
    int region_ro, region_noexec;
    region_of(x->real, &region_ro, &region_noexec);
    int ro = m->ro != above->ro && (m->ro || !x->denying_only) ? m->ro : region_ro;
    int noexec = m->noexec != above->noexec && (m->noexec || !x->denying_only) ? m->noexec : region_noexec;
    struct target *t = add_target(x->real, ro, noexec, x->line);
    t->dev = x->dev;
    t->ino = x->ino;
    if (report) say("%s reaches %s through a link: %s %s there", plan->mounts[x->line].encoded, enc(x->real), ro ? "ro" : "rw", noexec ? "noexec" : "exec");
  }
}

/* Resolves one line (plan order) into targets, or a missing record, a refusal or "not applied". */
static void resolve_line(struct plan *plan, int i, struct walk **missing_walk) {
  struct mount_line *m = &plan->mounts[i];
  int denies = m->ro || m->noexec;
  struct walk *w = new_walk(i);
  walk_path("/", m->path + 1, 0, w);
  *missing_walk = NULL;
  if (w->status == WALK_UNREACHABLE) {
    not_applied(plan, i, "%s: a directory on the way cannot be searched", strerror(w->err));
    return;
  }
  if (w->status == WALK_DANGLING) {
    /* A writable root that leads nowhere has nothing to enforce; a protected name that does is refused:
     * the command could create what it points at. A `mount-file` line only allows: nothing to apply. */
    if (m->file) {
      not_applied(plan, i, "%s", "it is a link that does not resolve");
      return;
    }
    if (!denies) return;
    die(EXIT_LOADER, "%s", dangling_message(m->encoded, m->path, w));
  }
  if (w->status == WALK_MISSING) {
    /* A `mount-file` line covers a file that exists: nothing to hold when it does not. */
    if (m->file) not_applied(plan, i, "%s", "it does not exist");
    else *missing_walk = w;
    return;
  }
  if (m->file && S_ISDIR(w->mode)) {
    /* An exact allow says nothing about what is beneath a directory: its attributes stay its region's. */
    not_applied(plan, i, "%s", "it is a directory");
    return;
  }
  if (w->n_links > 0) defer_target(w->real, i, 0, w->dev, w->ino);
  else {
    struct target *t = add_target(w->real, m->ro, m->noexec, i);
    t->dev = w->dev;
    t->ino = w->ino;
  }
  const char *slash = strrchr(m->path, '/');
  if (denies && S_ISREG(w->mode) && strcmp(slash + 1, ".git") == 0) {
    /* A worktree's or submodule's `.git` file: what it names is the repository, protected the same way. */
    char *gitdir, *commondir, *why;
    struct walk *gw = new_walk(i), *cw = new_walk(i);
    if (read_gitfile(w->real, w->parent, &gitdir, &commondir, &why, gw, cw) < 0)
      die(EXIT_LOADER, "%s is a gitfile that %s: sbc cannot protect what it points at; fix or remove the file",
          spelled_path(m->encoded, m->path), why);
    if (gitdir) defer_target(gitdir, i, 1, gw->dev, gw->ino);
    if (commondir) defer_target(commondir, i, 1, cw->dev, cw->ino);
  }
}

static int by_depth(const void *a, const void *b) {
  const struct target *x = a, *y = b;
  if (x->depth != y->depth) return x->depth - y->depth;
  return x->order - y->order;
}

struct missing_record {
  struct walk *w;
  int line;
  int depth;
};

static int missing_by_depth(const void *a, const void *b) {
  const struct missing_record *x = a, *y = b;
  if (x->depth != y->depth) return x->depth - y->depth;
  return x->line - y->line;
}

/* Is the deepest existing ancestor of a missing path a directory (else the path lies beneath a file)? */
static int mw_base_is_dir(const struct walk *w) {
  struct stat st;
  return lstat(w->real, &st) == 0 && S_ISDIR(st.st_mode);
}

static void phase_a(struct plan *plan) {
  root_ro = plan->mounts[0].ro;
  root_noexec = plan->mounts[0].noexec;
  for (size_t i = 0; i < plan->n_mounts; i++) plan->mounts[i].applied = 1;

  struct missing_record *missing = xcalloc(plan->n_mounts, sizeof *missing);
  int n_missing = 0;
  for (size_t i = 1; i < plan->n_mounts; i++) {
    struct walk *mw;
    resolve_line(plan, (int)i, &mw);
    if (mw && !mw_base_is_dir(mw)) {
      /* Beneath a file nothing can exist: there is nothing to mount, and Landlock keeps the line's carve-out
       * (the command cannot make the file a directory without rights on its parent, which that carve-out
       * withholds). */
      not_applied(plan, (int)i, "%s is not a directory", enc(mw->real));
      continue;
    }
    if (mw) {
      char *full = xstrdup(mw->real);
      for (int k = 0; k < mw->n_missing; k++) {
        char *next = path_join(full, mw->missing[k]);
        free(full);
        full = next;
      }
      missing[n_missing++] = (struct missing_record){.w = mw, .line = (int)i, .depth = path_depth(full)};
      free(full);
    }
  }

  /* A protected name that does not exist is created where the command could otherwise create it: under a
   * writable region. Shallower names first, so one created inside another is covered by it instead. */
  qsort(missing, (size_t)n_missing, sizeof *missing, missing_by_depth);
  for (int k = 0; k < n_missing; k++) {
    struct mount_line *m = &plan->mounts[missing[k].line];
    struct walk *w = missing[k].w;
    char *full = xstrdup(w->real);
    for (int c = 0; c < w->n_missing; c++) {
      char *next = path_join(full, w->missing[c]);
      free(full);
      full = next;
    }
    int region_ro, region_noexec;
    region_of(w->real, &region_ro, &region_noexec);
    const struct target *known = find_target(full);
    if (known && !known->created) refuse_changed(full); /* missing for one line, present for another */
    if (m->ro && !region_ro) {
      struct target *t = add_target(full, 1, m->noexec, missing[k].line);
      if (!t->created) {
        t->created = 1;
        t->base = xstrdup(w->real);
        t->missing = w->missing;
        t->n_missing = w->n_missing;
        struct stat st;
        if (lstat(w->real, &st) != 0) refuse_changed(w->real);
        t->dev = st.st_dev;
        t->ino = st.st_ino;
      }
    } else if (m->noexec) {
      not_applied(plan, missing[k].line, "%s does not exist, and a noexec mount needs something to cover", enc(full));
    } else {
      say("nothing to mount for %s: %s does not exist%s", m->encoded, enc(full), m->ro ? " and cannot be created" : "");
    }
    free(full);
  }
  free(missing);
  add_indirect_targets(plan);

  /* Pins: wherever the command could rename or replace a directory or link that leads to a target (its
   * parent is writable), a bind of the thing over itself makes it a mount point: EBUSY. */
  for (int k = 0; k < n_walks; k++) {
    struct walk *w = walks[k].w;
    const struct mount_line *m = &plan->mounts[walks[k].line];
    if ((!m->ro && !m->noexec) || m->file) continue; /* a writable root, or an exact allow, keeps nothing in place */
    for (int i = 0; i < w->n_links; i++)
      if (region_writable(w->links[i].parent)) add_pin(w->links[i].path, 1, w->links[i].dev, w->links[i].ino, walks[k].line);
    for (int i = 0; i < w->n_dirs; i++) {
      const struct target *t = find_target(w->dirs[i].path);
      if ((!t || t->created) && region_writable(w->dirs[i].parent))
        add_pin(w->dirs[i].path, 0, w->dirs[i].dev, w->dirs[i].ino, walks[k].line);
    }
  }
  /* The real directories above each target too: a link's target can be moved away with its parent. */
  int n_existing = n_targets;
  for (int i = 0; i < n_existing; i++) {
    if (!targets[i].ro && !targets[i].noexec) continue;
    int protects = 0;
    for (int l = 0; l < targets[i].n_lines; l++) protects |= !plan->mounts[targets[i].lines[l]].file;
    if (!protects) continue; /* only `mount-file` lines: an exact allow keeps nothing in place */
    char *real = targets[i].created ? targets[i].base : targets[i].real;
    char *prefix = xstrdup(real);
    for (char *slash = strchr(prefix + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
      *slash = '\0';
      char *parent = xstrdup(prefix);
      char *p = strrchr(parent, '/');
      if (p == parent) p[1] = '\0';
      else *p = '\0';
      const struct target *t = find_target(prefix);
      if ((!t || t->created) && region_writable(parent)) {
        struct stat st;
        if (lstat(prefix, &st) != 0 || !S_ISDIR(st.st_mode)) refuse_changed(prefix);
        for (int l = 0; l < targets[i].n_lines; l++) add_pin(prefix, 0, st.st_dev, st.st_ino, targets[i].lines[l]);
      }
      free(parent);
      *slash = '/';
    }
    if (targets[i].created) {
      /* The base itself, when it is not a mount point of ours. */
      const struct target *t = find_target(real);
      char *parent = xstrdup(real);
      char *p = strrchr(parent, '/');
      if (p == parent) p[1] = '\0';
      else *p = '\0';
      if (strcmp(real, "/") != 0 && !t && region_writable(parent)) {
        struct stat st;
        if (lstat(real, &st) != 0 || !S_ISDIR(st.st_mode)) refuse_changed(real);
        for (int l = 0; l < targets[i].n_lines; l++) add_pin(real, 0, st.st_dev, st.st_ino, targets[i].lines[l]);
      }
      free(parent);
    }
    free(prefix);
  }
}

/* ---- phase B: apply ---- */

/* Opens a target's real path and checks it is what phase A saw. */
static int open_target(const struct target *t) {
  int fd = open_real(t->real, O_PATH | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != t->dev || st.st_ino != t->ino) refuse_changed(t->real);
  return fd;
}

/* Before step 1: a clone of the target's tree, which keeps the host's flags on every mount in it, with the
 * target's own attributes set (setting works on a detached tree; nothing is ever cleared). */
static void clone_target(struct target *t) {
  int fd = open_target(t);
  if (!t->ro && report) {
    struct statvfs sv;
    if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY)) say("host read-only %s stays read-only", enc(t->real));
  }
  t->tree = sys_open_tree(fd, "", SBC_OPEN_TREE_CLONE | SBC_OPEN_TREE_CLOEXEC | SBC_AT_RECURSIVE | AT_EMPTY_PATH);
  if (t->tree < 0) setup_fail("open_tree", errno);
  uint64_t set = (t->ro ? SBC_MOUNT_ATTR_RDONLY : 0) | (t->noexec ? SBC_MOUNT_ATTR_NOEXEC : 0);
  if (set && sys_mount_setattr(t->tree, "", AT_EMPTY_PATH | SBC_AT_RECURSIVE, set, 0) != 0) setup_fail("mount_setattr", errno);
  close(fd);
}

/* After step 1 and every shallower target: the clone goes over whatever the path leads to now. */
static void attach_target(struct target *t) {
  int fd = open_target(t);
  if (sys_move_mount(t->tree, "", fd, "", SBC_MOVE_MOUNT_F_EMPTY_PATH | SBC_MOVE_MOUNT_T_EMPTY_PATH) != 0)
    setup_fail("move_mount", errno);
  close(t->tree);
  t->tree = -1;
  close(fd);
  say("mounted %s %s %s", t->ro ? "ro" : "rw", t->noexec ? "noexec" : "exec", enc(t->real));
}

/* The directories this run made (for another missing name on the same way): found again, not made twice. */
static char **made_here;
static int n_made_here;

static int made_by_us(const char *path) {
  for (int i = 0; i < n_made_here; i++)
    if (strcmp(made_here[i], path) == 0) return 1;
  return 0;
}

static void mount_created(struct plan *plan, struct target *t) {
  int dirfd = open_real(t->base, O_PATH | O_NOFOLLOW | O_DIRECTORY);
  struct stat st;
  if (dirfd < 0 || fstat(dirfd, &st) != 0 || st.st_dev != t->dev || st.st_ino != t->ino) refuse_changed(t->base);
  char *path = xstrdup(t->base);
  for (int k = 0; k < t->n_missing; k++) {
    char *next = path_join(path, t->missing[k]);
    free(path);
    path = next;
    if (mkdirat(dirfd, t->missing[k], 0755) == 0) {
      made_here = xrealloc(made_here, (size_t)n_made_here + 1, sizeof *made_here);
      made_here[n_made_here++] = xstrdup(path);
      tell_parent("created %s\n", enc(path));
      say("created %s", enc(path));
    } else if (!(errno == EEXIST && k + 1 < t->n_missing && made_by_us(path))) {
      int e = errno;
      for (int l = 0; l < t->n_lines; l++) not_applied(plan, t->lines[l], "mkdir: %s", strerror(e));
      close(dirfd);
      free(path);
      return;
    }
    int nfd = openat(dirfd, t->missing[k], O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (nfd < 0 || fstat(nfd, &st) != 0) setup_fail("openat", errno);
    if (k + 1 < t->n_missing)
      for (int l = 0; l < t->n_lines; l++) add_pin(path, 0, st.st_dev, st.st_ino, t->lines[l]);
    close(dirfd);
    dirfd = nfd;
  }
  /* An empty read-only tmpfs over the new directory: nothing can be made in it, and it cannot be removed. */
  int fs = (int)syscall(SBC_NR_fsopen, "tmpfs", SBC_FSOPEN_CLOEXEC);
  if (fs < 0) setup_fail("fsopen", errno);
  if (syscall(SBC_NR_fsconfig, fs, SBC_FSCONFIG_SET_STRING, "mode", "0555", 0) != 0) setup_fail("fsconfig", errno);
  if (syscall(SBC_NR_fsconfig, fs, SBC_FSCONFIG_SET_STRING, "size", "4k", 0) != 0) setup_fail("fsconfig", errno);
  if (syscall(SBC_NR_fsconfig, fs, SBC_FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) setup_fail("fsconfig", errno);
  uint64_t attrs = SBC_MOUNT_ATTR_RDONLY | SBC_MOUNT_ATTR_NOSUID | SBC_MOUNT_ATTR_NODEV | (t->noexec ? SBC_MOUNT_ATTR_NOEXEC : 0);
  int mnt = (int)syscall(SBC_NR_fsmount, fs, SBC_FSMOUNT_CLOEXEC, (unsigned)attrs);
  if (mnt < 0) setup_fail("fsmount", errno);
  if (sys_move_mount(mnt, "", dirfd, "", SBC_MOVE_MOUNT_F_EMPTY_PATH | SBC_MOVE_MOUNT_T_EMPTY_PATH) != 0)
    setup_fail("move_mount", errno);
  close(mnt);
  close(fs);
  close(dirfd);
  say("mounted ro %s %s (empty)", t->noexec ? "noexec" : "exec", enc(t->real));
  free(path);
}

static void make_pin(struct plan *plan, const struct pin *p) {
  int fd = open_real(p->path, O_PATH | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != p->dev || st.st_ino != p->ino ||
      (p->link ? !S_ISLNK(st.st_mode) : !S_ISDIR(st.st_mode)))
    refuse_changed(p->path);
  unsigned flags = SBC_OPEN_TREE_CLONE | SBC_OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (p->link ? 0 : SBC_AT_RECURSIVE);
  int tree = sys_open_tree(fd, "", flags);
  int ok = tree >= 0 && sys_move_mount(tree, "", fd, "", SBC_MOVE_MOUNT_F_EMPTY_PATH | SBC_MOVE_MOUNT_T_EMPTY_PATH) == 0;
  int e = errno;
  if (tree >= 0) close(tree);
  close(fd);
  if (!ok) {
    for (int l = 0; l < p->n_lines; l++) not_applied(plan, p->lines[l], "cannot pin %s", enc(p->path));
    say("pin failed %s: %s", enc(p->path), strerror(e));
    return;
  }
  say("pinned %s %s", p->link ? "link" : "dir", enc(p->path));
}

static void phase_b(struct plan *plan) {
  struct target *sorted = xcalloc((size_t)n_targets, sizeof *sorted);
  if (n_targets) {
    memcpy(sorted, targets, (size_t)n_targets * sizeof *sorted);
    qsort(sorted, (size_t)n_targets, sizeof *sorted, by_depth);
  }

  /* One clone fd per existing target is open at once: make room for them (given back before the exec). */
  struct rlimit old, more;
  int raised = 0;
  if (getrlimit(RLIMIT_NOFILE, &old) == 0 && old.rlim_cur != RLIM_INFINITY && (rlim_t)n_targets + 64 > old.rlim_cur) {
    more = old;
    more.rlim_cur = old.rlim_max == RLIM_INFINITY || (rlim_t)n_targets + 64 < old.rlim_max ? (rlim_t)n_targets + 64 : old.rlim_max;
    raised = setrlimit(RLIMIT_NOFILE, &more) == 0;
  }
  for (int i = 0; i < n_targets; i++)
    if (!sorted[i].created) clone_target(&sorted[i]);

  uint64_t root = (root_ro ? SBC_MOUNT_ATTR_RDONLY : 0) | (root_noexec ? SBC_MOUNT_ATTR_NOEXEC : 0);
  if (root && sys_mount_setattr(AT_FDCWD, "/", SBC_AT_RECURSIVE, root, 0) != 0) setup_fail("mount_setattr", errno);
  say("mounted %s %s /", root_ro ? "ro" : "rw", root_noexec ? "noexec" : "exec");

  for (int i = 0; i < n_targets; i++) {
    if (sorted[i].created) mount_created(plan, &sorted[i]);
    else attach_target(&sorted[i]);
  }
  free(sorted);
  if (raised && setrlimit(RLIMIT_NOFILE, &old) != 0) setup_fail("setrlimit", errno);
  for (int i = 0; i < n_pins; i++) make_pin(plan, &pins[i]);
}

void namespace_setup(struct plan *plan, const char *saved_cwd) {
  enum ns_kind kind = enter_namespace(plan->net_proxy_port != 0, 1);
  const char *net = plan->net_proxy_port ? " and a network namespace" : "";
  if (kind == NS_KIND_ADMIN) say("namespace admin (mount namespace%s)", net);
  else say("namespace user uid=%u gid=%u%s", (unsigned)geteuid(), (unsigned)getegid(), net);
  if (plan->net_proxy_port) netns_listen(plan);
  phase_a(plan);
  phase_b(plan);
  for (size_t i = 0; i < plan->n_mounts; i++)
    if (plan->mounts[i].applied) say("applied mount %s", plan->mounts[i].encoded);
  /* The cwd still points into the mount that was there before; the command must start in the new one. */
  if (!saved_cwd || chdir(saved_cwd) != 0) setup_fail("chdir", saved_cwd ? errno : ENOENT);
}
