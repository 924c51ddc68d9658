/* wait_for: result before the timeout, timeout cancels the inner task and waits for it to end,
 * timeout 0, no limit, outer cancel, an inner that declines the cancel (CPython
 * test_waitfor.py: test_wait_for, test_wait_for_timeout_less_then_0_or_0_*,
 * test_wait_for_with_global_loop, test_wait_for_cancellation_race_condition,
 * test_wait_for_waits_for_task_cancellation, test_cancel_wait_for, ...). */
#include "core_helpers.h"

static void *sleep_then_return(void *arg)
{
    int rc = corio_sleep(0.01);
    if (rc)
        return corio_raise(rc);
    return arg;
}

struct wf {
    corio_coro_fn inner_fn;
    void *inner_arg;
    double timeout;
    int rc;
    void *value;
    double elapsed;
    int inner_done_at_return;
    int inner_state_at_return;
    corio_task *inner;
};

static void *run_wait_for(void *arg)
{
    struct wf *w = arg;
    cr_expect_eq(corio_create_task(&w->inner, NULL, w->inner_fn, w->inner_arg, NULL), 0);
    double t0 = loop_now();
    w->value = IV(-12345);
    w->rc = corio_wait_for(corio_task_future(w->inner), w->timeout, &w->value);
    w->elapsed = loop_now() - t0;
    w->inner_done_at_return = corio_future_done(corio_task_future(w->inner));
    w->inner_state_at_return = (int)corio_future_get_state(corio_task_future(w->inner));
    return NULL;
}

static void do_wait_for(struct wf *w)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(run_main(loop, run_wait_for, w, NULL), 0);
    /* let anything left finish, then release */
    if (w->inner && !corio_future_done(corio_task_future(w->inner)))
        run_task(loop, w->inner, NULL);
    corio_task_unref(w->inner);
    corio_loop_free(loop);
}

Test(wait_for, result_before_timeout, .timeout = 10)
{
    struct wf w = {.inner_fn = sleep_then_return, .inner_arg = IV(5), .timeout = 5.0};
    do_wait_for(&w);
    cr_assert_eq(w.rc, 0);
    cr_assert_eq(w.value, IV(5));
    cr_assert_lt(fabs(w.elapsed - 0.01), 1e-6, "returned when the inner finished (virtual %f s)",
                 w.elapsed);
}

static void *raise_after_sleep(void *arg)
{
    corio_sleep(0.01);
    return corio_raise(VI(arg));
}

Test(wait_for, error_before_timeout, .timeout = 10)
{
    struct wf w = {.inner_fn = raise_after_sleep, .inner_arg = IV(-EIO), .timeout = 5.0};
    do_wait_for(&w);
    cr_assert_eq(w.rc, -EIO);
}

static int inner_await_rc = 1;
static int inner_cleanup;
static void *slow_with_cleanup(void *arg)
{
    inner_await_rc = corio_sleep(100);
    /* cleanup that itself awaits: wait_for must wait for it */
    corio_sleep(0.02);
    inner_cleanup++;
    return arg;
}

Test(wait_for, timeout_cancels_inner_and_waits_for_it, .timeout = 10)
{
    struct wf w = {.inner_fn = slow_with_cleanup, .inner_arg = IV(1), .timeout = 0.05};
    do_wait_for(&w);
    cr_assert_eq(w.rc, -ETIMEDOUT);
    cr_assert_geq(w.elapsed, 0.05);
    cr_assert_lt(w.elapsed, 2.0);
    cr_assert_eq(inner_await_rc, -ECANCELED);
    cr_assert(w.inner_done_at_return, "the inner task has ended when wait_for returns");
    cr_assert_eq(w.inner_state_at_return, CORIO_FUTURE_CANCELLED);
    cr_assert_eq(inner_cleanup, 1, "its cleanup ran before wait_for returned");
}

static void *ignores_cancel(void *arg)
{
    inner_await_rc = corio_sleep(100);
    if (inner_await_rc == -ECANCELED)
        corio_task_uncancel(corio_current_task());
    return arg;
}

Test(wait_for, inner_declines_cancel_returns_result, .timeout = 10)
{
    struct wf w = {.inner_fn = ignores_cancel, .inner_arg = IV(42), .timeout = 0.02};
    do_wait_for(&w);
    cr_assert_eq(inner_await_rc, -ECANCELED);
    cr_assert_eq(w.rc, 0, "got %d (%s)", w.rc, corio_err_name(w.rc));
    cr_assert_eq(w.value, IV(42));
    cr_assert_eq(w.inner_state_at_return, CORIO_FUTURE_FINISHED);
}

Test(wait_for, negative_timeout_is_no_limit, .timeout = 10)
{
    struct wf w = {.inner_fn = sleep_then_return, .inner_arg = IV(8), .timeout = -1.0};
    do_wait_for(&w);
    cr_assert_eq(w.rc, 0);
    cr_assert_eq(w.value, IV(8));
    struct wf w2 = {.inner_fn = sleep_then_return, .inner_arg = IV(9), .timeout = CORIO_FOREVER};
    do_wait_for(&w2);
    cr_assert_eq(w2.rc, 0);
    cr_assert_eq(w2.value, IV(9));
    struct wf w3 = {.inner_fn = sleep_then_return, .inner_arg = IV(10), .timeout = -1e-9};
    do_wait_for(&w3);
    cr_assert_eq(w3.rc, 0);
    cr_assert_eq(w3.value, IV(10));
}

/* ---- plain futures ---- */

static corio_future *pf;
static int pf_rc = 1;
static void *pf_value;
static double pf_timeout;
static void *wait_plain(void *arg)
{
    (void)arg;
    pf_rc = corio_wait_for(pf, pf_timeout, &pf_value);
    return NULL;
}

Test(wait_for, timeout_zero_on_done_future_returns_result, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&pf, loop), 0);
    corio_future_set_result(pf, IV(77));
    pf_timeout = 0;
    cr_assert_eq(run_main(loop, wait_plain, NULL, NULL), 0);
    cr_assert_eq(pf_rc, 0);
    cr_assert_eq(pf_value, IV(77));
    corio_future_unref(pf);
    corio_loop_free(loop);
}

Test(wait_for, timeout_zero_on_done_future_with_error, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&pf, loop), 0);
    corio_future_set_error(pf, -EPIPE);
    pf_timeout = 0;
    cr_assert_eq(run_main(loop, wait_plain, NULL, NULL), 0);
    cr_assert_eq(pf_rc, -EPIPE);
    corio_future_unref(pf);
    corio_loop_free(loop);
}

Test(wait_for, timeout_zero_on_pending_future_times_out, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&pf, loop), 0);
    pf_timeout = 0;
    cr_assert_eq(run_main(loop, wait_plain, NULL, NULL), 0);
    cr_assert_eq(pf_rc, -ETIMEDOUT);
    cr_assert(corio_future_cancelled(pf), "the future was cancelled");
    corio_future_unref(pf);
    corio_loop_free(loop);
}

Test(wait_for, plain_future_timeout_cancels_it, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&pf, loop), 0);
    pf_timeout = 0.02;
    double t0 = corio_loop_time(loop);
    cr_assert_eq(run_main(loop, wait_plain, NULL, NULL), 0);
    cr_assert_lt(fabs(corio_loop_time(loop) - t0 - 0.02), 1e-6, "exactly the timeout");
    cr_assert_eq(pf_rc, -ETIMEDOUT);
    cr_assert(corio_future_cancelled(pf));
    corio_future_unref(pf);
    corio_loop_free(loop);
}

static void set_pf(void *arg) { corio_future_set_result(pf, arg); }

Test(wait_for, plain_future_completed_in_time, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&pf, loop), 0);
    pf_timeout = 5.0;
    corio_loop_call_later(NULL, loop, 0.01, set_pf, IV(3));
    double t0 = corio_loop_time(loop);
    cr_assert_eq(run_main(loop, wait_plain, NULL, NULL), 0);
    cr_assert_lt(fabs(corio_loop_time(loop) - t0 - 0.01), 1e-6, "done when set, not at timeout");
    cr_assert_eq(pf_rc, 0);
    cr_assert_eq(pf_value, IV(3));
    corio_future_unref(pf);
    corio_loop_free(loop);
}

Test(wait_for, nan_timeout_is_einval, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_future_new(&pf, loop), 0);
    pf_timeout = NAN;
    cr_assert_eq(run_main(loop, wait_plain, NULL, NULL), 0);
    cr_assert_eq(pf_rc, -EINVAL);
    cr_assert_eq(corio_future_done(pf), 0, "the future is left alone");
    corio_future_unref(pf);
    corio_loop_free(loop);
}

Test(wait_for, outside_task_is_enotask, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_wait_for(f, 1.0, NULL), CORIO_ENOTASK);
    corio_future_set_result(f, NULL);
    cr_assert_eq(corio_wait_for(f, 0, NULL), CORIO_ENOTASK);
    cr_assert_eq(corio_future_cancelled(f), 0);
    corio_future_unref(f);
    corio_loop_free(loop);
}

/* ---- the outer task is cancelled ---- */

static corio_task *inner_task;
static int outer_rc = 1;
static void *outer_waits(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_create_task(&inner_task, NULL, slow_with_cleanup, IV(1), NULL), 0);
    outer_rc = corio_wait_for(corio_task_future(inner_task), 50.0, NULL);
    return NULL;
}

Test(wait_for, outer_cancelled_cancels_inner, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *outer;
    cr_assert_eq(corio_create_task(&outer, loop, outer_waits, NULL, NULL), 0);
    run_once(loop);
    run_once(loop);
    double t0 = now_s();
    cr_assert_eq(corio_task_cancel(outer, NULL), 1);
    cr_assert_eq(run_task(loop, outer, NULL), -ECANCELED);
    cr_assert_eq(outer_rc, -ECANCELED);
    cr_assert_not_null(inner_task);
    run_task(loop, inner_task, NULL);
    cr_assert(corio_future_cancelled(corio_task_future(inner_task)));
    cr_assert_eq(inner_await_rc, -ECANCELED);
    cr_assert_lt(now_s() - t0, 5.0, "neither the 50 s timeout nor the 100 s sleep was waited for");
    corio_task_unref(inner_task);
    corio_task_unref(outer);
    corio_loop_free(loop);
}

/* ---- wait_for on a future finished at the same moment the timeout fires ---- */

static void *quick_inner(void *arg) { return arg; }

Test(wait_for, inner_done_before_first_step_timeout_zero, .timeout = 10)
{
    /* timeout 0 on a task that has not run yet: asyncio times out and cancels it. */
    struct wf w = {.inner_fn = quick_inner, .inner_arg = IV(1), .timeout = 0};
    do_wait_for(&w);
    cr_assert(w.rc == -ETIMEDOUT || w.rc == 0, "got %d", w.rc);
    cr_assert(w.inner_done_at_return);
    if (w.rc == 0)
        cr_assert_eq(w.value, IV(1));
    else
        cr_assert_eq(w.inner_state_at_return, CORIO_FUTURE_CANCELLED);
}

static void *many_wait_fors(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        corio_task *t;
        cr_expect_eq(corio_create_task(&t, NULL, sleep_then_return, IV(i), NULL), 0);
        void *v = NULL;
        int rc = corio_wait_for(corio_task_future(t), i % 2 ? 10.0 : 0.001, &v);
        corio_task_unref(t);
        if (i % 2 && (rc != 0 || v != IV(i)))
            return IV(-1);
        if (!(i % 2) && rc != -ETIMEDOUT)
            return IV(-2);
    }
    return IV(1);
}

Test(wait_for, repeated_no_leaks_of_timers, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, many_wait_fors, NULL, &res), 0);
    cr_assert_eq(res, IV(1));
    corio_loop_free(loop);
}
