/* corio_condition: asyncio.Condition (CPython test_locks.py ConditionTests: test_wait,
 * test_wait_cancel, test_wait_cancel_contested, test_wait_cancel_after_notify,
 * test_wait_unacquired, test_wait_for, test_notify, test_notify_all, test_notify_unacquired,
 * test_explicit_lock, test_cancelled_error_wakeup). */
#include "sync_helpers.h"

static corio_condition *cv;
static int flag;

/* Takes the lock, waits once, logs (negated on error), checks it holds the lock, releases. */
static void *waiter(void *arg)
{
    int rc = corio_condition_acquire(cv);
    if (rc < 0)
        return IV(rc);
    rc = corio_condition_wait(cv);
    ev(rc == 0 ? VI(arg) : -VI(arg));
    cr_expect(corio_condition_locked(cv), "wait returns holding the lock, even when cancelled");
    cr_expect_eq(corio_condition_release(cv), 0);
    return IV(rc);
}

static void *notify_main(void *arg)
{
    (void)arg;
    CHECK(corio_condition_new(&cv, NULL, NULL) == 0);
    corio_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = spawn(waiter, i + 1);
    yield_n(2);
    CHECK(ev_n == 0 && !corio_condition_locked(cv));
    CHECK(corio_condition_acquire(cv) == 0);
    CHECK(corio_condition_notify(cv, 1) == 0);
    yield_n(2);
    CHECK(ev_n == 0); /* woken, but the lock is ours */
    CHECK(corio_condition_release(cv) == 0);
    yield_n(2);
    CHECK(ev_n == 1 && ev_log[0] == 1);
    CHECK(corio_condition_acquire(cv) == 0);
    CHECK(corio_condition_notify_all(cv) == 0);
    CHECK(corio_condition_release(cv) == 0);
    yield_n(3);
    CHECK(ev_n == 3 && ev_log[1] == 2 && ev_log[2] == 3);
    for (int i = 0; i < 3; i++)
        CHECK(outcome(t[i]) == 0);
    CHECK(corio_condition_free(cv) == 0);
    return NULL;
}

Test(sync_condition, notify_and_notify_all_in_fifo_order, .timeout = 10)
{
    run_sync_test(notify_main);
}

/* test_wait_cancel_contested: cancelled while the lock is held by someone else, the waiter
 * still takes the lock back before returning -ECANCELED. */
static void *cancel_contested_main(void *arg)
{
    (void)arg;
    CHECK(corio_condition_new(&cv, NULL, NULL) == 0);
    corio_task *a = spawn(waiter, 1);
    yield_n(1);
    CHECK(corio_condition_acquire(cv) == 0);
    corio_task_cancel(a, NULL);
    yield_n(3);
    CHECK(ev_n == 0); /* waiting for the lock */
    CHECK(corio_condition_release(cv) == 0);
    yield_n(2);
    CHECK(ev_n == 1 && ev_log[0] == -1);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(!corio_condition_locked(cv));
    CHECK(corio_condition_free(cv) == 0);
    return NULL;
}

Test(sync_condition, cancelled_wait_reacquires_the_lock, .timeout = 10)
{
    run_sync_test(cancel_contested_main);
}

/* Cancelled again while re-acquiring: still returns with the lock. */
static void *cancel_twice_main(void *arg)
{
    (void)arg;
    CHECK(corio_condition_new(&cv, NULL, NULL) == 0);
    corio_task *a = spawn(waiter, 1);
    yield_n(1);
    CHECK(corio_condition_acquire(cv) == 0);
    CHECK(corio_condition_notify(cv, 1) == 0);
    yield_n(2); /* a now waits for the lock */
    corio_task_cancel(a, NULL);
    yield_n(2);
    corio_task_cancel(a, NULL);
    yield_n(2);
    CHECK(ev_n == 0);
    CHECK(corio_condition_release(cv) == 0);
    yield_n(2);
    CHECK(ev_n == 1 && ev_log[0] == -1);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(corio_condition_free(cv) == 0);
    return NULL;
}

Test(sync_condition, cancelled_while_reacquiring_still_gets_the_lock, .timeout = 10)
{
    run_sync_test(cancel_twice_main);
}

/* test_cancelled_error_wakeup: a waiter notified then cancelled passes the notification on. */
static void *notified_cancel_main(void *arg)
{
    (void)arg;
    CHECK(corio_condition_new(&cv, NULL, NULL) == 0);
    corio_task *a = spawn(waiter, 1), *b = spawn(waiter, 2);
    yield_n(2);
    CHECK(corio_condition_acquire(cv) == 0);
    CHECK(corio_condition_notify(cv, 1) == 0); /* a */
    corio_task_cancel(a, NULL);
    CHECK(corio_condition_release(cv) == 0);
    yield_n(4);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(outcome(b) == 0); /* the notification reached b */
    CHECK(ev_n == 2 && ev_log[0] == -1 && ev_log[1] == 2);
    CHECK(corio_condition_free(cv) == 0);
    return NULL;
}

Test(sync_condition, notified_then_cancelled_passes_notification_on, .timeout = 10)
{
    run_sync_test(notified_cancel_main);
}

static int flag_set(void *arg)
{
    (void)arg;
    return flag;
}

static void *pred_waiter(void *arg)
{
    cr_expect_eq(corio_condition_acquire(cv), 0);
    int rc = corio_condition_wait_for(cv, flag_set, NULL);
    ev(rc == 0 ? VI(arg) : -VI(arg));
    corio_condition_release(cv);
    return IV(rc);
}

static void *wait_for_main(void *arg)
{
    (void)arg;
    CHECK(corio_condition_new(&cv, NULL, NULL) == 0);
    corio_task *a = spawn(pred_waiter, 1);
    yield_n(1);
    for (int i = 0; i < 2; i++) { /* notified with the predicate false: keeps waiting */
        CHECK(corio_condition_acquire(cv) == 0);
        CHECK(corio_condition_notify_all(cv) == 0);
        CHECK(corio_condition_release(cv) == 0);
        yield_n(2);
        CHECK(ev_n == 0);
    }
    flag = 1;
    CHECK(corio_condition_acquire(cv) == 0);
    CHECK(corio_condition_notify(cv, 1) == 0);
    CHECK(corio_condition_release(cv) == 0);
    yield_n(2);
    CHECK(ev_n == 1 && ev_log[0] == 1);
    CHECK(outcome(a) == 0);
    /* True at once: no wait, and no lock needed. */
    CHECK(corio_condition_wait_for(cv, flag_set, NULL) == 0);
    CHECK(corio_condition_free(cv) == 0);
    return NULL;
}

Test(sync_condition, wait_for_rechecks_the_predicate, .timeout = 10)
{
    run_sync_test(wait_for_main);
}

static void *explicit_lock_main(void *arg)
{
    (void)arg;
    corio_lock *lock;
    CHECK(corio_lock_new(&lock, NULL) == 0);
    CHECK(corio_condition_new(&cv, NULL, lock) == 0);
    CHECK(corio_lock_acquire(lock) == 0);
    CHECK(corio_condition_locked(cv) == 1);
    CHECK(corio_condition_release(cv) == 0);
    CHECK(corio_lock_locked(lock) == 0);
    CHECK(corio_condition_wait(cv) == CORIO_EINVALSTATE);
    CHECK(corio_condition_notify(cv, 1) == CORIO_EINVALSTATE);
    CHECK(corio_condition_notify_all(cv) == CORIO_EINVALSTATE);
    corio_task *a = spawn(waiter, 1);
    yield_n(1);
    CHECK(corio_condition_free(cv) == -EBUSY);
    corio_task_cancel(a, NULL);
    yield_n(2);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(corio_condition_free(cv) == 0);
    CHECK(corio_lock_free(lock) == 0);
    return NULL;
}

Test(sync_condition, explicit_lock_and_unacquired_errors, .timeout = 10)
{
    run_sync_test(explicit_lock_main);
}

/* Waits without releasing: the loop closes under it, so it returns without the lock. */
static void *close_waiter(void *arg)
{
    cr_expect_eq(corio_condition_acquire(cv), 0);
    int rc = corio_condition_wait(cv);
    ev(rc == 0 ? VI(arg) : -VI(arg));
    cr_expect(!corio_condition_locked(cv));
    return IV(rc);
}

Test(sync_condition, loop_close_unwinds_a_waiter, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_condition_new(&cv, loop, NULL), 0);
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, close_waiter, IV(1), NULL), 0);
    run_once(loop);
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(ev_n, 1);
    cr_assert_eq(ev_log[0], -1);
    corio_task_unref(a);
    cr_assert_eq(corio_condition_free(cv), 0, "freed after the close, before the loop");
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(sync_condition, bad_input, .timeout = 10)
{
    corio_condition *c = (corio_condition *)1;
    cr_assert_eq(corio_condition_new(NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_condition_new(&c, NULL, NULL), CORIO_ENOLOOP);
    cr_assert_null(c);
    cr_assert_eq(corio_condition_acquire(NULL), -EINVAL);
    cr_assert_eq(corio_condition_release(NULL), -EINVAL);
    cr_assert_eq(corio_condition_wait(NULL), -EINVAL);
    cr_assert_eq(corio_condition_wait_for(NULL, flag_set, NULL), -EINVAL);
    cr_assert_eq(corio_condition_notify(NULL, 1), -EINVAL);
    cr_assert_eq(corio_condition_notify_all(NULL), -EINVAL);
    cr_assert_eq(corio_condition_locked(NULL), 0);
    cr_assert_eq(corio_condition_free(NULL), 0);
    corio_loop *loop = new_loop(), *other = new_loop();
    corio_lock *lock;
    cr_assert_eq(corio_lock_new(&lock, other), 0);
    cr_assert_eq(corio_condition_new(&c, loop, lock), -EINVAL, "lock of another loop");
    cr_assert_eq(corio_condition_new(&c, loop, NULL), 0);
    cr_assert_eq(corio_condition_wait_for(c, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_condition_wait(c), CORIO_ENOTASK);
    cr_assert_eq(corio_condition_free(c), 0);
    cr_assert_eq(corio_lock_free(lock), 0);
    cr_assert_eq(corio_loop_free(other), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}
