/* `--trace-fd N` (sbc exec --explain): the loader forks; the child applies the sandbox and execs, the parent
 * stays outside it and traces the command with ptrace, writing one JSON line per refused access to fd N.
 * With `--trace-learn` too (sbc learn), every watched call is recorded however it ends, and a call the filter
 * would refuse is recorded and then run. Off unless asked: without the flags nothing here runs. */

#include "loader.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#if defined(__x86_64__)
#define TRACE_SUPPORTED 1
#define TRACE_ARCH AUDIT_ARCH_X86_64
#else
#define TRACE_SUPPORTED 0
#endif

/* The watch filter's RET_TRACE data: "see how this call ends". The policy's own denials carry their errno
 * (below 4096) as data, so the two cannot be confused. */
#define WATCH_DATA 0xffffu

int trace_supported(void) { return TRACE_SUPPORTED; }

/* `--trace-learn`: observe, do not enforce (the plan sbc learn sends has no Landlock ruleset and no mounts). */
static int learn_mode;
void trace_set_learn(void) { learn_mode = 1; }

#if TRACE_SUPPORTED

/* The calls Landlock or the mount layer may refuse with EACCES, EPERM, EXDEV or EROFS: stopped at their exit. */
static const int WATCHED[] = {
    SYS_open,     SYS_openat,   SYS_openat2, SYS_creat,   SYS_mkdir,   SYS_mkdirat,   SYS_mknod,    SYS_mknodat,
    SYS_unlink,   SYS_unlinkat, SYS_rmdir,   SYS_rename,  SYS_renameat, SYS_renameat2, SYS_link,    SYS_linkat,
    SYS_symlink,  SYS_symlinkat, SYS_truncate, SYS_execve, SYS_execveat, SYS_connect,  SYS_bind,
};
enum { N_WATCHED = sizeof WATCHED / sizeof WATCHED[0] };

/* arch check; load nr; one JEQ per watched call to the TRACE return; ALLOW. */
static struct sock_filter *watch_filter(unsigned short *len) {
  unsigned n = 3 + N_WATCHED + 2;
  struct sock_filter *f = xcalloc(n, sizeof *f);
  unsigned i = 0;
  f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TRACE_ARCH, 0, (unsigned char)(N_WATCHED + 1));
  f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  for (int k = 0; k < N_WATCHED; k++)
    f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)WATCHED[k], (unsigned char)(N_WATCHED - k), 0);
  f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | WATCH_DATA);
  *len = (unsigned short)i;
  return f;
}

/* The policy's filter with every `RET ERRNO(e)` turned into `RET TRACE(e)`: the tracer completes the denial
 * (the call is skipped and returns -e), so the command sees exactly what it would without --explain. */
struct sock_filter *trace_rewrite_filter(const struct sock_filter *in, unsigned short len) {
  struct sock_filter *out = xcalloc(len, sizeof *out);
  memcpy(out, in, len * sizeof *out);
  for (unsigned short i = 0; i < len; i++)
    if (out[i].code == (BPF_RET | BPF_K) && (out[i].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO)
      out[i].k = SECCOMP_RET_TRACE | (out[i].k & SECCOMP_RET_DATA);
  return out;
}

/* Installed just before the policy's filter, so that on a tie (both TRACE) the policy's, newer, decides. */
void trace_install_watch(void) {
  unsigned short len;
  struct sock_filter *f = watch_filter(&len);
  struct sock_fprog prog = {.len = len, .filter = f};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) fail_step("%s", "seccomp(watch filter)");
  free(f);
}

/* ---- the tracer ---- */

struct pending {
  pid_t pid;
  long nr;
  unsigned long long args[6];
  char *path, *path2;
  char addr[64];
  int family, port, socktype;
};
enum { N_PENDING = 1024 };
static struct pending pending[N_PENDING];
static int out_fd = -1;

static struct pending *slot(pid_t pid, int create) {
  for (unsigned i = 0; i < N_PENDING; i++)
    if (pending[i].pid == pid) return &pending[i];
  if (create)
    for (unsigned i = 0; i < N_PENDING; i++)
      if (pending[i].pid == 0) {
        pending[i].pid = pid;
        return &pending[i];
      }
  return NULL;
}

/* Forget a call; the slot keeps its pid until the tracee is gone, so a lookup finds the same slot again. */
static void clear(struct pending *p) {
  pid_t pid = p->pid;
  free(p->path);
  free(p->path2);
  memset(p, 0, sizeof *p);
  p->pid = pid;
}

/* A NUL-terminated string from the tracee, at most PATH_MAX bytes; NULL when unreadable. */
static char *read_string(pid_t pid, unsigned long long addr) {
  if (!addr) return NULL;
  char *buf = xcalloc(4097, 1);
  size_t got = 0;
  while (got < 4096) {
    /* Page by page: one read across an unmapped page would fail as a whole. */
    size_t room = 4096 - ((addr + got) & 4095);
    if (room > 4096 - got) room = 4096 - got;
    struct iovec local = {buf + got, room}, remote = {(void *)(uintptr_t)(addr + got), room};
    ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (r <= 0) break;
    if (memchr(buf + got, 0, (size_t)r)) return buf;
    got += (size_t)r;
  }
  if (got == 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static char *proc_link(pid_t pid, const char *what) {
  char link[64], *target = xcalloc(4097, 1);
  snprintf(link, sizeof link, "/proc/%d/%s", (int)pid, what);
  ssize_t n = readlink(link, target, 4096);
  if (n <= 0) {
    free(target);
    return NULL;
  }
  return target;
}

/* PATH as the tracee meant it: absolute, against its cwd or the directory DIRFD names. */
static char *resolve_at(pid_t pid, long dirfd, unsigned long long addr) {
  char *p = read_string(pid, addr);
  if (!p || p[0] == '/') return p;
  char what[32];
  if ((int)dirfd == AT_FDCWD) snprintf(what, sizeof what, "cwd");
  else snprintf(what, sizeof what, "fd/%d", (int)dirfd);
  char *base = proc_link(pid, what);
  if (!base) return p;
  char *full = p[0] ? xasprintf("%s/%s", base, p) : xstrdup(base);
  free(base);
  free(p);
  return full;
}

/* The type of the tracee's socket FD (SOCK_STREAM, SOCK_DGRAM), through a copy of it (pidfd_getfd, Linux 5.6;
 * the tracer may take it); 0 when unknown (an older kernel; before 6.9 a thread that is not its process's leader). */
static int socket_type(pid_t pid, int fd) {
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
  /* PIDFD_THREAD (Linux 6.9) names a thread that is not its process's leader, as tracees often are. */
  int pidfd = (int)syscall(SYS_pidfd_open, pid, O_EXCL);
  if (pidfd < 0) pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return 0;
  int copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
  close(pidfd);
  if (copy < 0) return 0;
  int type = 0;
  socklen_t n = sizeof type;
  if (getsockopt(copy, SOL_SOCKET, SO_TYPE, &type, &n) != 0) type = 0;
  close(copy);
  return type;
#else
  (void)pid, (void)fd;
  return 0;
#endif
}

static void read_sockaddr(pid_t pid, struct pending *p, unsigned long long addr, unsigned long long len) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (!addr || len < sizeof(sa_family_t)) return;
  if (len > sizeof ss) len = sizeof ss;
  struct iovec local = {&ss, (size_t)len}, remote = {(void *)(uintptr_t)addr, (size_t)len};
  if (process_vm_readv(pid, &local, 1, &remote, 1, 0) <= 0) return;
  p->family = ss.ss_family;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &in->sin_addr, p->addr, sizeof p->addr);
    p->port = ntohs(in->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, p->addr, sizeof p->addr);
    p->port = ntohs(in6->sin6_port);
  } else if (ss.ss_family == AF_UNIX) {
    struct sockaddr_un { sa_family_t f; char path[108]; } *un = (void *)&ss;
    size_t n = len > sizeof(sa_family_t) ? (size_t)len - sizeof(sa_family_t) : 0;
    if (n > 0 && un->path[0] != 0) {
      p->path = xcalloc(n + 1, 1);
      memcpy(p->path, un->path, n);
    }
  }
}

/* What the call names, read at its entry (the memory may change before it returns). */
static void read_operands(pid_t pid, struct pending *p) {
  unsigned long long *a = p->args;
  switch (p->nr) {
    case SYS_open: case SYS_creat: case SYS_mkdir: case SYS_mknod: case SYS_unlink: case SYS_rmdir:
    case SYS_truncate: case SYS_execve:
      p->path = resolve_at(pid, AT_FDCWD, a[0]);
      break;
    case SYS_openat: case SYS_openat2: case SYS_mkdirat: case SYS_mknodat: case SYS_unlinkat: case SYS_execveat:
      p->path = resolve_at(pid, (long)a[0], a[1]);
      break;
    case SYS_rename: case SYS_link:
      p->path = resolve_at(pid, AT_FDCWD, a[0]);
      p->path2 = resolve_at(pid, AT_FDCWD, a[1]);
      break;
    case SYS_symlink:
      p->path = resolve_at(pid, AT_FDCWD, a[1]);
      break;
    case SYS_symlinkat:
      p->path = resolve_at(pid, (long)a[1], a[2]);
      break;
    case SYS_renameat: case SYS_renameat2: case SYS_linkat:
      p->path = resolve_at(pid, (long)a[0], a[1]);
      p->path2 = resolve_at(pid, (long)a[2], a[3]);
      break;
    case SYS_connect: case SYS_bind:
      read_sockaddr(pid, p, a[1], a[2]);
      /* Learning tells a UDP peer from a TCP one (a rule's protocol); --explain asks the policy about TCP. */
      if (learn_mode && (p->family == AF_INET || p->family == AF_INET6)) p->socktype = socket_type(pid, (int)a[0]);
      break;
  }
  if (p->nr == SYS_openat2 && a[2]) {
    /* struct open_how starts with the u64 flags: record them where openat has its flags. */
    unsigned long long flags = 0;
    struct iovec local = {&flags, sizeof flags}, remote = {(void *)(uintptr_t)a[2], sizeof flags};
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == sizeof flags) p->args[2] = flags;
  }
}

static void put_json_string(char **buf, size_t *len, size_t *cap, const char *s) {
  size_t need = *len + strlen(s) * 6 + 3;
  if (need > *cap) {
    *cap = need * 2;
    *buf = xrealloc(*buf, *cap, 1);
  }
  char *o = *buf + *len;
  *o++ = '"';
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') *o++ = '\\', *o++ = (char)*c;
    else if (*c < 0x20 || *c == 0x7f) o += sprintf(o, "\\u%04x", *c);
    /* Other bytes pass as they are: a UTF-8 name reads as itself, an invalid byte as U+FFFD in Node. */
    else *o++ = (char)*c;
  }
  *o++ = '"';
  *len = (size_t)(o - *buf);
}

static void emit(const char *kind, struct pending *p, long err) {
  size_t cap = 512, len = 0;
  char *buf = xcalloc(cap, 1);
  len += (size_t)snprintf(buf, cap, "{\"kind\":\"%s\",\"pid\":%d,\"nr\":%ld,\"errno\":%ld,\"args\":[\"%llu\",\"%llu\",\"%llu\",\"%llu\",\"%llu\",\"%llu\"]",
                          kind, (int)p->pid, p->nr, err, p->args[0], p->args[1], p->args[2], p->args[3], p->args[4], p->args[5]);
  const char *names[2] = {"path", "path2"};
  char *vals[2] = {p->path, p->path2};
  for (int k = 0; k < 2; k++) {
    if (!vals[k]) continue;
    char key[16];
    snprintf(key, sizeof key, ",\"%s\":", names[k]);
    if (len + strlen(key) + 1 > cap) cap = (len + strlen(key)) * 2, buf = xrealloc(buf, cap, 1);
    memcpy(buf + len, key, strlen(key));
    len += strlen(key);
    put_json_string(&buf, &len, &cap, vals[k]);
  }
  if (p->family) {
    if (len + 128 > cap) cap = (len + 128) * 2, buf = xrealloc(buf, cap, 1);
    len += (size_t)snprintf(buf + len, cap - len, ",\"family\":%d", p->family);
    if (p->addr[0]) len += (size_t)snprintf(buf + len, cap - len, ",\"addr\":\"%s\",\"port\":%d", p->addr, p->port);
    if (p->socktype) len += (size_t)snprintf(buf + len, cap - len, ",\"socktype\":%d", p->socktype);
  }
  if (len + 3 > cap) cap = len + 3, buf = xrealloc(buf, cap, 1);
  buf[len++] = '}';
  buf[len++] = '\n';
  (void)write_all(out_fd, buf, len);
  free(buf);
}

/* A record of a call the policy's filter stopped (on the stack: no table can be too full to deny it). */
static void seccomp_record(struct pending *d, pid_t pid, long nr, const unsigned long long a[6]) {
  memset(d, 0, sizeof *d);
  d->pid = pid;
  d->nr = nr;
  memcpy(d->args, a, sizeof d->args);
  if (nr == SYS_connect || nr == SYS_bind) read_operands(pid, d);
}

static void emit_once(struct pending *d, long err) {
  emit("seccomp", d, err);
  free(d->path);
  free(d->path2);
}

static int is_refusal(long ret) { return ret == -EACCES || ret == -EPERM || ret == -EXDEV || ret == -EROFS; }

/* Trace CHILD (seized, stopped before its set-up) and everything it starts until none is left; then end the
 * way CHILD ended. */
static void trace_loop(pid_t child) __attribute__((noreturn));
static void trace_loop(pid_t child) {
  int child_status = 0;
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: nothing left */
    }
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      struct pending *p = slot(pid, 0);
      if (p) clear(p), p->pid = 0;
      if (pid == child) child_status = st;
      continue;
    }
    if (!WIFSTOPPED(st)) continue;
    int sig = WSTOPSIG(st), event = (unsigned)st >> 16;
    int resume = PTRACE_CONT, inject = 0;
    if (event == PTRACE_EVENT_SECCOMP) {
      unsigned long msg = 0;
      struct user_regs_struct regs;
      ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
      if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0) {
        /* Resumed as it is, a denied call would run: never. (ESRCH: it is gone already.) */
        kill(pid, SIGKILL);
        continue;
      }
      unsigned long long a[6] = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
      int watched = 0;
      for (int k = 0; k < N_WATCHED && !watched; k++) watched = (long)regs.orig_rax == WATCHED[k];
      if (learn_mode && (msg & 0xffff) != WATCH_DATA) {
        /* Learning: what the filter would refuse is recorded, then run, so the command completes. */
        struct pending d;
        seccomp_record(&d, pid, (long)regs.orig_rax, a);
        emit_once(&d, (long)(msg & 0xffff));
      }
      if ((msg & 0xffff) == WATCH_DATA || (learn_mode && watched)) {
        /* A record is lost when more than N_PENDING tracees are inside watched calls at once; the call is
         * not changed either way. */
        struct pending *p = slot(pid, 1);
        if (p) {
          clear(p);
          p->nr = (long)regs.orig_rax;
          memcpy(p->args, a, sizeof a);
          read_operands(pid, p);
          resume = PTRACE_SYSCALL; /* the next stop is this call's exit */
        }
      } else if (!learn_mode) {
        /* The policy denies it: record, then skip the call and return its errno, as RET_ERRNO would. The
         * record is on the stack, so that no table can be too full to deny. */
        struct pending d;
        seccomp_record(&d, pid, (long)regs.orig_rax, a);
        regs.orig_rax = (unsigned long long)-1;
        regs.rax = (unsigned long long)-(long long)(msg & 0xffff);
        if (ptrace(PTRACE_SETREGS, pid, 0, &regs) != 0) {
          kill(pid, SIGKILL);
          continue;
        }
        emit_once(&d, (long)(msg & 0xffff));
      }
    } else if (sig == (SIGTRAP | 0x80)) {
      struct pending *p = slot(pid, 0);
      struct user_regs_struct regs;
      if (p && p->nr && ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && (learn_mode || is_refusal((long)regs.rax)))
        emit("exit", p, (long)regs.rax < 0 ? -(long)regs.rax : 0);
      if (p) clear(p);
    } else if (event == PTRACE_EVENT_STOP) {
      /* The initial stop of a new tracee (SIGTRAP), or a group-stop, which must stay stopped. */
      if (sig != SIGTRAP) resume = PTRACE_LISTEN;
    } else if (event != 0) {
      /* fork, vfork, clone, exec: the new tracee reports itself; keep a pending exit watch for this one. */
      struct pending *p = slot(pid, 0);
      if (p && p->nr) resume = PTRACE_SYSCALL;
    } else {
      inject = sig; /* a signal for the command: deliver it */
    }
    ptrace(resume, pid, 0, resume == PTRACE_LISTEN ? 0 : inject);
  }
  close(out_fd);
  if (WIFEXITED(child_status)) exit(WEXITSTATUS(child_status));
  int sig = WIFSIGNALED(child_status) ? WTERMSIG(child_status) : SIGKILL;
  signal(sig, SIG_DFL);
  kill(getpid(), sig);
  exit(128 + sig);
}

/* Forks: returns in the child (to apply the sandbox and exec), after the parent has seized it; the parent
 * never returns. The signals the tracer gets are passed on to the command. */
static volatile sig_atomic_t traced_pid;
static void pass_on(int sig, siginfo_t *info, void *context) {
  (void)context;
  /* SIGINT and SIGQUIT from the terminal reach the command's process group already, as in main.c's forward. */
  if ((sig == SIGINT || sig == SIGQUIT) && info && info->si_code > 0) return;
  int saved = errno;
  if (traced_pid > 0) kill((pid_t)traced_pid, sig);
  errno = saved;
}

void trace_fork(int fd) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) fail_step("%s", "pipe");
  pid_t pid = fork();
  if (pid < 0) fail_step("%s", "fork");
  if (pid == 0) {
    close(go[1]);
    close(fd);
    char c;
    /* Wait until the parent has seized us: everything after this, the exec included, is traced. */
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    close(go[0]);
    return;
  }
  close(go[0]);
  out_fd = fd;
  /* If sbc stops reading, records are lost, not the command (SIGPIPE would end the tracer, and EXITKILL it). */
  signal(SIGPIPE, SIG_IGN);
  traced_pid = pid;
  const int passed[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGINT, SIGQUIT};
  for (unsigned i = 0; i < sizeof passed / sizeof passed[0]; i++) {
    struct sigaction sa;
    sigaction(passed[i], NULL, &sa);
    if (sa.sa_handler == SIG_IGN) continue; /* ignored by the caller: ignored for the command too */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = pass_on;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(passed[i], &sa, NULL);
  }
  long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
              PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SEIZE, pid, 0, opts) != 0) {
    int e = errno;
    kill(pid, SIGKILL);
    errno = e;
    fail_step("%s", "ptrace(PTRACE_SEIZE) of the command (--trace-fd)");
  }
  close(go[1]);
  trace_loop(pid);
}

#else

struct sock_filter *trace_rewrite_filter(const struct sock_filter *in, unsigned short len) {
  (void)in, (void)len;
  die(EXIT_LOADER, "%s", "--trace-fd: tracing is implemented for x86_64 only");
}
void trace_install_watch(void) { die(EXIT_LOADER, "%s", "--trace-fd: tracing is implemented for x86_64 only"); }
void trace_fork(int fd) {
  (void)fd;
  die(EXIT_LOADER, "%s", "--trace-fd: tracing is implemented for x86_64 only");
}

#endif
