/* Allocation fault injection for the tests (see src/loop/alloc.h): runs a scenario once per
 * allocation it makes, failing that allocation, until a run makes no allocation fail. Every
 * failing run must end in one of the scenario's accepted outcomes (a clear error such as
 * -ENOMEM, never a crash or a hang); leaks are caught by the ASan and Valgrind runs of the
 * suite, which check the whole process at exit. */
#ifndef CORIO_TESTS_FAULT_HELPERS_H
#define CORIO_TESTS_FAULT_HELPERS_H

#include "core_helpers.h"

long corio__alloc_fail_arm(long n); /* internal: tests link the static library */

/* Runs scenario() with the k-th allocation failing, k = 0, 1, ... Returns the number of
 * allocation sites exercised. accept(rc) says whether an outcome is clear enough. */
static inline long fault_sweep(int (*scenario)(void), int (*accept)(int rc), long max_runs)
{
    long k = 0;
    for (; k < max_runs; k++) {
        long before = corio__alloc_fail_arm(k);
        int rc = scenario();
        long after = corio__alloc_fail_arm(-1);
        if (after == before) {
            cr_assert_eq(rc, 0, "the run without an injected failure returned %s",
                         corio_strerror(rc));
            return k;
        }
        cr_assert(accept(rc), "allocation %ld failed: the scenario returned %d (%s)", k, rc,
                  corio_strerror(rc));
    }
    cr_assert_fail("still injecting after %ld runs", max_runs);
    return k;
}

static inline int accept_ok_or_enomem(int rc) { return rc == 0 || rc == -ENOMEM; }

#endif
