/* proxy-bench: what the egress proxy's relay costs, for `npm run bench:proxy` (bench/proxy.ts, recorded in
 * docs/benchmarks.md "egress proxy"). A benchmark tool, not a test helper, and it does not ship.
 *
 *   proxy-bench sink                          listen on 127.0.0.1, two ports (printed on stdout: the sink's,
 *                                             then the source's), serve forever
 *   proxy-bench setup PORT N [PROXYPORT]      N connections; prints the median and p90 set-up time in us
 *   proxy-bench stream PORT BYTES [PROXYPORT] one connection that sends BYTES; prints seconds and GiB/s
 *   proxy-bench pull PORT BYTES [PROXYPORT]   one connection to the source that receives BYTES; the same
 *
 * The sink writes one byte on every accepted connection (the greeting), then reads to EOF and answers with the
 * count (8 bytes, little-endian). The source writes the greeting, reads a count (8 bytes, little-endian), sends
 * that many bytes and closes: `pull` is timed from its request to the source's EOF (the download direction). A connection is set up when the greeting has arrived: directly, that is
 * connect() and one byte back; through the proxy (PROXYPORT: `CONNECT 127.0.0.1:PORT` to 127.0.0.1:PROXYPORT),
 * the relay's accept, the decision asked of `sbc exec`, the upstream connect, `200` and the same byte. The
 * stream is timed from the greeting to the count, so both ends have seen every byte. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static void fail(const char *what) {
  fprintf(stderr, "proxy-bench: %s: %s\n", what, strerror(errno));
  exit(2);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void write_all(int fd, const void *p, size_t n) {
  const char *s = p;
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("write");
    s += w;
    n -= (size_t)w;
  }
}

static void read_exact(int fd, void *p, size_t n) {
  char *s = p;
  while (n > 0) {
    ssize_t r = read(fd, s, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0) errno = ECONNRESET;
      fail("read");
    }
    s += r;
    n -= (size_t)r;
  }
}

static void *serve(void *arg) {
  int s = (int)(intptr_t)arg;
  char *buf = malloc(CHUNK);
  uint64_t count = 0;
  write_all(s, "G", 1);
  for (;;) {
    ssize_t r = read(s, buf, CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    count += (uint64_t)r;
  }
  unsigned char le[8];
  for (int i = 0; i < 8; i++) le[i] = (unsigned char)(count >> (8 * i));
  (void)!write(s, le, 8);
  close(s);
  free(buf);
  return NULL;
}

static void *source(void *arg) {
  int s = (int)(intptr_t)arg;
  char *buf = malloc(CHUNK);
  memset(buf, 'y', CHUNK);
  write_all(s, "G", 1);
  unsigned char le[8];
  read_exact(s, le, 8);
  uint64_t left = 0;
  for (int i = 7; i >= 0; i--) left = left << 8 | le[i];
  while (left > 0) {
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    write_all(s, buf, n);
    left -= n;
  }
  close(s);
  free(buf);
  return NULL;
}

static int listener(unsigned *port) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1024) != 0) fail("listen");
  socklen_t len = sizeof a;
  getsockname(l, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return l;
}

static void serve_forever(int l, void *(*handler)(void *)) {
  for (;;) {
    int s = accept(l, NULL, NULL);
    if (s < 0) continue;
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, handler, (void *)(intptr_t)s) != 0) close(s);
  }
}

static void *source_loop(void *arg) {
  serve_forever((int)(intptr_t)arg, source);
  return NULL;
}

static int sink(void) __attribute__((noreturn));
static int sink(void) {
  unsigned sink_port, source_port;
  int l = listener(&sink_port), m = listener(&source_port);
  printf("%u %u\n", sink_port, source_port);
  fflush(stdout);
  pthread_t t;
  if (pthread_create(&t, NULL, source_loop, (void *)(intptr_t)m) != 0) fail("pthread_create");
  serve_forever(l, serve);
  exit(2);
}

/* Connects to the sink, directly or through the proxy, and reads the greeting. */
static int open_conn(unsigned port, unsigned proxy) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(proxy ? proxy : port)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) fail("connect");
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (proxy) {
    char req[96];
    int n = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%u HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", port, port);
    write_all(s, req, (size_t)n);
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    char got[sizeof ok - 1];
    read_exact(s, got, sizeof got);
    if (memcmp(got, ok, sizeof got) != 0) {
      errno = EPROTO;
      fail("the proxy did not answer 200");
    }
  }
  char g;
  read_exact(s, &g, 1);
  return s;
}

static uint64_t finish(int s) {
  shutdown(s, SHUT_WR);
  unsigned char le[8];
  read_exact(s, le, 8);
  close(s);
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | le[i];
  return v;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc == 2 && strcmp(argv[1], "sink") == 0) return sink();
  if (argc >= 4 && argc <= 5 && strcmp(argv[1], "setup") == 0) {
    unsigned port = (unsigned)atoi(argv[2]), proxy = argc == 5 ? (unsigned)atoi(argv[4]) : 0;
    int n = atoi(argv[3]);
    if (n <= 0) return 2;
    double *t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++) {
      double t0 = now();
      int s = open_conn(port, proxy);
      t[i] = now() - t0;
      finish(s);
    }
    qsort(t, (size_t)n, sizeof *t, by_value);
    printf("median_us=%.1f p90_us=%.1f\n", t[n / 2] * 1e6, t[(n * 9) / 10] * 1e6);
    return 0;
  }
  if (argc >= 4 && argc <= 5 && strcmp(argv[1], "stream") == 0) {
    unsigned port = (unsigned)atoi(argv[2]), proxy = argc == 5 ? (unsigned)atoi(argv[4]) : 0;
    uint64_t bytes = strtoull(argv[3], NULL, 10);
    char *buf = malloc(CHUNK);
    memset(buf, 'x', CHUNK);
    int s = open_conn(port, proxy);
    double t0 = now();
    for (uint64_t left = bytes; left > 0;) {
      size_t n = left < CHUNK ? (size_t)left : CHUNK;
      write_all(s, buf, n);
      left -= n;
    }
    uint64_t got = finish(s);
    double dt = now() - t0;
    if (got != bytes) {
      fprintf(stderr, "proxy-bench: the sink counted %llu bytes of %llu\n", (unsigned long long)got, (unsigned long long)bytes);
      return 2;
    }
    printf("seconds=%.4f gib_per_s=%.3f\n", dt, (double)bytes / dt / (double)(1ull << 30));
    return 0;
  }
  if (argc >= 4 && argc <= 5 && strcmp(argv[1], "pull") == 0) {
    unsigned port = (unsigned)atoi(argv[2]), proxy = argc == 5 ? (unsigned)atoi(argv[4]) : 0;
    uint64_t bytes = strtoull(argv[3], NULL, 10), got = 0;
    char *buf = malloc(CHUNK);
    int s = open_conn(port, proxy);
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(bytes >> (8 * i));
    double t0 = now();
    write_all(s, le, 8);
    for (;;) {
      ssize_t r = read(s, buf, CHUNK);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) fail("read");
      if (r == 0) break;
      got += (uint64_t)r;
    }
    double dt = now() - t0;
    close(s);
    if (got != bytes) {
      fprintf(stderr, "proxy-bench: received %llu bytes of %llu\n", (unsigned long long)got, (unsigned long long)bytes);
      return 2;
    }
    printf("seconds=%.4f gib_per_s=%.3f\n", dt, (double)bytes / dt / (double)(1ull << 30));
    return 0;
  }
  fprintf(stderr, "usage: proxy-bench sink | setup PORT N [PROXYPORT] | stream PORT BYTES [PROXYPORT] | pull PORT BYTES [PROXYPORT]\n");
  return 2;
}
