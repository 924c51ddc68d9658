/* corio_lock: asyncio.Lock's semantics (CPython test_locks.py LockTests: test_acquire,
 * test_acquire_cancel, test_cancel_race, test_cancel_release_race, test_fairness, test_release_*,
 * test_lock_doesnt_accept_loop_parameter's bad-input counterpart). */
#include "sync_helpers.h"

static corio_lock *lk;

/* Takes the lock, logs its id (negated on failure) and keeps the lock. */
static void *taker(void *arg)
{
    int rc = corio_lock_acquire(lk);
    ev(rc == 0 ? VI(arg) : -VI(arg));
    return IV(rc);
}

/* Takes the lock, logs, yields once, releases it. */
static void *taker_releases(void *arg)
{
    int rc = corio_lock_acquire(lk);
    ev(rc == 0 ? VI(arg) : -VI(arg));
    if (rc == 0) {
        corio_sleep(0); /* holds it across a suspension (cancelled there, too) */
        int r = corio_lock_release(lk);
        cr_expect_eq(r, 0, "task %d: release %s", VI(arg), corio_err_name(r));
    }
    return IV(rc);
}

static void *fifo_main(void *arg)
{
    (void)arg;
    CHECK(corio_lock_new(&lk, NULL) == 0);
    CHECK(corio_lock_acquire(lk) == 0);
    CHECK(corio_lock_locked(lk) == 1);
    corio_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = spawn(taker, i + 1);
    yield_n(3);
    CHECK(ev_n == 0);
    for (int i = 0; i < 3; i++) {
        CHECK(corio_lock_release(lk) == 0);
        CHECK(corio_lock_locked(lk) == 0);
        yield_n(2);
        CHECK(ev_n == i + 1 && ev_log[i] == i + 1);
        CHECK(corio_lock_locked(lk) == 1);
    }
    CHECK(corio_lock_release(lk) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(outcome(t[i]) == 0);
    CHECK(corio_lock_free(lk) == 0);
    return NULL;
}

Test(sync_lock, waiters_acquire_in_fifo_order, .timeout = 10) { run_sync_test(fifo_main); }

static void *cancel_waiting_main(void *arg)
{
    (void)arg;
    CHECK(corio_lock_new(&lk, NULL) == 0);
    CHECK(corio_lock_acquire(lk) == 0);
    corio_task *a = spawn(taker, 1), *b = spawn(taker, 2);
    yield_n(2);
    CHECK(corio_task_cancel(a, NULL) == 1);
    yield_n(2);
    CHECK(ev_n == 1 && ev_log[0] == -1);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(corio_lock_locked(lk) == 1); /* still ours */
    CHECK(corio_lock_release(lk) == 0);
    yield_n(2);
    CHECK(ev_n == 2 && ev_log[1] == 2);
    CHECK(outcome(b) == 0);
    CHECK(corio_lock_release(lk) == 0);
    CHECK(corio_lock_free(lk) == 0);
    return NULL;
}

Test(sync_lock, cancelled_waiter_leaves_the_queue, .timeout = 10)
{
    run_sync_test(cancel_waiting_main);
}

/* test_cancel_race: a waiter woken by release, then cancelled before it runs, must pass the
 * wake-up on, or the next waiter sleeps forever on a free lock. */
static void *cancel_woken_main(void *arg)
{
    (void)arg;
    CHECK(corio_lock_new(&lk, NULL) == 0);
    CHECK(corio_lock_acquire(lk) == 0);
    corio_task *a = spawn(taker, 1), *b = spawn(taker, 2), *c = spawn(taker, 3);
    yield_n(2);
    CHECK(corio_lock_release(lk) == 0); /* wakes a */
    CHECK(corio_task_cancel(a, NULL) == 1);
    yield_n(3);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(ev_n == 2 && ev_log[0] == -1 && ev_log[1] == 2);
    CHECK(corio_lock_locked(lk) == 1);
    CHECK(corio_lock_release(lk) == 0);
    yield_n(2);
    CHECK(outcome(b) == 0 && outcome(c) == 0);
    CHECK(ev_n == 3 && ev_log[2] == 3);
    CHECK(corio_lock_release(lk) == 0);
    CHECK(corio_lock_free(lk) == 0);
    return NULL;
}

Test(sync_lock, woken_then_cancelled_passes_the_wakeup_on, .timeout = 10)
{
    run_sync_test(cancel_woken_main);
}

/* Cancelled while the lock is free and it was not woken (another holder): nothing changes. */
static void *cancel_all_main(void *arg)
{
    (void)arg;
    CHECK(corio_lock_new(&lk, NULL) == 0);
    CHECK(corio_lock_acquire(lk) == 0);
    corio_task *a = spawn(taker, 1), *b = spawn(taker, 2);
    yield_n(2);
    corio_task_cancel(a, NULL);
    corio_task_cancel(b, NULL);
    yield_n(2);
    CHECK(outcome(a) == -ECANCELED && outcome(b) == -ECANCELED);
    CHECK(corio_lock_release(lk) == 0);
    /* Only cancelled waiters were queued: the lock is free to take at once. */
    CHECK(corio_lock_acquire_nowait(lk) == 0);
    CHECK(corio_lock_release(lk) == 0);
    CHECK(corio_lock_free(lk) == 0);
    return NULL;
}

Test(sync_lock, all_waiters_cancelled_lock_free_again, .timeout = 10)
{
    run_sync_test(cancel_all_main);
}

/* test_fairness: after a release with waiters queued, a newcomer cannot jump the queue. */
static void *fairness_main(void *arg)
{
    (void)arg;
    CHECK(corio_lock_new(&lk, NULL) == 0);
    CHECK(corio_lock_acquire(lk) == 0);
    corio_task *a = spawn(taker_releases, 1);
    yield_n(2);
    CHECK(corio_lock_release(lk) == 0);
    CHECK(corio_lock_locked(lk) == 0);
    CHECK(corio_lock_acquire_nowait(lk) == -EAGAIN);
    CHECK(corio_lock_acquire(lk) == 0); /* waits behind a */
    ev(100);
    CHECK(ev_n == 2 && ev_log[0] == 1 && ev_log[1] == 100);
    CHECK(outcome(a) == 0);
    CHECK(corio_lock_release(lk) == 0);
    CHECK(corio_lock_free(lk) == 0);
    return NULL;
}

Test(sync_lock, newcomer_waits_behind_a_woken_waiter, .timeout = 10)
{
    run_sync_test(fairness_main);
}

static void *busy_free_main(void *arg)
{
    (void)arg;
    CHECK(corio_lock_new(&lk, NULL) == 0);
    CHECK(corio_lock_acquire(lk) == 0);
    corio_task *a = spawn(taker, 1);
    yield_n(2);
    CHECK(corio_lock_free(lk) == -EBUSY);
    corio_task_cancel(a, NULL);
    yield_n(2);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(corio_lock_free(lk) == 0); /* held, no waiter: fine */
    return NULL;
}

Test(sync_lock, free_with_waiters_is_refused, .timeout = 10) { run_sync_test(busy_free_main); }

static void *many_main(void *arg)
{
    (void)arg;
    enum { N = 200 };
    static corio_task *t[N];
    CHECK(corio_lock_new(&lk, NULL) == 0);
    for (int i = 0; i < N; i++)
        t[i] = spawn(taker_releases, i + 1);
    /* Cancel every third while they queue. */
    yield_n(1);
    for (int i = 0; i < N; i += 3)
        corio_task_cancel(t[i], NULL);
    /* A lost wake-up would leave the gather hanging (the time limit catches it). */
    CHECK(corio_gather((corio_future **)t, N, CORIO_GATHER_RETURN_ERRORS, NULL, NULL) == 0);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        int rc = outcome(t[i]);
        CHECK(rc == 0 || (rc == -ECANCELED && i % 3 == 0));
        ok += rc == 0;
    }
    CHECK(ok >= N - N / 3 - 1);
    CHECK(corio_lock_locked(lk) == 0);
    CHECK(corio_lock_free(lk) == 0);
    return NULL;
}

Test(sync_lock, many_waiters_with_cancellations_end_free, .timeout = 20)
{
    run_sync_test(many_main);
}

/* Loop close with a task waiting: it unwinds with -ECANCELED; the closed loop refuses new
 * primitives; the lock can be freed after the loop itself. */
Test(sync_lock, loop_close_unwinds_a_waiter, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_lock_new(&lk, loop), 0);
    cr_assert_eq(corio_lock_acquire_nowait(lk), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, taker, IV(1), NULL), 0);
    run_once(loop);
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(ev_n, 1);
    cr_assert_eq(ev_log[0], -1);
    cr_assert_eq(outcome(t), -ECANCELED);
    corio_lock *late = (corio_lock *)1;
    cr_assert_eq(corio_lock_new(&late, loop), CORIO_ECLOSED);
    cr_assert_null(late);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(corio_lock_free(lk), 0, "the lock outlives the loop");
}

static void *other_loop_main(void *arg)
{
    CHECK(corio_lock_acquire(arg) == -EINVAL);
    return NULL;
}

Test(sync_lock, bad_input, .timeout = 10)
{
    cr_assert_eq(corio_lock_new(NULL, NULL), -EINVAL);
    corio_lock *l = (corio_lock *)1;
    cr_assert_eq(corio_lock_new(&l, NULL), CORIO_ENOLOOP);
    cr_assert_null(l);
    cr_assert_eq(corio_lock_acquire(NULL), -EINVAL);
    cr_assert_eq(corio_lock_acquire_nowait(NULL), -EINVAL);
    cr_assert_eq(corio_lock_release(NULL), -EINVAL);
    cr_assert_eq(corio_lock_locked(NULL), 0);
    cr_assert_eq(corio_lock_free(NULL), 0);
    corio_loop *loop = new_loop(), *other = new_loop();
    cr_assert_eq(corio_lock_new(&l, loop), 0);
    cr_assert_eq(corio_lock_acquire(l), CORIO_ENOTASK);
    cr_assert_eq(corio_lock_release(l), CORIO_EINVALSTATE);
    cr_assert_eq(corio_lock_acquire_nowait(l), 0, "try_acquire needs no task");
    cr_assert_eq(corio_lock_acquire_nowait(l), -EAGAIN);
    cr_assert_eq(corio_lock_release(l), 0);
    cr_assert_eq(run_main(other, other_loop_main, l, NULL), 0);
    cr_assert_eq(corio_lock_free(l), 0);
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_lock_new(&l, NULL), 0, "NULL: the current loop");
    cr_assert_eq(run_main(other, other_loop_main, l, NULL), 0, "bound to `loop`, not `other`");
    cr_assert_eq(corio_lock_free(l), 0);
    cr_assert_eq(corio_loop_free(other), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}
