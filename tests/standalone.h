/* What the standalone tests (tests/standalone_*.c: plain programs, run under ThreadSanitizer too)
 * share: a failure count any thread may bump, and CHECK, which reports and counts instead of
 * stopping (main returns failures != 0). */
#ifndef CORIO_TESTS_STANDALONE_H
#define CORIO_TESTS_STANDALONE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define IV(x) ((void *)(intptr_t)(x))
#define VI(p) ((intptr_t)(p))

static atomic_int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
