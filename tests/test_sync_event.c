/* corio_event: asyncio.Event (CPython test_locks.py EventTests: test_wait, test_wait_on_set,
 * test_wait_cancel, test_clear, test_clear_with_waiters). */
#include "sync_helpers.h"

static corio_event *e;

static void *waiter(void *arg)
{
    int rc = corio_event_wait(e);
    ev(rc == 0 ? VI(arg) : -VI(arg));
    return IV(rc);
}

static void *wait_main(void *arg)
{
    (void)arg;
    CHECK(corio_event_new(&e, NULL) == 0);
    CHECK(corio_event_is_set(e) == 0);
    corio_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = spawn(waiter, i + 1);
    yield_n(2);
    CHECK(ev_n == 0);
    CHECK(corio_event_set(e) == 0);
    CHECK(corio_event_set(e) == 0); /* twice is fine */
    CHECK(ev_n == 0);               /* woken, not run inside set */
    yield_n(2);
    CHECK(ev_n == 3 && ev_log[0] == 1 && ev_log[1] == 2 && ev_log[2] == 3);
    for (int i = 0; i < 3; i++)
        CHECK(outcome(t[i]) == 0);
    CHECK(corio_event_wait(e) == 0); /* set: at once */
    CHECK(corio_event_free(e) == 0);
    return NULL;
}

Test(sync_event, set_wakes_every_waiter_in_order, .timeout = 10) { run_sync_test(wait_main); }

static void *clear_main(void *arg)
{
    (void)arg;
    CHECK(corio_event_new(&e, NULL) == 0);
    corio_task *a = spawn(waiter, 1);
    yield_n(1);
    CHECK(corio_event_set(e) == 0);
    CHECK(corio_event_clear(e) == 0);
    CHECK(corio_event_is_set(e) == 0);
    corio_task *b = spawn(waiter, 2); /* comes after the clear: waits */
    yield_n(3);
    CHECK(ev_n == 1 && ev_log[0] == 1);
    CHECK(outcome(a) == 0);
    CHECK(!corio_future_done(corio_task_future(b)));
    CHECK(corio_event_set(e) == 0);
    yield_n(2);
    CHECK(outcome(b) == 0);
    CHECK(corio_event_free(e) == 0);
    return NULL;
}

Test(sync_event, clear_after_set_still_wakes_earlier_waiters, .timeout = 10)
{
    run_sync_test(clear_main);
}

static void *cancel_main(void *arg)
{
    (void)arg;
    CHECK(corio_event_new(&e, NULL) == 0);
    corio_task *a = spawn(waiter, 1), *b = spawn(waiter, 2);
    yield_n(1);
    CHECK(corio_task_cancel(a, NULL) == 1);
    yield_n(1);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(corio_event_free(e) == -EBUSY); /* b still waits */
    CHECK(corio_event_set(e) == 0);
    corio_task_cancel(b, NULL); /* woken, then cancelled: it returns -ECANCELED */
    yield_n(2);
    CHECK(outcome(b) == -ECANCELED);
    CHECK(ev_n == 2 && ev_log[0] == -1 && ev_log[1] == -2);
    CHECK(corio_event_free(e) == 0);
    return NULL;
}

Test(sync_event, cancelled_waiter_leaves, .timeout = 10) { run_sync_test(cancel_main); }

Test(sync_event, bad_input, .timeout = 10)
{
    cr_assert_eq(corio_event_new(NULL, NULL), -EINVAL);
    corio_event *x = (corio_event *)1;
    cr_assert_eq(corio_event_new(&x, NULL), CORIO_ENOLOOP);
    cr_assert_null(x);
    cr_assert_eq(corio_event_wait(NULL), -EINVAL);
    cr_assert_eq(corio_event_set(NULL), -EINVAL);
    cr_assert_eq(corio_event_clear(NULL), -EINVAL);
    cr_assert_eq(corio_event_is_set(NULL), 0);
    cr_assert_eq(corio_event_free(NULL), 0);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_event_new(&x, NULL), 0, "NULL: the current loop");
    cr_assert_eq(corio_event_wait(x), CORIO_ENOTASK);
    cr_assert_eq(corio_event_set(x), 0, "set needs no task");
    cr_assert_eq(corio_event_free(x), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}
