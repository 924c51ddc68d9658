/* corio_semaphore: asyncio.Semaphore and BoundedSemaphore (CPython test_locks.py
 * SemaphoreTests: test_acquire, test_acquire_cancel, test_acquire_cancel_before_awoken,
 * test_acquire_hang, test_acquire_no_hang, test_release_not_acquired, test_release_no_waiters,
 * test_acquire_fifo_order*, test_initial_value_zero). */
#include "sync_helpers.h"

static corio_semaphore *sem;

/* Acquires, logs, and keeps the unit. */
static void *taker(void *arg)
{
    int rc = corio_semaphore_acquire(sem);
    ev(rc == 0 ? VI(arg) : -VI(arg));
    return IV(rc);
}

static void *fifo_main(void *arg)
{
    (void)arg;
    CHECK(corio_semaphore_new(&sem, NULL, 2) == 0);
    CHECK(corio_semaphore_value(sem) == 2 && !corio_semaphore_locked(sem));
    CHECK(corio_semaphore_acquire(sem) == 0 && corio_semaphore_acquire(sem) == 0);
    CHECK(corio_semaphore_locked(sem) && corio_semaphore_acquire_nowait(sem) == -EAGAIN);
    corio_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn(taker, i + 1);
    yield_n(2);
    CHECK(ev_n == 0);
    CHECK(corio_semaphore_release(sem) == 0);
    CHECK(corio_semaphore_value(sem) == 0); /* handed to task 1 already */
    CHECK(corio_semaphore_release(sem) == 0);
    yield_n(2);
    CHECK(ev_n == 2 && ev_log[0] == 1 && ev_log[1] == 2);
    CHECK(corio_semaphore_release(sem) == 0 && corio_semaphore_release(sem) == 0);
    yield_n(2);
    CHECK(ev_n == 4 && ev_log[2] == 3 && ev_log[3] == 4);
    for (int i = 0; i < 4; i++)
        CHECK(outcome(t[i]) == 0);
    CHECK(corio_semaphore_free(sem) == 0);
    return NULL;
}

Test(sync_semaphore, waiters_served_in_fifo_order, .timeout = 10) { run_sync_test(fifo_main); }

/* A unit released while others are queued goes to the queue, not to a newcomer, even though
 * the counter is above 0 for a moment. */
static void *newcomer_main(void *arg)
{
    (void)arg;
    CHECK(corio_semaphore_new(&sem, NULL, 0) == 0);
    corio_task *a = spawn(taker, 1);
    yield_n(1);
    CHECK(corio_semaphore_release(sem) == 0);
    CHECK(corio_semaphore_acquire_nowait(sem) == -EAGAIN);
    CHECK(corio_semaphore_release(sem) == 0);
    CHECK(corio_semaphore_value(sem) == 1);
    CHECK(corio_semaphore_locked(sem) == 1); /* a is queued (woken, not yet run) */
    corio_task *b = spawn(taker, 2);
    yield_n(2);
    CHECK(ev_n == 2 && ev_log[0] == 1 && ev_log[1] == 2);
    CHECK(outcome(a) == 0 && outcome(b) == 0);
    CHECK(corio_semaphore_value(sem) == 0);
    CHECK(corio_semaphore_free(sem) == 0);
    return NULL;
}

Test(sync_semaphore, no_barging_past_queued_waiters, .timeout = 10)
{
    run_sync_test(newcomer_main);
}

static void *cancel_main(void *arg)
{
    (void)arg;
    CHECK(corio_semaphore_new(&sem, NULL, 0) == 0);
    corio_task *a = spawn(taker, 1), *b = spawn(taker, 2), *c = spawn(taker, 3);
    yield_n(1);
    corio_task_cancel(b, NULL); /* waiting, never woken */
    yield_n(1);
    CHECK(outcome(b) == -ECANCELED && corio_semaphore_value(sem) == 0);
    CHECK(corio_semaphore_release(sem) == 0); /* wakes a */
    corio_task_cancel(a, NULL);                /* before it runs: gives the unit to c */
    yield_n(3);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(outcome(c) == 0);
    CHECK(ev_n == 3 && ev_log[0] == -2 && ev_log[1] == -1 && ev_log[2] == 3);
    CHECK(corio_semaphore_value(sem) == 0);
    CHECK(corio_semaphore_release(sem) == 0 && corio_semaphore_value(sem) == 1);
    CHECK(corio_semaphore_free(sem) == 0);
    return NULL;
}

Test(sync_semaphore, cancelled_waiters_lose_no_unit, .timeout = 10)
{
    run_sync_test(cancel_main);
}

/* test_acquire_hang: every waiter woken but cancelled gives back; nothing is left stuck. */
static void *hang_main(void *arg)
{
    (void)arg;
    CHECK(corio_semaphore_new(&sem, NULL, 0) == 0);
    corio_task *a = spawn(taker, 1), *b = spawn(taker, 2);
    yield_n(1);
    CHECK(corio_semaphore_release(sem) == 0);
    CHECK(corio_semaphore_release(sem) == 0);
    corio_task_cancel(a, NULL);
    corio_task_cancel(b, NULL);
    yield_n(2);
    CHECK(outcome(a) == -ECANCELED && outcome(b) == -ECANCELED);
    CHECK(corio_semaphore_value(sem) == 2 && !corio_semaphore_locked(sem));
    CHECK(corio_semaphore_acquire(sem) == 0);
    CHECK(corio_semaphore_free(sem) == 0);
    return NULL;
}

Test(sync_semaphore, woken_and_cancelled_give_units_back, .timeout = 10)
{
    run_sync_test(hang_main);
}

static void *bounded_main(void *arg)
{
    (void)arg;
    CHECK(corio_bounded_semaphore_new(&sem, NULL, 1) == 0);
    CHECK(corio_semaphore_release(sem) == -EOVERFLOW);
    CHECK(corio_semaphore_acquire(sem) == 0);
    CHECK(corio_semaphore_release(sem) == 0);
    CHECK(corio_semaphore_release(sem) == -EOVERFLOW);
    CHECK(corio_semaphore_value(sem) == 1);
    CHECK(corio_semaphore_free(sem) == 0);
    CHECK(corio_semaphore_new(&sem, NULL, INT64_MAX) == 0);
    CHECK(corio_semaphore_release(sem) == -EOVERFLOW);
    CHECK(corio_semaphore_free(sem) == 0);
    return NULL;
}

Test(sync_semaphore, bounded_release_past_initial_value_fails, .timeout = 10)
{
    run_sync_test(bounded_main);
}

static void *busy_main(void *arg)
{
    (void)arg;
    CHECK(corio_semaphore_new(&sem, NULL, 0) == 0);
    corio_task *a = spawn(taker, 1);
    yield_n(1);
    CHECK(corio_semaphore_free(sem) == -EBUSY);
    corio_task_cancel(a, NULL);
    yield_n(1);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(corio_semaphore_free(sem) == 0);
    return NULL;
}

Test(sync_semaphore, free_with_waiters_is_refused, .timeout = 10) { run_sync_test(busy_main); }

Test(sync_semaphore, bad_input, .timeout = 10)
{
    corio_semaphore *s = (corio_semaphore *)1;
    cr_assert_eq(corio_semaphore_new(NULL, NULL, 1), -EINVAL);
    cr_assert_eq(corio_semaphore_new(&s, NULL, 1), CORIO_ENOLOOP);
    cr_assert_null(s);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_semaphore_new(&s, loop, -1), -EINVAL);
    cr_assert_eq(corio_bounded_semaphore_new(&s, loop, -1), -EINVAL);
    cr_assert_eq(corio_semaphore_acquire(NULL), -EINVAL);
    cr_assert_eq(corio_semaphore_acquire_nowait(NULL), -EINVAL);
    cr_assert_eq(corio_semaphore_release(NULL), -EINVAL);
    cr_assert_eq(corio_semaphore_locked(NULL), 0);
    cr_assert_eq(corio_semaphore_free(NULL), 0);
    cr_assert_eq(corio_semaphore_new(&s, loop, 1), 0);
    cr_assert_eq(corio_semaphore_acquire(s), CORIO_ENOTASK);
    cr_assert_eq(corio_semaphore_acquire_nowait(s), 0);
    cr_assert_eq(corio_semaphore_release(s), 0);
    cr_assert_eq(corio_semaphore_free(s), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}
