/* shield: the outer future mirrors the inner's result, error or cancellation; cancelling the
 * outer (or the task awaiting it) leaves the inner running; a done future is returned as is
 * (CPython test_tasks.py: test_shield_result, test_shield_exception, test_shield_cancel_inner,
 * test_shield_cancel_outer, test_shield_shortcut, test_shield_effect, test_shield_gather,
 * test_gather_shield). */
#include "combine_helpers.h"

static corio_future *pending(corio_loop *loop)
{
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    return f;
}

/* The shield of f, with a check that it was made (cr_expect: also called inside tasks). */
static corio_future *shield_of(corio_future *f)
{
    corio_future *s;
    int rc = corio_shield(&s, f);
    cr_expect_eq(rc, 0, "corio_shield: %s", corio_err_name(rc));
    return s;
}

Test(shield, result, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *inner = pending(loop), *outer = NULL;
    cr_assert_eq(corio_shield(&outer, inner), 0);
    cr_assert_not_null(outer);
    cr_assert_neq(outer, inner);
    run_once(loop);
    cr_assert_eq(corio_future_get_state(outer), CORIO_FUTURE_PENDING);
    cr_assert_eq(corio_future_set_result(inner, IV(42)), 0);
    void *v = NULL;
    cr_assert_eq(corio_future_result(outer, &v), 0, "mirrored at once, before the loop runs");
    cr_assert_eq(v, IV(42));
    corio_future_unref(outer);
    corio_future_unref(inner);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(shield, error, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_future *inner = pending(loop), *outer = shield_of(inner);
    cr_assert_eq(corio_future_set_error(inner, -EIO), 0);
    cr_assert_eq(corio_future_error(outer), -EIO);
    corio_future_unref(outer);
    corio_future_unref(inner);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(cap.n, 0, "the shield retrieved the inner's error and we retrieved the outer's");
}

Test(shield, cancel_inner_cancels_outer, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *inner = pending(loop), *outer = shield_of(inner);
    cr_assert_eq(corio_future_cancel(inner, "bye"), 1);
    cr_assert(corio_future_cancelled(outer));
    cr_assert_str_eq(corio_future_cancel_message(outer), "bye");
    corio_future_unref(outer);
    corio_future_unref(inner);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(shield, cancel_outer_leaves_inner, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *inner = pending(loop), *outer = shield_of(inner);
    cr_assert_eq(corio_future_cancel(outer, NULL), 1);
    run_once(loop);
    cr_assert(corio_future_cancelled(outer));
    cr_assert_eq(corio_future_get_state(inner), CORIO_FUTURE_PENDING);
    cr_assert_eq(corio_future_set_result(inner, IV(1)), 0);
    run_once(loop);
    cr_assert(corio_future_cancelled(outer), "the outer stays cancelled");
    corio_future_unref(outer);
    corio_future_unref(inner);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(shield, shortcut_for_done_future, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *inner = pending(loop);
    corio_future_set_result(inner, IV(3));
    corio_future *outer = NULL;
    cr_assert_eq(corio_shield(&outer, inner), 0);
    cr_assert_eq(outer, inner, "a done future is returned itself");
    corio_future_unref(outer);
    corio_future_unref(inner);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(shield, invalid_arguments, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *inner = pending(loop), *outer = IV(1);
    cr_assert_eq(corio_shield(&outer, NULL), -EINVAL);
    cr_assert_null(outer, "*out is set on every return");
    cr_assert_eq(corio_shield(NULL, inner), -EINVAL);
    cr_assert_eq(corio_future_get_state(inner), CORIO_FUTURE_PENDING);
    corio_future_unref(inner);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(shield, outer_dropped_first, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *inner = pending(loop), *outer = shield_of(inner);
    corio_future_unref(outer); /* the shield keeps itself alive while the inner runs */
    run_once(loop);
    cr_assert_eq(corio_future_set_result(inner, IV(1)), 0);
    run_once(loop);
    corio_future_unref(inner);
    cr_assert_eq(corio_loop_free(loop), 0); /* ASan and Valgrind see the outer freed */
}

/* ---- a task awaiting a shield is cancelled: the inner task keeps running ---- */

static void *await_shielded(void *arg)
{
    corio_future *outer = shield_of(arg);
    void *v = IV(-1);
    int rc = corio_await(outer, &v);
    corio_future_unref(outer);
    ev(rc == -ECANCELED ? 1 : 2);
    return corio_raise(rc);
}

static void *shield_effect_main(void *arg)
{
    (void)arg;
    corio_task *inner = spawn(nap_ms, 100);
    corio_task *waiter;
    cr_expect_eq(corio_create_task(&waiter, NULL, await_shielded, tf(inner), NULL), 0);
    corio_sleep(0.005);
    cr_expect_eq(corio_task_cancel(waiter, NULL), 1);
    void *v = NULL;
    cr_expect_eq(corio_await(tf(waiter), NULL), -ECANCELED);
    cr_expect_eq(corio_future_get_state(tf(inner)), CORIO_FUTURE_PENDING,
                 "the shield kept it running");
    cr_expect_eq(corio_await(tf(inner), &v), 0);
    cr_expect_eq(v, IV(100));
    corio_task_unref(waiter);
    corio_task_unref(inner);
    return NULL;
}

Test(shield, cancelled_awaiter_leaves_inner_running, .timeout = 10)
{
    run_in_loop(shield_effect_main, NULL);
    EV_EXPECT(1, 100);
}

/* ---- gather of shields: cancelling the gather cancels only the shields ---- */

static void *shield_gather_main(void *arg)
{
    (void)arg;
    corio_task *a = spawn(nap_ms, 10), *b = spawn(nap_ms, 60);
    corio_future *outs[2] = {shield_of(tf(a)), shield_of(tf(b))};
    corio_future *g;
    cr_expect_eq(corio_gather_new(&g, outs, 2, 0), 0);
    corio_sleep(0);
    cr_expect_eq(corio_future_cancel(g, NULL), 1);
    cr_expect_eq(corio_await(g, NULL), -ECANCELED);
    cr_expect(corio_future_cancelled(outs[0]) && corio_future_cancelled(outs[1]));
    void *v[2];
    cr_expect_eq(corio_gather((corio_future *[]){tf(a), tf(b)}, 2, 0, v, NULL), 0);
    cr_expect(v[0] == IV(10) && v[1] == IV(60));
    corio_future_unref(g);
    corio_future_unref(outs[0]);
    corio_future_unref(outs[1]);
    corio_task_unref(a);
    corio_task_unref(b);
    return NULL;
}

Test(shield, gather_of_shields_cancelled, .timeout = 10)
{
    run_in_loop(shield_gather_main, NULL);
    EV_EXPECT(10, 60);
}

/* ---- the inner fails after its shield was cancelled: nothing reaches the outer ---- */

Test(shield, inner_error_after_outer_cancelled, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, fail_after_nap, IV(-EPIPE), NULL), 0);
    corio_future *outer;
    cr_assert_eq(corio_shield(&outer, tf(t)), 0);
    corio_future_cancel(outer, NULL);
    cr_assert_eq(run_task(loop, t, NULL), -EPIPE);
    cr_assert(corio_future_cancelled(outer));
    corio_future_unref(outer);
    corio_task_unref(t);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- the loop closes with a shielded task pending: nothing leaks ---- */

Test(shield, loop_close_with_pending_inner, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, sleep_long, IV(0), NULL), 0);
    corio_future *outer;
    cr_assert_eq(corio_shield(&outer, tf(t)), 0);
    run_once(loop);
    corio_task_unref(t);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert(corio_future_cancelled(outer), "the inner was destroyed cancelled, and so mirrored");
    corio_future_unref(outer);
    cr_assert_eq(corio_loop_free(loop), 0);
}
