/* Helpers for the synchronisation primitive tests (tests/test_sync_*.c). */
#ifndef CORIO_TESTS_SYNC_HELPERS_H
#define CORIO_TESTS_SYNC_HELPERS_H

#include "core_helpers.h"

/* Lets every ready task run n times over (corio_sleep(0) n times). */
static inline void yield_n(int n)
{
    for (int i = 0; i < n; i++)
        cr_expect_eq(corio_sleep(0), 0);
}

/* A task running fn(arg), with a check that it was made. */
static inline corio_task *spawn(corio_coro_fn fn, intptr_t arg)
{
    corio_task *t;
    int rc = corio_create_task(&t, NULL, fn, IV(arg), NULL);
    cr_expect_eq(rc, 0, "corio_create_task: %s", corio_err_name(rc));
    return t;
}

/* The outcome of a done task (its error, or its result as an int), and drops it. */
static inline int outcome(corio_task *t)
{
    void *v = NULL;
    int rc = corio_future_result(corio_task_future(t), &v);
    cr_expect(corio_future_done(corio_task_future(t)), "task still pending");
    corio_task_unref(t);
    return rc < 0 ? rc : VI(v);
}

/* Runs main_fn as the main task of a fresh loop, expects it to return 0, closes the loop. */
static inline void run_sync_test(corio_coro_fn main_fn)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    void *res = IV(-1);
    cr_assert_eq(run_main(loop, main_fn, NULL, &res), 0);
    cr_assert_eq(res, NULL, "main task failed at check %d", VI(res));
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* In a main task: fails the test and returns the line number as the task's result. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            cr_expect(0, "check failed: %s", #cond);                                               \
            return IV(__LINE__);                                                                   \
        }                                                                                          \
    } while (0)

#endif
