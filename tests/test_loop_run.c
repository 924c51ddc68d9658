/* Event loop: call_soon FIFO, run_until_complete, run_forever + stop, nested runs, the per-thread
 * current and running loop (CPython test_base_events.py / test_events.py cases that apply). */
#include "core_helpers.h"

static corio_loop *the_loop;

static void log_cb(void *arg) { ev(VI(arg)); }

Test(loop_run, new_loop_state, .timeout = 10)
{
    corio_loop *loop = NULL;
    cr_assert_eq(corio_loop_new(&loop, NULL), 0, "opts may be NULL");
    cr_assert_not_null(loop);
    cr_assert_eq(corio_loop_is_running(loop), 0);
    cr_assert_eq(corio_loop_is_closed(loop), 0);
    cr_assert_null(corio_get_running_loop());
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(loop_run, call_soon_fifo, .timeout = 10)
{
    corio_loop *loop = new_loop();
    for (int i = 1; i <= 10; i++)
        cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(i)), 0);
    run_once(loop);
    EV_EXPECT(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    corio_loop_free(loop);
}

static void schedules_more(void *arg)
{
    ev(VI(arg));
    if (VI(arg) < 100)
        corio_loop_call_soon(NULL, the_loop, schedules_more, IV(VI(arg) * 10));
}

Test(loop_run, call_soon_from_callback_runs_after_those_already_ready, .timeout = 10)
{
    corio_loop *loop = the_loop = new_loop();
    corio_loop_call_soon(NULL, loop, schedules_more, IV(1));
    corio_loop_call_soon(NULL, loop, schedules_more, IV(2));
    corio_loop_call_soon(NULL, loop, log_cb, IV(3));
    cr_assert_eq(corio_loop_call_soon(NULL, loop, stop_cb, loop), 0);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_eq(corio_loop_call_soon(NULL, loop, stop_cb, loop), 0);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_eq(corio_loop_call_soon(NULL, loop, stop_cb, loop), 0);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1, 2, 3, 10, 20, 100, 200);
    corio_loop_free(loop);
}

Test(loop_run, call_soon_handle, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_handle *h = NULL, *k = NULL;
    cr_assert_eq(corio_loop_call_soon(&h, loop, log_cb, IV(1)), 0);
    cr_assert_not_null(h);
    cr_assert_eq(corio_loop_call_soon(&k, loop, log_cb, IV(2)), 0);
    cr_assert_eq(corio_handle_when(h), -1.0, "a call_soon handle has no time");
    cr_assert_eq(corio_handle_cancelled(h), 0);
    corio_handle_cancel(h);
    cr_assert(corio_handle_cancelled(h));
    run_once(loop);
    EV_EXPECT(2);
    corio_handle_cancel(k); /* already ran: nothing happens */
    corio_handle_unref(h);
    corio_handle_unref(k);
    corio_handle_unref(NULL);
    corio_loop_free(loop);
}

Test(loop_run, handle_unref_does_not_cancel, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_handle *h = NULL;
    cr_assert_eq(corio_loop_call_soon(&h, loop, log_cb, IV(1)), 0);
    cr_assert_eq(corio_handle_ref(h), h);
    corio_handle_unref(h);
    corio_handle_unref(h);
    run_once(loop);
    EV_EXPECT(1);
    corio_loop_free(loop);
}

/* ---- run_until_complete ---- */

static corio_future *fut;
static void complete_fut(void *arg) { corio_future_set_result(fut, arg); }
static void fail_fut(void *arg) { corio_future_set_error(fut, VI(arg)); }
static void cancel_fut(void *arg)
{
    (void)arg;
    corio_future_cancel(fut, NULL);
}

Test(loop_run, run_until_complete_returns_result, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&fut, loop), 0);
    corio_loop_call_soon(NULL, loop, complete_fut, IV(17));
    void *res = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, fut, &res), 0);
    cr_assert_eq(res, IV(17));
    cr_assert_eq(corio_loop_is_running(loop), 0);
    cr_assert(corio_future_done(fut), "the caller keeps its reference");
    corio_future_unref(fut);
    corio_loop_free(loop);
}

Test(loop_run, run_until_complete_returns_error, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&fut, loop), 0);
    corio_loop_call_later(NULL, loop, 0.01, fail_fut, IV(-EHOSTUNREACH));
    cr_assert_eq(corio_loop_run_until_complete(loop, fut, NULL), -EHOSTUNREACH);
    corio_future_unref(fut);
    corio_loop_free(loop);
}

Test(loop_run, run_until_complete_cancelled, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&fut, loop), 0);
    corio_loop_call_soon(NULL, loop, cancel_fut, NULL);
    cr_assert_eq(corio_loop_run_until_complete(loop, fut, NULL), -ECANCELED);
    corio_future_unref(fut);
    corio_loop_free(loop);
}

Test(loop_run, run_until_complete_done_future, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&fut, loop), 0);
    corio_future_set_result(fut, IV(3));
    void *res = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, fut, &res), 0);
    cr_assert_eq(res, IV(3));
    corio_future_unref(fut);
    corio_loop_free(loop);
}

Test(loop_run, run_until_complete_stopped_first, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&fut, loop), 0);
    corio_loop_call_soon(NULL, loop, stop_cb, loop);
    corio_loop_call_later(NULL, loop, 0.05, complete_fut, IV(4));
    cr_assert_eq(corio_loop_run_until_complete(loop, fut, NULL), CORIO_ESTOPPED);
    cr_assert_eq(corio_future_done(fut), 0);
    cr_assert_eq(corio_loop_is_running(loop), 0);
    /* the loop can run again */
    void *res = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, fut, &res), 0);
    cr_assert_eq(res, IV(4));
    corio_future_unref(fut);
    corio_loop_free(loop);
}

Test(loop_run, run_until_complete_future_of_other_loop, .timeout = 10)
{
    corio_loop *a = new_loop();
    corio_loop *b = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, b), 0);
    corio_future_set_result(f, NULL);
    cr_assert_eq(corio_loop_run_until_complete(a, f, NULL), -EINVAL);
    corio_future_unref(f);
    corio_loop_free(a);
    corio_loop_free(b);
}

static void *ret_arg(void *arg) { return arg; }

Test(loop_run, run_until_complete_a_task, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, ret_arg, IV(99), &res), 0);
    cr_assert_eq(res, IV(99));
    corio_loop_free(loop);
}

/* ---- run_forever and stop ---- */

static void stop_and_log(void *arg)
{
    ev(VI(arg));
    corio_loop_stop(the_loop);
    corio_loop_call_soon(NULL, the_loop, log_cb, IV(VI(arg) + 100));
}

Test(loop_run, stop_after_ready_callbacks, .timeout = 10)
{
    /* stop() lets the callbacks that are ready now run; those scheduled meanwhile wait. */
    corio_loop *loop = the_loop = new_loop();
    corio_loop_call_soon(NULL, loop, log_cb, IV(1));
    corio_loop_call_soon(NULL, loop, stop_and_log, IV(2));
    corio_loop_call_soon(NULL, loop, log_cb, IV(3));
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1, 2, 3);
    run_once(loop);
    EV_EXPECT(1, 2, 3, 102);
    corio_loop_free(loop);
}

Test(loop_run, stop_before_run_forever_runs_once, .timeout = 10)
{
    /* asyncio: stop() before run_forever() makes it run one iteration and return. */
    corio_loop *loop = the_loop = new_loop();
    cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(1)), 0);
    cr_assert_eq(corio_loop_stop(loop), 0);
    cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(2)), 0);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(1, 2);
    corio_loop_free(loop);
}

static void stop_from_timer(void *arg) { corio_loop_stop((corio_loop *)arg); }

Test(loop_run, run_forever_waits_for_timers, .timeout = 10)
{
    /* Before the loop and its timers: they count from the loop's clock as it was when they were
     * armed, so a t0 taken after them made dt fall a little short of 0.1 now and then (seen once
     * under ASan). */
    double t0 = now_s();
    corio_loop *loop = new_loop();
    corio_loop_call_later(NULL, loop, 0.05, log_cb, IV(1));
    corio_loop_call_later(NULL, loop, 0.1, stop_from_timer, loop);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    double dt = now_s() - t0;
    EV_EXPECT(1);
    cr_assert_geq(dt, 0.1);
    cr_assert_lt(dt, 1.5);
    corio_loop_free(loop);
}

static int running_in_cb = -1;
static corio_loop *running_loop_in_cb = (corio_loop *)1;
static corio_loop *event_loop_in_cb = (corio_loop *)1;
static void observe_running(void *arg)
{
    (void)arg;
    running_in_cb = corio_loop_is_running(the_loop);
    running_loop_in_cb = corio_get_running_loop();
    event_loop_in_cb = corio_get_event_loop();
}

Test(loop_run, running_state_inside_callbacks, .timeout = 10)
{
    corio_loop *loop = the_loop = new_loop();
    corio_loop_call_soon(NULL, loop, observe_running, NULL);
    run_once(loop);
    cr_assert_eq(running_in_cb, 1);
    cr_assert_eq(running_loop_in_cb, loop);
    cr_assert_eq(event_loop_in_cb, loop, "inside a running loop get_event_loop returns it");
    cr_assert_eq(corio_loop_is_running(loop), 0);
    cr_assert_null(corio_get_running_loop());
    corio_loop_free(loop);
}

static void *observe_in_task(void *arg)
{
    (void)arg;
    return corio_get_running_loop();
}

Test(loop_run, get_running_loop_inside_task, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, observe_in_task, NULL, &res), 0);
    cr_assert_eq(res, (void *)loop);
    cr_assert_null(corio_get_running_loop());
    corio_loop_free(loop);
}

/* ---- nested runs ---- */

static int nested_rc[4];
static corio_loop *other_loop;
static void nested_runs(void *arg)
{
    (void)arg;
    corio_future *f;
    cr_expect_eq(corio_future_new(&f, the_loop), 0);
    corio_future_set_result(f, NULL);
    nested_rc[0] = corio_loop_run_forever(the_loop);
    nested_rc[1] = corio_loop_run_until_complete(the_loop, f, NULL);
    nested_rc[2] = corio_loop_run_forever(other_loop);
    corio_future_unref(f);
    cr_expect_eq(corio_future_new(&f, other_loop), 0);
    corio_future_set_result(f, NULL);
    nested_rc[3] = corio_loop_run_until_complete(other_loop, f, NULL);
    corio_future_unref(f);
}

Test(loop_run, nested_run_is_erunning, .timeout = 10)
{
    corio_loop *loop = the_loop = new_loop();
    other_loop = new_loop();
    corio_loop_call_soon(NULL, loop, nested_runs, NULL);
    run_once(loop);
    cr_assert_eq(nested_rc[0], CORIO_ERUNNING);
    cr_assert_eq(nested_rc[1], CORIO_ERUNNING);
    cr_assert_eq(nested_rc[2], CORIO_ERUNNING, "another loop on this thread");
    cr_assert_eq(nested_rc[3], CORIO_ERUNNING);
    corio_loop_free(other_loop);
    corio_loop_free(loop);
}

static void *nested_in_task(void *arg)
{
    (void)arg;
    corio_future *f;
    cr_expect_eq(corio_future_new(&f, NULL), 0);
    corio_future_set_result(f, NULL);
    int rc = corio_loop_run_until_complete(corio_get_running_loop(), f, NULL);
    corio_future_unref(f);
    return IV(rc);
}

Test(loop_run, nested_run_from_task_is_erunning, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, nested_in_task, NULL, &res), 0);
    cr_assert_eq(VI(res), CORIO_ERUNNING);
    corio_loop_free(loop);
}

/* ---- the thread's current loop ---- */

/* Does a NULL loop find no loop (CORIO_ENOLOOP)? */
static int no_loop_for_null(void)
{
    corio_future *f = SENTINEL;
    int rc = corio_future_new(&f, NULL);
    if (rc == 0)
        corio_future_unref(f);
    return rc == CORIO_ENOLOOP && f == NULL;
}

Test(loop_run, get_event_loop_never_creates, .timeout = 10)
{
    /* asyncio 3.14: with no running and no current loop there is none, and none is made. */
    cr_assert_null(corio_get_event_loop());
    cr_assert_null(corio_get_event_loop(), "still none on the second call");
    cr_assert_null(corio_get_running_loop());
    cr_assert(no_loop_for_null(), "nothing was made current");
}

Test(loop_run, get_event_loop_returns_current, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_get_event_loop(), loop);
    cr_assert_eq(corio_get_event_loop(), loop);
    cr_assert_null(corio_get_running_loop(), "current is not running");
    /* futures and tasks use the current loop by default */
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, NULL), 0);
    cr_assert_eq(corio_future_get_loop(f), loop);
    corio_future_unref(f);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_null(corio_get_event_loop(), "the thread has none after the loop is freed");
    cr_assert(no_loop_for_null());
}

Test(loop_run, set_event_loop, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert(no_loop_for_null(), "a new loop is not made current");
    cr_assert_null(corio_get_event_loop());
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_get_event_loop(), loop);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    cr_assert_null(corio_get_event_loop());
    cr_assert(no_loop_for_null(), "NULL unsets the current loop");
    cr_assert_eq(corio_set_event_loop(NULL), 0, "unsetting twice is fine");
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert(no_loop_for_null(), "freeing the current loop unsets it");
}

static int set_rc = 1;
static void set_while_running(void *arg)
{
    (void)arg;
    set_rc = corio_set_event_loop(other_loop);
}

Test(loop_run, set_event_loop_while_running, .timeout = 10)
{
    corio_loop *loop = the_loop = new_loop();
    other_loop = new_loop();
    cr_assert_eq(corio_loop_call_soon(NULL, loop, set_while_running, NULL), 0);
    run_once(loop);
    cr_assert_eq(set_rc, CORIO_ERUNNING);
    cr_assert_null(corio_get_event_loop(), "nothing was made current");
    corio_loop_free(other_loop);
    corio_loop_free(loop);
}

Test(loop_run, loop_time_is_monotonic, .timeout = 10)
{
    corio_loop *loop = new_loop();
    double a = corio_loop_time(loop);
    double t0 = now_s();
    while (now_s() - t0 < 0.02) { /* nanosleep may return early on a signal */
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    double b = corio_loop_time(loop);
    cr_assert_geq(b - a, 0.02 - 1e-6, "loop time advanced %f s in 0.02 s", b - a);
    cr_assert_lt(b - a, 2.0);
    /* same clock as CLOCK_MONOTONIC */
    cr_assert_lt(fabs(corio_loop_time(loop) - now_s()), 0.5);
    corio_loop_free(loop);
}

Test(loop_run, two_loops_one_thread_in_turn, .timeout = 10)
{
    corio_loop *a = the_loop = new_loop();
    corio_loop *b = new_loop();
    corio_loop_call_soon(NULL, a, log_cb, IV(1));
    corio_loop_call_soon(NULL, b, log_cb, IV(2));
    run_once(b);
    run_once(a);
    EV_EXPECT(2, 1);
    corio_loop_free(a);
    corio_loop_free(b);
}

static corio_handle *later_handle;
static void cancels_later(void *arg)
{
    (void)arg;
    ev(1);
    corio_handle_cancel(later_handle);
}

Test(loop_run, cancel_ready_callback_in_same_iteration, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_call_soon(NULL, loop, cancels_later, NULL);
    corio_loop_call_soon(&later_handle, loop, log_cb, IV(2));
    corio_loop_call_soon(NULL, loop, log_cb, IV(3));
    run_once(loop);
    EV_EXPECT(1, 3);
    cr_assert(corio_handle_cancelled(later_handle));
    corio_handle_unref(later_handle);
    corio_loop_free(loop);
}
