/* Internal: every allocation the library makes goes through these, so that a test can make the
 * Nth one fail (fault injection, tests/test_fault_alloc.c) and check that each failure gives a
 * clear error and leaks nothing. Disarmed, the cost is one thread-local load and a branch. */
#ifndef CORIO_BASE_ALLOC_H
#define CORIO_BASE_ALLOC_H

#include <stdlib.h>
#include <string.h>

/* Allocations to let through before failing one (thread-local; < 0: never fail). */
extern __thread long corio__alloc_fail_after __attribute__((tls_model("initial-exec")));
/* How many failures were injected on this thread. */
extern __thread long corio__alloc_failures __attribute__((tls_model("initial-exec")));

/* Called at each injected failure (out of line: a place for a debugger's breakpoint). */
void corio__alloc_fault_hit(void);

/* True when this allocation is the one to fail (then disarms: one failure per arming). */
static inline int corio__alloc_fault(void) {
    if (__builtin_expect(corio__alloc_fail_after < 0, 1))
        return 0;
    if (corio__alloc_fail_after-- > 0)
        return 0;
    corio__alloc_failures++;
    corio__alloc_fault_hit();
    return 1;
}

static inline void *corio__malloc(size_t n) { return corio__alloc_fault() ? NULL : malloc(n); }
static inline void *corio__calloc(size_t n, size_t size) {
    return corio__alloc_fault() ? NULL : calloc(n, size);
}
static inline void *corio__realloc(void *p, size_t n) {
    return corio__alloc_fault() ? NULL : realloc(p, n);
}
static inline char *corio__strdup_raw(const char *s) {
    return corio__alloc_fault() ? NULL : strdup(s);
}

/* Test hook (tests link the static library): arms the next failure after `n` allocations on
 * this thread (n < 0 disarms) and returns how many failures were injected so far. */
long corio__alloc_fail_arm(long n);

#endif
