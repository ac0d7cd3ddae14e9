/* seccomp-bench: what a seccomp filter costs per syscall on the real kernel. For one syscall (number and six
 * arguments) and a list of filters, it times the call in a fresh child per measurement, with the filter
 * installed (or none), interleaving the filters over repetitions, and reports medians and the median of the
 * paired differences against the first filter. `npm run bench` (bench/seccomp.ts) runs it; see native/README.md.
 *
 *   seccomp-bench [--iters N] [--reps R] [--warmup W] NR[,A0,...,A5] FILTER...
 *
 * FILTER is a file of raw little-endian `struct sock_filter` records, or `none` for no filter. The first
 * FILTER is the baseline of the paired differences (normally `none`). Output, one line per filter:
 *
 *   filter=<i> median=<ns> min=<ns> max=<ns> delta=<ns> ret=<n> errno=<e>
 *
 * The timed calls should be harmless: the benchmark uses getppid and calls that fail (bad arguments) whether
 * or not the filter lets them through. */

#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 6
#define MAX_FILTERS 16
#define MAX_REPS 101
#define MAX_FILTER_INSNS 0xffff
/* A timed call that blocks (it should not) ends the child after this long. */
#define CHILD_ALARM_SECONDS 60

/* One measurement, written by the child into a shared page; `done` last. */
struct result {
  double ns_per_call;
  int64_t ret;
  int32_t err;
  uint32_t state; /* 0 = no answer, 1 = measured, 2 = the filter did not load */
};

struct call {
  long nr;
  unsigned long args[MAX_ARGS];
};

struct filter {
  const char *name;
  struct sock_fprog prog;
  int none;
};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int install_filter(const struct sock_fprog *prog) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) == 0) return 0;
  if (errno != ENOSYS) return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0);
}

/* Runs in the forked child; never returns. After the filter is installed, only the timed calls, the vDSO
 * clock and plain stores happen before _exit. */
static void child(const struct filter *f, const struct call *c, long iters, long warmup, volatile struct result *out) {
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  alarm(CHILD_ALARM_SECONDS);
  /* Every child sets no_new_privs, so the baseline differs from the filtered runs only by the filter. */
  if (f->none ? prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 : install_filter(&f->prog) != 0) {
    out->err = errno;
    __atomic_store_n(&out->state, 2, __ATOMIC_RELEASE);
    _exit(0);
  }
  long ret = 0;
  for (long i = 0; i < warmup; i++) ret = syscall(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) ret = syscall(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
  double t1 = now_ns();
  out->ns_per_call = (t1 - t0) / (double)iters;
  out->ret = ret;
  out->err = ret == -1 ? errno : 0;
  __atomic_store_n(&out->state, 1, __ATOMIC_RELEASE);
  _exit(0);
}

static int measure(const struct filter *f, const struct call *c, long iters, long warmup, volatile struct result *out) {
  memset((void *)out, 0, sizeof *out);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("seccomp-bench: fork");
    return -1;
  }
  if (pid == 0) child(f, c, iters, warmup, out);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      perror("seccomp-bench: waitpid");
      return -1;
    }
  uint32_t state = __atomic_load_n(&out->state, __ATOMIC_ACQUIRE);
  if (state == 1) return 0;
  if (state == 2)
    fprintf(stderr, "seccomp-bench: filter `%s` did not load: %s\n", f->name, strerror(out->err));
  else if (WIFSIGNALED(status))
    fprintf(stderr, "seccomp-bench: the child for `%s` was killed by signal %d (the filter kills this call?)\n", f->name,
            WTERMSIG(status));
  else
    fprintf(stderr, "seccomp-bench: the child for `%s` gave no answer (wait status %#x)\n", f->name, status);
  return -1;
}

static int read_filter(const char *path, struct sock_fprog *prog) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    fprintf(stderr, "seccomp-bench: cannot open `%s`: %s\n", path, strerror(errno));
    return -1;
  }
  static unsigned char buf[MAX_FILTER_INSNS * 8 + 1];
  size_t size = fread(buf, 1, sizeof buf, fp);
  int failed = ferror(fp);
  fclose(fp);
  if (failed || size == 0 || size % 8 != 0 || size > MAX_FILTER_INSNS * 8) {
    fprintf(stderr, "seccomp-bench: `%s` is not a whole number of 8-byte instructions (1 to %d)\n", path, MAX_FILTER_INSNS);
    return -1;
  }
  size_t n = size / 8;
  struct sock_filter *insns = calloc(n, sizeof *insns);
  if (!insns) return -1;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *p = buf + i * 8;
    insns[i].code = (uint16_t)(p[0] | p[1] << 8);
    insns[i].jt = p[2];
    insns[i].jf = p[3];
    insns[i].k = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
  }
  prog->len = (unsigned short)n;
  prog->filter = insns;
  return 0;
}

/* `NR[,A0,...,A5]`, each an unsigned decimal or 0x-hex number, or a negative decimal (two's complement). */
static int parse_call(const char *s, struct call *c) {
  memset(c, 0, sizeof *c);
  for (int field = 0; field <= MAX_ARGS; field++) {
    char *end;
    errno = 0;
    unsigned long v = *s == '-' ? (unsigned long)strtol(s, &end, 0) : strtoul(s, &end, 0);
    if (end == s || errno == ERANGE || (*end != ',' && *end != '\0')) return -1;
    if (field == 0)
      c->nr = (long)v;
    else
      c->args[field - 1] = v;
    if (*end == '\0') return 0;
    s = end + 1;
  }
  return -1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int usage(void) {
  fprintf(stderr, "usage: seccomp-bench [--iters N] [--reps R] [--warmup W] NR[,A0,...,A5] FILTER|none...\n");
  return 2;
}

int main(int argc, char **argv) {
  long iters = 200000, warmup = 2000;
  int reps = 11, i = 1;
  for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    long v = strtol(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "--iters") == 0 && v > 0)
      iters = v;
    else if (strcmp(argv[i], "--reps") == 0 && v > 0 && v <= MAX_REPS)
      reps = (int)v;
    else if (strcmp(argv[i], "--warmup") == 0 && v >= 0)
      warmup = v;
    else
      return usage();
  }
  if (argc - i < 2 || argc - i - 1 > MAX_FILTERS) return usage();
  struct call c;
  if (parse_call(argv[i], &c) != 0) return usage();
  int nf = argc - i - 1;
  struct filter filters[MAX_FILTERS];
  for (int f = 0; f < nf; f++) {
    filters[f].name = argv[i + 1 + f];
    filters[f].none = strcmp(filters[f].name, "none") == 0;
    if (!filters[f].none && read_filter(filters[f].name, &filters[f].prog) != 0) return 2;
  }
  volatile struct result *page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    perror("seccomp-bench: mmap");
    return 2;
  }

  static double ns[MAX_FILTERS][MAX_REPS];
  int64_t last_ret[MAX_FILTERS];
  int32_t last_err[MAX_FILTERS];
  for (int r = 0; r < reps; r++) {
    /* Rotate the order each repetition, so that no filter always runs right after the same other one. */
    for (int j = 0; j < nf; j++) {
      int f = (j + r) % nf;
      if (measure(&filters[f], &c, iters, warmup, page) != 0) return 1;
      ns[f][r] = page->ns_per_call;
      last_ret[f] = page->ret;
      last_err[f] = page->err;
    }
  }
  for (int f = 0; f < nf; f++) {
    double sorted[MAX_REPS], diff[MAX_REPS];
    for (int r = 0; r < reps; r++) {
      sorted[r] = ns[f][r];
      diff[r] = ns[f][r] - ns[0][r];
    }
    double med = median(sorted, reps);
    printf("filter=%d median=%.1f min=%.1f max=%.1f delta=%.1f ret=%lld errno=%d\n", f, med, sorted[0], sorted[reps - 1],
           median(diff, reps), (long long)last_ret[f], (int)last_err[f]);
  }
  return 0;
}
