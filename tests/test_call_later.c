/* Timers: call_later / call_at ordering by time, ties in scheduling order, cancellable handles,
 * handle times, bad delays, many timers (CPython test_events.py: test_call_later,
 * test_call_at, TimerHandle ordering). Timing assertions use wide margins only. */
#include "core_helpers.h"

static corio_loop *the_loop;
static void log_cb(void *arg) { ev(VI(arg)); }

Test(call_later, ordered_by_time, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_loop_call_later(NULL, loop, 0.05, log_cb, IV(5));
    corio_loop_call_later(NULL, loop, 0.01, log_cb, IV(1));
    corio_loop_call_later(NULL, loop, 0.03, log_cb, IV(3));
    corio_loop_call_later(NULL, loop, 0.02, log_cb, IV(2));
    corio_loop_call_later(NULL, loop, 0.04, log_cb, IV(4));
    corio_loop_call_later(NULL, loop, 0.06, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1, 2, 3, 4, 5);
    corio_loop_free(loop);
}

Test(call_later, ties_run_in_scheduling_order, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    double when = corio_loop_time(loop) + 0.02;
    for (int i = 1; i <= 8; i++)
        cr_assert_eq(corio_loop_call_at(NULL, loop, when, log_cb, IV(i)), 0);
    corio_loop_call_at(NULL, loop, when + 0.01, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1, 2, 3, 4, 5, 6, 7, 8);
    corio_loop_free(loop);
}

Test(call_later, zero_and_negative_delays_in_scheduling_order, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_loop_call_later(NULL, loop, 0, log_cb, IV(1));
    corio_loop_call_later(NULL, loop, -5, log_cb, IV(2));
    corio_loop_call_later(NULL, loop, 0, log_cb, IV(3));
    corio_loop_call_later(NULL, loop, 0.01, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    /* all were due at once: they keep the order they were scheduled in (-5 is "as soon as
     * possible", not earlier than those already due) */
    EV_EXPECT(1, 2, 3);
    corio_loop_free(loop);
}

Test(call_later, waits_at_least_the_delay, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_handle *h = NULL;
    double t0 = now_s();
    double l0 = corio_loop_time(loop);
    corio_loop_call_later(&h, loop, 0.1, stop_cb, loop);
    cr_assert_geq(corio_handle_when(h), l0 + 0.1 - 1e-6);
    cr_assert_lt(corio_handle_when(h), l0 + 0.1 + 0.5);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    double dt = now_s() - t0;
    cr_assert_geq(dt, 0.1, "fired after %f s", dt);
    cr_assert_lt(dt, 1.1, "fired after %f s", dt);
    cr_assert_geq(corio_loop_time(loop), corio_handle_when(h) - 1e-6);
    corio_handle_unref(h);
    corio_loop_free(loop);
}

static double fired_at;
static void note_time(void *arg)
{
    (void)arg;
    fired_at = corio_loop_time(the_loop);
    corio_loop_stop(the_loop);
}

Test(call_later, call_at_absolute_time, .timeout = 10)
{
    corio_loop *loop = the_loop = new_vt_loop();
    double when = corio_loop_time(loop) + 0.05;
    corio_handle *h = NULL;
    cr_assert_eq(corio_loop_call_at(&h, loop, when, note_time, NULL), 0);
    /* the loop may keep time in integer nanoseconds: allow for the rounding */
    cr_assert_lt(fabs(corio_handle_when(h) - when), 1e-6, "when %.9f, want %.9f",
                 corio_handle_when(h), when);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_lt(fabs(fired_at - when), 1e-6, "virtual time: fired at exactly %.9f", fired_at);
    corio_handle_unref(h);
    corio_loop_free(loop);
}

Test(call_later, call_at_in_the_past_runs_soon, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    double t = corio_loop_time(loop);
    cr_assert_geq(t, 0.0, "loop time is never negative");
    /* (a negative time is not used: it is also CORIO_FOREVER, "no deadline") */
    cr_assert_eq(corio_loop_call_at(NULL, loop, t * 0.5, log_cb, IV(1)), 0);
    cr_assert_eq(corio_loop_call_at(NULL, loop, 0.0, log_cb, IV(2)), 0);
    double t0 = now_s();
    corio_loop_call_later(NULL, loop, 0.0, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_eq(ev_n, 2, "both past timers ran (in time order)");
    cr_assert_lt(now_s() - t0, 1.0);
    corio_loop_free(loop);
}

Test(call_later, cancel_timer, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_handle *h1 = NULL, *h2 = NULL, *h3 = NULL;
    corio_loop_call_later(&h1, loop, 0.01, log_cb, IV(1));
    corio_loop_call_later(&h2, loop, 0.02, log_cb, IV(2));
    corio_loop_call_later(&h3, loop, 0.03, log_cb, IV(3));
    cr_assert_eq(corio_handle_cancelled(h2), 0);
    corio_handle_cancel(h2);
    cr_assert(corio_handle_cancelled(h2));
    corio_handle_cancel(h2); /* twice: nothing more happens */
    corio_loop_call_later(NULL, loop, 0.05, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1, 3);
    corio_handle_cancel(h1); /* has run: nothing happens */
    corio_handle_unref(h1);
    corio_handle_unref(h2);
    corio_handle_unref(h3);
    corio_loop_free(loop);
}

Test(call_later, cancelled_far_timer_does_not_keep_loop_waiting, .timeout = 10)
{
    /* A cancelled timer must not make the loop sleep until its time. */
    corio_loop *loop = new_vt_loop();
    corio_handle *h = NULL;
    corio_loop_call_later(&h, loop, 0.05, log_cb, IV(1));
    corio_handle_cancel(h);
    corio_handle_unref(h);
    corio_loop_call_later(NULL, loop, 0.1, stop_cb, loop);
    double t0 = now_s();
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_lt(now_s() - t0, 2.0);
    cr_assert_eq(ev_n, 0);
    corio_loop_free(loop);
}

static corio_handle *victim;
static void cancel_victim(void *arg)
{
    (void)arg;
    ev(1);
    corio_handle_cancel(victim);
}

Test(call_later, cancel_from_earlier_callback_same_iteration, .timeout = 10)
{
    /* Two timers due together; the first cancels the second before it runs. */
    corio_loop *loop = new_vt_loop();
    double when = corio_loop_time(loop) + 0.01;
    corio_loop_call_at(NULL, loop, when, cancel_victim, NULL);
    corio_loop_call_at(&victim, loop, when, log_cb, IV(2));
    corio_loop_call_at(NULL, loop, when + 0.02, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1);
    corio_handle_unref(victim);
    corio_loop_free(loop);
}

static void schedules_timer(void *arg)
{
    ev(VI(arg));
    if (VI(arg) < 3)
        corio_loop_call_later(NULL, the_loop, 0.005, schedules_timer, IV(VI(arg) + 1));
    else
        corio_loop_stop(the_loop);
}

Test(call_later, timer_scheduled_from_timer, .timeout = 10)
{
    corio_loop *loop = the_loop = new_vt_loop();
    corio_loop_call_later(NULL, loop, 0.005, schedules_timer, IV(1));
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1, 2, 3);
    corio_loop_free(loop);
}

Test(call_later, nan_is_einval, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_handle *h = SENTINEL;
    cr_assert_eq(corio_loop_call_later(NULL, loop, NAN, log_cb, NULL), -EINVAL);
    cr_assert_eq(corio_loop_call_at(NULL, loop, NAN, log_cb, NULL), -EINVAL);
    cr_assert_eq(corio_loop_call_later(&h, loop, NAN, log_cb, NULL), -EINVAL);
    cr_assert_null(h, "*out is NULL on failure");
    h = SENTINEL;
    cr_assert_eq(corio_loop_call_at(&h, loop, NAN, log_cb, NULL), -EINVAL);
    cr_assert_null(h);
    run_once(loop);
    cr_assert_eq(ev_n, 0);
    corio_loop_free(loop);
}

Test(call_later, forever_delay_is_as_soon_as_possible, .timeout = 10)
{
    /* A delay <= 0 runs the callback as soon as possible, CORIO_FOREVER (-1) included. */
    corio_loop *loop = new_vt_loop();
    double t0 = corio_loop_time(loop);
    corio_handle *h = NULL;
    cr_assert_eq(corio_loop_call_later(&h, loop, CORIO_FOREVER, log_cb, IV(1)), 0);
    cr_assert_leq(corio_handle_when(h), t0 + 1e-6, "due at once");
    cr_assert_eq(corio_loop_call_later(NULL, loop, 0.01, stop_cb, loop), 0);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1);
    corio_handle_unref(h);
    corio_loop_free(loop);
}

Test(call_later, infinite_delay_never_fires, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_handle *h = NULL;
    int rc = corio_loop_call_later(&h, loop, INFINITY, log_cb, IV(1));
    cr_assert(rc == 0 || rc == -EINVAL, "rc %d", rc);
    corio_loop_call_later(NULL, loop, 0.01, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_eq(ev_n, 0);
    if (rc == 0)
        corio_handle_unref(h);
    corio_loop_free(loop);
}

/* A deterministic shuffle of many timers: they must fire sorted by time, ties by order. */
static int last_key = -1;
static int out_of_order;
static int fired;
static void ordered_cb(void *arg)
{
    int key = VI(arg);
    if (key < last_key)
        out_of_order++;
    last_key = key;
    fired++;
}

Test(call_later, many_timers_fire_in_order, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    int n = under_valgrind() ? 5000 : 100000;
    double base = corio_loop_time(loop) + 0.05;
    unsigned x = 12345;
    for (int i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        int slot = (int)((x >> 8) % 50); /* 50 distinct times, 1 ms apart */
        /* key: slot * n + i keeps "by time, then by scheduling order" */
        cr_assert_eq(
            corio_loop_call_at(NULL, loop, base + slot * 0.001, ordered_cb, IV(slot * n + i)), 0);
    }
    corio_loop_call_at(NULL, loop, base + 0.1, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_eq(fired, n);
    cr_assert_eq(out_of_order, 0);
    corio_loop_free(loop);
}

static int cancelled_ran;
static void must_not_run(void *arg)
{
    (void)arg;
    cancelled_ran++;
}

Test(call_later, cancel_many_timers, .timeout = 10)
{
    enum { N = 10000 };
    static corio_handle *hs[N];
    corio_loop *loop = new_vt_loop();
    for (int i = 0; i < N; i++)
        corio_loop_call_later(&hs[i], loop, 0.001 * (i % 20), (i % 2) ? must_not_run : ordered_cb,
                              IV(i));
    for (int i = 1; i < N; i += 2)
        corio_handle_cancel(hs[i]);
    corio_loop_call_later(NULL, loop, 0.05, stop_cb, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_eq(cancelled_ran, 0);
    cr_assert_eq(fired, N / 2);
    for (int i = 0; i < N; i++)
        corio_handle_unref(hs[i]);
    corio_loop_free(loop);
}

static long spins;
static void spin(void *arg)
{
    (void)arg;
    spins++;
    corio_loop_call_soon(NULL, the_loop, spin, NULL);
}

Test(call_later, ready_callbacks_do_not_starve_timers, .timeout = 10)
{
    /* A timer that becomes due while callbacks keep rescheduling themselves still fires. Real
     * time: under virtual time the clock stands still while callbacks are ready. */
    corio_loop *loop = the_loop = new_loop();
    corio_loop_call_later(NULL, loop, 0.02, stop_cb, loop);
    corio_loop_call_soon(NULL, loop, spin, NULL);
    double t0 = now_s();
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_lt(now_s() - t0, 5.0);
    cr_assert_gt(spins, 1);
    corio_loop_free(loop); /* drops the queued spin */
}
