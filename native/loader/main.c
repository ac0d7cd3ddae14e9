/* sbc-loader: apply a compiled sandbox plan (a mount layer in a private mount namespace, a Landlock ruleset, a
 * seccomp filter) to this process, then exec a command. `sbc exec` decides everything; the loader checks that
 * the plan is well formed and hands it to the kernel, refusing rather than weakening it. native/README.md is
 * the reference: plan format, exit statuses, messages, the namespace sequence, the cache's checks.
 *
 *   sbc-loader --probe
 *   sbc-loader [--report] [--param NAME=PATH]... [--namespaces MODE] --plan-fd N -- CMD ARGS...
 *   sbc-loader --check [--param NAME=PATH]... [--namespaces MODE] --plan-fd N
 *   sbc-loader --cache-key [--param NAME=PATH]... --cache-input TEXT
 *   sbc-loader [--report] [--param...] [--namespaces MODE] --cache-dir DIR --cache-input TEXT --cached -- CMD...
 *   sbc-loader --check [--param...] [--namespaces MODE] --cache-dir DIR --cache-input TEXT --cached
 *
 * A plan with mount lines runs in namespace mode: this process stays outside as the parent (it forwards
 * signals, waits, removes the directories the child created) and a child sets up the namespace and execs.
 * Without mount lines, or where no namespace can be made and the plan allows it, one process does it all
 * with Landlock alone (the fallback prints one line saying so). */

#include "loader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef __NR_close_range
#define __NR_close_range 436
#endif

/* ---- seccomp ---- */

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

/* ---- capabilities ---- */

static int cap_last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 63;
  char buf[16] = {0};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  uint64_t v;
  if (n <= 0) return 63;
  buf[strcspn(buf, "\n")] = '\0';
  return parse_decimal(buf, 63, &v) == 0 ? (int)v : 63;
}

/* No capability survives the exec: the bounding set and the ambient set are emptied and the inheritable set
 * cleared, so exec computes empty permitted and effective sets, root included. Without CAP_SETPCAP the bounding
 * set cannot be changed; no_new_privs then keeps exec from granting anything from it. */
static void drop_capabilities(void) {
  if (has_effective_cap(CAP_SETPCAP)) {
    int last = cap_last_cap();
    for (int c = 0; c <= last; c++)
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) fail_step("prctl(PR_CAPBSET_DROP, %d)", c);
  } else {
    say("capability bounding set kept: no CAP_SETPCAP here (no_new_privs keeps exec from using it)");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    fail_step("%s", "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) fail_step("%s", "capget");
  d[0].inheritable = d[1].inheritable = 0;
  if (syscall(SYS_capset, &h, d) != 0) fail_step("%s", "capset");
  say("capabilities dropped");
}

/* ---- the last steps, in both modes ---- */

/* The ABI negotiation. What counts is what the plan handles, not the ABI it was made for: a plan for ABI 10
 * that handles nothing after ABI 7 runs on ABI 7 exactly. When the kernel lacks something, the plan's
 * compatibility level decides: hard-requirement refuses; soft-requirement runs without Landlock (the mount
 * layer and the seccomp filter still apply); best-effort drops what the kernel lacks (handled rights, rule
 * rights, restrict flags; a rule left with nothing is dropped) and says what. Either way it is said before the
 * command runs (abi_note), never silently. */
static const char *const FS_NAMES[] = {"execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
                                       "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block",
                                       "make_sym", "refer", "truncate", "ioctl_dev", "resolve_unix"};
static const char *const NET_NAMES[] = {"bind_tcp", "connect_tcp", "bind_udp", "connect_send_udp"};
static const char *const SCOPE_NAMES[] = {"abstract_unix_socket", "signal"};
static const char *const FLAG_NAMES[] = {"log_same_exec_off", "log_new_exec_on", "log_subdomains_off", "tsync"};

static void append_names(char **list, uint64_t mask, const char *const *names, int n) {
  for (int b = 0; b < 64; b++) {
    if (!(mask & (1ull << b))) continue;
    char *name = b < n ? xstrdup(names[b]) : xasprintf("bit %d", b);
    char *next = *list ? xasprintf("%s, %s", *list, name) : xstrdup(name);
    free(*list);
    free(name);
    *list = next;
  }
}

static void check_abi(struct plan *plan) {
  if (plan->abi == 0) return;
  long have = landlock_abi();
  long need = landlock_abi_needed(plan);
  if (have >= need) return;
  if (plan->compat == COMPAT_HARD) die(EXIT_LOADER, "the plan needs Landlock ABI %ld, this kernel has %ld", need, have);
  uint64_t fs, net, scoped, flags;
  landlock_abi_masks(have, &fs, &net, &scoped, &flags);
  char *lost = NULL;
  append_names(&lost, plan->handled_fs & ~fs, FS_NAMES, (int)(sizeof FS_NAMES / sizeof *FS_NAMES));
  append_names(&lost, plan->handled_net & ~net, NET_NAMES, (int)(sizeof NET_NAMES / sizeof *NET_NAMES));
  append_names(&lost, plan->scoped & ~scoped, SCOPE_NAMES, (int)(sizeof SCOPE_NAMES / sizeof *SCOPE_NAMES));
  append_names(&lost, plan->restrict_flags & ~flags, FLAG_NAMES, (int)(sizeof FLAG_NAMES / sizeof *FLAG_NAMES));
  char *kernel = have > 0 ? xasprintf("this kernel has Landlock ABI %ld", have) : xstrdup("this kernel has no Landlock");
  if (plan->compat == COMPAT_SOFT || have == 0) {
    plan->abi_note = xasprintf("%s, the plan needs %ld: running WITHOUT Landlock (compatibility: %s)", kernel,
                               need, plan->compat == COMPAT_SOFT ? "soft-requirement" : "best-effort");
    plan->handled_fs = plan->handled_net = plan->scoped = plan->restrict_flags = 0;
    plan->n_fs = plan->n_net = 0;
  } else {
    plan->abi_note = xasprintf("%s, the plan needs %ld: not enforced here: %s (compatibility: best-effort)", kernel,
                               need, lost ? lost : "nothing");
    plan->handled_fs &= fs;
    plan->handled_net &= net;
    plan->scoped &= scoped;
    plan->restrict_flags &= flags;
    size_t k = 0;
    for (size_t i = 0; i < plan->n_fs; i++) {
      plan->fs[i].mask &= fs;
      if (plan->fs[i].mask) plan->fs[k++] = plan->fs[i];
    }
    plan->n_fs = k;
    k = 0;
    for (size_t i = 0; i < plan->n_net; i++) {
      plan->net[i].mask &= net;
      if (plan->net[i].mask) plan->net[k++] = plan->net[i];
    }
    plan->n_net = k;
    /* Restrict flags only go with a ruleset. */
    if ((plan->handled_fs | plan->handled_net | plan->scoped) == 0) plan->restrict_flags = 0;
  }
  free(kernel);
  free(lost);
}

/* The compiler's warnings the plan carries, and what the ABI negotiation dropped: said before anything runs,
 * however the plan arrived (a cached plan says what a compile would have said). */
static void print_plan_notes(const struct plan *plan) {
  if (plan->diagnostics) (void)write_all(2, plan->diagnostics, strlen(plan->diagnostics));
  if (plan->abi_note) {
    char *line = xasprintf("sbc: %s\n", plan->abi_note);
    (void)write_all(2, line, strlen(line));
    free(line);
  }
}

static void enforce_and_exec(const struct plan *plan, char **command) __attribute__((noreturn));
/* `--trace-fd N`: the fd the tracer writes its records to; -1 without. */
static int trace_fd = -1;
/* `--proxy-fd N`: the egress proxy's control channel to `sbc exec` (a plan with `net-proxy`); -1 without. */
static int proxy_fd = -1;

static void enforce_and_exec(const struct plan *plan, char **command) {
  /* The tracer stays outside the sandbox: it forks off here, before anything is restricted. */
  if (trace_fd >= 0) trace_fork(trace_fd);
  int ruleset = build_ruleset(plan);
  int restricts = ruleset >= 0 || plan->filter || plan->n_mounts > 0 || plan->net_proxy_port || trace_fd >= 0;
  /* Without CAP_SYS_ADMIN the kernel requires no_new_privs for both; we set it even with the capability, so the
   * sandbox cannot be left through a set-user-ID program. A plan that restricts nothing leaves it alone. */
  if (restricts && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_step("%s", "prctl(PR_SET_NO_NEW_PRIVS)");
  if (ruleset >= 0) restrict_self(plan, ruleset);
  else say("landlock none");
  if (restricts) drop_capabilities();

  if (trace_fd >= 0) trace_install_watch();
  if (plan->filter) {
    /* Reported before installing: the filter may deny write(2). */
    say("seccomp %u instructions", (unsigned)plan->filter_len);
    struct sock_filter *insns = trace_fd >= 0 ? trace_rewrite_filter(plan->filter, plan->filter_len) : plan->filter;
    struct sock_fprog prog = {.len = plan->filter_len, .filter = insns};
    if (install_filter(&prog) != 0) fail_step("%s", "seccomp(SECCOMP_SET_MODE_FILTER)");
  } else {
    say("seccomp none");
  }

  execvp(command[0], command);
  int err = errno;
  die(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, "execvp(%s): %s", shown(command[0]), strerror(err));
}

/* In namespace mode, a `!` entry is left to the mount layer when its mount line was applied in full. */
static void drop_mount_enforced(struct plan *plan) {
  for (size_t i = 0; i < plan->n_fs; i++) {
    struct fs_rule *r = &plan->fs[i];
    for (int k = 0; k < r->n_except; k++) {
      if (!r->except[k].mount_enforced) continue;
      char *full = path_join(r->path, r->except[k].rel);
      int found = 0, applied = 1;
      for (size_t j = 0; j < plan->n_mounts; j++)
        if (strcmp(plan->mounts[j].path, full) == 0) {
          found = 1;
          applied &= plan->mounts[j].applied;
        }
      r->except[k].dropped = found && applied;
      free(full);
    }
  }
}

/* ---- namespace mode: the parent ---- */

/* The signals the parent passes on to the command. SIGINT and SIGQUIT only when a process sent them: the
 * terminal sends them to the whole foreground process group, which the command is in already. */
static const int FORWARDED[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGINT, SIGQUIT};
enum { N_FORWARDED = sizeof FORWARDED / sizeof FORWARDED[0] };
static struct sigaction original_actions[N_FORWARDED];
static struct sigaction original_sigchld;
static sigset_t original_mask;
static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t signal_received;

static void forward(int sig, siginfo_t *info, void *context) {
  (void)context;
  int saved = errno;
  signal_received = sig;
  if (!((sig == SIGINT || sig == SIGQUIT) && info && info->si_code > 0) && child_pid > 0) kill((pid_t)child_pid, sig);
  errno = saved;
}

static void install_forwarding(void) {
  sigset_t block;
  sigemptyset(&block);
  for (int i = 0; i < N_FORWARDED; i++) sigaddset(&block, FORWARDED[i]);
  /* Blocked until fork has returned: a handler that ran in the child before it resets them could signal the
   * wrong process. */
  sigprocmask(SIG_BLOCK, &block, &original_mask);
  /* With SIGCHLD ignored (inherited from the caller) children are reaped by the kernel and waitpid cannot
   * report the command's status: the parent needs the default while it waits. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &dfl, &original_sigchld);
  for (int i = 0; i < N_FORWARDED; i++) {
    sigaction(FORWARDED[i], NULL, &original_actions[i]);
    /* A signal the caller ignores (a background job's SIGINT) stays ignored, for the command too. */
    if (original_actions[i].sa_handler == SIG_IGN) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(FORWARDED[i], &sa, NULL);
  }
}

static void restore_signals(void) {
  for (int i = 0; i < N_FORWARDED; i++) sigaction(FORWARDED[i], &original_actions[i], NULL);
  sigaction(SIGCHLD, &original_sigchld, NULL);
  sigprocmask(SIG_SETMASK, &original_mask, NULL);
}

/* Ends this process the way the command ended: its status, or the signal that killed it, re-raised with the
 * default action (and without a second core dump). */
static void reraise(int sig) __attribute__((noreturn));
static void exit_like(int status) __attribute__((noreturn));
static void exit_like(int status) {
  if (WIFEXITED(status)) exit(WEXITSTATUS(status));
  reraise(WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL);
}

static void reraise(int sig) {
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigaction(sig, &sa, NULL);
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, sig);
  sigprocmask(SIG_UNBLOCK, &unblock, NULL);
  kill(getpid(), sig);
  exit(128 + sig);
}

/* The child's wait status. A wait that fails says nothing about how the command ended: that is a failure of
 * the loader (125), never a success. */
static int wait_for(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail_step("waitpid(%d)", (int)pid);
  return status;
}

/* ---- directories made for missing names, and runs that share them ----
 *
 * A directory made for a missing protected name is removed by the run that made it, once nothing of that run
 * is left. Another run in the same place may meanwhile have found it existing and bound it read-only in its
 * own namespace; an rmdir on the host detaches that mount there, and the name would be free to create inside
 * that run. So every run share-locks (flock) each empty directory at a protected path before its child looks
 * at the paths, and holds the lock until it ends; the maker removes a directory only under an exclusive lock
 * it gets at once. A run that ends while a process it started still runs leaves a marker file in those
 * directories: a directory with something in it is never removed. */

#define IN_USE_MARKER ".sbc-in-use"

struct held_locks {
  int *fds;
  int n;
};

static int dir_is_empty(int fd) {
  int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0) return 0;
  DIR *d = fdopendir(dup_fd);
  if (!d) {
    close(dup_fd);
    return 0;
  }
  int empty = 1;
  for (struct dirent *e; empty && (e = readdir(d)) != NULL;)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
  closedir(d);
  return empty;
}

static void lock_shared_dirs(const struct plan *plan, struct held_locks *locks) {
  memset(locks, 0, sizeof *locks);
  for (size_t i = 1; i < plan->n_mounts; i++) {
    if (!plan->mounts[i].ro) continue;
    int fd = open(plan->mounts[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    if (!dir_is_empty(fd)) {
      close(fd);
      continue;
    }
    /* A maker holds its exclusive lock only for one rmdir; one held for long is not a maker's, and is waited
     * for no more than a moment. */
    int locked = 0;
    for (int tries = 0; tries < 200 && !locked; tries++) {
      if (flock(fd, LOCK_SH | LOCK_NB) == 0) locked = 1;
      else if (errno == EWOULDBLOCK || errno == EINTR) usleep(1000);
      else break;
    }
    if (!locked) {
      say("cannot lock %s: %s", enc(plan->mounts[i].path), strerror(errno));
      close(fd);
      continue;
    }
    locks->fds = xrealloc(locks->fds, (size_t)locks->n + 1, sizeof *locks->fds);
    locks->fds[locks->n++] = fd;
  }
}

/* The run ends while a process it started still runs: directories it relied on must outlive it. */
static void mark_in_use(const struct held_locks *locks) {
  for (int i = 0; i < locks->n; i++) {
    if (!dir_is_empty(locks->fds[i])) continue;
    int fd = openat(locks->fds[i], IN_USE_MARKER, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd >= 0) close(fd);
  }
}

/* Removes one directory the child made, if it is still an empty directory that no other run holds: rmdir
 * only, through the real parent directory opened without following a link the command may have put there. */
static void remove_created(const char *path) {
  char *parent = xstrdup(path);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent || slash[1] == '\0') {
    free(parent);
    return;
  }
  *slash = '\0';
  int pfd = open_real(parent, O_PATH | O_DIRECTORY);
  int dfd = pfd < 0 ? -1 : openat(pfd, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd >= 0 && flock(dfd, LOCK_EX | LOCK_NB) == 0) (void)unlinkat(pfd, slash + 1, AT_REMOVEDIR);
  if (dfd >= 0) close(dfd);
  if (pfd >= 0) close(pfd);
  free(parent);
}

struct child_report {
  char **created;
  int n_created;
  int ok;
  char *fail_step; /* `fail STEP ERRNO` */
  int fail_errno;
  char *refusal; /* `refuse TEXT` */
};

static char *decode_created(const char *s) {
  char *out = xcalloc(strlen(s) + 1, 1), *o = out;
  for (const char *p = s; *p; p++) {
    int hi = p[0] == '%' ? hex_digit(p[1]) : -1, lo = hi < 0 ? -1 : hex_digit(p[2]);
    if (hi >= 0 && lo >= 0) {
      *o++ = (char)(hi << 4 | lo);
      p += 2;
    } else {
      *o++ = *p;
    }
  }
  return out;
}

/* Reads the child's status lines to EOF (the child closes its end after `ok`, or exits). -1 when the pipe
 * cannot be read: then nothing is known about the child, not even whether the command already runs. */
static int read_child(int fd, struct child_report *rep) {
  char *text;
  size_t size;
  memset(rep, 0, sizeof *rep);
  if (read_all(fd, 64u << 20, &text, &size) != 0) return -1;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "created ", 8) == 0) {
      rep->created = xrealloc(rep->created, (size_t)rep->n_created + 1, sizeof *rep->created);
      rep->created[rep->n_created++] = decode_created(line + 8);
    } else if (strcmp(line, "ok") == 0) {
      rep->ok = 1;
    } else if (strncmp(line, "fail ", 5) == 0 && !rep->fail_step) {
      char *sp = strchr(line + 5, ' ');
      if (sp) *sp = '\0';
      rep->fail_step = xstrdup(line + 5);
      rep->fail_errno = sp ? errno_from_name(sp + 1) : 0;
    } else if (strncmp(line, "refuse ", 7) == 0 && !rep->refusal) {
      rep->refusal = xstrdup(line + 7);
    }
  }
  free(text);
  return 0;
}

static int int_order(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* Closes every fd from 3 up except the `n` in `fds` (any order; each >= 3). */
static void close_fds_except(const int *fds, int n) {
  int *keep = xcalloc((size_t)n + 1, sizeof *keep);
  if (n) {
    memcpy(keep, fds, (size_t)n * sizeof *keep);
    qsort(keep, (size_t)n, sizeof *keep, int_order);
  }
  struct rlimit rl;
  long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536 ? (long)rl.rlim_cur : 65536;
  unsigned from = 3;
  for (int i = 0; i <= n; i++) {
    unsigned to = i < n ? (unsigned)keep[i] : ~0u; /* close [from, to) */
    if (to > from && syscall(__NR_close_range, from, to == ~0u ? ~0u : to - 1, 0u) != 0)
      for (long fd = from; fd < (to == ~0u ? max : (long)to); fd++) close((int)fd);
    if (i < n) from = (unsigned)keep[i] + 1;
  }
  free(keep);
}

/* Closes stdin, stdout and every fd from 3 up, except the held locks. */
static void close_inherited_fds(const struct held_locks *locks) {
  close(0);
  close(1);
  close_fds_except(locks->fds, locks->n);
}

/* The child: everything happens here, then exec. */
static void namespace_child(struct plan *plan, char **command, int write_fd, pid_t parent, const char *cwd) __attribute__((noreturn));
static void namespace_child(struct plan *plan, char **command, int write_fd, pid_t parent, const char *cwd) {
  restore_signals();
  status_fd = write_fd;
  status_open = 1;
  /* If the loader dies, so does the command: it must not outlive the process that cleans up after it. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) setup_fail("pdeathsig", errno);
  if (getppid() != parent) _exit(EXIT_LOADER);
  namespace_setup(plan, cwd);
  drop_mount_enforced(plan);
  if (write_all(status_fd, "ok\n", 3) != 0) _exit(EXIT_LOADER);
  status_open = 0;
  close(status_fd);
  status_fd = -1;
  enforce_and_exec(plan, command);
}

/* Runs the plan in namespace mode. Returns only when no namespace could be made and the mode allows the
 * fallback; the caller then applies the plan with Landlock alone, in this process. */
static void run_namespace(struct plan *plan, char **command, enum ns_mode mode) {
  char *cwd = getcwd(NULL, 0);
  const char *step = NULL;
  int err = 0;
  int fds[2] = {-1, -1};
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) step = "subreaper", err = errno;
  else if (pipe2(fds, O_CLOEXEC) != 0) step = "pipe", err = errno;
  struct child_report rep;
  memset(&rep, 0, sizeof rep);
  char *child_death = NULL;
  struct held_locks locks = {0};
  if (!step) {
    lock_shared_dirs(plan, &locks);
    install_forwarding();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      namespace_child(plan, command, fds[1], parent, cwd);
    }
    int fork_errno = errno;
    child_pid = pid > 0 ? pid : 0;
    sigprocmask(SIG_SETMASK, &original_mask, NULL);
    close(fds[1]);
    if (relay_handoff_fd >= 0) close(relay_handoff_fd); /* the child passes the listener, or ends */
    relay_handoff_fd = -1;
    if (pid < 0) {
      step = "fork", err = fork_errno;
      close(fds[0]);
    } else {
      if (read_child(fds[0], &rep) != 0) {
        /* Never a fallback: the command might be running already, and would run twice. */
        int e = errno;
        kill(pid, SIGKILL);
        wait_for(pid);
        errno = e;
        fail_step("%s", "read(status pipe of the namespace child)");
      }
      close(fds[0]);
      if (rep.ok) {
        /* The command runs. Keep only stderr; wait; then, once no descendant is left (a daemon the command
         * started still uses the namespace), remove what the child created. */
        close_inherited_fds(&locks);
        int status = wait_for(pid);
        int left = 0;
        for (;;) {
          int st;
          pid_t r = waitpid(-1, &st, WNOHANG);
          if (r > 0) continue;
          if (r == 0) left = 1;
          if (r < 0 && errno == EINTR) continue;
          break;
        }
        if (!left)
          for (int i = rep.n_created - 1; i >= 0; i--) remove_created(rep.created[i]);
        else
          mark_in_use(&locks);
        exit_like(status);
      }
      int status = wait_for(pid);
      child_pid = 0;
      for (int i = rep.n_created - 1; i >= 0; i--) remove_created(rep.created[i]);
      if (rep.refusal) die(EXIT_LOADER, "%s", rep.refusal);
      if (signal_received) {
        /* A signal sent to us (or by the terminal) during set-up: end the way it asked, run nothing. */
        restore_signals();
        if (WIFSIGNALED(status)) exit_like(status);
        reraise(signal_received);
      }
      if (rep.fail_step) {
        step = rep.fail_step;
        err = rep.fail_errno;
      } else {
        step = "child";
        if (WIFSIGNALED(status)) child_death = xstrdup(signal_name(WTERMSIG(status)));
        else child_death = xasprintf("status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
      }
    }
    restore_signals();
  }
  for (int i = 0; i < locks.n; i++) close(locks.fds[i]); /* Landlock alone relies on no mount */
  prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  free(cwd);

  const char *what = child_death ? child_death : errno_name(err);
  if (plan->net_proxy_port) {
    /* Never Landlock alone: without the network namespace the command would have the host's network. */
    if (!checking) {
      char *detail = child_death ? xasprintf("child: %s", child_death) : xasprintf("%s: %s", step, strerror(err));
      char *line = xasprintf("sbc-loader: this plan routes the network through sbc's egress proxy, which needs a "
                             "network namespace, and none can be made here: %s\n"
                             "sbc-loader: help: `sbc doctor` shows what this machine lacks\n",
                             detail);
      (void)write_all(2, line, strlen(line));
    }
    exit(checking ? 1 : EXIT_LOADER);
  }
  if (mode == NS_REQUIRE) {
    if (!checking) {
      char *detail = child_death ? xasprintf("child: %s", child_death) : xasprintf("%s: %s", step, strerror(err));
      char *line = xasprintf(
          "sbc-loader: the policy requires a mount namespace, and none can be created here: %s\n"
          "sbc-loader: help: `sbc doctor` shows what this machine lacks\n",
          detail);
      (void)write_all(2, line, strlen(line));
    }
    exit(checking ? 1 : EXIT_LOADER);
  }
  char *note = plan->fallback_note ? shown_all(plan->fallback_note) : xstrdup("the mount layer's protections are missing");
  char *line = xasprintf("sbc: no mount namespace here (%s: %s); running with Landlock alone: %s\n", step, what, note);
  (void)write_all(2, line, strlen(line));
  free(line);
  free(note);
}

/* ---- the egress proxy's relay ---- */

/* A plan with `net-proxy`: this process forks before any namespace is made. The parent stays outside as the
 * relay (relay.c): it receives the listener the child makes inside the new network namespace, serves it, passes
 * signals on to the child, and ends the way the child ends. The child returns and does everything the loader
 * does without a proxy, with a network namespace added; it never keeps the control channel. */
static void start_relay(const struct plan *plan) {
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) fail_step("%s", "socketpair (egress proxy)");
  install_forwarding();
  pid_t relay = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    restore_signals();
    close(sp[0]);
    if (proxy_fd >= 0) close(proxy_fd);
    proxy_fd = -1;
    /* The variables that point the command's tools at the proxy (`sbc exec` sets the same ones itself). */
    for (int k = 0; k < plan->n_proxy_env; k++)
      if (putenv(plan->proxy_env[k]) != 0) fail_step("%s", "putenv (egress proxy)");
    relay_handoff_fd = sp[1];
    /* The command must not outlive the relay: without it, it has no network, and no one waits for it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail_step("%s", "prctl(PR_SET_PDEATHSIG)");
    if (getppid() != relay) _exit(EXIT_LOADER);
    return;
  }
  int fork_errno = errno;
  child_pid = pid > 0 ? pid : 0;
  sigprocmask(SIG_SETMASK, &original_mask, NULL);
  if (pid < 0) {
    errno = fork_errno;
    fail_step("%s", "fork (egress proxy)");
  }
  close(sp[1]);
  /* Only stderr stays: the command's stdin and stdout are not the relay's to hold open. */
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    if (null_fd > 2) close(null_fd);
  }
  /* Without a control channel (the plan's table decides) only sp[0] is kept. */
  int keep[2] = {sp[0], proxy_fd};
  close_fds_except(keep, proxy_fd >= 0 ? 2 : 1);
  signal(SIGPIPE, SIG_IGN);
  relay_plan = plan;
  if (proxy_fd < 0)
    say("net-proxy: no `sbc exec` behind the relay; it decides from the plan's table (%d name and %d address lines)",
        plan->n_proxy_names, plan->n_proxy_addrs);
  int served = relay_start(proxy_fd, sp[0]);
  int status = wait_for(pid);
  child_pid = 0; /* reaped: a signal now must not reach a process that took its pid */
  /* The command's sockets closed with it: its connections end now, and their `X` lines are worth waiting for.
   * One a process it left behind still holds is cut when the relay exits. */
  if (served) relay_drain(500);
  exit_like(status);
}

/* ---- --probe ---- */

static int probe(void) {
  long abi = landlock_abi();
  long errata = abi > 0 ? landlock_errata() : 0;
  char *ns = namespace_probe(0);
  char io_uring[32] = "absent";
  int fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? strcspn(buf, "\n") : 0] = '\0';
    uint64_t v;
    snprintf(io_uring, sizeof io_uring, "%s", n > 0 && parse_decimal(buf, 1000, &v) == 0 ? buf : "unknown");
  } else if (errno != ENOENT) {
    snprintf(io_uring, sizeof io_uring, "unknown");
  }
  printf("landlock-abi=%ld errata=0x%lx seccomp=%d namespaces=%s io-uring=%s\n", abi, (unsigned long)errata,
         seccomp_available(), ns, io_uring);
  return fflush(stdout) == 0 ? 0 : EXIT_LOADER;
}

/* ---- the command line ---- */

/* Where a plan comes from: a file descriptor, or the plan cache. */
struct source {
  int plan_fd;
  int cached;
  const char *cache_dir, *cache_input;
};

/* Reads, parses and checks a plan: its cache key (when cached), its `dep` files, the kernel's ABI. */
static void load_plan(const struct source *src, struct plan *plan) {
  size_t size;
  char key[65] = "";
  char *text;
  if (src->cached) {
    cache_key(src->cache_input, key, 0);
    text = cache_read(src->cache_dir, key, &size);
  } else {
    text = read_plan_fd(src->plan_fd, &size);
  }
  memset(plan, 0, sizeof *plan);
  parse_plan(text, size, plan);
  if (src->cached && (!plan->has_cache_key || strcmp(plan->cache_key, key) != 0))
    die(EXIT_LOADER, "the cached plan %s.plan is stale: it was not compiled for this key", key);
  check_deps(plan);
  check_abi(plan);
}

/* What a run would meet before its first change, beyond loading: seccomp, a namespace the plan requires, and
 * a protected name it would refuse (in a namespace if one is to be tried, else for Landlock alone; `auto` may
 * end in either, and the two scans differ only in whose the `!` entries are). 1 when the plan would run. */
static int would_run(const struct plan *plan, enum ns_mode mode, int explain) {
  if (plan->filter && !seccomp_available()) return 0;
  if (plan->net_proxy_port) {
    /* The relay needs a way to decide (the plan's table, or the control channel only `sbc exec` has) and a
     * network namespace. */
    if (!checking && proxy_fd < 0 && !plan->proxy_table) return 0;
    if (mode == NS_NEVER) {
      if (explain) printf("no-namespace net-proxy:namespaces-never\n");
      return 0;
    }
  }
  int ns = plan->n_mounts > 0 && mode != NS_NEVER;
  if ((ns && mode == NS_REQUIRE) || plan->net_proxy_port) {
    const char *probe = namespace_probe(plan->net_proxy_port != 0);
    if (strncmp(probe, "none", 4) == 0) {
      if (explain) printf("no-namespace %s\n", probe);
      return 0;
    }
  }
  char *where = NULL;
  char *why = refusal_scan(plan, ns, &where);
  if (!why && ns && mode == NS_AUTO) why = refusal_scan(plan, 0, &where);
  if (why) {
    if (explain) printf("refuse %s %s\n", enc(where), why);
    return 0;
  }
  return 1;
}

/* No source would run: exec the fallback with `--` and the command (bin/sbc passes the Node CLI's argv). */
static void run_fallback(char **fallback, int n, char **command) __attribute__((noreturn));
static void run_fallback(char **fallback, int n, char **command) {
  int n_cmd = 0;
  while (command[n_cmd]) n_cmd++;
  char **argv = xcalloc((size_t)n + (size_t)n_cmd + 2, sizeof *argv);
  memcpy(argv, fallback, (size_t)n * sizeof *argv);
  argv[n] = "--";
  memcpy(argv + n + 1, command, (size_t)n_cmd * sizeof *argv);
  execvp(argv[0], argv);
  die(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, "execvp(%s): %s", shown(argv[0]), strerror(errno));
}

static void usage(void) __attribute__((noreturn));

/* `--proxy-decide --plan-fd N [--resolve NAME=ADDR[,ADDR]]...`: the relay's own decisions on `Q` lines, with
 * only the names given resolving (tests compare them with lib/proxy's; decide.c). */
static int proxy_decide_mode(int argc, char **argv) {
  int plan_fd = -1;
  char **resolve = xcalloc((size_t)argc, sizeof *resolve);
  int n_resolve = 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--plan-fd") == 0 && i + 1 < argc) {
      uint64_t v;
      if (parse_decimal(argv[++i], INT_MAX, &v) != 0 || v <= 2) die(EXIT_LOADER, "--plan-fd `%s` is not a file descriptor above 2", shown(argv[i]));
      plan_fd = (int)v;
    } else if (strcmp(argv[i], "--resolve") == 0 && i + 1 < argc) {
      resolve[n_resolve++] = argv[++i];
    } else {
      usage();
    }
  }
  if (plan_fd < 0) usage();
  size_t size;
  char *text = read_plan_fd(plan_fd, &size);
  struct plan plan;
  parse_plan(text, size, &plan);
  return proxy_decide_main(&plan, resolve, n_resolve);
}

static void usage(void) {
  die(EXIT_LOADER,
      "usage: `sbc-loader --probe`, `sbc-loader --cache-key [--param NAME=PATH]... --cache-input TEXT`, "
      "`sbc-loader [--check [--explain]] [--report] [--trace-fd N [--trace-learn]] [--proxy-fd N] [--param NAME=PATH]... [--namespaces auto|require|never] "
      "(--plan-fd N | --cache-dir DIR --cache-input TEXT --cached) [-- CMD [ARGS...]]`, "
      "`sbc-loader [...] [--plan-fd N] [--cache-dir DIR --cache-input TEXT --cached] --else COUNT ARGV... -- CMD [ARGS...]`, "
      "`sbc-loader --proxy-decide --plan-fd N [--resolve NAME=ADDR[,ADDR]]...`");
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) return probe();
  if (argc >= 2 && strcmp(argv[1], "--proxy-decide") == 0) return proxy_decide_mode(argc, argv);

  int plan_fd = -1, i = 1, key_only = 0, cached = 0, cli_mode = -1, explain = 0, else_argc = 0, learning = 0;
  char **else_argv = NULL;
  const char *cache_dir = NULL, *cache_input = NULL;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    if (strcmp(a, "--report") == 0) {
      report = 1;
    } else if (strcmp(a, "--check") == 0) {
      checking = 1;
    } else if (strcmp(a, "--explain") == 0) {
      explain = 1;
    } else if (strcmp(a, "--else") == 0 && has_value) {
      uint64_t v;
      if (parse_decimal(argv[++i], 1000, &v) != 0 || v == 0 || (uint64_t)(argc - i - 1) < v)
        die(EXIT_LOADER, "--else `%s`: expected a count of 1 to 1000 and that many arguments", shown(argv[i]));
      else_argc = (int)v;
      else_argv = &argv[i + 1];
      i += else_argc;
    } else if (strcmp(a, "--cached") == 0) {
      cached = 1;
    } else if (strcmp(a, "--cache-key") == 0) {
      key_only = 1;
    } else if (strcmp(a, "--cache-dir") == 0 && has_value) {
      cache_dir = argv[++i];
    } else if (strcmp(a, "--cache-input") == 0 && has_value) {
      cache_input = argv[++i];
    } else if (strcmp(a, "--namespaces") == 0 && has_value) {
      const char *m = argv[++i];
      cli_mode = strcmp(m, "auto") == 0 ? NS_AUTO : strcmp(m, "require") == 0 ? NS_REQUIRE : strcmp(m, "never") == 0 ? NS_NEVER : -1;
      if (cli_mode < 0) die(EXIT_LOADER, "--namespaces `%s`: expected auto, require or never", shown(m));
    } else if (strcmp(a, "--param") == 0 && has_value) {
      const char *kv = argv[++i], *eq = strchr(kv, '=');
      if (!eq || eq == kv) die(EXIT_LOADER, "--param `%s`: expected NAME=PATH", shown(kv));
      char *name = xcalloc((size_t)(eq - kv) + 1, 1);
      memcpy(name, kv, (size_t)(eq - kv));
      if (!valid_param_name(name)) die(EXIT_LOADER, "--param `%s`: `%s` is not a parameter name", shown(kv), shown(name));
      cli_param_names = xrealloc(cli_param_names, (size_t)n_cli_params + 1, sizeof *cli_param_names);
      cli_param_values = xrealloc(cli_param_values, (size_t)n_cli_params + 1, sizeof *cli_param_values);
      cli_param_names[n_cli_params] = name;
      cli_param_values[n_cli_params++] = eq + 1;
    } else if (strcmp(a, "--trace-fd") == 0 && has_value) {
      uint64_t v;
      if (parse_decimal(argv[++i], INT_MAX, &v) != 0 || v <= 2) die(EXIT_LOADER, "--trace-fd `%s` is not a file descriptor above 2", shown(argv[i]));
      if (!trace_supported()) die(EXIT_LOADER, "%s", "--trace-fd: tracing is implemented for x86_64 only");
      trace_fd = (int)v;
    } else if (strcmp(a, "--trace-learn") == 0) {
      /* sbc learn: with --trace-fd, record every watched call and run what the filter would refuse. */
      trace_set_learn();
      learning = 1;
    } else if (strcmp(a, "--proxy-fd") == 0 && has_value) {
      uint64_t v;
      if (parse_decimal(argv[++i], INT_MAX, &v) != 0 || v <= 2) die(EXIT_LOADER, "--proxy-fd `%s` is not a file descriptor above 2", shown(argv[i]));
      proxy_fd = (int)v;
    } else if (strcmp(a, "--plan-fd") == 0 && has_value) {
      uint64_t v;
      if (parse_decimal(argv[++i], INT_MAX, &v) != 0) die(EXIT_LOADER, "--plan-fd `%s` is not a file descriptor", shown(argv[i]));
      plan_fd = (int)v;
    } else {
      usage();
    }
  }
  int has_command = i + 1 < argc;
  if (key_only) {
    if (checking || cached || plan_fd >= 0 || cache_dir || i != argc || !cache_input || else_argc) usage();
    char key[65];
    cache_key(cache_input, key, 1);
    return 0;
  }
  if (else_argc) {
    /* --else: sources may be both (the plan on the fd first, then the cache), the cache's flags go together. */
    if (checking || (plan_fd < 0 && !cached) || (cached != (cache_dir != NULL)) || (cached != (cache_input != NULL))) usage();
  } else if (cached ? (plan_fd >= 0 || !cache_dir || !cache_input) : (plan_fd < 0 || cache_dir || cache_input)) {
    usage();
  }
  if (checking ? i != argc : !has_command) usage();
  if (explain && !checking) usage();
  if (learning && trace_fd < 0) usage();
  if (proxy_fd >= 0 && (checking || proxy_fd == plan_fd || proxy_fd == trace_fd)) usage();
  /* A check runs no command, so its plan may come on stdin. */
  if (plan_fd >= 0 && plan_fd <= 2 && !(checking && plan_fd == 0))
    die(EXIT_LOADER, "--plan-fd %d: stdin, stdout and stderr belong to the command", plan_fd);

  struct plan plan;
  enum ns_mode mode;
  if (else_argc) {
    /* Each source in turn, with every check --check makes; the first that would run is run. When none would,
     * nothing has been changed, and the fallback (the Node CLI, from bin/sbc) runs in this process instead:
     * one process where bin/sbc used to run the loader twice, to check and then to run. */
    struct source tries[2];
    volatile int n_tries = 0, ok = 0;
    if (plan_fd >= 0) tries[n_tries++] = (struct source){.plan_fd = plan_fd};
    if (cached) tries[n_tries++] = (struct source){.plan_fd = -1, .cached = 1, .cache_dir = cache_dir, .cache_input = cache_input};
    for (volatile int t = 0; t < n_tries && !ok; t++) {
      jmp_buf env;
      if (setjmp(env) == 0) {
        try_jump = &env;
        load_plan(&tries[t], &plan);
        mode = cli_mode >= 0 ? (enum ns_mode)cli_mode : plan.namespaces;
        ok = would_run(&plan, mode, 0);
      }
      try_jump = NULL;
    }
    if (!ok) run_fallback(else_argv, else_argc, &argv[i + 1]);
    mode = cli_mode >= 0 ? (enum ns_mode)cli_mode : plan.namespaces;
  } else {
    struct source src = {.plan_fd = plan_fd, .cached = cached, .cache_dir = cache_dir, .cache_input = cache_input};
    load_plan(&src, &plan);
    mode = cli_mode >= 0 ? (enum ns_mode)cli_mode : plan.namespaces;
    if (checking) return would_run(&plan, mode, explain) ? 0 : 1;
  }
  char **command = &argv[i + 1];
  if (plan.net_proxy_port && proxy_fd < 0 && !plan.proxy_table)
    die(EXIT_LOADER, "%s", "this plan routes the network through sbc's egress proxy and carries no `proxy-table` to decide by: run it with `sbc exec`");
  if (!plan.net_proxy_port && proxy_fd >= 0) usage();
  if (plan.net_proxy_port && mode == NS_NEVER)
    die(EXIT_LOADER, "%s", "this plan routes the network through sbc's egress proxy, which needs a network namespace: "
                           "it cannot run with namespaces `never`");
  for (int k = 0; k < plan.n_params; k++) say("param %s=%s", plan.params[k].name, enc(plan.params[k].value));
  print_plan_notes(&plan);

  if (plan.net_proxy_port) {
    start_relay(&plan);
    if (plan.n_mounts == 0) netns_setup(&plan);
  }
  if (plan.n_mounts > 0 && mode != NS_NEVER) run_namespace(&plan, command, mode);
  else if (plan.n_mounts > 0) say("namespaces never: Landlock alone");
  enforce_and_exec(&plan, command);
}
