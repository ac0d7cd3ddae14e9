/* The fixed world both fuzz harnesses decide in: a plan with a `proxy-table` (names, wildcards, an address
 * rule, the special ranges), names resolving through decide.c's fixed resolver (never DNS, never off this
 * host), and an upstream on 127.0.0.1/::1 port FUZZ_OPEN_PORT that reads and closes, so allowed requests reach
 * the relay's data path. Every other allowed port is loopback where nothing listens: ECONNREFUSED, 502. */

#include "fuzz.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PORTS "80-80,443-443,41780-41781"
static const char PLAN[] =
    "sbc-loader-plan 2\nabi 0\nhandled-fs 0x0\nhandled-net 0x0\nscoped 0x0\nrestrict-flags 0x0\nnamespaces auto\n"
    "net-proxy 127.0.0.1 3128\n"
    "proxy-table\n"
    "proxy-name deny bad.deep.test 0-65535 deny%20bad\n"
    "proxy-name allow **.deep.test " PORTS " deep\n"
    "proxy-name allow *.wild.test " PORTS " wild\n"
    "proxy-name allow open.test " PORTS " open\n"
    "proxy-name allow closed.test " PORTS " closed\n"
    "proxy-name allow v6.test " PORTS " v6\n"
    "proxy-name allow mixed.test " PORTS " mixed\n"
    "proxy-name allow private.test " PORTS " private\n"
    "proxy-name allow denied.test " PORTS " denied\n"
    "proxy-name allow xn--bcher-kva.test " PORTS " puny\n"
    "proxy-addr deny 127.0.0.9/32 0-65535 deny%20nine\n"
    "proxy-addr allow 127.0.0.1/32,::1/128 " PORTS " loopback\n"
    "proxy-special 0.0.0.0/8 this%20network\n"
    "proxy-special 10.0.0.0/8 private\n"
    "proxy-special 127.0.0.0/8 loopback\n"
    "proxy-special 169.254.0.0/16 link-local\n"
    "proxy-special ::1/128 loopback\n"
    "proxy-special fc00::/7 unique-local\n"
    "proxy-special fe80::/10 link-local\n"
    "end\n";

/* `--resolve` of the test mode; names not here do not resolve (ENOTFOUND, 502). */
static char *RESOLVE[] = {
    "open.test=127.0.0.1",        "closed.test=127.0.0.1",   "v6.test=::1",
    "mixed.test=::1,127.0.0.1",   "private.test=10.0.0.7",   "denied.test=127.0.0.9",
    "a.wild.test=127.0.0.1",      "x.y.deep.test=127.0.0.1", "bad.deep.test=127.0.0.1",
    "xn--bcher-kva.test=::ffff:127.0.0.1",
};

static struct plan plan;

/* The upstream: reads until EOF, the end of a request head, or a short silence (a request whose body the client
 * never sent ends neither side), then answers and closes. One connection at a time is all the harness makes. */
static void *upstream_loop(void *arg) {
  int l = (int)(long)arg;
  for (;;) {
    int s = accept(l, NULL, NULL);
    if (s < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return NULL;
    }
    char buf[65536], tail[4] = {0};
    for (;;) {
      struct pollfd p = {.fd = s, .events = POLLIN};
      if (poll(&p, 1, 20) <= 0) break;
      ssize_t n = read(s, buf, sizeof buf);
      if (n <= 0) break;
      /* The end of a request head (a plain request without a body): answer now, as a server would, rather than
       * after the silence; the relay's copy of a body still to come then meets a closed socket, a path too. */
      for (ssize_t i = 0; i < n; i++) memmove(tail, tail + 1, 3), tail[3] = buf[i];
      if (memcmp(tail, "\r\n\r\n", 4) == 0) break;
    }
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    (void)!write(s, reply, sizeof reply - 1);
    close(s);
  }
}

/* A network namespace of its own (with `lo` up) where one can be made, before any thread: the fixed ports then
 * cannot meet another program's server — an ephemeral port of a test running beside the replay, say — and the
 * relay's connections stay in it. Where none can be made (no user namespaces; or threads already, as under
 * libFuzzer's RSS watcher) the host's loopback is used, as the README says. */
static void isolate(void) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return;
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fprintf(stderr, "fuzz: cannot bring lo up in its namespace: %s\n", strerror(errno));
  }
  if (s >= 0) close(s);
}

/* SO_REUSEPORT: a replay run and a campaign may listen at once; both upstreams behave the same. */
static void start_upstream(int family) {
  int l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) return;
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_storage a = {0};
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(FUZZ_OPEN_PORT);
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *v4;
  } else {
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(FUZZ_OPEN_PORT);
    v6->sin6_addr = in6addr_loopback;
    setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    len = sizeof *v6;
  }
  pthread_t t;
  if (bind(l, (struct sockaddr *)&a, len) != 0 || listen(l, 64) != 0 ||
      pthread_create(&t, NULL, upstream_loop, (void *)(long)l) != 0) {
    /* Without it the open port is refused like the others: less coverage, same safety checks. */
    fprintf(stderr, "fuzz: no upstream on %s port %d: %s\n", family == AF_INET ? "127.0.0.1" : "::1", FUZZ_OPEN_PORT,
            strerror(errno));
    close(l);
    return;
  }
  pthread_detach(t);
}

const struct plan *fuzz_setup(int with_upstream) {
  static int done;
  if (done) return &plan;
  done = 1;
  signal(SIGPIPE, SIG_IGN);
  char *text = xstrdup(PLAN);
  parse_plan(text, strlen(text), &plan);
  proxy_set_resolve(RESOLVE, (int)(sizeof RESOLVE / sizeof *RESOLVE)); /* decide.c's fixed resolver */
  if (with_upstream) {
    isolate();
    start_upstream(AF_INET);
    start_upstream(AF_INET6);
  }
  return &plan;
}
