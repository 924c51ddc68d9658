/* Debug mode: a callback or task step that holds the loop too long is reported with the task's
 * name (CPython test_base_events.py: test_slow_callback_duration / _run_once logging "Executing
 * <Handle> took 0.150 seconds"); futures destroyed while pending with callbacks waiting; what a
 * task destroyed at close was waiting for. */
#include "core_helpers.h"

static void busy(double s)
{
    double t0 = now_s();
    while (now_s() - t0 < s) {
    }
}

static void *hog(void *arg)
{
    corio_sleep(0);
    busy(0.06); /* the second step is the slow one */
    return arg;
}

static void *quick(void *arg)
{
    for (int i = 0; i < 5; i++)
        corio_sleep(0);
    return arg;
}

static corio_loop *debug_loop_with_capture(double slow)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_loop_set_slow_callback_duration(loop, slow), 0);
    return loop;
}

Test(debug_slow_callback, slow_task_step_is_reported_with_the_task_name, .timeout = 10)
{
    /* quick's yields would switch straight into hog's slow step outside debug mode; in debug mode
     * every step returns to the loop, so the report names hog, not quick. */
    corio_loop *loop = debug_loop_with_capture(0.03);
    corio_task *h;
    cr_assert_eq(corio_create_task(&h, loop, hog, NULL, &(corio_task_opts){.name = "hog"}), 0);
    corio_task *q;
    cr_assert_eq(corio_create_task(&q, loop, quick, NULL, &(corio_task_opts){.name = "quick"}), 0);
    run_task(loop, h, NULL);
    run_task(loop, q, NULL);
    cr_assert_eq(cap.n, 1, "one report, got %d (first: %s)", cap.n, cap.message[0]);
    cr_assert(cap.has_task[0]);
    cr_assert_str_eq(cap.task_name[0], "hog");
    cr_assert(strstr(cap.message[0], "task step took") != NULL, "message: %s", cap.message[0]);
    corio_task_unref(h);
    corio_task_unref(q);
    corio_loop_free(loop);
}

static void slow_cb(void *arg)
{
    (void)arg;
    busy(0.06);
}

Test(debug_slow_callback, slow_plain_callback_is_reported, .timeout = 10)
{
    corio_loop *loop = debug_loop_with_capture(0.03);
    corio_loop_call_soon(NULL, loop, slow_cb, NULL);
    run_once(loop);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(cap.has_task[0], 0);
    cr_assert(strstr(cap.message[0], "callback took") != NULL, "message: %s", cap.message[0]);
    double took = atof(strstr(cap.message[0], "took ") + 5);
    cr_assert_geq(took, 0.06, "took %f s", took);
    corio_loop_free(loop);
}

Test(debug_slow_callback, nothing_is_timed_without_debug_mode, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_loop_set_slow_callback_duration(loop, 0.01), 0);
    corio_loop_call_soon(NULL, loop, slow_cb, NULL);
    corio_task *h;
    cr_assert_eq(corio_create_task(&h, loop, hog, NULL, NULL), 0);
    run_task(loop, h, NULL);
    cr_assert_eq(cap.n, 0);
    corio_task_unref(h);
    corio_loop_free(loop);
}

Test(debug_slow_callback, fast_steps_are_not_reported, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_loop_get_slow_callback_duration(loop), 0.1, "asyncio's default");
    corio_task *q;
    cr_assert_eq(corio_create_task(&q, loop, quick, NULL, NULL), 0);
    run_task(loop, q, NULL);
    cr_assert_eq(cap.n, 0);
    corio_task_unref(q);
    corio_loop_free(loop);
}

Test(debug_slow_callback, duration_is_real_time_under_virtual_time, .timeout = 10)
{
    corio_loop *loop;
    corio_loop_opts o = {.debug = 1, .virtual_time = 1};
    cr_assert_eq(corio_loop_new(&loop, &o), 0);
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_loop_set_slow_callback_duration(loop, 0.03);
    corio_loop_call_soon(NULL, loop, slow_cb, NULL);
    run_once(loop);
    cr_assert_eq(cap.n, 1);
    corio_loop_free(loop);
}

Test(debug_slow_callback, bad_durations_are_einval, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    cr_assert_eq(corio_loop_set_slow_callback_duration(NULL, 1.0), CORIO_ENOLOOP, "no loop");
    cr_assert_eq(corio_loop_set_slow_callback_duration(loop, -1.0), -EINVAL);
    cr_assert_eq(corio_loop_set_slow_callback_duration(loop, NAN), -EINVAL);
    cr_assert_eq(corio_loop_get_slow_callback_duration(loop), 0.1, "unchanged");
    cr_assert_eq(corio_loop_set_slow_callback_duration(loop, 0.25), 0);
    cr_assert_eq(corio_loop_get_slow_callback_duration(loop), 0.25);
    cr_assert(isnan(corio_loop_get_slow_callback_duration(NULL)), "NaN without a loop");
    corio_loop_free(loop);
}

/* ---- destroyed while pending ---- */

static void never_called(corio_future *f, void *arg)
{
    (void)f;
    (void)arg;
    cr_expect(0, "a callback of a destroyed future ran");
}

Test(debug_slow_callback, pending_future_freed_with_callbacks_is_reported, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_add_done_callback(f, never_called, NULL);
    corio_future_unref(f); /* nobody can complete it now */
    cr_assert_eq(cap.n, 1);
    cr_assert(strstr(cap.message[0], "destroyed but it is pending") != NULL, "%s", cap.message[0]);
    cr_assert(cap.has_future[0]);
    corio_future *g;
    cr_assert_eq(corio_future_new(&g, loop), 0);
    corio_future_unref(g); /* pending, nobody waiting: nothing lost */
    cr_assert_eq(cap.n, 1);
    corio_loop_free(loop);
}

Test(debug_slow_callback, pending_future_freed_without_debug_is_silent, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_add_done_callback(f, never_called, NULL);
    corio_future_unref(f);
    cr_assert_eq(cap.n, 0);
    corio_loop_free(loop);
}

static void *sleeps_an_hour(void *arg)
{
    corio_sleep(3600);
    return arg;
}

Test(debug_slow_callback, task_destroyed_at_close_says_what_it_awaited, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *t;
    corio_task_opts named = {.name = "sleeper"};
    cr_assert_eq(corio_create_task(&t, loop, sleeps_an_hour, NULL, &named), 0);
    corio_task_unref(t);
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert_str_eq(cap.task_name[0], "sleeper");
    cr_assert(strstr(cap.message[0], "Task was destroyed but it is pending!") != NULL);
    cr_assert(strstr(cap.message[0], "awaits sleep (") != NULL, "message: %s", cap.message[0]);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- the debug option: 0 reads CORIO_DEBUG, > 0 on, < 0 off ---- */

static int debug_of(const corio_loop_opts *opts)
{
    corio_loop *loop;
    cr_assert_eq(corio_loop_new(&loop, opts), 0);
    int on = corio_loop_get_debug(loop);
    cr_assert_eq(corio_loop_free(loop), 0);
    return on;
}

Test(debug_slow_callback, debug_option_without_environment, .timeout = 10)
{
    unsetenv("CORIO_DEBUG");
    cr_assert_eq(debug_of(NULL), 0, "off by default");
    cr_assert_eq(debug_of(&(corio_loop_opts){0}), 0, "a zeroed opts: the environment (unset)");
    cr_assert_eq(debug_of(&(corio_loop_opts){.debug = 1}), 1);
    cr_assert_eq(debug_of(&(corio_loop_opts){.debug = 7}), 1, "any positive value is on");
    cr_assert_eq(debug_of(&(corio_loop_opts){.debug = -1}), 0);
}

Test(debug_slow_callback, debug_option_from_environment, .timeout = 10)
{
    setenv("CORIO_DEBUG", "1", 1);
    cr_assert_eq(debug_of(NULL), 1, "CORIO_DEBUG=1 with opts NULL");
    cr_assert_eq(debug_of(&(corio_loop_opts){.debug = 0}), 1, "0 reads the environment");
    cr_assert_eq(debug_of(&(corio_loop_opts){.debug = 1}), 1);
    cr_assert_eq(debug_of(&(corio_loop_opts){.debug = -1}), 0,
                 "a negative value wins over the environment");
    unsetenv("CORIO_DEBUG");
}

Test(debug_slow_callback, set_debug_switches_it, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_get_debug(loop), 0);
    cr_assert_eq(corio_loop_set_debug(loop, 1), 0);
    cr_assert_eq(corio_loop_get_debug(loop), 1);
    cr_assert_eq(corio_loop_set_debug(loop, 0), 0);
    cr_assert_eq(corio_loop_get_debug(loop), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}
