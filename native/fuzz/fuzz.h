/* What the fuzz harnesses share (native/fuzz/README.md): the fixed plan and resolver (fuzz-plan.c), and the
 * entry point every harness defines, which libFuzzer or the replay driver (replay.c) calls. */

#ifndef SBC_FUZZ_H
#define SBC_FUZZ_H

#include "../loader/loader.h"

#include <stddef.h>
#include <stdint.h>

/* The port where the harness's upstream listens; 41781 (also allowed) has nothing: connection refused. */
#define FUZZ_OPEN_PORT 41780

/* Parses the fixed plan and sets the fixed resolver once (and starts the upstream when asked); the plan. */
const struct plan *fuzz_setup(int with_upstream);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
