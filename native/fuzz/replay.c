/* The replay driver of a fuzz target when no fuzzing engine links it (gcc, `-fsanitize=address,undefined`): each
 * file named on the command line, or each file in a directory named there, is one input. The sanitizers abort
 * on the first report; exit 0 means every input ran clean. */

#ifndef FUZZING_ENGINE

#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int run_file(const char *path) {
  char *data;
  size_t size;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read_all(fd, (size_t)1 << 24, &data, &size) != 0) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return 1;
  }
  close(fd);
  /* Said before it runs, so the last such line before a sanitizer's report names the input that made it. */
  fprintf(stderr, "replay: %s\n", path);
  /* A copy of exactly the input's size, so reading past it is a sanitizer report, as under libFuzzer. */
  uint8_t *exact = malloc(size ? size : 1);
  memcpy(exact, data, size);
  free(data);
  LLVMFuzzerTestOneInput(exact, size);
  free(exact);
  return 0;
}

int main(int argc, char **argv) {
  int failed = 0, ran = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      struct dirent **names;
      int n = scandir(argv[i], &names, NULL, alphasort);
      for (int k = 0; k < n; k++) {
        if (names[k]->d_name[0] != '.') {
          char *p = path_join(argv[i], names[k]->d_name);
          failed |= run_file(p);
          ran++;
          free(p);
        }
        free(names[k]);
      }
      free(names);
      if (n < 0) failed = 1;
    } else {
      failed |= run_file(argv[i]);
      ran++;
    }
  }
  printf("replay: %d inputs\n", ran);
  return failed;
}

#endif
