/* Messages, memory, paths and errno names for the loader. Every message is one line on stderr starting with
 * `sbc-loader: `; user input in it is percent-encoded, so a path with a newline cannot forge a second line. */

#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int report;
int checking;
jmp_buf *try_jump;
int status_fd = -1;
int status_open;

int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

void die(int status, const char *fmt, ...) {
  /* Trying a plan for `--else`: nothing has changed yet, so the caller takes the next source or the fallback. */
  if (try_jump) longjmp(*try_jump, 1);
  if (checking) exit(1);
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
  va_end(ap);
  if (status_fd >= 0 && status_open) {
    /* The namespace child before `ok`: the parent prints it, removes what was created and exits 125. */
    char *line = msg ? xasprintf("refuse %s\n", msg) : NULL;
    if (!line || write_all(status_fd, line, strlen(line)) != 0) (void)write_all(2, "sbc-loader: out of memory\n", 26);
    _exit(EXIT_LOADER);
  }
  char *line = NULL;
  if (msg && asprintf(&line, "sbc-loader: %s\n", msg) >= 0) (void)write_all(2, line, strlen(line));
  else (void)write_all(2, "sbc-loader: out of memory\n", 26);
  exit(status);
}

void say(const char *fmt, ...) {
  if (!report) return;
  va_list ap;
  va_start(ap, fmt);
  char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  size_t n = strlen(msg);
  msg[n] = '\n';
  (void)write_all(2, msg, n + 1); /* the NUL becomes the newline */
  free(msg);
}

/* A few rotating buffers, enough for every argument of one message. */
enum { ROTATING = 8 };

const char *shown(const char *s) {
  enum { SHOWN_MAX = 96 };
  static char buffers[ROTATING][SHOWN_MAX * 3 + 4];
  static int next;
  char *out = buffers[next++ % ROTATING], *o = out;
  size_t i = 0;
  for (; s[i] && i < SHOWN_MAX; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c <= 0x7e) *o++ = (char)c;
    else o += sprintf(o, "%%%02X", c);
  }
  strcpy(o, s[i] ? "..." : "");
  return out;
}

char *shown_all(const char *s) {
  char *out = xcalloc(strlen(s) * 3 + 1, 1), *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p >= 0x20 && *p <= 0x7e) *o++ = (char)*p;
    else o += sprintf(o, "%%%02X", *p);
  }
  *o = '\0';
  return out;
}

char *encode_alloc(const char *path) {
  size_t n = strlen(path);
  char *out = xcalloc(n * 3 + 1, 1), *o = out;
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if (*p >= 0x21 && *p <= 0x7e && *p != '%') *o++ = (char)*p;
    else o += sprintf(o, "%%%02X", *p);
  }
  *o = '\0';
  return out;
}

const char *enc(const char *path) {
  static char *buffers[ROTATING];
  static int next;
  int i = next++ % ROTATING;
  free(buffers[i]);
  buffers[i] = encode_alloc(path);
  return buffers[i];
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) die(EXIT_LOADER, "out of memory");
  return p;
}

void *xrealloc(void *p, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) die(EXIT_LOADER, "out of memory");
  size_t bytes = n * size;
  void *q = realloc(p, bytes ? bytes : 1);
  if (!q) die(EXIT_LOADER, "out of memory");
  return q;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) die(EXIT_LOADER, "out of memory");
  return p;
}

char *xvasprintf(const char *fmt, va_list ap) {
  char *out = NULL;
  if (vasprintf(&out, fmt, ap) < 0) die(EXIT_LOADER, "out of memory");
  return out;
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *out = xvasprintf(fmt, ap);
  va_end(ap);
  return out;
}

char *path_join(const char *dir, const char *name) {
  size_t d = strlen(dir);
  return xasprintf("%s%s%s", dir, d > 0 && dir[d - 1] == '/' ? "" : "/", name);
}

int path_within(const char *a, const char *b) {
  if (strcmp(b, "/") == 0) return a[0] == '/';
  size_t n = strlen(b);
  return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

int path_below(const char *a, const char *b) { return path_within(a, b) && strcmp(a, b) != 0; }

int path_depth(const char *p) {
  int n = 0;
  for (const char *c = p; *c; c++)
    if (*c == '/' && c[1] != '\0' && c[1] != '/') n++;
  return n;
}

const char *path_rel(const char *p, const char *root) {
  size_t n = strcmp(root, "/") == 0 ? 0 : strlen(root);
  return p + n + 1;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* `0x` and 1 to 16 hex digits. */
int parse_mask(const char *s, uint64_t *out) {
  if (s[0] != '0' || s[1] != 'x' || s[2] == '\0') return -1;
  if (strlen(s + 2) > 16) return -1;
  uint64_t v = 0;
  for (const char *p = s + 2; *p; p++) {
    int d = hex_digit(*p);
    if (d < 0) return -1;
    v = v << 4 | (uint64_t)d;
  }
  *out = v;
  return 0;
}

/* Plain decimal, no sign, no leading zeros (other than `0` itself), at most `max`. */
int parse_decimal(const char *s, uint64_t max, uint64_t *out) {
  if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) return -1;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (uint64_t)(*p - '0');
    if (v > max) return -1;
  }
  *out = v;
  return 0;
}

/* The names the loader can print (`fail unshare EPERM`, `namespaces=none:unshare:ENOSPC`): our own table,
 * since strerrorname_np needs glibc 2.32. Anything else is `E<number>`. */
static const struct {
  int value;
  const char *name;
} ERRNO_NAMES[] = {
    {EPERM, "EPERM"},     {ENOENT, "ENOENT"},     {ESRCH, "ESRCH"},       {EINTR, "EINTR"},
    {EIO, "EIO"},         {ENXIO, "ENXIO"},       {E2BIG, "E2BIG"},       {ENOEXEC, "ENOEXEC"},
    {EBADF, "EBADF"},     {ECHILD, "ECHILD"},     {EAGAIN, "EAGAIN"},     {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},   {EFAULT, "EFAULT"},     {EBUSY, "EBUSY"},       {EEXIST, "EEXIST"},
    {EXDEV, "EXDEV"},     {ENODEV, "ENODEV"},     {ENOTDIR, "ENOTDIR"},   {EISDIR, "EISDIR"},
    {EINVAL, "EINVAL"},   {ENFILE, "ENFILE"},     {EMFILE, "EMFILE"},     {ENOTTY, "ENOTTY"},
    {ETXTBSY, "ETXTBSY"}, {EFBIG, "EFBIG"},       {ENOSPC, "ENOSPC"},     {ESPIPE, "ESPIPE"},
    {EROFS, "EROFS"},     {EMLINK, "EMLINK"},     {EPIPE, "EPIPE"},       {ERANGE, "ERANGE"},
    {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOSYS, "ENOSYS"}, {ENOTEMPTY, "ENOTEMPTY"}, {ELOOP, "ELOOP"},
    {EOPNOTSUPP, "EOPNOTSUPP"}, {EUSERS, "EUSERS"}, {EDQUOT, "EDQUOT"}, {ESTALE, "ESTALE"},
    {EBADFD, "EBADFD"},   {ENOMSG, "ENOMSG"},     {EOVERFLOW, "EOVERFLOW"}, {ENOLINK, "ENOLINK"},
    /* the relay's upstream connects (`R ID fail ERRNO`) */
    {ECONNREFUSED, "ECONNREFUSED"}, {ETIMEDOUT, "ETIMEDOUT"}, {ENETUNREACH, "ENETUNREACH"},
    {EHOSTUNREACH, "EHOSTUNREACH"}, {ECONNRESET, "ECONNRESET"}, {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"}, {EADDRINUSE, "EADDRINUSE"},
};

const char *errno_name(int e) {
  for (size_t i = 0; i < sizeof ERRNO_NAMES / sizeof ERRNO_NAMES[0]; i++)
    if (ERRNO_NAMES[i].value == e) return ERRNO_NAMES[i].name;
  static char other[ROTATING][16];
  static int next;
  char *out = other[next++ % ROTATING];
  snprintf(out, sizeof other[0], "E%d", e);
  return out;
}

int errno_from_name(const char *name) {
  for (size_t i = 0; i < sizeof ERRNO_NAMES / sizeof ERRNO_NAMES[0]; i++)
    if (strcmp(ERRNO_NAMES[i].name, name) == 0) return ERRNO_NAMES[i].value;
  uint64_t v;
  if (name[0] == 'E' && parse_decimal(name + 1, 4095, &v) == 0) return (int)v;
  return 0;
}

const char *signal_name(int sig) {
  static const char *const NAMES[] = {
      [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
      [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",     [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
      [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
      [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM", [SIGXCPU] = "SIGXCPU",
      [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGSYS] = "SIGSYS",
  };
  if (sig > 0 && (size_t)sig < sizeof NAMES / sizeof NAMES[0] && NAMES[sig]) return NAMES[sig];
  static char other[16];
  snprintf(other, sizeof other, "SIG%d", sig);
  return other;
}

int read_all(int fd, size_t max, char **out, size_t *size) {
  size_t cap = 4096, n = 0;
  char *buf = xcalloc(cap + 1, 1);
  for (;;) {
    if (n == cap) {
      if (cap >= max) {
        free(buf);
        errno = EFBIG;
        return -1;
      }
      cap = cap * 2 > max ? max : cap * 2;
      buf = xrealloc(buf, cap + 1, 1);
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(buf);
      errno = e;
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = buf;
  *size = n;
  return 0;
}

/* uapi <linux/openat2.h>, defined here: older headers lack it. The syscall number is the same everywhere. */
#ifndef __NR_openat2
#define __NR_openat2 437
#endif
struct sbc_open_how {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
#define SBC_RESOLVE_NO_SYMLINKS 0x04

int open_real(const char *path, int flags) {
  struct sbc_open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = SBC_RESOLVE_NO_SYMLINKS};
  int fd = (int)syscall(__NR_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) {
    /* Before Linux 5.6 (no mount layer there): the last component at least is not followed. */
    fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC);
  }
  return fd;
}
