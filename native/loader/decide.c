/* The egress proxy's decisions without `sbc exec` (a plan with `proxy-table`; native/README.md, "The egress
 * proxy"): the same answers lib/proxy/decide.ts gives, from a first-match table the compiler flattened. The
 * host is normalized as ir/hosts.ts does (stricter where C cannot follow WHATWG's IDNA: a non-ASCII name is
 * refused), matched before resolution, and every address it resolves to is checked after. */

#include "loader.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RESOLVE_MS 10000 /* as lib/proxy/decide.ts's RESOLVE_TIMEOUT_MS */

/* ---- addresses ---- */

/* `a.b.c.d` (no leading zeros) or an IPv6 literal, as ir/values.ts's parseIp reads them. */
int proxy_parse_ip(const char *s, struct proxy_ip *ip) {
  memset(ip, 0, sizeof *ip);
  if (!*s) return 0;
  if (strspn(s, "0123456789.") == strlen(s)) {
    /* parseIpv4: four decimal parts, 0 or 1-255 without a leading zero. */
    const char *p = s;
    for (int k = 0; k < 4; k++) {
      size_t n = strspn(p, "0123456789");
      if (n == 0 || n > 3 || (n > 1 && p[0] == '0')) return 0;
      unsigned v = 0;
      for (size_t j = 0; j < n; j++) v = v * 10 + (unsigned)(p[j] - '0');
      if (v > 255) return 0;
      ip->b[k] = (unsigned char)v;
      p += n;
      if (k < 3 && *p++ != '.') return 0;
    }
    if (*p) return 0;
    ip->family = 4;
    return 1;
  }
  if (strspn(s, "0123456789abcdefABCDEF:.") != strlen(s) || !strchr(s, ':')) return 0;
  if (inet_pton(AF_INET6, s, ip->b) != 1) return 0;
  /* inet_pton takes a dotted tail with leading zeros in no glibc we know; parseIpv4 would refuse it. */
  const char *dot = strchr(s, '.');
  if (dot) {
    const char *tail = strrchr(s, ':') + 1;
    struct proxy_ip t;
    if (!proxy_parse_ip(tail, &t) || t.family != 4) return 0;
  }
  ip->family = 6;
  return 1;
}

/* `::ffff:a.b.c.d` is a.b.c.d. */
static struct proxy_ip unmapped(const struct proxy_ip *ip) {
  static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  struct proxy_ip r = *ip;
  if (ip->family == 6 && memcmp(ip->b, prefix, 12) == 0) {
    memset(&r, 0, sizeof r);
    r.family = 4;
    memcpy(r.b, ip->b + 12, 4);
  }
  return r;
}

/* ir/values.ts's formatIp: RFC 5952 (the longest zero run of 2 or more, the first on a tie; a mapped address
 * keeps its dotted quad). */
void proxy_format_ip(const struct proxy_ip *ip, char out[64]) {
  if (ip->family == 4) {
    snprintf(out, 64, "%u.%u.%u.%u", ip->b[0], ip->b[1], ip->b[2], ip->b[3]);
    return;
  }
  unsigned g[8];
  for (int i = 0; i < 8; i++) g[i] = (unsigned)ip->b[2 * i] << 8 | ip->b[2 * i + 1];
  if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) {
    snprintf(out, 64, "::ffff:%u.%u.%u.%u", ip->b[12], ip->b[13], ip->b[14], ip->b[15]);
    return;
  }
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (g[i]) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && !g[j]) j++;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  size_t o = 0;
  out[0] = '\0';
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      o += (size_t)snprintf(out + o, 64 - o, "::");
      i += best_len - 1;
      continue;
    }
    o += (size_t)snprintf(out + o, 64 - o, "%s%x", o && out[o - 1] != ':' ? ":" : "", g[i]);
  }
}

/* ir/values.ts's cidrContains: an IPv4 block also holds the IPv4-mapped form of its addresses. */
static int cidr_contains(const struct proxy_cidr *c, const struct proxy_ip *address) {
  struct proxy_ip ip = c->ip.family == 4 ? unmapped(address) : *address;
  if (ip.family != c->ip.family) return 0;
  int bits = c->prefix;
  for (int i = 0; bits > 0; i++, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
    if ((ip.b[i] & mask) != (c->ip.b[i] & mask)) return 0;
  }
  return 1;
}

int proxy_parse_cidr(const char *s, struct proxy_cidr *c) {
  char tmp[64];
  const char *slash = strchr(s, '/');
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  if (n >= sizeof tmp) return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  if (!proxy_parse_ip(tmp, &c->ip)) return 0;
  unsigned width = c->ip.family == 4 ? 32 : 128;
  uint64_t prefix = width;
  if (slash && (parse_decimal(slash + 1, width, &prefix) != 0)) return 0;
  c->prefix = (int)prefix;
  return 1;
}

/* ---- names ---- */

/* WHATWG's IPv4 number: decimal, 0x hex, or 0-led octal; -1 when not a number. */
static long long ipv4_number(const char *s, size_t n) {
  int radix = 10;
  if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) radix = 16, s += 2, n -= 2;
  else if (n >= 2 && s[0] == '0') radix = 8, s += 1, n -= 1;
  if (n == 0) return 0;
  if (n > 32) return -1;
  unsigned long long v = 0;
  for (size_t i = 0; i < n; i++) {
    int d = hex_digit(s[i]);
    if (d < 0 || d >= radix) return -1;
    v = v * (unsigned)radix + (unsigned)d;
    if (v > 0xffffffffull) return (long long)0x100000000ll; /* too large either way */
  }
  return (long long)v;
}

/* WHATWG's host parser on an ASCII name that "ends in a number": the IPv4 address it is (1), not a host at all
 * (-1), or a name (0). */
static int whatwg_ipv4(const char *s, struct proxy_ip *ip) {
  const char *last = strrchr(s, '.');
  last = last ? last + 1 : s;
  size_t ln = strlen(last);
  if (ln == 0) return 0;
  if (strspn(last, "0123456789") != ln && ipv4_number(last, ln) < 0) return 0;
  long long parts[4];
  int np = 0;
  for (const char *p = s;;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (np == 4 || n == 0) return -1;
    long long v = ipv4_number(p, n);
    if (v < 0) return -1;
    parts[np++] = v;
    if (!dot) break;
    p = dot + 1;
  }
  unsigned long long acc = 0;
  for (int i = 0; i < np - 1; i++) {
    if (parts[i] > 255) return -1;
    acc |= (unsigned long long)parts[i] << (8 * (3 - i));
  }
  if ((unsigned long long)parts[np - 1] >= 1ull << (8 * (5 - np))) return -1;
  acc += (unsigned long long)parts[np - 1];
  memset(ip, 0, sizeof *ip);
  ip->family = 4;
  for (int i = 0; i < 4; i++) ip->b[i] = (unsigned char)(acc >> (8 * (3 - i)));
  return 1;
}

/* ir/hosts.ts's parseHost: 1 with an address, 2 with a name (written to `name`, normalized), 0 when neither. */
int proxy_parse_host(const char *raw, struct proxy_ip *ip, char name[256]) {
  size_t n = strlen(raw);
  while (n && strchr(" \t\n\r\f\v", raw[0])) raw++, n--;
  while (n && strchr(" \t\n\r\f\v", raw[n - 1])) n--;
  if (n >= 2 && raw[0] == '[' && raw[n - 1] == ']') raw++, n -= 2;
  if (n == 0 || n > 255) return 0;
  char s[256];
  memcpy(s, raw, n);
  s[n] = '\0';
  if (proxy_parse_ip(s, ip)) return 1;
  if (s[n - 1] == '.') s[--n] = '\0';
  if (n == 0 || s[n - 1] == '.') return 0;
  /* Only what a name can hold after IDNA, lower-cased; anything else (non-ASCII included, which WHATWG would
   * turn into punycode, and the characters its URL parser would cut the host at) is refused. */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z') s[i] = (char)(c - 'A' + 'a');
    else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) return 0;
  }
  int v4 = whatwg_ipv4(s, ip);
  if (v4 != 0) return v4 > 0 ? 1 : 0;
  if (n > 253) return 0;
  const char *label = s;
  for (;;) {
    const char *dot = strchr(label, '.');
    size_t ln = dot ? (size_t)(dot - label) : strlen(label);
    if (ln == 0 || ln > 63 || label[0] == '-' || label[ln - 1] == '-') return 0;
    if (!dot) {
      if (strspn(label, "0123456789") == ln) return 0;
      break;
    }
    label = dot + 1;
  }
  memcpy(name, s, n + 1);
  return 2;
}

/* ir/hosts.ts's domainMatches; NULL is a rule for any host. */
static int domain_matches(const char *pattern, const char *name) {
  if (!pattern) return 1;
  size_t nl = strlen(name);
  if (strncmp(pattern, "**.", 3) == 0) {
    const char *suffix = pattern + 2;
    size_t sl = strlen(suffix);
    return nl > sl && strcmp(name + nl - sl, suffix) == 0;
  }
  if (strncmp(pattern, "*.", 2) == 0) {
    const char *suffix = pattern + 1;
    size_t sl = strlen(suffix);
    if (nl <= sl || strcmp(name + nl - sl, suffix) != 0) return 0;
    return memchr(name, '.', nl - sl) == NULL;
  }
  return strcmp(pattern, name) == 0;
}

static int in_ports(const struct proxy_rule *r, unsigned port) {
  for (int i = 0; i < r->n_ports; i++)
    if (port >= r->ports[i][0] && port <= r->ports[i][1]) return 1;
  return 0;
}

static int addr_matches(const struct proxy_rule *r, const struct proxy_ip *ip) {
  if (r->any) return 1;
  for (int i = 0; i < r->n_cidrs; i++)
    if (cidr_contains(&r->cidrs[i], ip)) return 1;
  return 0;
}

/* ---- resolution, with a time limit ---- */

struct lookup {
  pthread_mutex_t lock;
  pthread_cond_t done_cond;
  int done, refs, rc, err;
  char name[256];
  struct addrinfo *res;
};

static void lookup_release(struct lookup *l) {
  pthread_mutex_lock(&l->lock);
  int last = --l->refs == 0;
  pthread_mutex_unlock(&l->lock);
  if (!last) return;
  if (l->res) freeaddrinfo(l->res);
  free(l);
}

/* Lookups still running: one that timed out goes on until getaddrinfo gives up, its connection long gone, so a
 * command asking for slow names could otherwise start threads outside the sandbox without bound. */
enum { MAX_LOOKUPS = 64 };
static int lookups_running; /* __atomic */

static void *lookup_run(void *arg) {
  struct lookup *l = arg;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(l->name, NULL, &hints, &res);
  int err = errno;
  pthread_mutex_lock(&l->lock);
  l->rc = rc, l->err = err, l->res = res, l->done = 1;
  pthread_cond_broadcast(&l->done_cond);
  pthread_mutex_unlock(&l->lock);
  lookup_release(l);
  __atomic_sub_fetch(&lookups_running, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

/* Node's codes for getaddrinfo's failures (`ENOTFOUND` for a name that does not exist). */
static const char *eai_code(int rc, int err) {
  switch (rc) {
  case EAI_NONAME:
#ifdef EAI_NODATA
  case EAI_NODATA:
#endif
    return "ENOTFOUND";
  case EAI_AGAIN: return "EAI_AGAIN";
  case EAI_SYSTEM: return errno_name(err);
  case EAI_MEMORY: return "EAI_MEMORY";
  default: return "EAI_FAIL";
  }
}

/* The addresses of a name in getaddrinfo's order: the count, 0 with *code set when it does not resolve, -1 on
 * time-out. */
static int system_resolve(const char *name, struct proxy_ip *out, int max, const char **code) {
  if (__atomic_add_fetch(&lookups_running, 1, __ATOMIC_SEQ_CST) > MAX_LOOKUPS) {
    __atomic_sub_fetch(&lookups_running, 1, __ATOMIC_SEQ_CST);
    *code = "EAI_AGAIN"; /* refused, as a resolver that cannot answer now */
    return 0;
  }
  struct lookup *l = xcalloc(1, sizeof *l);
  pthread_mutex_init(&l->lock, NULL);
  /* Waited for by a monotonic deadline: a step of the wall clock neither stretches nor cuts it. */
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&l->done_cond, &ca);
  pthread_condattr_destroy(&ca);
  snprintf(l->name, sizeof l->name, "%s", name);
  l->refs = 2;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 << 10);
  int started = pthread_create(&t, &attr, lookup_run, l) == 0;
  pthread_attr_destroy(&attr);
  if (!started) {
    __atomic_sub_fetch(&lookups_running, 1, __ATOMIC_SEQ_CST);
    l->refs = 1;
    lookup_release(l);
    *code = "EAI_FAIL";
    return 0;
  }
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += RESOLVE_MS / 1000;
  pthread_mutex_lock(&l->lock);
  while (!l->done)
    if (pthread_cond_timedwait(&l->done_cond, &l->lock, &until) == ETIMEDOUT) break;
  int n = -1;
  if (l->done) {
    n = 0;
    if (l->rc != 0) *code = eai_code(l->rc, l->err);
    for (struct addrinfo *a = l->res; a && n < max; a = a->ai_next) {
      if (a->ai_family == AF_INET) {
        memset(&out[n], 0, sizeof out[n]);
        out[n].family = 4;
        memcpy(out[n++].b, &((struct sockaddr_in *)a->ai_addr)->sin_addr, 4);
      } else if (a->ai_family == AF_INET6) {
        memset(&out[n], 0, sizeof out[n]);
        out[n].family = 6;
        memcpy(out[n++].b, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, 16);
      }
    }
    if (l->rc == 0 && n == 0) *code = "ENOTFOUND";
  }
  pthread_mutex_unlock(&l->lock);
  lookup_release(l);
  return n;
}

/* `--resolve NAME=ADDR[,ADDR]` of the test mode: those names only, never DNS. */
static char **fixed_names;
static char **fixed_addrs;
static int n_fixed;

static int fixed_resolve(const char *name, struct proxy_ip *out, int max, const char **code) {
  for (int i = 0; i < n_fixed; i++) {
    if (strcmp(fixed_names[i], name) != 0) continue;
    int n = 0;
    char *copy = xstrdup(fixed_addrs[i]), *save = NULL;
    for (char *a = strtok_r(copy, ",", &save); a && n < max; a = strtok_r(NULL, ",", &save))
      if (proxy_parse_ip(a, &out[n])) n++;
    free(copy);
    return n;
  }
  *code = "ENOTFOUND";
  return 0;
}

/* ---- the decision ---- */

/* lib/proxy/decide.ts's oneLine: printable ASCII, one `?` for each UTF-16 unit of anything else. */
static char *answer_deny(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *answer_deny(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = xvasprintf(fmt, ap);
  va_end(ap);
  char *out = xcalloc(strlen(text) * 2 + 32, 1);
  size_t o = (size_t)sprintf(out, "deny %d sbc: ", status);
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p >= 0x20 && *p <= 0x7e) out[o++] = (char)*p;
    else if (*p < 0x80 || *p >= 0xc0) {
      out[o++] = '?';
      if (*p >= 0xf0) out[o++] = '?'; /* outside the BMP: two UTF-16 units */
    }
  }
  free(text);
  return out;
}

static const struct proxy_rule *first_addr_rule(const struct plan *plan, const struct proxy_ip *ip, unsigned port) {
  for (int i = 0; i < plan->n_proxy_addrs; i++) {
    const struct proxy_rule *r = &plan->proxy_addrs[i];
    if (addr_matches(r, ip) && in_ports(r, port)) return r;
  }
  return NULL;
}

/* checkResolvedAddress: NULL when the address may be connected to, else the refusal. */
static char *after_resolution(const struct plan *plan, const char *what, const struct proxy_ip *ip, unsigned port) {
  char address[64];
  proxy_format_ip(ip, address);
  int named = 0;
  for (int i = 0; i < plan->n_proxy_addrs; i++) {
    const struct proxy_rule *r = &plan->proxy_addrs[i];
    if (!addr_matches(r, ip) || !in_ports(r, port)) continue;
    if (!r->allow) return answer_deny(403, "%s resolves to %s, which %s denies on port %u", what, address, r->label, port);
    if (!r->any) named = 1;
  }
  if (named) return NULL;
  struct proxy_ip v4 = unmapped(ip);
  for (int i = 0; i < plan->n_proxy_specials; i++) {
    const struct proxy_special *s = &plan->proxy_specials[i];
    if (cidr_contains(&s->cidr, &v4) || cidr_contains(&s->cidr, ip))
      return answer_deny(403, "%s resolves to %s, in the %s range %s, which no rule names (name it in `hosts:` to allow it)",
                         what, address, s->what, s->text);
  }
  return NULL;
}

#define MAX_ADDRESSES 64

/* The answer to one request, as `sbc exec` would send it after `A <id> `: `allow ADDR PORT` or
 * `deny STATUS TEXT`. The plan has a table (plan->proxy_table). */
char *proxy_decide(const struct plan *plan, const char *host, unsigned port) {
  struct proxy_ip ip;
  char name[256];
  int kind = proxy_parse_host(host, &ip, name);
  if (!kind) return answer_deny(400, "`%s` is not a host name or an IP address", host);
  if (port < 1 || port > 65535) return answer_deny(400, "port `%u` is out of 1-65535", port);
  char shown_host[256];
  if (kind == 1) proxy_format_ip(&ip, shown_host);
  else snprintf(shown_host, sizeof shown_host, "%s", name);
  char *what = xasprintf("`%s:%u`", shown_host, port);
  char *answer = NULL;
  if (kind == 1) {
    struct proxy_ip a = unmapped(&ip);
    const struct proxy_rule *r = first_addr_rule(plan, &a, port);
    if (!r || !r->allow) {
      answer = r ? answer_deny(403, "connecting to %s is denied by %s", what, r->label)
                 : answer_deny(403, "connecting to %s is denied by the policy: no rule allows it (default deny)", what);
    } else if (!(answer = after_resolution(plan, what, &a, port))) {
      char address[64];
      proxy_format_ip(&a, address);
      answer = xasprintf("allow %s %u", address, port);
    }
    free(what);
    return answer;
  }
  const struct proxy_rule *r = NULL;
  for (int i = 0; i < plan->n_proxy_names && !r; i++)
    if (domain_matches(plan->proxy_names[i].pattern, name) && in_ports(&plan->proxy_names[i], port)) r = &plan->proxy_names[i];
  if (!r || !r->allow) {
    answer = r ? answer_deny(403, "connecting to %s is denied by %s", what, r->label)
               : answer_deny(403, "connecting to %s is denied by the policy: no rule allows it (default deny)", what);
    free(what);
    return answer;
  }
  struct proxy_ip found[MAX_ADDRESSES];
  const char *code = NULL;
  int n = n_fixed || fixed_names ? fixed_resolve(name, found, MAX_ADDRESSES, &code) : system_resolve(name, found, MAX_ADDRESSES, &code);
  if (n < 0) answer = answer_deny(504, "%s did not resolve in time", what);
  else if (n == 0) answer = code ? answer_deny(502, "%s does not resolve (%s)", what, code) : answer_deny(502, "%s does not resolve", what);
  int first = -1;
  for (int i = 0; i < n && !answer; i++) {
    found[i] = unmapped(&found[i]);
    answer = after_resolution(plan, what, &found[i], port);
    if (first < 0 && found[i].family == 4) first = i;
  }
  if (!answer) {
    char address[64];
    proxy_format_ip(&found[first < 0 ? 0 : first], address);
    answer = xasprintf("allow %s %u", address, port);
  }
  free(what);
  return answer;
}

/* ---- `sbc-loader --proxy-decide --plan-fd N [--resolve NAME=ADDR[,ADDR]]...`: the test mode ---- */

/* Reads `Q ID KIND HOST PORT [METHOD PATH]` lines on stdin and prints the `A` line the relay would act on, with
 * only the names given resolving (no DNS): tests compare it with lib/proxy's decision service. */
void proxy_set_resolve(char **resolve, int n_resolve) {
  fixed_names = xcalloc((size_t)n_resolve + 1, sizeof *fixed_names);
  fixed_addrs = xcalloc((size_t)n_resolve + 1, sizeof *fixed_addrs);
  for (int i = 0; i < n_resolve; i++) {
    char *eq = strchr(resolve[i], '=');
    if (!eq || eq == resolve[i]) die(EXIT_LOADER, "--resolve `%s`: expected NAME=ADDR[,ADDR]", shown(resolve[i]));
    fixed_names[n_fixed] = xasprintf("%.*s", (int)(eq - resolve[i]), resolve[i]);
    fixed_addrs[n_fixed++] = eq + 1;
  }
}

int proxy_decide_main(const struct plan *plan, char **resolve, int n_resolve) {
  proxy_set_resolve(resolve, n_resolve);
  if (!plan->proxy_table) die(EXIT_LOADER, "%s", "--proxy-decide: the plan has no `proxy-table`");
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    if (line[len - 1] == '\n') line[--len] = '\0';
    char *f[8];
    int nf = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " ", &save); w && nf < 8; w = strtok_r(NULL, " ", &save)) f[nf++] = w;
    uint64_t port;
    if ((nf != 5 && nf != 7) || strcmp(f[0], "Q") != 0 || parse_decimal(f[4], 99999, &port) != 0) {
      printf("A %s deny 400 sbc: the request could not be read\n", nf > 1 ? f[1] : "0");
      continue;
    }
    char *a = proxy_decide(plan, f[3], (unsigned)port);
    printf("A %s %s\n", f[1], a);
    free(a);
    fflush(stdout);
  }
  free(line);
  return 0;
}
