/* Fuzz target for the egress relay (native/loader/relay.c), which runs outside the sandbox and parses what the
 * sandboxed command sends: one input is everything one client connection sends before it ends its side. The
 * relay's static functions are reached by including its source; decisions go through decide.c's table. */

#include "../loader/relay.c"

#include "fuzz.h"

/* More than a handshake can use (16 KiB) plus room for a body or tunnel bytes; the socketpair's buffer holds it
 * all, so the write below never waits for the relay. */
#define MAX_INPUT (64 << 10)

/* netns_listen's, which lives in mounts.c with the namespace code the harness does not link; never called. */
void setup_fail(const char *step, int err) {
  die(EXIT_LOADER, "fuzz: %s: %s", step, strerror(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  relay_plan = fuzz_setup(1);
  if (size > MAX_INPUT) size = MAX_INPUT;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail_step("%s", "fuzz: socketpair");
  int big = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (write_all(sv[0], data, size) != 0) fail_step("%s", "fuzz: writing the input");
  shutdown(sv[0], SHUT_WR);
  /* As accept_loop hands a connection to serve (which frees it and counts it out). */
  struct conn *c = xcalloc(1, sizeof *c);
  c->client = sv[1];
  __atomic_add_fetch(&active, 1, __ATOMIC_SEQ_CST);
  serve(c);
  if (getenv("FUZZ_SHOW")) {
    /* What the client got, first line (or the SOCKS bytes) only: to check what a seed reaches. */
    char got[256];
    ssize_t n = recv(sv[0], got, sizeof got - 1, MSG_DONTWAIT);
    got[n > 0 ? n : 0] = '\0';
    char *eol = strstr(got, "\r\n");
    if (eol) *eol = '\0';
    fprintf(stderr, "fuzz: %zd bytes back: ", n);
    for (char *p = got; p < got + (n > 0 && !eol ? n : (ssize_t)strlen(got)); p++)
      fprintf(stderr, (unsigned char)*p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", (unsigned char)*p);
    fprintf(stderr, "\n");
  }
  close(sv[0]);
  return 0;
}
