/* corio_sleep: wake-up order follows durations, sleep(0) yields once, cancel, bad input, timing
 * with wide margins (CPython test_tasks.py: test_sleep, test_sleep_cancel, test_sleep_when_delay_
 * is_nan; test_base_events: sleep(0) fast path). */
#include "core_helpers.h"

static void *sleep_then_log(void *arg)
{
    int ms = VI(arg);
    int rc = corio_sleep(ms / 1000.0);
    cr_expect_eq(rc, 0);
    ev(ms);
    return arg;
}

Test(sleep, wake_order_follows_durations, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    int ms[] = {50, 10, 40, 20, 30};
    corio_task *t[5];
    for (int i = 0; i < 5; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, sleep_then_log, IV(ms[i]), NULL), 0);
    run_task(loop, t[0], NULL);
    EV_EXPECT(10, 20, 30, 40, 50);
    for (int i = 0; i < 5; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

static void *yielder(void *arg)
{
    int id = VI(arg);
    for (int i = 1; i <= 3; i++) {
        ev(id * 10 + i);
        cr_expect_eq(corio_sleep(0), 0);
    }
    return NULL;
}

Test(sleep, sleep_zero_yields_once, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, yielder, IV(1), NULL), 0);
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, yielder, IV(2), NULL), 0);
    run_task(loop, a, NULL);
    run_task(loop, b, NULL);
    EV_EXPECT(11, 21, 12, 22, 13, 23);
    corio_task_unref(a);
    corio_task_unref(b);
    corio_loop_free(loop);
}

static void log_cb(void *arg) { ev(VI(arg)); }

static void *yield_lets_callbacks_run(void *arg)
{
    (void)arg;
    corio_loop *loop = corio_get_running_loop();
    corio_loop_call_soon(NULL, loop, log_cb, IV(1));
    corio_loop_call_soon(NULL, loop, log_cb, IV(2));
    ev(0);
    corio_sleep(0);
    ev(3);
    return NULL;
}

Test(sleep, sleep_zero_lets_ready_callbacks_run, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(run_main(loop, yield_lets_callbacks_run, NULL, NULL), 0);
    EV_EXPECT(0, 1, 2, 3);
    corio_loop_free(loop);
}

static void *negative_yields(void *arg)
{
    int id = VI(arg);
    for (int i = 1; i <= 2; i++) {
        ev(id * 10 + i);
        cr_expect_eq(corio_sleep(-1.0), 0);
    }
    return NULL;
}

Test(sleep, negative_sleep_yields, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, negative_yields, IV(1), NULL), 0);
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, negative_yields, IV(2), NULL), 0);
    run_task(loop, a, NULL);
    run_task(loop, b, NULL);
    EV_EXPECT(11, 21, 12, 22);
    corio_task_unref(a);
    corio_task_unref(b);
    corio_loop_free(loop);
}

static double measured;
static void *timed_sleep(void *arg)
{
    double s = *(double *)arg;
    double t0 = now_s();
    int rc = corio_sleep(s);
    measured = now_s() - t0;
    return IV(rc);
}

Test(sleep, sleeps_at_least_requested, .timeout = 10)
{
    corio_loop *loop = new_loop();
    double s = 0.1;
    void *res = IV(1);
    cr_assert_eq(run_main(loop, timed_sleep, &s, &res), 0);
    cr_assert_eq(VI(res), 0);
    cr_assert_geq(measured, 0.1, "slept %f s", measured);
    cr_assert_lt(measured, 1.1, "slept %f s", measured);
    corio_loop_free(loop);
}

Test(sleep, tiny_sleep_is_not_zero, .timeout = 10)
{
    corio_loop *loop = new_loop();
    double s = 0.0015; /* not a whole number of milliseconds */
    cr_assert_eq(run_main(loop, timed_sleep, &s, NULL), 0);
    cr_assert_geq(measured, 0.0015, "slept %f s", measured);
    cr_assert_lt(measured, 1.0);
    corio_loop_free(loop);
}

static void *sleep_200ms(void *arg)
{
    corio_sleep(0.2);
    return arg;
}

Test(sleep, sleepers_are_concurrent, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t[10];
    double t0 = now_s();
    for (int i = 0; i < 10; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, sleep_200ms, IV(i), NULL), 0);
    for (int i = 0; i < 10; i++) {
        void *res = NULL;
        cr_assert_eq(run_task(loop, t[i], &res), 0);
        cr_assert_eq(res, IV(i));
    }
    double dt = now_s() - t0;
    cr_assert_geq(dt, 0.2);
    cr_assert_lt(dt, 1.2, "10 x 0.2 s in parallel took %f s", dt);
    for (int i = 0; i < 10; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

static int sleep_rc = 1;
static void *long_sleep(void *arg)
{
    sleep_rc = corio_sleep(100);
    return arg;
}

Test(sleep, cancelled_sleep_returns_ecanceled, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, long_sleep, NULL, NULL), 0);
    run_once(loop);
    double t0 = now_s();
    cr_assert_eq(corio_task_cancel(t, NULL), 1);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(sleep_rc, -ECANCELED);
    cr_assert_lt(now_s() - t0, 5.0);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED);
    corio_task_unref(t);
    corio_loop_free(loop);
}

static int zero_rc = 1;
static void *sleep_zero_only(void *arg)
{
    zero_rc = corio_sleep(0);
    return arg;
}

Test(sleep, cancelled_sleep_zero_returns_ecanceled, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, sleep_zero_only, NULL, NULL), 0);
    run_once(loop); /* the task is inside sleep(0), its next step scheduled */
    corio_task_cancel(t, NULL);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(zero_rc, -ECANCELED);
    corio_task_unref(t);
    corio_loop_free(loop);
}

static void *sleep_nan(void *arg)
{
    (void)arg;
    return IV(corio_sleep(NAN));
}

Test(sleep, nan_is_einval, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, sleep_nan, NULL, &res), 0);
    cr_assert_eq(VI(res), -EINVAL);
    corio_loop_free(loop);
}

Test(sleep, outside_task_is_enotask, .timeout = 10)
{
    cr_assert_eq(corio_sleep(0.01), CORIO_ENOTASK);
    cr_assert_eq(corio_sleep(0), CORIO_ENOTASK);
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_sleep(0.01), CORIO_ENOTASK);
    corio_loop_free(loop);
}

static int cb_sleep_rc = 1;
static void sleep_in_cb(void *arg)
{
    (void)arg;
    cb_sleep_rc = corio_sleep(0.01);
}

Test(sleep, in_plain_callback_is_enotask, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_loop_call_soon(NULL, loop, sleep_in_cb, NULL);
    run_once(loop);
    cr_assert_eq(cb_sleep_rc, CORIO_ENOTASK);
    corio_loop_free(loop);
}

static void *sleep_loop(void *arg)
{
    int n = VI(arg);
    for (int i = 0; i < n; i++)
        if (corio_sleep(0.001) != 0)
            return IV(-1);
    return IV(n);
}

Test(sleep, repeated_short_sleeps, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, sleep_loop, IV(50), &res), 0);
    cr_assert_eq(res, IV(50));
    corio_loop_free(loop);
}
