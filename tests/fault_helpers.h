/* Allocation fault injection for the tests (see src/base/alloc.h): runs a scenario once per
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

/* fault_sweep with accept_ok_or_enomem; prints the number of allocation sites exercised under
 * `what` (with the backend, for the I/O scenarios) and asserts there were more than min_sites. */
static inline long fault_sweep_report(const char *what, int (*scenario)(void), long min_sites)
{
    long sites = fault_sweep(scenario, accept_ok_or_enomem, 10000);
    const char *be = getenv("CORIO_BACKEND");
    printf("%s%s%s%s: %ld allocations failed in turn, each with a clean outcome\n", what,
           be ? " (" : "", be ? be : "", be ? ")" : "", sites);
    cr_assert_gt(sites, min_sites);
    return sites;
}

/* Cancels each task of ts[0..n) (NULL entries skipped), awaits it and drops it: how a failed
 * run reaps the tasks it leaves running. */
static inline void reap_tasks(corio_task **ts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!ts[i])
            continue;
        corio_task_cancel(ts[i], NULL);
        corio_await(corio_task_future(ts[i]), NULL);
        corio_task_unref(ts[i]);
        ts[i] = NULL;
    }
}

#endif
