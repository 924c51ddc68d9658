/* Coroutines and helpers shared by the combinator tests (shield, wait, as_completed, timeout
 * scopes, task groups). */
#ifndef CORIO_TESTS_COMBINE_HELPERS_H
#define CORIO_TESTS_COMBINE_HELPERS_H

#include "core_helpers.h"

/* Sleeps `arg` milliseconds, logs it, returns it; a cancelled sleep ends the task cancelled. */
static inline void *nap_ms(void *arg)
{
    int rc = corio_sleep(VI(arg) / 1000.0);
    if (rc)
        return corio_raise(rc);
    ev(VI(arg));
    return arg;
}

/* Sleeps 10 ms, then fails with the (negative) error given as argument. */
static inline void *fail_after_nap(void *arg)
{
    int rc = corio_sleep(0.01);
    return corio_raise(rc ? rc : VI(arg));
}

/* Fails with the (negative) error given as argument, without awaiting. */
static inline void *fail_now(void *arg) { return corio_raise(VI(arg)); }

/* Sleeps for an hour unless cancelled; logs 100 + the argument when cancelled. */
static inline void *sleep_long(void *arg)
{
    int rc = corio_sleep(3600);
    if (rc == -ECANCELED)
        ev(100 + VI(arg));
    return corio_raise(rc);
}

/* A task running fn(arg) on the running loop, with a check that it was made. */
static inline corio_task *spawn(corio_coro_fn fn, int arg)
{
    corio_task *t;
    int rc = corio_create_task(&t, NULL, fn, IV(arg), NULL);
    cr_expect_eq(rc, 0, "corio_create_task: %s", corio_err_name(rc));
    return t;
}

/* The same with a pointer argument and options. */
static inline corio_task *spawn_opts(corio_coro_fn fn, void *arg, const corio_task_opts *opts)
{
    corio_task *t;
    int rc = corio_create_task(&t, NULL, fn, arg, opts);
    cr_expect_eq(rc, 0, "corio_create_task: %s", corio_err_name(rc));
    return t;
}

/* A pending future on `loop` (NULL: the running loop), with a check that it was made. */
static inline corio_future *new_future_on(corio_loop *loop)
{
    corio_future *f;
    int rc = corio_future_new(&f, loop);
    cr_expect_eq(rc, 0, "corio_future_new: %s", corio_err_name(rc));
    return f;
}

static inline corio_future *tf(corio_task *t) { return corio_task_future(t); }

/* Cancels the task, lets it end, drops it (from inside a task). */
static inline void cancel_and_drop(corio_task *t)
{
    corio_task_cancel(t, NULL);
    while (!corio_future_done(tf(t)))
        corio_sleep(0);
    corio_task_unref(t);
}

/* Runs fn as the main task of `loop`, expects it to return 0 and frees the loop. */
static inline void run_on(corio_loop *loop, corio_coro_fn fn, void *arg)
{
    void *res = IV(-1);
    cr_assert_eq(run_main(loop, fn, arg, &res), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* Runs fn(arg) as the main task of a new loop on virtual time: timeouts fire in a fixed order
 * however slow the machine (Valgrind, a loaded CI runner), and take no real time. */
static inline void run_in_loop(corio_coro_fn fn, void *arg) { run_on(new_vt_loop(), fn, arg); }

/* The same on real time, for the tests about real timers (a dead timer must not hold the loop). */
static inline void run_in_real_loop(corio_coro_fn fn, void *arg) { run_on(new_loop(), fn, arg); }

#endif
