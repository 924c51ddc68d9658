/* Task cancellation in every state (CPython test_tasks.py: test_cancel, test_cancel_yield,
 * test_cancel_inner_future, test_cancel_both_task_and_inner_future, test_cancel_task_catching,
 * test_cancel_current_task, test_cancel_at_end, test_uncancel_*, test_cancel_with_message_*, ...).
 *
 * Note: unlike CPython (where a coroutine that catches CancelledError and returns a value ends with
 * that value), corio's header says a task whose fn returns while cancellation requests remain
 * ends CANCELLED unless it uncancels them; these tests follow the header. */
#include "core_helpers.h"

static int ran;
static int cleanup;

static void *runs(void *arg)
{
    ran++;
    return arg;
}

Test(task_cancel, before_start_fn_never_runs, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, runs, IV(1), NULL), 0);
    cr_assert_eq(corio_task_cancel(t, NULL), 1);
    cr_assert_eq(corio_task_cancelling(t), 1);
    void *res = IV(9);
    cr_assert_eq(run_task(loop, t, &res), -ECANCELED);
    cr_assert_eq(ran, 0, "a task cancelled before it started never runs fn");
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED);
    cr_assert(corio_future_cancelled(corio_task_future(t)));
    cr_assert_eq(corio_task_cancel(t, NULL), 0, "cancel of a done task returns 0");
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(task_cancel, before_start_with_message, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, runs, IV(1), NULL), 0);
    char msg[16] = "stop it";
    cr_assert_eq(corio_task_cancel(t, msg), 1);
    strcpy(msg, "garbage");
    run_task(loop, t, NULL);
    cr_assert_not_null(corio_future_cancel_message(corio_task_future(t)));
    cr_assert_str_eq(corio_future_cancel_message(corio_task_future(t)), "stop it");
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(task_cancel, done_task_cancel_returns_zero, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, runs, IV(4), NULL), 0);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(corio_task_cancel(t, "too late"), 0);
    cr_assert_eq(corio_task_cancelling(t), 0);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_FINISHED);
    cr_assert_eq(corio_future_result(corio_task_future(t), &res), 0);
    cr_assert_eq(res, IV(4));
    corio_task_unref(t);
    corio_loop_free(loop);
}

/* ---- cancelled while awaiting a future ---- */

static corio_future *inner;
static int await_rc = 1;

static void *await_inner(void *arg)
{
    void *v = NULL;
    await_rc = corio_await(inner, &v);
    cleanup++;
    return arg; /* returns normally after the cancel: still ends CANCELLED */
}

Test(task_cancel, while_awaiting_cancels_awaited_future, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, await_inner, IV(5), NULL), 0);
    run_once(loop); /* t now waits on inner */
    cr_assert_eq(corio_future_done(corio_task_future(t)), 0);
    cr_assert_eq(corio_task_cancel(t, "bye"), 1);
    cr_assert(corio_future_cancelled(inner), "the awaited future is cancelled too");
    cr_assert_str_eq(corio_future_cancel_message(inner), "bye");
    cr_assert_eq(corio_task_cancelling(t), 1);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(await_rc, -ECANCELED);
    cr_assert_eq(cleanup, 1);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED,
                 "a task that returns normally after being cancelled ends CANCELLED");
    cr_assert_str_eq(corio_future_cancel_message(corio_task_future(t)), "bye");
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

static void *catch_and_uncancel(void *arg)
{
    void *v = NULL;
    await_rc = corio_await(inner, &v);
    if (await_rc == -ECANCELED) {
        cr_expect_eq(corio_task_uncancel(corio_current_task()), 0);
        /* awaiting works again after the cancellation was delivered */
        cr_expect_eq(corio_sleep(0), 0);
        cleanup++;
    }
    return arg;
}

Test(task_cancel, uncancel_lets_task_finish_with_result, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, catch_and_uncancel, IV(42), NULL), 0);
    run_once(loop);
    cr_assert_eq(corio_task_cancel(t, NULL), 1);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(res, IV(42));
    cr_assert_eq(await_rc, -ECANCELED);
    cr_assert_eq(cleanup, 1);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_FINISHED);
    cr_assert_eq(corio_task_cancelling(t), 0);
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

static int second_rc = 1;
static void *catch_then_await_again(void *arg)
{
    await_rc = corio_await(inner, NULL);
    /* The request was delivered once; the next await is not interrupted again. */
    second_rc = corio_sleep(0.001);
    return arg;
}

Test(task_cancel, cancel_delivered_once, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, catch_then_await_again, IV(1), NULL), 0);
    run_once(loop);
    corio_task_cancel(t, NULL);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(await_rc, -ECANCELED);
    cr_assert_eq(second_rc, 0);
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

/* ---- cancelled while ready: woken up but not yet resumed ---- */

static corio_task *ready_task;
static void complete_then_cancel(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_future_set_result(inner, IV(3)), 0); /* schedules the wake-up */
    cr_expect_eq(corio_task_cancel(ready_task, NULL), 1);
}

Test(task_cancel, while_ready, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    cr_assert_eq(corio_create_task(&ready_task, loop, await_inner, IV(5), NULL), 0);
    run_once(loop);
    corio_loop_call_soon(NULL, loop, complete_then_cancel, NULL);
    cr_assert_eq(run_task(loop, ready_task, NULL), -ECANCELED);
    /* asyncio: the request is delivered at the await the task resumes from */
    cr_assert_eq(await_rc, -ECANCELED);
    cr_assert_eq(corio_future_get_state(inner), CORIO_FUTURE_FINISHED, "inner was already done");
    cr_assert_eq(corio_future_get_state(corio_task_future(ready_task)), CORIO_FUTURE_CANCELLED);
    corio_task_unref(ready_task);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

/* ---- a task that cancels itself ---- */

static int after_self_cancel = 1;
static void *cancel_self_then_await(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_task_cancel(corio_current_task(), "self"), 1);
    cr_expect_eq(corio_task_cancelling(corio_current_task()), 1);
    after_self_cancel = corio_sleep(0);
    cleanup++;
    return IV(8);
}

Test(task_cancel, cancel_self_delivered_at_next_await, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, cancel_self_then_await, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(after_self_cancel, -ECANCELED);
    cr_assert_eq(cleanup, 1);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED);
    cr_assert_str_eq(corio_future_cancel_message(corio_task_future(t)), "self");
    corio_task_unref(t);
    corio_loop_free(loop);
}

static void *cancel_self_then_return(void *arg)
{
    (void)arg;
    corio_task_cancel(corio_current_task(), NULL);
    return IV(8);
}

Test(task_cancel, cancel_self_then_return_ends_cancelled, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, cancel_self_then_return, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED);
    corio_task_unref(t);
    corio_loop_free(loop);
}

static void *await_done_after_self_cancel(void *arg)
{
    (void)arg;
    corio_task_cancel(corio_current_task(), NULL);
    /* Whether an await of a done future delivers the request is left open (CPython does not
     * suspend there, so it does not); either way the task must end CANCELLED. */
    await_rc = corio_await(inner, NULL);
    return NULL;
}

Test(task_cancel, self_cancel_then_await_done_future_ends_cancelled, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_future_set_result(inner, IV(1));
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, await_done_after_self_cancel, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert(await_rc == -ECANCELED || await_rc == 0, "await gave %d", await_rc);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED);
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

/* ---- several requests ---- */

Test(task_cancel, cancel_twice_counts_requests, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, await_inner, IV(1), NULL), 0);
    run_once(loop);
    cr_assert_eq(corio_task_cancelling(t), 0);
    cr_assert_eq(corio_task_cancel(t, NULL), 1);
    cr_assert_eq(corio_task_cancel(t, NULL), 1);
    cr_assert_eq(corio_task_cancelling(t), 2);
    cr_assert_eq(corio_task_uncancel(t), 1);
    cr_assert_eq(corio_task_cancelling(t), 1);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED, "one request remains: ends CANCELLED");
    cr_assert_eq(await_rc, -ECANCELED);
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

static void *uncancel_all(void *arg)
{
    await_rc = corio_await(inner, NULL);
    while (corio_task_cancelling(corio_current_task()) > 0)
        corio_task_uncancel(corio_current_task());
    return arg;
}

Test(task_cancel, uncancel_down_to_zero_keeps_result, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, uncancel_all, IV(6), NULL), 0);
    run_once(loop);
    corio_task_cancel(t, NULL);
    corio_task_cancel(t, NULL);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(res, IV(6));
    cr_assert_eq(await_rc, -ECANCELED);
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

Test(task_cancel, uncancel_without_requests, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, runs, NULL, NULL), 0);
    cr_assert_eq(corio_task_uncancel(t), 0);
    cr_assert_eq(corio_task_cancelling(t), 0);
    cr_assert_eq(run_task(loop, t, NULL), 0);
    corio_task_unref(t);
    corio_loop_free(loop);
}

/* ---- cancelling a task that awaits another task ---- */

static int inner_rc = 1;
static void *inner_sleeper(void *arg)
{
    inner_rc = corio_sleep(10);
    cleanup++;
    return arg;
}

static corio_task *inner_task;
static void *outer_awaits_task(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_create_task(&inner_task, NULL, inner_sleeper, NULL, NULL), 0);
    await_rc = corio_await(corio_task_future(inner_task), NULL);
    return NULL;
}

Test(task_cancel, cancel_propagates_to_awaited_task, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *outer;
    cr_assert_eq(corio_create_task(&outer, loop, outer_awaits_task, NULL, NULL), 0);
    run_once(loop); /* outer creates inner and waits */
    run_once(loop); /* inner sleeps */
    cr_assert_not_null(inner_task);
    double t0 = corio_loop_time(loop);
    cr_assert_eq(corio_task_cancel(outer, "chain"), 1);
    cr_assert_eq(run_task(loop, outer, NULL), -ECANCELED);
    cr_assert_lt(corio_loop_time(loop) - t0, 5.0, "the 10 s sleep was cut short");
    cr_assert_eq(await_rc, -ECANCELED);
    cr_assert(corio_future_done(corio_task_future(inner_task)));
    cr_assert(corio_future_cancelled(corio_task_future(inner_task)));
    cr_assert_eq(inner_rc, -ECANCELED);
    cr_assert_eq(cleanup, 1);
    corio_task_unref(inner_task);
    corio_task_unref(outer);
    corio_loop_free(loop);
}

Test(task_cancel, cancel_sleeping_task, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, inner_sleeper, IV(1), NULL), 0);
    run_once(loop);
    double t0 = corio_loop_time(loop);
    corio_task_cancel(t, NULL);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_lt(corio_loop_time(loop) - t0, 5.0);
    cr_assert_eq(inner_rc, -ECANCELED);
    cr_assert_eq(cleanup, 1);
    corio_task_unref(t);
    corio_loop_free(loop);
}

static void *awaits_cancelled_child(void *arg)
{
    (void)arg;
    corio_task *child;
    cr_expect_eq(corio_create_task(&child, NULL, runs, NULL, NULL), 0);
    corio_task_cancel(child, NULL);
    int rc = corio_await(corio_task_future(child), NULL);
    corio_task_unref(child);
    return IV(rc);
}

Test(task_cancel, awaiting_a_cancelled_task_gives_ecanceled, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, awaits_cancelled_child, NULL, &res), 0,
                 "the awaiter itself was not cancelled");
    cr_assert_eq(VI(res), -ECANCELED);
    cr_assert_eq(ran, 0);
    corio_loop_free(loop);
}

static corio_task *victim;
static void *canceller(void *arg)
{
    (void)arg;
    corio_sleep(0);
    cr_expect_eq(corio_task_cancel(victim, "from another task"), 1);
    return NULL;
}

Test(task_cancel, cancelled_by_another_task, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_create_task(&victim, loop, inner_sleeper, NULL, NULL), 0);
    corio_task *c;
    cr_assert_eq(corio_create_task(&c, loop, canceller, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, victim, NULL), -ECANCELED);
    cr_assert_eq(inner_rc, -ECANCELED);
    cr_assert_str_eq(corio_future_cancel_message(corio_task_future(victim)), "from another task");
    run_task(loop, c, NULL);
    corio_task_unref(c);
    corio_task_unref(victim);
    corio_loop_free(loop);
}

Test(task_cancel, cancel_via_future_interface, .timeout = 10)
{
    /* corio_future_cancel on a task's future behaves as a cancel request on a pending task. */
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, inner_sleeper, NULL, NULL), 0);
    run_once(loop);
    cr_assert_eq(corio_future_cancel(corio_task_future(t), "f"), 1);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(inner_rc, -ECANCELED);
    cr_assert_eq(cleanup, 1);
    corio_task_unref(t);
    corio_loop_free(loop);
}

/* ---- the awaited future is cancelled, not the task ---- */

static void *await_inner_then_continue(void *arg)
{
    await_rc = corio_await(inner, NULL);
    cr_expect_eq(corio_task_cancelling(corio_current_task()), 0, "no request on the task");
    second_rc = corio_sleep(0);
    return arg;
}

Test(task_cancel, inner_future_cancelled_task_goes_on, .timeout = 10)
{
    /* CPython test_cancel_inner_future: the await reports the cancel; in C nothing propagates
     * unless the coroutine passes it on, and with no request on the task it ends with its result. */
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, await_inner_then_continue, IV(5), NULL), 0);
    run_once(loop);
    cr_assert_eq(corio_future_cancel(inner, NULL), 1);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(res, IV(5));
    cr_assert_eq(await_rc, -ECANCELED);
    cr_assert_eq(second_rc, 0);
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

static void *await_inner_pass_on(void *arg)
{
    (void)arg;
    int rc = corio_await(inner, NULL);
    return corio_raise(rc);
}

Test(task_cancel, inner_future_cancelled_and_passed_on, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, await_inner_pass_on, NULL, NULL), 0);
    run_once(loop);
    corio_future_cancel(inner, "inner msg");
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED);
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

Test(task_cancel, both_task_and_inner_future, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, await_inner, IV(5), NULL), 0);
    run_once(loop);
    cr_assert_eq(corio_future_cancel(inner, NULL), 1);
    cr_assert_eq(corio_task_cancel(t, NULL), 1);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(await_rc, -ECANCELED);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED);
    corio_task_unref(t);
    corio_future_unref(inner);
    corio_loop_free(loop);
}

/* ---- a future shared by two awaiting tasks ---- */

static int shared_rc[2] = {1, 1};
static void *await_shared(void *arg)
{
    int i = VI(arg);
    shared_rc[i] = corio_await(inner, NULL);
    return arg;
}

Test(task_cancel, cancelling_one_awaiter_cancels_shared_future, .timeout = 10)
{
    /* asyncio: the task's cancel cancels the future it waits on, so the other awaiter sees
     * -ECANCELED too, although it was not cancelled itself. */
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&inner, loop), 0);
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, await_shared, IV(0), NULL), 0);
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, await_shared, IV(1), NULL), 0);
    run_once(loop);
    cr_assert_eq(corio_task_cancel(a, NULL), 1);
    cr_assert(corio_future_cancelled(inner));
    cr_assert_eq(run_task(loop, a, NULL), -ECANCELED);
    void *res = NULL;
    cr_assert_eq(run_task(loop, b, &res), 0, "b was not cancelled: it ends with its result");
    cr_assert_eq(res, IV(1));
    cr_assert_eq(shared_rc[0], -ECANCELED);
    cr_assert_eq(shared_rc[1], -ECANCELED);
    corio_task_unref(a);
    corio_task_unref(b);
    corio_future_unref(inner);
    corio_loop_free(loop);
}
