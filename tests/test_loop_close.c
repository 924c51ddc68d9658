/* Loop close: pending tasks are reported by name and destroyed (their awaits fail with
 * -ECANCELED so they can clean up), callbacks and timers are dropped, close while running is
 * refused (CPython: "Task was destroyed but it is pending!", test_close_running_event_loop). */
#include "core_helpers.h"

static int cleanup;
static int await_rc[4] = {1, 1, 1, 1};
static int second_await_rc = 1;

static void log_cb(void *arg) { ev(VI(arg)); }
static void log_done(corio_future *f, void *arg)
{
    (void)f;
    ev(VI(arg));
}

static void *sleeper_with_cleanup(void *arg)
{
    int i = VI(arg);
    await_rc[i] = corio_sleep(100);
    /* "every await failing at once with -ECANCELED" while the loop closes */
    second_await_rc = corio_sleep(100);
    cleanup++;
    return NULL;
}

static corio_future *never;
static void *waits_forever(void *arg)
{
    int i = VI(arg);
    void *v = NULL;
    await_rc[i] = corio_await(never, &v);
    cleanup++;
    return NULL;
}

Test(loop_close, reports_pending_tasks_by_name_and_lets_them_clean_up, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    never = corio_future_new(loop);
    corio_task_opts oa = {.name = "sleepy", .stack_size = 0};
    corio_task_opts ob = {.name = "waiter", .stack_size = 0};
    corio_task *a = corio_loop_create_task(loop, sleeper_with_cleanup, IV(0), &oa);
    corio_task *b = corio_loop_create_task(loop, waits_forever, IV(1), &ob);
    corio_task_unref(a);
    corio_task_unref(b);
    run_once(loop); /* both start and suspend */
    run_once(loop);
    cr_assert_eq(cap.n, 0);
    double t0 = now_s();
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_lt(now_s() - t0, 5.0, "close does not wait for timers");
    cr_assert_eq(cap.n, 2, "one report per pending task");
    int saw_sleepy = 0, saw_waiter = 0;
    for (int i = 0; i < 2; i++) {
        cr_assert(strstr(cap.message[i], "destroyed but it is pending") != NULL, "message: %s",
                  cap.message[i]);
        saw_sleepy += cap_names(i, "sleepy");
        saw_waiter += cap_names(i, "waiter");
    }
    cr_assert_eq(saw_sleepy, 1);
    cr_assert_eq(saw_waiter, 1);
    cr_assert_eq(await_rc[0], -ECANCELED);
    cr_assert_eq(await_rc[1], -ECANCELED);
    cr_assert_eq(second_await_rc, -ECANCELED);
    cr_assert_eq(cleanup, 2, "each destroyed task ran its cleanup");
    corio_future_unref(never);
}

Test(loop_close, reports_task_that_never_started, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task_opts o = {.name = "unstarted", .stack_size = 0};
    corio_task *t = corio_loop_create_task(loop, sleeper_with_cleanup, IV(0), &o);
    corio_task_unref(t);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert(cap_names(0, "unstarted"), "message: %s", cap.message[0]);
    cr_assert(strstr(cap.message[0], "destroyed but it is pending") != NULL);
}

Test(loop_close, task_held_by_caller_stays_valid, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task_opts o = {.name = "held", .stack_size = 0};
    corio_task *t = corio_loop_create_task(loop, sleeper_with_cleanup, IV(0), &o);
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(cleanup, 1);
    cr_assert_str_eq(corio_task_get_name(t), "held");
    corio_task_unref(t);
}

static void *quick(void *arg) { return arg; }

Test(loop_close, finished_tasks_are_not_reported, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *t = corio_loop_create_task(loop, quick, IV(5), NULL);
    run_task(loop, t, NULL);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 0);
    void *res = NULL;
    cr_assert_eq(corio_future_result(corio_task_future(t), &res), 0, "a done task outlives its loop");
    cr_assert_eq(res, IV(5));
    corio_task_unref(t);
}

Test(loop_close, drops_callbacks_and_timers, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_handle *h = NULL;
    corio_call_soon(loop, log_cb, IV(1), NULL);
    corio_call_later(loop, 0.0, log_cb, IV(2), NULL);
    corio_call_later(loop, 100.0, log_cb, IV(3), &h);
    for (int i = 0; i < 1000; i++)
        corio_call_later(loop, 1.0 + i, log_cb, IV(4), NULL);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(ev_n, 0, "pending callbacks and timers never run");
    corio_handle_release(h); /* the caller's reference outlives the loop */
}

static int close_rc = 1;
static corio_loop *the_loop;
static void close_while_running(void *arg)
{
    (void)arg;
    close_rc = corio_loop_close(the_loop);
    ev(1);
}

Test(loop_close, close_while_running_is_erunning, .timeout = 10)
{
    corio_loop *loop = the_loop = new_loop();
    corio_call_soon(loop, close_while_running, NULL, NULL);
    corio_call_soon(loop, log_cb, IV(2), NULL);
    run_once(loop);
    cr_assert_eq(close_rc, CORIO_ERUNNING);
    EV_EXPECT(1, 2);
    cr_assert_eq(corio_loop_is_closed(loop), 0, "nothing was done");
    /* still usable */
    corio_call_soon(loop, log_cb, IV(3), NULL);
    run_once(loop);
    EV_EXPECT(1, 2, 3);
    cr_assert_eq(corio_loop_close(loop), 0);
}

static void *close_from_task(void *arg)
{
    (void)arg;
    return IV(corio_loop_close(corio_get_running_loop()));
}

Test(loop_close, close_from_task_is_erunning, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, close_from_task, NULL, &res), 0);
    cr_assert_eq(VI(res), CORIO_ERUNNING);
    corio_loop_close(loop);
}

Test(loop_close, close_null_is_einval, .timeout = 10)
{
    cr_assert_eq(corio_loop_close(NULL), -EINVAL);
}

Test(loop_close, close_empty_loop_reports_nothing, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 0);
}

Test(loop_close, future_outlives_loop, .timeout = 10)
{
    /* "Futures still referenced by the caller stay valid objects (their callbacks never run)". */
    corio_loop *loop = new_loop();
    corio_future *f = corio_future_new(loop);
    corio_future *g = corio_future_new(loop);
    corio_future_set_result(g, IV(2));
    corio_future_add_done_callback(g, log_done, IV(9));
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(corio_future_done(f), 0);
    void *v = NULL;
    cr_assert_eq(corio_future_result(g, &v), 0);
    cr_assert_eq(v, IV(2));
    corio_future_unref(f);
    corio_future_unref(g);
    cr_assert_eq(ev_n, 0);
}

Test(loop_close, many_pending_tasks, .timeout = 10)
{
    enum { N = 1000 };
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    for (int i = 0; i < N; i++) {
        corio_task *t = corio_loop_create_task(loop, sleeper_with_cleanup, IV(0), NULL);
        corio_task_unref(t);
    }
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, N);
    cr_assert_eq(cleanup, N);
}

static int dflt_handler_ran;
static void chaining_handler(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)arg;
    dflt_handler_ran++;
    corio_loop_default_error_handler(loop, ctx); /* writes to stderr; must not crash */
}

Test(loop_close, error_handler_plumbing, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_error_context ctx = {.message = "test message", .err = -EIO, .future = NULL, .task = NULL};
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_loop_call_error_handler(loop, &ctx);
    cr_assert_eq(cap.n, 1);
    cr_assert_str_eq(cap.message[0], "test message");
    cr_assert_eq(cap.err[0], -EIO);
    corio_loop_set_error_handler(loop, chaining_handler, NULL);
    corio_loop_call_error_handler(loop, &ctx);
    cr_assert_eq(dflt_handler_ran, 1);
    corio_loop_set_error_handler(loop, NULL, NULL); /* back to the default */
    corio_loop_call_error_handler(loop, &ctx);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(dflt_handler_ran, 1);
    corio_loop_close(loop);
}

static void *cleanup_awaits_other_task(void *arg)
{
    (void)arg;
    await_rc[0] = corio_sleep(100);
    /* cleanup that awaits a new task: fails at once too, nothing hangs */
    corio_task *t = corio_create_task(quick, NULL, NULL);
    if (t) {
        await_rc[1] = corio_await(corio_task_future(t), NULL);
        corio_task_unref(t);
    } else {
        await_rc[1] = -ECANCELED;
    }
    cleanup++;
    return NULL;
}

Test(loop_close, cleanup_cannot_hang_close, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *t = corio_loop_create_task(loop, cleanup_awaits_other_task, NULL, NULL);
    corio_task_unref(t);
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cleanup, 1);
    cr_assert_eq(await_rc[0], -ECANCELED);
    cr_assert_eq(await_rc[1], -ECANCELED);
}
