/* fs-probe: make filesystem calls, one per stdin line, and print what each returned. tests/kernel-model.test.ts
 * runs it inside the sandbox the real loader sets up and compares every answer with the model's
 * (targets/landlock/model.ts); see native/README.md for the protocol. Built static, so that it needs nothing
 * from the filesystem it probes but itself.
 *
 * Each call is made the way the model describes it: `read` open(O_RDONLY|O_NONBLOCK), `list`
 * open(O_RDONLY|O_DIRECTORY), `write` open(O_WRONLY|O_NONBLOCK), `truncate` to the current size, `execute`
 * execve in a child, `map-exec` open + mmap(PROT_READ|PROT_EXEC), `chmod` to the current mode, `create-file`
 * open(O_CREAT|O_EXCL, 0755), `create-dir`, `create-symlink` (to `sbc-probe-link`), `create-fifo`, `unlink`,
 * `rmdir`, `rename` renameat2(RENAME_NOREPLACE), `link` linkat without following. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static int fail(void) { return errno ? errno : EIO; }

static int do_open(const char *p, int flags) {
  int fd = open(p, flags | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return fail();
  close(fd);
  return 0;
}

/* execve in a child; 0 if the exec itself succeeded (the child then runs whatever it is and is killed). */
static int do_execute(const char *p) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return fail();
  pid_t pid = fork();
  if (pid < 0) return fail();
  if (pid == 0) {
    /* Whatever runs must not read the calls meant for this process, nor answer in its place. */
    close(0);
    close(1);
    char *argv[] = {(char *)p, NULL};
    char *envp[] = {NULL};
    execve(p, argv, envp);
    int e = errno;
    (void)!write(fds[1], &e, sizeof e);
    _exit(127);
  }
  close(fds[1]);
  int e = 0;
  ssize_t n = read(fds[0], &e, sizeof e);
  close(fds[0]);
  if (n != (ssize_t)sizeof e) {
    kill(pid, SIGKILL);
    e = 0;
  }
  waitpid(pid, NULL, 0);
  return e;
}

static int do_map_exec(const char *p) {
  int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return fail();
  void *m = mmap(NULL, 1, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  int e = m == MAP_FAILED ? fail() : 0;
  if (m != MAP_FAILED) munmap(m, 1);
  close(fd);
  return e;
}

static int call(const char *op, const char *a, const char *b) {
  struct stat st;
  errno = 0;
  if (!strcmp(op, "read")) return do_open(a, O_RDONLY | O_NONBLOCK);
  if (!strcmp(op, "list")) return do_open(a, O_RDONLY | O_DIRECTORY);
  if (!strcmp(op, "write")) return do_open(a, O_WRONLY | O_NONBLOCK);
  if (!strcmp(op, "truncate")) return truncate(a, stat(a, &st) == 0 ? st.st_size : 0) == 0 ? 0 : fail();
  if (!strcmp(op, "execute")) return do_execute(a);
  if (!strcmp(op, "map-exec")) return do_map_exec(a);
  if (!strcmp(op, "chmod")) return chmod(a, stat(a, &st) == 0 ? (st.st_mode & 07777) : 0755) == 0 ? 0 : fail();
  if (!strcmp(op, "create-file")) return do_open(a, O_WRONLY | O_CREAT | O_EXCL);
  if (!strcmp(op, "create-dir")) return mkdir(a, 0755) == 0 ? 0 : fail();
  if (!strcmp(op, "create-symlink")) return symlink("sbc-probe-link", a) == 0 ? 0 : fail();
  if (!strcmp(op, "create-fifo")) return mknod(a, S_IFIFO | 0644, 0) == 0 ? 0 : fail();
  if (!strcmp(op, "unlink")) return unlink(a) == 0 ? 0 : fail();
  if (!strcmp(op, "rmdir")) return rmdir(a) == 0 ? 0 : fail();
  if (b && !strcmp(op, "rename")) return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) == 0 ? 0 : fail();
  if (b && !strcmp(op, "link")) return linkat(AT_FDCWD, a, AT_FDCWD, b, 0) == 0 ? 0 : fail();
  fprintf(stderr, "fs-probe: unknown call `%s`\n", op);
  exit(2);
}

int main(void) {
  /* Created files get exactly 0755 (executable, so that execve gets as far as the content), dirs 0755. */
  umask(0);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (line[n - 1] == '\n') line[--n] = '\0';
    char *a = strchr(line, '\t');
    if (!a) {
      fprintf(stderr, "fs-probe: expected `CALL<TAB>PATH[<TAB>PATH]`, got `%s`\n", line);
      return 2;
    }
    *a++ = '\0';
    char *b = strchr(a, '\t');
    if (b) *b++ = '\0';
    printf("%d\n", call(line, a, b));
  }
  return 0;
}
