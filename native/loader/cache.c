/* The loader's side of the plan cache. `sbc` stores compiled plans as DIR/<key>.plan, where the key is a
 * SHA-256 over what the plan was compiled for (the caller's text, the machine, the Landlock ABI and every
 * parameter as the loader binds it here). A hit runs without Node; anything unexpected about the directory or
 * the file (another owner, group or other write, a link) is a miss, never a reason to trust it. */

#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *const BUILTINS[] = {"workspace", "cwd", "home", "tmpdir"};

static int by_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

void cache_key(const char *input, char out[65], int print) {
  struct sha256 s;
  sha256_init(&s);
  struct utsname u;
  if (uname(&u) != 0) fail_step("%s", "uname");
  char *head = xasprintf("sbc-plan-cache 1\n%s\n%s\nlandlock-abi=%ld\n", input, u.machine, landlock_abi());
  sha256_update(&s, head, strlen(head));
  free(head);

  char *lines = xstrdup("");
  for (size_t i = 0; i < sizeof BUILTINS / sizeof BUILTINS[0]; i++) {
    const char *why = NULL;
    char *v = param_value(BUILTINS[i], &why);
    if (!v) die(EXIT_LOADER, "cannot bind ${%s}: its value %s", BUILTINS[i], why);
    char *line = xasprintf("%s=%s\n", BUILTINS[i], enc(v));
    sha256_update(&s, line, strlen(line));
    char *more = xasprintf("%s%s", lines, line);
    free(lines);
    lines = more;
    free(line);
    free(v);
  }

  /* --param pairs as they bind (the last of a name wins), sorted by name. */
  const char **names = xcalloc((size_t)n_cli_params + 1, sizeof *names);
  int n = 0;
  for (int i = 0; i < n_cli_params; i++) {
    int seen = 0;
    for (int k = 0; k < n && !seen; k++) seen = strcmp(names[k], cli_param_names[i]) == 0;
    if (!seen) names[n++] = cli_param_names[i];
  }
  qsort(names, (size_t)n, sizeof *names, by_name);
  for (int i = 0; i < n; i++) {
    const char *why = NULL;
    char *v = param_value(names[i], &why);
    if (!v) die(EXIT_LOADER, "--param %s: the value %s", names[i], why);
    char *line = xasprintf("param %s=%s\n", names[i], enc(v));
    sha256_update(&s, line, strlen(line));
    free(line);
    free(v);
  }
  free(names);

  unsigned char digest[32];
  sha256_final(&s, digest);
  sha256_hex(digest, out);
  if (print) {
    printf("key=%s\n%s", out, lines);
    if (fflush(stdout) != 0) fail_step("%s", "write(stdout)");
  }
  free(lines);
}

char *cache_read(const char *dir, const char key[65], size_t *size) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (dfd < 0 && (errno == ELOOP || errno == ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
    die(EXIT_LOADER, "cache directory %s is a symlink", enc(dir));
  if (dfd < 0) fail_step("cache directory %s", enc(dir));
  if (fstat(dfd, &st) != 0) fail_step("fstat(%s)", enc(dir));
  uid_t me = geteuid();
  if (st.st_uid != me)
    die(EXIT_LOADER, "cache directory %s is owned by uid %u, not by this user (%u)", enc(dir), (unsigned)st.st_uid, (unsigned)me);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) die(EXIT_LOADER, "cache directory %s is writable by group or others", enc(dir));

  char *name = xasprintf("%s.plan", key);
  char *shown_path = path_join(dir, name);
  /* O_NONBLOCK: a FIFO planted there must not block the open; it is refused below as not a regular file. */
  int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) die(EXIT_LOADER, "no cached plan %s", enc(shown_path));
    if (errno == ELOOP) die(EXIT_LOADER, "cached plan %s is a symlink", enc(shown_path));
    fail_step("open(%s)", enc(shown_path));
  }
  close(dfd);
  if (fstat(fd, &st) != 0) fail_step("fstat(%s)", enc(shown_path));
  if (!S_ISREG(st.st_mode)) die(EXIT_LOADER, "cached plan %s is not a regular file", enc(shown_path));
  if (st.st_uid != me)
    die(EXIT_LOADER, "cached plan %s is owned by uid %u, not by this user (%u)", enc(shown_path), (unsigned)st.st_uid, (unsigned)me);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) die(EXIT_LOADER, "cached plan %s is writable by group or others", enc(shown_path));
  if (st.st_nlink != 1)
    die(EXIT_LOADER, "cached plan %s has %lu hard links: another name could change it", enc(shown_path), (unsigned long)st.st_nlink);
  char *text;
  if (read_all(fd, MAX_PLAN_BYTES, &text, size) != 0) {
    if (errno == EFBIG) die(EXIT_LOADER, "cached plan %s is larger than %u bytes", enc(shown_path), MAX_PLAN_BYTES);
    fail_step("read(%s)", enc(shown_path));
  }
  close(fd);
  free(name);
  free(shown_path);
  return text;
}
