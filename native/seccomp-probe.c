/* seccomp-probe: load a seccomp-BPF filter into a fresh child process and report what one syscall does
 * under it. The kernel tests use it to prove compiled filters on the real kernel; see native/README.md for
 * why this is C and for the line protocol.
 *
 *   seccomp-probe FILTER_FILE     FILTER_FILE holds raw little-endian `struct sock_filter` bytes; requests
 *                                 `NR A0 A1 A2 A3 A4 A5` are read from stdin, one per line, one answer line each
 *   seccomp-probe --selftest      prints `seccomp ok` if a trivial ALLOW filter can be installed and obeyed
 *
 * The child installs the filter as its last act before the probed syscall and reports through a shared
 * anonymous page, never through a syscall: the filter under test may deny write, exit and everything else. */

#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 6
/* struct sock_fprog.len is an unsigned short; anything longer cannot even be handed to the kernel. */
#define MAX_FILTER_INSNS 0xffff
/* A probed syscall that blocks (it should not: the tests pick harmless calls) is ended by SIGALRM. */
#define CHILD_ALARM_SECONDS 10

enum answer_state { ANSWER_NONE = 0, ANSWER_RETURNED = 1, ANSWER_LOAD_ERROR = 2 };

/* Written by the child, read by the parent after waitpid. `seq` is stored last (release) and names the request
 * it answers, so an answer is never mistaken for that of an earlier request. */
struct answer {
  uint64_t seq;
  uint32_t state;
  int32_t err;
  int64_t ret;
};

struct request {
  long nr;
  unsigned long args[MAX_ARGS];
};

static int install_filter(const struct sock_fprog *prog) {
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) == 0) return 0;
  if (errno != ENOSYS) return -1;
  /* Kernels before 3.17 have no seccomp(2); the prctl form installs the same filter. */
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0);
}

static void publish(volatile struct answer *page, uint64_t seq, uint32_t state, int64_t ret, int32_t err) {
  page->state = state;
  page->ret = ret;
  page->err = err;
  __atomic_store_n(&page->seq, seq, __ATOMIC_RELEASE);
}

/* Runs in the forked child; never returns. Everything that needs a syscall happens before the filter is
 * installed; after it come only the probed syscall, plain memory stores, and the attempt to exit. */
static void child(const struct sock_fprog *prog, const struct request *rq, volatile struct answer *page,
                  uint64_t seq) {
  /* No core files: TRAP and KILL end the child with SIGSYS, which dumps core by default (and core_pattern may
   * be a relative path, i.e. the caller's working directory). */
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  alarm(CHILD_ALARM_SECONDS);

  /* Root could skip this, but the probe must behave the same for every user. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || install_filter(prog) != 0) {
    publish(page, seq, ANSWER_LOAD_ERROR, -1, errno);
    _exit(0);
  }

  long ret = syscall(rq->nr, rq->args[0], rq->args[1], rq->args[2], rq->args[3], rq->args[4], rq->args[5]);
  int err = ret == -1 ? errno : 0;
  publish(page, seq, ANSWER_RETURNED, ret, err);
  /* exit_group may be denied too; then glibc falls back to exit and finally to a faulting instruction. Either
   * way the child ends, and the answer is already in the page. */
  _exit(0);
}

/* One request: fork, wait, print one line. Returns 0, or -1 on a failure of the probe itself. */
static int probe(const struct sock_fprog *prog, const struct request *rq, volatile struct answer *page,
                 uint64_t seq) {
  memset((void *)page, 0, sizeof *page);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("seccomp-probe: fork");
    return -1;
  }
  if (pid == 0) child(prog, rq, page, seq);

  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("seccomp-probe: waitpid");
      return -1;
    }
  }
  if (__atomic_load_n(&page->seq, __ATOMIC_ACQUIRE) == seq) {
    if (page->state == ANSWER_LOAD_ERROR)
      printf("load-error errno=%d\n", (int)page->err);
    else
      printf("ret=%lld errno=%d\n", (long long)page->ret, (int)page->err);
  } else if (WIFSIGNALED(status)) {
    printf("signal=%d\n", WTERMSIG(status));
  } else if (WIFEXITED(status)) {
    /* The probed syscall itself ended the process (exit, exit_group). */
    printf("exited=%d\n", WEXITSTATUS(status));
  } else {
    fprintf(stderr, "seccomp-probe: unexpected wait status %#x\n", status);
    return -1;
  }
  fflush(stdout);
  return 0;
}

static int parse_u64(const char **cursor, unsigned long long *out) {
  const char *s = *cursor;
  while (*s == ' ' || *s == '\t') s++;
  if (*s == '\0' || *s == '\n' || *s == '\r') return 0; /* no more fields */
  if (*s == '-' || *s == '+') return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (end == s || errno == ERANGE || !(*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' || *end == '\0'))
    return -1;
  *out = v;
  *cursor = end;
  return 1;
}

static int parse_request(const char *line, struct request *rq) {
  const char *cursor = line;
  unsigned long long v;
  memset(rq, 0, sizeof *rq);
  if (parse_u64(&cursor, &v) != 1) return -1;
  rq->nr = (long)v;
  for (int i = 0; i < MAX_ARGS; i++) {
    int r = parse_u64(&cursor, &v);
    if (r < 0) return -1;
    if (r == 0) return 0;
    rq->args[i] = (unsigned long)v;
  }
  unsigned long long extra;
  return parse_u64(&cursor, &extra) == 0 ? 0 : -1;
}

static struct sock_filter *read_filter(const char *path, unsigned short *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "seccomp-probe: cannot open `%s`: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 64 * sizeof(struct sock_filter), size = 0;
  unsigned char *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      fprintf(stderr, "seccomp-probe: out of memory\n");
      fclose(f);
      return NULL;
    }
    size += fread(buf + size, 1, cap - size, f);
    if (size < cap) break;
    cap *= 2;
    unsigned char *bigger = realloc(buf, cap);
    if (!bigger) free(buf);
    buf = bigger;
  }
  int failed = ferror(f);
  fclose(f);
  if (failed) {
    fprintf(stderr, "seccomp-probe: cannot read `%s`\n", path);
    free(buf);
    return NULL;
  }
  if (size % sizeof(struct sock_filter) != 0 || size / sizeof(struct sock_filter) > MAX_FILTER_INSNS) {
    fprintf(stderr, "seccomp-probe: `%s` is %zu bytes, not a whole number of 8-byte instructions up to %d\n", path,
            size, MAX_FILTER_INSNS);
    free(buf);
    return NULL;
  }
  /* struct sock_filter is u16 code, u8 jt, u8 jf, u32 k: decode explicitly so the file format is little-endian
   * whatever the layout of the host struct. */
  size_t n = size / sizeof(struct sock_filter);
  struct sock_filter *insns = calloc(n ? n : 1, sizeof *insns);
  if (!insns) {
    fprintf(stderr, "seccomp-probe: out of memory\n");
    free(buf);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const unsigned char *p = buf + i * 8;
    insns[i].code = (uint16_t)(p[0] | p[1] << 8);
    insns[i].jt = p[2];
    insns[i].jf = p[3];
    insns[i].k = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
  }
  free(buf);
  *len = (unsigned short)n;
  return insns;
}

static volatile struct answer *map_answer_page(void) {
  void *page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    perror("seccomp-probe: mmap");
    return NULL;
  }
  return page;
}

static int selftest(void) {
  struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog prog = {.len = 1, .filter = allow};
  volatile struct answer *page = map_answer_page();
  if (!page) return 1;
  struct request rq = {.nr = SYS_getppid};
  memset((void *)page, 0, sizeof *page);
  pid_t pid = fork();
  if (pid < 0) {
    perror("seccomp-probe: fork");
    return 1;
  }
  if (pid == 0) child(&prog, &rq, page, 1);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      perror("seccomp-probe: waitpid");
      return 1;
    }
  if (page->seq != 1) {
    fprintf(stderr, "seccomp-probe: the selftest child gave no answer (wait status %#x)\n", status);
    return 1;
  }
  if (page->state == ANSWER_LOAD_ERROR) {
    fprintf(stderr, "seccomp-probe: cannot install a seccomp filter: %s\n", strerror(page->err));
    return 1;
  }
  if (page->ret != (int64_t)getpid()) {
    fprintf(stderr, "seccomp-probe: getppid under an ALLOW filter returned %lld, expected %lld\n",
            (long long)page->ret, (long long)getpid());
    return 1;
  }
  printf("seccomp ok\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--selftest") == 0) return selftest();
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: seccomp-probe FILTER_FILE < requests   (one `NR A0 A1 A2 A3 A4 A5` per line)\n"
                    "       seccomp-probe --selftest\n");
    return 2;
  }
  unsigned short len;
  struct sock_filter *insns = read_filter(argv[1], &len);
  if (!insns) return 2;
  struct sock_fprog prog = {.len = len, .filter = insns};
  volatile struct answer *page = map_answer_page();
  if (!page) return 2;

  char *line = NULL;
  size_t cap = 0;
  uint64_t seq = 0;
  while (getline(&line, &cap, stdin) >= 0) {
    struct request rq;
    seq++;
    if (parse_request(line, &rq) != 0) {
      fprintf(stderr, "seccomp-probe: request %llu is not `NR [A0..A5]` (decimal or 0x hex, unsigned): %s",
              (unsigned long long)seq, line);
      return 2;
    }
    if (probe(&prog, &rq, page, seq) != 0) return 2;
  }
  free(line);
  free(insns);
  return 0;
}
