/* Walking a path that names something the plan protects, one component at a time with lstat, so that the
 * loader knows every symlink on the way (to pin it, or to carve what it leads to) and never follows one by
 * accident. Shared by the mount layer (phase A) and the Landlock carving; gitfiles are read here too. */

#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *parent_of(const char *real) {
  char *p = xstrdup(real);
  char *slash = strrchr(p, '/');
  if (slash == p) p[1] = '\0';
  else if (slash) *slash = '\0';
  return p;
}

static char *read_link(const char *path) {
  size_t cap = 256;
  for (;;) {
    char *buf = xcalloc(cap + 1, 1);
    ssize_t n = readlink(path, buf, cap);
    if (n < 0) {
      free(buf);
      return xstrdup("?");
    }
    if ((size_t)n < cap) return buf;
    free(buf);
    cap *= 2;
  }
}

void walk_path(const char *start, const char *rel, int dotdot, struct walk *w) {
  memset(w, 0, sizeof *w);
  char *copy = xstrdup(rel);
  size_t max = 1;
  for (const char *c = copy; *c; c++) max += *c == '/';
  char **comps = xcalloc(max, sizeof *comps);
  int n = 0;
  for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) comps[n++] = c;

  char *cur = xstrdup(start);
  int found = 0;
  for (int i = 0; i < n; i++) {
    const char *c = comps[i];
    int last = i == n - 1;
    if (dotdot && strcmp(c, ".") == 0) continue;
    if (dotdot && strcmp(c, "..") == 0) {
      char *up = parent_of(cur);
      free(cur);
      cur = up;
      continue;
    }
    char *next = path_join(cur, c);
    struct stat st;
    if (lstat(next, &st) != 0) {
      int e = errno;
      free(next);
      if (e == ENOENT || e == ENOTDIR) {
        w->status = WALK_MISSING;
        w->real = cur;
        w->missing = xcalloc((size_t)(n - i), sizeof *w->missing);
        for (int k = i; k < n; k++) w->missing[w->n_missing++] = xstrdup(comps[k]);
        goto done;
      }
      if (e == EACCES) {
        w->status = WALK_UNREACHABLE;
        w->err = e;
        w->real = cur;
        goto done;
      }
      errno = e;
      fail_step("lstat(%s)", enc(path_join(cur, c)));
    }
    if (S_ISLNK(st.st_mode)) {
      w->links = xrealloc(w->links, (size_t)w->n_links + 1, sizeof *w->links);
      w->links[w->n_links++] = (struct walk_link){.path = next, .parent = xstrdup(cur), .dev = st.st_dev, .ino = st.st_ino};
      char *r = realpath(next, NULL);
      if (!r) {
        int e = errno;
        if (e == EACCES) {
          w->status = WALK_UNREACHABLE;
          w->err = e;
          w->real = cur;
          goto done;
        }
        if (e != ENOENT && e != ENOTDIR && e != ELOOP) fail_step("realpath(%s)", enc(next));
        w->status = WALK_DANGLING;
        w->err = e;
        w->dangling = xstrdup(next);
        char *target = read_link(next);
        w->dangling_target = target[0] == '/' ? target : path_join(cur, target);
        w->real = cur;
        goto done;
      }
      if (last) {
        struct stat rs;
        if (stat(r, &rs) != 0) fail_step("stat(%s)", enc(r));
        w->parent = cur;
        cur = r;
        w->dev = rs.st_dev;
        w->ino = rs.st_ino;
        w->mode = rs.st_mode;
        found = 1;
      } else {
        free(cur);
        cur = r;
      }
      continue;
    }
    if (last) {
      w->parent = cur;
      w->dev = st.st_dev;
      w->ino = st.st_ino;
      w->mode = st.st_mode;
      found = 1;
    } else {
      if (S_ISDIR(st.st_mode)) {
        w->dirs = xrealloc(w->dirs, (size_t)w->n_dirs + 1, sizeof *w->dirs);
        w->dirs[w->n_dirs++] = (struct walk_dir){.path = xstrdup(next), .parent = xstrdup(cur), .dev = st.st_dev, .ino = st.st_ino};
      }
      free(cur);
    }
    cur = next;
  }
  if (!found) {
    /* No component, or the last was `.` or `..`: what the walk stands on. */
    struct stat st;
    if (stat(cur, &st) != 0) fail_step("stat(%s)", enc(cur));
    w->parent = parent_of(cur);
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    w->mode = st.st_mode;
  }
  w->status = WALK_FOUND;
  w->real = cur;
done:
  free(comps);
  free(copy);
}

void walk_free(struct walk *w) {
  free(w->real);
  for (int i = 0; i < w->n_missing; i++) free(w->missing[i]);
  free(w->missing);
  free(w->parent);
  for (int i = 0; i < w->n_links; i++) {
    free(w->links[i].path);
    free(w->links[i].parent);
  }
  free(w->links);
  for (int i = 0; i < w->n_dirs; i++) {
    free(w->dirs[i].path);
    free(w->dirs[i].parent);
  }
  free(w->dirs);
  free(w->dangling);
  free(w->dangling_target);
  memset(w, 0, sizeof *w);
}

/* The first line of a small file (gitfile, commondir), without its `\n` and a trailing `\r`, as git reads them.
 * NULL with errno: unreadable, or ENAMETOOLONG when the line is longer than any path. */
static char *first_line(const char *path, int nofollow) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
  if (fd < 0) return NULL;
  enum { LIMIT = 4096 + 64 };
  char *buf = xcalloc(LIMIT + 1, 1);
  size_t n = 0;
  while (n < LIMIT) {
    ssize_t r = read(fd, buf + n, LIMIT - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      free(buf);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
    if (memchr(buf, '\n', n)) break;
  }
  close(fd);
  char *nl = memchr(buf, '\n', n);
  if (!nl && n == LIMIT) {
    free(buf);
    errno = ENAMETOOLONG;
    return NULL;
  }
  size_t len = nl ? (size_t)(nl - buf) : n;
  if (len > 0 && buf[len - 1] == '\r') len--;
  buf[len] = '\0';
  if (memchr(buf, '\0', len)) {
    free(buf);
    errno = EINVAL;
    return NULL;
  }
  return buf;
}

/* Resolves a path git would use (absolute, or relative to `base`), with a walk whose links are recorded. */
static char *resolve_git_path(const char *base, const char *p, struct walk *w) {
  char *lexical = p[0] == '/' ? xstrdup(p) : path_join(base, p);
  struct walk local;
  struct walk *use = w ? w : &local;
  walk_path("/", lexical + 1, 1, use);
  free(lexical);
  char *real = use->status == WALK_FOUND ? xstrdup(use->real) : NULL;
  if (!w) walk_free(&local);
  return real;
}

int read_gitfile(const char *real_file, const char *real_dir, char **gitdir, char **commondir, char **why,
                 struct walk *gitdir_walk, struct walk *commondir_walk) {
  *gitdir = *commondir = *why = NULL;
  char *line = first_line(real_file, 1);
  if (!line) {
    *why = xasprintf("cannot be read (%s)", strerror(errno));
    return -1;
  }
  if (strncmp(line, "gitdir: ", 8) != 0) {
    free(line);
    return 0;
  }
  const char *x = line + 8;
  if (x[0] == '\0') {
    *why = xstrdup("names an empty gitdir");
    free(line);
    return -1;
  }
  *gitdir = resolve_git_path(real_dir, x, gitdir_walk);
  if (!*gitdir) {
    *why = xasprintf("names the gitdir %s, which does not resolve", enc(x));
    free(line);
    return -1;
  }
  char *common_file = path_join(*gitdir, "commondir");
  char *c = first_line(common_file, 0);
  if (!c) {
    int e = errno;
    free(line);
    if (e == ENOENT) {
      free(common_file);
      return 1;
    }
    *why = xasprintf("has a gitdir whose %s cannot be read (%s)", enc(common_file), strerror(e));
    free(common_file);
    return -1;
  }
  free(common_file);
  *commondir = c[0] ? resolve_git_path(*gitdir, c, commondir_walk) : NULL;
  if (!*commondir) {
    *why = xasprintf("has a gitdir whose commondir %s does not resolve", enc(c));
    free(c);
    free(line);
    return -1;
  }
  free(c);
  free(line);
  return 1;
}

/* `${workspace}/.git (/w/.git)`, or the path alone when the plan spelled it without a parameter. */
char *spelled_path(const char *encoded, const char *path) {
  const char *plain = enc(path);
  return strcmp(encoded, plain) == 0 ? xstrdup(plain) : xasprintf("%s (%s)", encoded, plain);
}

char *dangling_message(const char *encoded, const char *path, const struct walk *w) {
  const char *what = w->err == ELOOP ? "which loops" : "which does not exist";
  char *name = spelled_path(encoded, path);
  char *out;
  if (strcmp(w->dangling, path) == 0)
    out = xasprintf("%s is a symlink to %s, %s: sbc cannot protect what it points at; remove the link or create its target", name,
                    enc(w->dangling_target), what);
  else
    out = xasprintf("%s goes through %s, a symlink to %s, %s: sbc cannot protect what it points at; remove the link or create its target",
                    name, enc(w->dangling), enc(w->dangling_target), what);
  free(name);
  return out;
}

/* Why the plan would be refused here because of a protected name (a dangling link on the way, a gitfile whose
 * gitdir or commondir does not resolve), or NULL: what the run checks in phase A and the Landlock step, without
 * changing anything. `--check --explain` reports it, so that `sbc exec` can name the policy's rule. *path gets
 * the lexical path of the name. */
static char *refusal_at(const char *start, const char *rel, const char *lexical, const char *spelled, char **path) {
  struct walk w;
  walk_path(start, rel, 0, &w);
  char *why = NULL;
  if (w.status == WALK_DANGLING) why = dangling_message(spelled, lexical, &w);
  else if (w.status == WALK_FOUND && S_ISREG(w.mode)) {
    const char *slash = strrchr(lexical, '/');
    if (strcmp(slash ? slash + 1 : lexical, ".git") == 0) {
      char *gitdir = NULL, *commondir = NULL, *what = NULL;
      if (read_gitfile(w.real, w.parent, &gitdir, &commondir, &what, NULL, NULL) < 0)
      {
        char *name = spelled_path(spelled, lexical);
        why = xasprintf("%s is a gitfile that %s: sbc cannot protect what it points at; fix or remove the file", name, what);
        free(name);
      }
      free(gitdir);
      free(commondir);
    }
  }
  walk_free(&w);
  if (why) *path = xstrdup(lexical);
  return why;
}

char *refusal_scan(const struct plan *plan, int namespace_mode, char **path) {
  for (size_t i = 1; namespace_mode && i < plan->n_mounts; i++) {
    const struct mount_line *m = &plan->mounts[i];
    if (m->file || (!m->ro && !m->noexec)) continue;
    char *why = refusal_at("/", m->path + 1, m->path, m->encoded, path);
    if (why) return why;
  }
  for (size_t i = 0; i < plan->n_fs; i++) {
    const struct fs_rule *r = &plan->fs[i];
    if (r->kind != FS_CHILDREN) continue;
    char *root = realpath(r->path, NULL);
    if (!root) continue; /* a missing grant has nothing to carve */
    for (int k = 0; k < r->n_except; k++) {
      /* In a namespace a `!` entry is the mount layer's, checked above. */
      if (namespace_mode && r->except[k].mount_enforced) continue;
      char *lexical = path_join(r->path, r->except[k].rel);
      char *spelled = xasprintf("%s/%s", r->encoded, enc(r->except[k].rel));
      char *why = refusal_at(root, r->except[k].rel, lexical, spelled, path);
      free(lexical);
      free(spelled);
      if (why) {
        free(root);
        return why;
      }
    }
    free(root);
  }
  return NULL;
}
