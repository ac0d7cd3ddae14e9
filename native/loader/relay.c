/* The egress proxy's relay (a plan with `net-proxy`; native/README.md, "The egress proxy"). The command runs in
 * a network namespace with loopback only; a listener made inside it on 127.0.0.1:PORT is passed to the relay,
 * which stays outside (host netns, no Landlock, no seccomp), accepts the sandbox's connections on it and
 * connects upstream from the host: one hop, no forwarder in between. With a control fd every request is
 * asked of `sbc exec` (`Q`), which answers with the checked address to connect to; without one (the cached,
 * Node-free run) the plan's `proxy-table` gives the same answer in this process (decide.c). */

#include "loader.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int relay_handoff_fd = -1;
const struct plan *relay_plan;

/* ---- inside: the network namespace's side ---- */

/* Brings `lo` up, listens on 127.0.0.1:PORT and passes the listener to the relay. Runs right after the unshare
 * that made the network namespace; a failure ends the run before the command (setup_fail: exit 125). */
void netns_listen(const struct plan *plan) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) setup_fail("netns-socket", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) setup_fail("netns-lo", errno);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) setup_fail("netns-lo", errno);
  close(s);

  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) setup_fail("netns-listen", errno);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)plan->net_proxy_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, (struct sockaddr *)&a, sizeof a) != 0) setup_fail("netns-bind", errno);
  if (listen(l, 512) != 0) setup_fail("netns-listen", errno);

  char byte = 'L';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int))];
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space, .msg_controllen = sizeof u.space};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &l, sizeof l);
  ssize_t w;
  while ((w = sendmsg(relay_handoff_fd, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (w != 1) setup_fail("netns-handoff", w < 0 ? errno : EPIPE);
  close(l);
  close(relay_handoff_fd);
  relay_handoff_fd = -1;
  say("net-proxy listener 127.0.0.1:%u in a new network namespace (loopback only), served by the relay outside",
      plan->net_proxy_port);
}

/* ---- outside: the relay ---- */

#define HANDSHAKE_MS 10000  /* a client that has not said where to within this long is dropped */
#define DECISION_MS 30000   /* an answer from `sbc exec` that does not come within this long: 504 */
#define CONNECT_MS 30000    /* the upstream connect */
#define MAX_HEADER 16384
#define MAX_CONTROL_LINE 8192
#define MAX_CONNECTIONS 1024 /* served at once; one more is closed at once (a thread each, outside the sandbox) */

static int control_fd = -1;
static pthread_mutex_t control_lock = PTHREAD_MUTEX_INITIALIZER; /* writes, the waiters, the ids */
static pthread_cond_t answered; /* on CLOCK_MONOTONIC: relay_start */
static unsigned long next_id = 1;
static int closed_channel; /* the control channel ended or spoke nonsense: every later request is denied */

struct waiter {
  unsigned long id;
  int done;
  char *answer; /* the `A` line after `A <id> `, or NULL when the channel closed */
  struct waiter *next;
};
static struct waiter *waiters;

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void close_channel(const char *why);

/* Under control_lock. */
static void control_write(const char *line) {
  if (closed_channel) return;
  if (write_all(control_fd, line, strlen(line)) != 0) close_channel("writing to the control channel to `sbc exec` failed");
}

static void control_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void control_send(const char *fmt, ...) {
  if (control_fd < 0) return; /* the plan's table decides: no one to tell */
  va_list ap;
  va_start(ap, fmt);
  char *line = xvasprintf(fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&control_lock);
  control_write(line);
  pthread_mutex_unlock(&control_lock);
  free(line);
}

/* Under control_lock: said once, then every waiter and every later request is refused. */
static void close_channel(const char *why) {
  if (!closed_channel) {
    char *line = xasprintf("sbc-loader: egress proxy: %s; every later connection is refused\n", why);
    (void)write_all(2, line, strlen(line));
    free(line);
  }
  closed_channel = 1;
  for (struct waiter *w = waiters; w; w = w->next) w->done = 1;
  pthread_cond_broadcast(&answered);
}

/* Reads `A` lines and hands each to the request that waits for its id. */
static void *control_reader(void *unused) {
  (void)unused;
  char *buf = xcalloc(MAX_CONTROL_LINE + 1, 1);
  size_t used = 0;
  for (;;) {
    ssize_t n = read(control_fd, buf + used, MAX_CONTROL_LINE - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      pthread_mutex_lock(&control_lock);
      close_channel(n == 0 ? "the control channel to `sbc exec` closed" : "the control channel to `sbc exec` failed");
      pthread_mutex_unlock(&control_lock);
      break;
    }
    used += (size_t)n;
    char *start = buf, *nl;
    int bad = 0;
    while (!bad && (nl = memchr(start, '\n', used - (size_t)(start - buf))) != NULL) {
      *nl = '\0';
      /* `A <id> <rest>` */
      char *end = NULL;
      unsigned long id = 0;
      if (strncmp(start, "A ", 2) == 0 && start[2] >= '1' && start[2] <= '9') id = strtoul(start + 2, &end, 10);
      if (!end || *end != ' ') {
        bad = 1;
        break;
      }
      pthread_mutex_lock(&control_lock);
      if (id >= next_id) {
        bad = 1;
      } else {
        for (struct waiter *w = waiters; w; w = w->next)
          if (w->id == id && !w->done) {
            w->answer = xstrdup(end + 1);
            w->done = 1;
            pthread_cond_broadcast(&answered);
          }
        /* An answer to a request that gave up waiting is dropped. */
      }
      pthread_mutex_unlock(&control_lock);
      start = nl + 1;
    }
    if (!bad && start == buf && used == MAX_CONTROL_LINE) bad = 1;
    if (bad) {
      pthread_mutex_lock(&control_lock);
      close_channel("a malformed answer on the control channel");
      pthread_mutex_unlock(&control_lock);
      break;
    }
    used -= (size_t)(start - buf);
    memmove(buf, start, used);
  }
  free(buf);
  return NULL;
}

/* The decision on one request. */
struct decision {
  int allow;
  struct sockaddr_storage addr; /* allow: where to connect */
  socklen_t addr_len;
  int status;  /* deny: the HTTP status */
  char *text;  /* deny: the body's text */
};

static void deny(struct decision *d, int status, const char *text) {
  d->allow = 0;
  d->status = status;
  d->text = xstrdup(text);
}

static const char CHANNEL_GONE[] = "sbc: the egress proxy cannot reach its policy decider (`sbc exec`); connection refused";

/* Parses `allow IP PORT` / `deny STATUS TEXT`; 0 when malformed. */
static int parse_answer(const char *a, struct decision *d) {
  memset(d, 0, sizeof *d);
  if (strncmp(a, "allow ", 6) == 0) {
    char ip[64];
    const char *sp = strchr(a + 6, ' ');
    if (!sp || (size_t)(sp - (a + 6)) >= sizeof ip) return 0;
    memcpy(ip, a + 6, (size_t)(sp - (a + 6)));
    ip[sp - (a + 6)] = '\0';
    uint64_t port;
    if (parse_decimal(sp + 1, 65535, &port) != 0 || port == 0) return 0;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&d->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&d->addr;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons((uint16_t)port);
      d->addr_len = sizeof *v4;
    } else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons((uint16_t)port);
      d->addr_len = sizeof *v6;
    } else {
      return 0;
    }
    d->allow = 1;
    return 1;
  }
  if (strncmp(a, "deny ", 5) == 0) {
    uint64_t status;
    char code[4] = {0};
    if (strlen(a + 5) < 5 || a[8] != ' ') return 0;
    memcpy(code, a + 5, 3);
    if (parse_decimal(code, 599, &status) != 0 || status < 400) return 0;
    for (const char *p = a + 9; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7f) return 0;
    deny(d, (int)status, a + 9);
    return 1;
  }
  return 0;
}

/* Asks `sbc exec`: `Q <id> <kind> <host> <port>[ <METHOD> <path>]`. */
static unsigned long ask(const char *kind, const char *host, unsigned port, const char *method, const char *path,
                         struct decision *d) {
  if (control_fd < 0) {
    /* No `sbc exec` behind the relay: the plan's table decides, with the answer `sbc exec` would give. */
    char *a = proxy_decide(relay_plan, host, port);
    if (!parse_answer(a, d)) deny(d, 502, CHANNEL_GONE);
    free(a);
    (void)kind, (void)method, (void)path;
    return 0;
  }
  struct waiter w = {0};
  pthread_mutex_lock(&control_lock);
  if (closed_channel) {
    pthread_mutex_unlock(&control_lock);
    deny(d, 502, CHANNEL_GONE);
    return 0;
  }
  w.id = next_id++;
  w.next = waiters;
  waiters = &w;
  char *line = method ? xasprintf("Q %lu %s %s %u %s %s\n", w.id, kind, host, port, method, path)
                      : xasprintf("Q %lu %s %s %u\n", w.id, kind, host, port);
  control_write(line);
  free(line);
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += DECISION_MS / 1000;
  while (!w.done)
    if (pthread_cond_timedwait(&answered, &control_lock, &until) == ETIMEDOUT) break;
  for (struct waiter **p = &waiters; *p; p = &(*p)->next)
    if (*p == &w) {
      *p = w.next;
      break;
    }
  int gone = closed_channel;
  pthread_mutex_unlock(&control_lock);
  if (w.answer) {
    if (!parse_answer(w.answer, d)) {
      pthread_mutex_lock(&control_lock);
      close_channel("a malformed answer on the control channel");
      pthread_mutex_unlock(&control_lock);
      deny(d, 502, CHANNEL_GONE);
    }
    free(w.answer);
  } else if (gone) {
    deny(d, 502, CHANNEL_GONE);
  } else {
    deny(d, 504, "sbc: the egress proxy's policy decider did not answer in time; connection refused");
  }
  return w.id;
}

/* ---- one connection ---- */

struct conn {
  int client, upstream;
  char buf[MAX_HEADER + 1];
  size_t used;
  long long deadline;
};

/* Reads more of the handshake, until the deadline. -1 on EOF, error or timeout. */
static int read_more(struct conn *c) {
  if (c->used >= MAX_HEADER) return -1;
  for (;;) {
    long long left = c->deadline - now_ms();
    if (left <= 0) return -1;
    struct pollfd p = {.fd = c->client, .events = POLLIN};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    ssize_t n = recv(c->client, c->buf + c->used, MAX_HEADER - c->used, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    c->used += (size_t)n;
    c->buf[c->used] = '\0';
    return 0;
  }
}

static int need(struct conn *c, size_t n) {
  while (c->used < n)
    if (read_more(c) != 0) return -1;
  return 0;
}

/* A reply or request to a peer; a peer gone is its own end (SIGPIPE is ignored in the relay's process). */
static void send_all(int fd, const void *p, size_t n) { (void)write_all(fd, p, n); }

static const char *reason_phrase(int status) {
  switch (status) {
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 407: return "Proxy Authentication Required";
  case 411: return "Length Required";
  case 431: return "Request Header Fields Too Large";
  case 451: return "Unavailable For Legal Reasons";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return status < 500 ? "Client Error" : "Server Error";
  }
}

static void http_reply(struct conn *c, int status, const char *text) {
  char *r = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n%s\n",
                      status, reason_phrase(status), strlen(text) + 1, text);
  send_all(c->client, r, strlen(r));
  free(r);
}

static void socks_reply(struct conn *c, unsigned char rep) {
  unsigned char r[10] = {5, rep, 0, 1, 0, 0, 0, 0, 0, 0};
  send_all(c->client, r, sizeof r);
}

static unsigned char socks_code_for(int status) {
  return status == 403 ? 0x02 : (status == 502 || status == 504) ? 0x04 : 0x01;
}

/* What the Q line may carry as a host: printable, no space, at most 255 bytes. */
static int host_ok(const char *h) {
  size_t n = strlen(h);
  if (n == 0 || n > 255) return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)h[i] < 0x21 || (unsigned char)h[i] > 0x7e) return 0;
  return 1;
}

static int parse_port(const char *s, size_t n, unsigned *port) {
  char tmp[8];
  if (n == 0 || n > 5) return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  uint64_t v;
  if (parse_decimal(tmp, 65535, &v) != 0 || v == 0) return 0;
  *port = (unsigned)v;
  return 1;
}

/* `host:port`, `[v6]:port` or, with default_port, a bare host. The host is written to `host` (no brackets). */
static int split_authority(const char *a, size_t n, char *host, unsigned *port, unsigned default_port) {
  const char *colon = NULL;
  size_t hlen;
  const char *h = a;
  if (n > 0 && a[0] == '[') {
    const char *close = memchr(a, ']', n);
    if (!close) return 0;
    h = a + 1;
    hlen = (size_t)(close - h);
    size_t rest = n - (size_t)(close + 1 - a);
    if (rest > 0) {
      if (close[1] != ':') return 0;
      colon = close + 1;
    }
  } else {
    colon = memrchr(a, ':', n);
    hlen = colon ? (size_t)(colon - a) : n;
    if (memchr(a, ':', hlen)) return 0; /* an IPv6 address without brackets: where its port starts is a guess */
  }
  if (hlen == 0 || hlen > 255) return 0;
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  if (memchr(host, '@', hlen)) return 0; /* userinfo: not forwarded, not guessed at */
  if (colon) return parse_port(colon + 1, n - (size_t)(colon + 1 - a), port);
  if (!default_port) return 0;
  *port = default_port;
  return host_ok(host);
}

/* Connects to the checked address, within CONNECT_MS; 0 or an errno. */
static int connect_upstream(struct conn *c, const struct decision *d) {
  int s = socket(d->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return errno;
  int r = connect(s, (const struct sockaddr *)&d->addr, d->addr_len);
  int err = r == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    struct pollfd p = {.fd = s, .events = POLLOUT};
    int pr;
    while ((pr = poll(&p, 1, CONNECT_MS)) < 0 && errno == EINTR) {
    }
    if (pr < 0) err = errno;
    else if (pr == 0) err = ETIMEDOUT;
    else {
      socklen_t len = sizeof err;
      if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
  }
  if (err) {
    close(s);
    return err;
  }
  int flags = fcntl(s, F_GETFL);
  fcntl(s, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->upstream = s;
  return 0;
}

/* The upstream connection of an HTTP request that was allowed, reported on the control channel (`R`); on
 * failure the client gets 502 naming the errno, and 0 is returned. */
static int http_upstream(struct conn *c, const struct decision *d, unsigned long id, const char *host, unsigned port) {
  int err = connect_upstream(c, d);
  if (err) {
    control_send("R %lu fail %s\n", id, errno_name(err));
    char *t = xasprintf("sbc: the upstream connection to %s port %u failed: %s", host, port, strerror(err));
    http_reply(c, 502, t);
    free(t);
    return 0;
  }
  control_send("R %lu ok\n", id);
  return 1;
}

/* One direction of the copy: src to dst through a buffer of this thread's. `limit` bytes at most (-1: to EOF).
 * At EOF the write side of dst is shut; on an error both sockets are shut, which ends the other direction.
 *
 * Why read/write and not splice: both sides of a stream the relay carries are loopback TCP (the sandbox's
 * socket always, the upstream often), and there a copy through a large buffer measured ~1.5x the throughput of
 * a splice loop through a pipe (1 GiB: 2.5-3.1 GiB/s against 1.6-1.9, 2 vCPUs; docs/benchmarks.md): one read
 * drains megabytes the peer queued while the last write ran, and the relay's writes make the large segments
 * the receiver handles cheaply, where a splice moves the sender's page fragments one pipe slot each. The buffer
 * starts small and doubles each time a read fills it, so an idle or chatty connection holds 64 KiB a direction
 * and only a bulk stream grows to PUMP_MAX. */
enum { PUMP_MIN = 64 << 10, PUMP_MAX = 4 << 20 };
/* Every relay thread's stack (serving, pumping): their buffers are on the heap. */
enum { RELAY_STACK = 256 << 10 };
/* All pumps together grow their buffers past PUMP_MIN only while the total stays under this (1024 connections
 * could otherwise hold 8 GiB); a pump that may not grow goes on with the buffer it has. */
#define PUMP_BUDGET ((size_t)256 << 20)
static size_t pump_grown; /* bytes above PUMP_MIN held by all pumps; __atomic */

struct pump {
  int src, dst;
  long long limit;
  unsigned long long moved;
  int shut_at_end;
};

static void *pump_run(void *arg) {
  struct pump *p = arg;
  size_t cap = PUMP_MIN;
  char *buf = malloc(cap);
  int failed = buf == NULL;
  while (!failed && (p->limit < 0 || p->moved < (unsigned long long)p->limit)) {
    size_t want = cap;
    if (p->limit >= 0 && (unsigned long long)p->limit - p->moved < want) want = (size_t)((unsigned long long)p->limit - p->moved);
    ssize_t n = read(p->src, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failed = 1;
    if (n <= 0) break;
    for (size_t off = 0; off < (size_t)n;) {
      ssize_t w = send(p->dst, buf + off, (size_t)n - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        failed = 1;
        break;
      }
      off += (size_t)w;
      p->moved += (unsigned long long)w;
    }
    if (!failed && (size_t)n == cap && cap < PUMP_MAX) {
      char *bigger = NULL;
      if (__atomic_add_fetch(&pump_grown, cap, __ATOMIC_RELAXED) <= PUMP_BUDGET) bigger = malloc(cap * 2);
      if (bigger) {
        free(buf);
        buf = bigger;
        cap *= 2;
      } else {
        __atomic_sub_fetch(&pump_grown, cap, __ATOMIC_RELAXED);
      }
    }
  }
  free(buf);
  if (cap > PUMP_MIN) __atomic_sub_fetch(&pump_grown, cap - PUMP_MIN, __ATOMIC_RELAXED);
  if (failed) {
    shutdown(p->src, SHUT_RDWR);
    shutdown(p->dst, SHUT_RDWR);
  } else if (p->shut_at_end) {
    shutdown(p->dst, SHUT_WR);
  }
  return NULL;
}

/* Copies both ways until both ends are done; `up_limit` bounds client-to-upstream (-1: none). */
static void relay_data(struct conn *c, unsigned long id, const char *early, size_t early_len, long long up_limit,
                       unsigned long long early_counted) {
  if (early_len) send_all(c->upstream, early, early_len);
  struct pump up = {.src = c->client, .dst = c->upstream, .limit = up_limit, .shut_at_end = up_limit < 0};
  struct pump down = {.src = c->upstream, .dst = c->client, .limit = -1, .shut_at_end = 1};
  pthread_t t;
  int threaded = 0;
  if (up_limit != 0) {
    /* The stack of a serving thread (accept_loop): the pump's buffer is on the heap. */
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) == 0) {
      threaded = pthread_attr_setstacksize(&attr, RELAY_STACK) == 0 && pthread_create(&t, &attr, pump_run, &up) == 0;
      pthread_attr_destroy(&attr);
    }
    if (!threaded) {
      /* Without the other direction a tunnel would hang, holding a slot: end the connection instead. */
      shutdown(c->client, SHUT_RDWR);
      shutdown(c->upstream, SHUT_RDWR);
    }
  }
  pump_run(&down);
  if (threaded) {
    /* A plain request: the upstream has answered; a client still sending (beyond the request's body) is not
     * waited for. A tunnel keeps its other half open until the client ends it. */
    if (up_limit >= 0) shutdown(c->client, SHUT_RD);
    pthread_join(t, NULL);
  }
  control_send("X %lu %llu %llu\n", id, up.moved + early_counted, down.moved);
}

/* SOCKS5 (RFC 1928): no authentication, CONNECT only. */
static void serve_socks(struct conn *c) {
  if (need(c, 2) != 0 || need(c, 2 + (size_t)(unsigned char)c->buf[1]) != 0) return;
  size_t nmethods = (unsigned char)c->buf[1];
  if (!memchr(c->buf + 2, 0, nmethods)) {
    send_all(c->client, "\x05\xff", 2);
    return;
  }
  send_all(c->client, "\x05\x00", 2);
  size_t off = 2 + nmethods;
  if (need(c, off + 5) != 0) return;
  unsigned char *q = (unsigned char *)c->buf + off;
  if (q[0] != 5) return;
  char host[256];
  size_t len;
  if (q[3] == 1) len = 4 + 2;
  else if (q[3] == 4) len = 16 + 2;
  else if (q[3] == 3) len = 1 + (size_t)q[4] + 2;
  else {
    socks_reply(c, 0x08);
    return;
  }
  if (need(c, off + 4 + len) != 0) return;
  q = (unsigned char *)c->buf + off;
  if (q[1] != 1) {
    socks_reply(c, 0x07);
    return;
  }
  const unsigned char *a = q + 4;
  unsigned port;
  if (q[3] == 1) {
    inet_ntop(AF_INET, a, host, sizeof host);
    port = (unsigned)a[4] << 8 | a[5];
  } else if (q[3] == 4) {
    inet_ntop(AF_INET6, a, host, sizeof host);
    port = (unsigned)a[16] << 8 | a[17];
  } else {
    memcpy(host, a + 1, a[0]);
    host[a[0]] = '\0';
    port = (unsigned)a[1 + a[0]] << 8 | a[2 + a[0]];
  }
  if (!host_ok(host) || port == 0) {
    socks_reply(c, 0x01);
    return;
  }
  struct decision d;
  unsigned long id = ask("socks5", host, port, NULL, NULL, &d);
  if (!d.allow) {
    socks_reply(c, socks_code_for(d.status));
    free(d.text);
    return;
  }
  int err = connect_upstream(c, &d);
  if (err) {
    control_send("R %lu fail %s\n", id, errno_name(err));
    socks_reply(c, err == ECONNREFUSED ? 0x05 : 0x04);
    return;
  }
  control_send("R %lu ok\n", id);
  socks_reply(c, 0x00);
  size_t used = off + 4 + len;
  relay_data(c, id, c->buf + used, c->used - used, -1, c->used - used);
}

static int header_is(const char *line, size_t n, const char *name) {
  size_t k = strlen(name);
  return n > k && strncasecmp(line, name, k) == 0 && line[k] == ':';
}

/* HTTP/1.x: `CONNECT host:port`, or an absolute-form `http://` request (one request per connection). */
static void serve_http(struct conn *c) {
  char *end;
  while (!(end = strstr(c->buf, "\r\n\r\n"))) {
    if (memchr(c->buf, '\0', c->used)) break; /* a NUL: strstr cannot see further */
    if (read_more(c) != 0) {
      if (c->used >= MAX_HEADER) http_reply(c, 431, "sbc: the request header is larger than 16 KiB");
      return;
    }
  }
  if (!end) {
    http_reply(c, 400, "sbc: malformed request");
    return;
  }
  size_t header_len = (size_t)(end + 4 - c->buf);
  /* The request line: METHOD SP TARGET SP HTTP/1.x */
  char *line_end = strstr(c->buf, "\r\n");
  char *sp1 = memchr(c->buf, ' ', (size_t)(line_end - c->buf));
  char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
  if (!sp1 || !sp2 || sp1 == c->buf || sp2 == sp1 + 1 || line_end - sp2 - 1 != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
    http_reply(c, 400, "sbc: malformed request line");
    return;
  }
  for (char *p = c->buf; p < line_end; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
      http_reply(c, 400, "sbc: malformed request line");
      return;
    }
  *sp1 = '\0';
  const char *method = c->buf;
  const char *target = sp1 + 1;
  size_t target_len = (size_t)(sp2 - target);
  char host[256];
  unsigned port;
  struct decision d;

  if (strcmp(method, "CONNECT") == 0) {
    if (!split_authority(target, target_len, host, &port, 0) || !host_ok(host)) {
      http_reply(c, 400, "sbc: CONNECT needs host:port");
      return;
    }
    unsigned long id = ask("connect", host, port, NULL, NULL, &d);
    if (!d.allow) {
      http_reply(c, d.status, d.text);
      free(d.text);
      return;
    }
    if (!http_upstream(c, &d, id, host, port)) return;
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    send_all(c->client, ok, sizeof ok - 1);
    relay_data(c, id, c->buf + header_len, c->used - header_len, -1, c->used - header_len);
    return;
  }

  if (target_len < 7 || strncasecmp(target, "http://", 7) != 0) {
    http_reply(c, 400,
               strncasecmp(target, "https://", 8) == 0
                   ? "sbc: https:// goes through CONNECT (the proxy does not terminate TLS)"
                   : "sbc: expected CONNECT host:port or an absolute http:// request");
    return;
  }
  const char *auth = target + 7;
  size_t auth_len = strcspn(auth, "/?# "); /* stops at sp2 at the latest, a space */
  if (!split_authority(auth, auth_len, host, &port, 80) || !host_ok(host)) {
    http_reply(c, 400, "sbc: malformed host in the request");
    return;
  }
  /* origin-form: the path and query as sent, `/` when empty. */
  const char *rest = auth + auth_len;
  size_t rest_len = target_len - 7 - auth_len;
  if (rest_len > 0 && rest[0] == '#') rest_len = 0;
  char *path = rest_len > 0 && rest[0] == '/' ? xasprintf("%.*s", (int)rest_len, rest)
                                               : xasprintf("/%.*s", (int)rest_len, rest);
  char *hash = strchr(path, '#');
  if (hash) *hash = '\0';

  /* The body is forwarded only with Content-Length: that is where the one request ends. */
  long long body = 0;
  int has_length = 0;
  char *out = xasprintf("%s %s %.8s\r\n", method, path, sp2 + 1);
  for (char *h = line_end + 2; h < end + 2;) {
    char *e = strstr(h, "\r\n");
    size_t n = (size_t)(e - h);
    for (size_t k = 0; k < n; k++)
      if (((unsigned char)h[k] < 0x20 && h[k] != '\t') || h[k] == 0x7f) {
        /* A bare CR or LF would end a header line for a lenient server and not for us. */
        http_reply(c, 400, "sbc: a control character in a request header");
        free(out), free(path);
        return;
      }
    /* A field name is a token right before its colon (RFC 9112 5.1, 5.2): `Transfer-Encoding : chunked`, a
     * folded line or one without a colon is a header a lenient server may read and we would not. */
    size_t k = 0;
    while (k < n && ((h[k] >= 'a' && h[k] <= 'z') || (h[k] >= 'A' && h[k] <= 'Z') || (h[k] >= '0' && h[k] <= '9') ||
                     (h[k] && strchr("!#$%&'*+-.^_`|~", h[k]))))
      k++;
    if (k == 0 || k >= n || h[k] != ':') {
      http_reply(c, 400, "sbc: a malformed request header field name");
      free(out), free(path);
      return;
    }
    if (header_is(h, n, "Transfer-Encoding")) {
      http_reply(c, 411, "sbc: the egress proxy forwards a plain-HTTP request body only with Content-Length");
      free(out), free(path);
      return;
    }
    if (header_is(h, n, "Content-Length")) {
      char tmp[32];
      const char *v = h + 15;
      while (*v == ' ' || *v == '\t') v++;
      size_t vn = (size_t)(e - v);
      while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
      uint64_t len;
      if (vn == 0 || vn >= sizeof tmp || (memcpy(tmp, v, vn), tmp[vn] = '\0', parse_decimal(tmp, (1ull << 62), &len) != 0) ||
          (has_length && (long long)len != body)) {
        http_reply(c, 400, "sbc: malformed Content-Length");
        free(out), free(path);
        return;
      }
      body = (long long)len;
      has_length = 1;
    }
    /* The server gets the host the request was decided for (RFC 9112 3.2.2: a proxy replaces Host with the
     * target's authority), never another name for the same address. */
    int drop = header_is(h, n, "Proxy-Connection") || header_is(h, n, "Proxy-Authorization") ||
               header_is(h, n, "Connection") || header_is(h, n, "Keep-Alive") || header_is(h, n, "Host");
    if (!drop) {
      char *next = xasprintf("%s%.*s\r\n", out, (int)n, h);
      free(out);
      out = next;
    }
    h = e + 2;
  }
  int v6 = strchr(host, ':') != NULL;
  char *authority = port == 80 ? xasprintf("%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "")
                               : xasprintf("%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
  char *next = xasprintf("%sHost: %s\r\nConnection: close\r\n\r\n", out, authority);
  free(authority);
  free(out);
  out = next;

  unsigned long id = ask("http", host, port, method, path, &d);
  free(path);
  if (!d.allow) {
    http_reply(c, d.status, d.text);
    free(d.text);
    free(out);
    return;
  }
  if (!http_upstream(c, &d, id, host, port)) {
    free(out);
    return;
  }
  size_t early = c->used - header_len;
  if ((long long)early > body) early = (size_t)body; /* a second, pipelined request is not forwarded */
  size_t out_len = strlen(out);
  send_all(c->upstream, out, out_len);
  free(out);
  relay_data(c, id, c->buf + header_len, early, body - (long long)early, out_len + early);
}

/* Connections being served: the relay lets them finish (and send their `X` line) for a moment after the command
 * has ended. */
static int active;

void relay_drain(int ms) {
  for (int waited = 0; __atomic_load_n(&active, __ATOMIC_SEQ_CST) > 0 && waited < ms; waited += 10) usleep(10000);
}

static void *serve(void *arg) {
  struct conn *c = arg;
  c->upstream = -1;
  c->deadline = now_ms() + HANDSHAKE_MS;
  int one = 1;
  setsockopt(c->client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (read_more(c) == 0) {
    if ((unsigned char)c->buf[0] == 5) serve_socks(c);
    else serve_http(c);
  }
  if (c->upstream < 0) {
    /* Refused, or never relayed: a close with unread input would reset the connection, and the client could
     * lose the answer before reading it. So end our side, and read what it still sends, for a moment. */
    shutdown(c->client, SHUT_WR);
    char sink[4096];
    long long until = now_ms() + 1000;
    for (size_t total = 0; total < (1u << 20);) {
      long long left = until - now_ms();
      struct pollfd p = {.fd = c->client, .events = POLLIN};
      if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
      ssize_t n = recv(c->client, sink, sizeof sink, 0);
      if (n <= 0) break;
      total += (size_t)n;
    }
  }
  if (c->upstream >= 0) close(c->upstream);
  close(c->client);
  free(c);
  __atomic_sub_fetch(&active, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static int listener = -1;

static void *accept_loop(void *unused) {
  (void)unused;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, RELAY_STACK);
  for (;;) {
    int s = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (s < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        usleep(10000);
        continue;
      }
      return NULL;
    }
    if (__atomic_load_n(&active, __ATOMIC_SEQ_CST) >= MAX_CONNECTIONS) {
      close(s);
      continue;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (c) c->client = s;
    pthread_t t;
    __atomic_add_fetch(&active, 1, __ATOMIC_SEQ_CST);
    if (!c || pthread_create(&t, &attr, serve, c) != 0) {
      __atomic_sub_fetch(&active, 1, __ATOMIC_SEQ_CST);
      free(c);
      close(s);
    }
  }
}

/* Waits for the listener the namespace side sends; then serves it on threads and returns. 0 when none came (the
 * child failed before it made one, and says why itself). */
int relay_start(int control, int handoff) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space, .msg_controllen = sizeof u.space};
  ssize_t n;
  while ((n = recvmsg(handoff, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  close(handoff);
  struct cmsghdr *cm = n == 1 ? CMSG_FIRSTHDR(&m) : NULL;
  if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int))) return 0;
  memcpy(&listener, CMSG_DATA(cm), sizeof listener);
  control_fd = control;
  /* The wait for an answer has a monotonic deadline: a step of the wall clock neither stretches nor cuts it. */
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&answered, &ca);
  pthread_condattr_destroy(&ca);
  /* Signals stay with the main thread, which forwards them to the command. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  pthread_t t;
  int ok = (control < 0 || pthread_create(&t, NULL, control_reader, NULL) == 0) && pthread_create(&t, NULL, accept_loop, NULL) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!ok) fail_step("%s", "pthread_create (egress proxy relay)");
  return 1;
}
