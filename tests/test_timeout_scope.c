/* Timeout scopes: the deadline cancels the block and exit turns that into -ETIMEDOUT; other
 * cancellations and errors pass through; nesting and simultaneous deadlines; rescheduling; a
 * deadline in the past or none; a task already cancelled; a block that finished anyway leaves
 * no cancellation behind (CPython test_timeouts.py: test_timeout_basic, test_timeout_at_basic,
 * test_nested_timeouts, test_waiter_cancelled, test_timeout_not_called, test_timeout_disabled,
 * test_timeout_at_disabled, test_timeout_zero, test_timeout_in_the_past_sleep,
 * test_timeout_in_the_past_no_sleep, test_foreign_exception_passed,
 * test_foreign_cancel_doesnt_timeout_if_not_expired, test_outer_task_is_not_cancelled,
 * test_nested_timeouts_concurrent, test_reschedule, test_timeout_after_cancellation,
 * test_cancel_in_timeout_after_cancellation, test_timeout_taskgroup). */
#include "combine_helpers.h"

static corio_task *self(void) { return corio_current_task(); }

static corio_timeout *enter(double delay)
{
    corio_timeout *tm = NULL;
    cr_expect_eq(corio_timeout_enter(&tm, delay), 0);
    return tm;
}

static corio_timeout *enter_at(double when)
{
    corio_timeout *tm = NULL;
    cr_expect_eq(corio_timeout_enter_at(&tm, when), 0);
    return tm;
}

/* ---- the basics ---- */

static void *basic_main(void *arg)
{
    (void)arg;
    double t0 = loop_now();
    corio_timeout *tm = enter(0.01);
    int rc = corio_sleep(10);
    cr_expect_eq(rc, -ECANCELED);
    cr_expect(corio_timeout_expired(tm));
    cr_expect_eq(corio_timeout_exit(tm, rc), -ETIMEDOUT);
    cr_expect_lt(loop_now() - t0, 5.0);
    cr_expect_eq(corio_task_cancelling(self()), 0, "the scope withdrew its request");
    cr_expect_eq(corio_sleep(0.001), 0, "and the task goes on");
    return NULL;
}

Test(timeout_scope, basic, .timeout = 10)
{
    run_in_loop(basic_main, NULL);
}

static void *at_basic_main(void *arg)
{
    (void)arg;
    double when = loop_now() + 0.01;
    corio_timeout *tm = enter_at(when);
    cr_expect_eq(corio_timeout_when(tm), when);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(10)), -ETIMEDOUT);
    return NULL;
}

Test(timeout_scope, at_basic, .timeout = 10)
{
    run_in_loop(at_basic_main, NULL);
}

static void *not_called_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter(10);
    cr_expect_eq(corio_sleep(0.01), 0);
    cr_expect_not(corio_timeout_expired(tm));
    cr_expect_eq(corio_timeout_exit(tm, 0), 0);
    return NULL;
}

Test(timeout_scope, deadline_not_reached, .timeout = 10)
{
    double t0 = now_s();
    run_in_real_loop(not_called_main, NULL);
    cr_assert_lt(now_s() - t0, 5.0, "the scope's timer went with it");
}

static void *disabled_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter(CORIO_FOREVER);
    cr_expect_eq(corio_timeout_when(tm), CORIO_FOREVER, "no deadline: CORIO_FOREVER, not +inf");
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(0.01)), 0);
    tm = enter_at(CORIO_FOREVER);
    cr_expect_eq(corio_timeout_when(tm), CORIO_FOREVER);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(0.01)), 0);
    return NULL;
}

Test(timeout_scope, no_deadline, .timeout = 10)
{
    run_in_loop(disabled_main, NULL);
}

/* Any negative delay or absolute deadline means none (not "already past"), and reads back as
 * CORIO_FOREVER. */
static void *negative_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter(-0.5);
    cr_expect_eq(corio_timeout_when(tm), CORIO_FOREVER);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(0.01)), 0);

    tm = enter_at(-3);
    cr_expect_eq(corio_timeout_when(tm), CORIO_FOREVER);
    int rc = corio_sleep(0.01);
    cr_expect_not(corio_timeout_expired(tm));
    cr_expect_eq(corio_timeout_exit(tm, rc), 0);

    tm = enter(0.01);
    cr_expect_eq(corio_timeout_reschedule(tm, -7), 0);
    cr_expect_eq(corio_timeout_when(tm), CORIO_FOREVER, "rescheduled to none");
    rc = corio_sleep(0.03); /* past the first deadline */
    cr_expect_not(corio_timeout_expired(tm));
    cr_expect_eq(corio_timeout_exit(tm, rc), 0);

    tm = enter_at(-1e9);
    double when = loop_now() + 0.01;
    cr_expect_eq(corio_timeout_reschedule(tm, when), 0, "from none to a deadline");
    cr_expect_eq(corio_timeout_when(tm), when);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(10)), -ETIMEDOUT);
    cr_expect_eq(corio_task_cancelling(self()), 0);
    return NULL;
}

Test(timeout_scope, negative_deadline_means_none, .timeout = 10)
{
    run_in_loop(negative_main, NULL);
}

static void *zero_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter(0);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(10)), -ETIMEDOUT);
    tm = enter_at(loop_now() - 1);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(10)), -ETIMEDOUT, "a deadline in the past");
    return NULL;
}

Test(timeout_scope, zero_and_past_deadlines, .timeout = 10)
{
    run_in_loop(zero_main, NULL);
}

/* A deadline in the past does nothing to a block that does not await. */
static void *past_no_await_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter_at(loop_now() - 1);
    cr_expect_not(corio_timeout_expired(tm));
    cr_expect_eq(corio_timeout_exit(tm, 0), 0);
    cr_expect_eq(corio_task_cancelling(self()), 0);
    cr_expect_eq(corio_sleep(0.001), 0);
    return NULL;
}

Test(timeout_scope, past_deadline_without_await, .timeout = 10)
{
    run_in_loop(past_no_await_main, NULL);
}

/* ---- what is not the scope's passes through ---- */

static void *foreign_error_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter(10);
    cr_expect_eq(corio_timeout_exit(tm, -EIO), -EIO);
    return NULL;
}

Test(timeout_scope, foreign_error_passes, .timeout = 10)
{
    run_in_loop(foreign_error_main, NULL);
}

struct foreign {
    int rc;
    int cancelling;
};

static void *scoped_sleeper(void *arg)
{
    struct foreign *r = arg;
    corio_timeout *tm = enter(10);
    r->rc = corio_timeout_exit(tm, corio_sleep(10));
    r->cancelling = corio_task_cancelling(self());
    return corio_raise(r->rc);
}

static void *foreign_cancel_main(void *arg)
{
    (void)arg;
    struct foreign r = {1, -1};
    corio_task *t = spawn_opts(scoped_sleeper, &r, NULL);
    corio_sleep(0.01);
    corio_task_cancel(t, NULL);
    cr_expect_eq(corio_await(tf(t), NULL), -ECANCELED);
    cr_expect_eq(r.rc, -ECANCELED, "a cancellation from outside is not a timeout");
    cr_expect_eq(r.cancelling, 1);
    corio_task_unref(t);
    return NULL;
}

Test(timeout_scope, foreign_cancel_is_not_timeout, .timeout = 10)
{
    run_in_loop(foreign_cancel_main, NULL);
}

/* The deadline and an outside cancel both hit: the outside one wins. */
static void *both_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter(0);
    corio_task_cancel(self(), NULL); /* requested before the scope's timer fires */
    int rc = corio_sleep(10);
    cr_expect_eq(rc, -ECANCELED);
    cr_expect(corio_timeout_expired(tm));
    cr_expect_eq(corio_timeout_exit(tm, rc), -ECANCELED);
    cr_expect_eq(corio_task_cancelling(self()), 1, "the outside request stays");
    corio_task_uncancel(self());
    return NULL;
}

Test(timeout_scope, outside_cancel_and_deadline, .timeout = 10)
{
    run_in_loop(both_main, NULL);
}

/* The task was cancelled before the scope: the scope still times out on its own. */
static void *after_cancellation_main(void *arg)
{
    (void)arg;
    corio_task_cancel(self(), NULL);
    cr_expect_eq(corio_sleep(10), -ECANCELED); /* "caught": the request stays counted */
    corio_timeout *tm = enter(0);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(10)), -ETIMEDOUT);
    cr_expect_eq(corio_task_cancelling(self()), 1);
    corio_task_uncancel(self());
    return NULL;
}

Test(timeout_scope, timeout_after_cancellation, .timeout = 10)
{
    run_in_loop(after_cancellation_main, NULL);
}

/* ---- nesting ---- */

static void *nested_main(void *arg)
{
    (void)arg;
    corio_timeout *outer = enter(10);
    corio_timeout *inner = enter(0.01);
    int rc = corio_timeout_exit(inner, corio_sleep(10));
    cr_expect_eq(rc, -ETIMEDOUT);
    cr_expect_not(corio_timeout_expired(outer));
    cr_expect_eq(corio_timeout_exit(outer, rc), -ETIMEDOUT, "passed through unchanged");
    return NULL;
}

Test(timeout_scope, nested_inner_expires, .timeout = 10)
{
    run_in_loop(nested_main, NULL);
}

static void *nested_outer_main(void *arg)
{
    (void)arg;
    corio_timeout *outer = enter(0.01);
    corio_timeout *inner = enter(10);
    int rc = corio_timeout_exit(inner, corio_sleep(10));
    cr_expect_eq(rc, -ECANCELED, "the inner scope did not expire: not its timeout");
    cr_expect_eq(corio_timeout_exit(outer, rc), -ETIMEDOUT);
    return NULL;
}

Test(timeout_scope, nested_outer_expires, .timeout = 10)
{
    run_in_loop(nested_outer_main, NULL);
}

/* Both expire: the outer fires first (same deadline, armed first); the inner then sees a request
 * that is not its own and leaves -ECANCELED for the outer to turn into -ETIMEDOUT. */
static void *concurrent_main(void *arg)
{
    (void)arg;
    double when = loop_now() + 0.01;
    corio_timeout *outer = enter_at(when);
    corio_timeout *inner = enter_at(when);
    int rc = corio_sleep(10);
    cr_expect(corio_timeout_expired(outer) && corio_timeout_expired(inner));
    rc = corio_timeout_exit(inner, rc);
    cr_expect_eq(rc, -ECANCELED);
    cr_expect_eq(corio_timeout_exit(outer, rc), -ETIMEDOUT);
    cr_expect_eq(corio_task_cancelling(self()), 0);
    return NULL;
}

Test(timeout_scope, nested_concurrent_expiry, .timeout = 10)
{
    run_in_loop(concurrent_main, NULL);
}

/* ---- rescheduling ---- */

static void *reschedule_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter(CORIO_FOREVER);
    double when = loop_now() + 0.01;
    cr_expect_eq(corio_timeout_reschedule(tm, when), 0);
    cr_expect_eq(corio_timeout_when(tm), when);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(10)), -ETIMEDOUT);

    tm = enter(0.01);
    cr_expect_eq(corio_timeout_reschedule(tm, CORIO_FOREVER), 0);
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(0.03)), 0, "the deadline was lifted");

    tm = enter(0.01);
    cr_expect_eq(corio_timeout_reschedule(tm, loop_now() + 10), 0, "pushed back");
    cr_expect_eq(corio_timeout_exit(tm, corio_sleep(0.03)), 0);

    tm = enter(10);
    cr_expect_eq(corio_timeout_reschedule(tm, loop_now() - 1), 0, "brought into the past");
    int rc = corio_sleep(10);
    cr_expect_eq(corio_timeout_reschedule(tm, loop_now() + 10), CORIO_EINVALSTATE,
                 "an expired scope cannot be rescheduled");
    cr_expect_eq(corio_timeout_reschedule(tm, NAN), -EINVAL);
    cr_expect_eq(corio_timeout_exit(tm, rc), -ETIMEDOUT);
    return NULL;
}

Test(timeout_scope, reschedule, .timeout = 10)
{
    run_in_loop(reschedule_main, NULL);
}

/* ---- the awaited task is cancelled with the block ---- */

static void *waiter_cancelled_main(void *arg)
{
    (void)arg;
    corio_task *inner = spawn(sleep_long, 5);
    corio_timeout *tm = enter(0.01);
    int rc = corio_timeout_exit(tm, corio_await(tf(inner), NULL));
    cr_expect_eq(rc, -ETIMEDOUT);
    cr_expect_eq(corio_await(tf(inner), NULL), -ECANCELED, "the awaited task was cancelled");
    corio_task_unref(inner);
    return NULL;
}

Test(timeout_scope, awaited_task_cancelled, .timeout = 10)
{
    run_in_loop(waiter_cancelled_main, NULL);
    EV_EXPECT(105);
}

/* A block that treats the cancellation as the end of its work and returns 0. */
static void *finished_anyway_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = enter(0.01);
    corio_sleep(10); /* ignores the -ECANCELED */
    cr_expect(corio_timeout_expired(tm));
    cr_expect_eq(corio_timeout_exit(tm, 0), 0);
    cr_expect_eq(corio_task_cancelling(self()), 0);
    cr_expect_eq(corio_sleep(0.001), 0, "no cancellation left behind");
    return NULL;
}

Test(timeout_scope, finished_anyway_leaves_nothing, .timeout = 10)
{
    run_in_loop(finished_anyway_main, NULL);
}

/* ---- compact tasks, bad arguments ---- */

static void *compact_scoped(void *arg)
{
    corio_timeout *tm = enter(VI(arg) / 1000.0);
    int rc = corio_timeout_exit(tm, corio_sleep(0.02));
    return IV(rc);
}

static void *compact_main(void *arg)
{
    (void)arg;
    const corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};
    corio_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = spawn_opts(compact_scoped, IV(i % 2 ? 5 : 5000), &compact);
    for (int i = 0; i < 4; i++) {
        void *v;
        cr_expect_eq(corio_await(tf(t[i]), &v), 0);
        cr_expect_eq(VI(v), i % 2 ? -ETIMEDOUT : 0);
        corio_task_unref(t[i]);
    }
    return NULL;
}

Test(timeout_scope, compact_tasks, .timeout = 10)
{
    run_in_loop(compact_main, NULL);
}

static void *other_task_exit(void *arg) { return IV(corio_timeout_exit(arg, 0)); }

static void *invalid_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = IV(1);
    cr_expect_eq(corio_timeout_enter(NULL, 1), -EINVAL);
    cr_expect_eq(corio_timeout_enter(&tm, NAN), -EINVAL);
    cr_expect_null(tm);
    cr_expect_eq(corio_timeout_enter_at(&tm, NAN), -EINVAL);
    tm = enter(10);
    corio_task *t = spawn_opts(other_task_exit, tm, NULL);
    void *v;
    corio_await(tf(t), &v);
    cr_expect_eq(VI(v), -EINVAL, "only the task that entered may exit");
    corio_task_unref(t);
    cr_expect_eq(corio_timeout_reschedule(NULL, 1), -EINVAL);
    cr_expect(isnan(corio_timeout_when(NULL)));
    cr_expect_eq(corio_timeout_expired(NULL), 0);
    cr_expect_eq(corio_timeout_exit(NULL, -EIO), -EIO);
    cr_expect_eq(corio_timeout_exit(tm, 0), 0);
    return NULL;
}

Test(timeout_scope, invalid_arguments, .timeout = 10)
{
    run_in_loop(invalid_main, NULL);
    corio_timeout *tm = IV(1);
    cr_assert_eq(corio_timeout_enter(&tm, 1), CORIO_ENOTASK);
    cr_assert_null(tm);
}
