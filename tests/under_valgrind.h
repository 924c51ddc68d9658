/* Is this test running under Valgrind (or asked to stay small)? Large-scale tests shrink there
 * so that they stay inside their time limit, and tests of what a fault does (guard pages, the
 * stack-overflow handler) skip: Memcheck takes SIGSEGV on a guard page as the program's death and
 * does not emulate guard regions. */
#ifndef CORIO_TESTS_UNDER_VALGRIND_H
#define CORIO_TESTS_UNDER_VALGRIND_H

#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORIO_TEST_HAVE_VALGRIND_H 1
#endif
#endif

static inline int under_valgrind(void)
{
#ifdef CORIO_TEST_HAVE_VALGRIND_H
    if (RUNNING_ON_VALGRIND)
        return 1;
#endif
    const char *p = getenv("LD_PRELOAD");
    return (p && strstr(p, "valgrind")) || getenv("CORIO_TEST_SMALL") != NULL;
}

/* Is this an instrumented or emulated run (AddressSanitizer, Valgrind, qemu-user)? Page faults
 * and fresh memory cost several times more there, so scale tests shrink their counts: the plain
 * build proves the scale, these builds the memory safety of the same code paths. */
static inline int slow_build(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 1;
#else
    return under_valgrind() || getenv("CORIO_QEMU") != NULL;
#endif
}

/* Skips the current Criterion test under Valgrind, saying why. */
#define SKIP_UNDER_VALGRIND(why)                                                                   \
    do {                                                                                           \
        if (under_valgrind())                                                                      \
            cr_skip_test("not under Valgrind: %s", why);                                          \
    } while (0)

#endif
