/* Loop close and free: close (asyncio's close) reports pending tasks by name and destroys them
 * (their awaits fail with -ECANCELED so they can clean up), drops callbacks and timers, and leaves
 * a valid, closed loop until corio_loop_free; free closes a loop not yet closed; close while
 * running is refused (CPython: "Task was destroyed but it is pending!",
 * test_close_running_event_loop, test_close). */
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
    cr_assert_eq(corio_future_new(&never, loop), 0);
    corio_task_opts oa = {.name = "sleepy", .stack_size = 0};
    corio_task_opts ob = {.name = "waiter", .stack_size = 0};
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, sleeper_with_cleanup, IV(0), &oa), 0);
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, waits_forever, IV(1), &ob), 0);
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
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(cap.n, 2, "free after close reports nothing more");
    corio_future_unref(never);
}

Test(loop_close, reports_task_that_never_started, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task_opts o = {.name = "unstarted", .stack_size = 0};
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, sleeper_with_cleanup, IV(0), &o), 0);
    corio_task_unref(t);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert(cap_names(0, "unstarted"), "message: %s", cap.message[0]);
    cr_assert(strstr(cap.message[0], "destroyed but it is pending") != NULL);
    cr_assert_eq(cleanup, 0, "a task that never started never runs fn");
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(loop_close, task_held_by_caller_stays_valid, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task_opts o = {.name = "held", .stack_size = 0};
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, sleeper_with_cleanup, IV(0), &o), 0);
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(cleanup, 1);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_str_eq(corio_task_get_name(t), "held", "the task outlives the freed loop");
    cr_assert(corio_future_done(corio_task_future(t)));
    corio_task_unref(t);
}

static void *quick(void *arg) { return arg; }

Test(loop_close, finished_tasks_are_not_reported, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, quick, IV(5), NULL), 0);
    run_task(loop, t, NULL);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    void *res = NULL;
    cr_assert_eq(corio_future_result(corio_task_future(t), &res), 0, "a done task outlives its loop");
    cr_assert_eq(res, IV(5));
    corio_task_unref(t);
}

Test(loop_close, drops_callbacks_and_timers, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_handle *h = NULL;
    cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(1)), 0);
    cr_assert_eq(corio_loop_call_later(NULL, loop, 0.0, log_cb, IV(2)), 0);
    cr_assert_eq(corio_loop_call_later(&h, loop, 100.0, log_cb, IV(3)), 0);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(corio_loop_call_later(NULL, loop, 1.0 + i, log_cb, IV(4)), 0);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(ev_n, 0, "pending callbacks and timers never run");
    cr_assert_eq(corio_loop_run_forever(loop), CORIO_ECLOSED);
    cr_assert_eq(ev_n, 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    corio_handle_unref(h); /* the caller's reference outlives the loop */
}

static int close_rc = 1, free_rc = 1, close_null_rc = 1;
static corio_loop *the_loop;
static void close_while_running(void *arg)
{
    (void)arg;
    close_rc = corio_loop_close(the_loop);
    free_rc = corio_loop_free(the_loop);
    close_null_rc = corio_loop_close(NULL); /* the running loop */
    ev(1);
}

Test(loop_close, close_while_running_is_erunning, .timeout = 10)
{
    corio_loop *loop = the_loop = new_loop();
    cr_assert_eq(corio_loop_call_soon(NULL, loop, close_while_running, NULL), 0);
    cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(2)), 0);
    run_once(loop);
    cr_assert_eq(close_rc, CORIO_ERUNNING);
    cr_assert_eq(free_rc, CORIO_ERUNNING, "free of a running loop frees nothing");
    cr_assert_eq(close_null_rc, CORIO_ERUNNING);
    EV_EXPECT(1, 2);
    cr_assert_eq(corio_loop_is_closed(loop), 0, "nothing was done");
    /* still usable */
    cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(3)), 0);
    run_once(loop);
    EV_EXPECT(1, 2, 3);
    cr_assert_eq(corio_loop_free(loop), 0);
}

static void *close_from_task(void *arg)
{
    (void)arg;
    int rc = corio_loop_close(corio_get_running_loop());
    cr_expect_eq(corio_loop_free(corio_get_running_loop()), CORIO_ERUNNING);
    return IV(rc);
}

Test(loop_close, close_from_task_is_erunning, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, close_from_task, NULL, &res), 0);
    cr_assert_eq(VI(res), CORIO_ERUNNING);
    cr_assert_eq(corio_loop_is_closed(loop), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(loop_close, close_null_without_loop_is_enoloop, .timeout = 10)
{
    cr_assert_eq(corio_loop_close(NULL), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_free(NULL), 0, "free(NULL) does nothing");
}

Test(loop_close, close_null_closes_current_loop, .timeout = 10)
{
    /* A NULL loop is the thread's current loop; closing the current loop unsets it. */
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_loop_close(NULL), 0);
    cr_assert_eq(corio_loop_is_closed(loop), 1);
    cr_assert_null(corio_get_event_loop(), "the thread has no current loop after close");
    cr_assert_eq(corio_loop_close(NULL), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(loop_close, close_empty_loop_reports_nothing, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(cap.n, 0);
}

static void *never_runs(void *arg)
{
    ev(VI(arg));
    return NULL;
}

Test(loop_close, closed_loop_stays_valid_until_freed, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_is_closed(loop), 0);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(corio_loop_is_closed(loop), 1);
    cr_assert_eq(corio_loop_is_running(loop), 0);
    cr_assert_eq(corio_loop_close(loop), 0, "a second close does nothing");
    cr_assert_eq(corio_loop_is_closed(loop), 1);
    /* the closed object answers, and refuses new work */
    cr_assert_eq(corio_loop_run_forever(loop), CORIO_ECLOSED);
    corio_task *t = SENTINEL;
    cr_assert_eq(corio_create_task(&t, loop, never_runs, IV(1), NULL), CORIO_ECLOSED);
    cr_assert_null(t);
    cr_assert_eq(corio_create_task(NULL, loop, never_runs, IV(2), NULL), CORIO_ECLOSED);
    corio_future *f = SENTINEL;
    cr_assert_eq(corio_future_new(&f, loop), CORIO_ECLOSED);
    cr_assert_null(f);
    corio_handle *h = SENTINEL;
    cr_assert_eq(corio_loop_call_soon(&h, loop, log_cb, IV(3)), CORIO_ECLOSED);
    cr_assert_null(h);
    cr_assert_eq(corio_loop_call_later(NULL, loop, 0.0, log_cb, IV(4)), CORIO_ECLOSED);
    cr_assert_eq(corio_set_event_loop(loop), CORIO_ECLOSED, "a closed loop cannot become current");
    cr_assert_null(corio_get_event_loop());
    cr_assert_geq(corio_loop_time(loop), 0.0);
    cr_assert_eq(corio_all_tasks(loop, NULL, 0), 0);
    cr_assert_eq(corio_loop_run_forever(loop), CORIO_ECLOSED, "still closed");
    cr_assert_eq(ev_n, 0, "nothing ran");
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(loop_close, run_until_complete_on_closed_loop_is_eclosed, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_loop_close(loop), 0);
    void *v = SENTINEL;
    cr_assert_eq(corio_loop_run_until_complete(loop, f, &v), CORIO_ECLOSED);
    cr_assert_eq(corio_future_done(f), 0, "the future is left as it was");
    corio_future_unref(f);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(loop_close, free_without_close_closes, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task_opts o = {.name = "left-behind", .stack_size = 0};
    cr_assert_eq(corio_create_task(NULL, loop, sleeper_with_cleanup, IV(0), &o), 0);
    corio_handle *h;
    cr_assert_eq(corio_loop_call_soon(&h, loop, log_cb, IV(1)), 0);
    run_once(loop); /* the task starts and sleeps */
    cr_assert_eq(ev_n, 1);
    cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(2)), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(cap.n, 1, "free reports the pending task as close does");
    cr_assert(cap_names(0, "left-behind"), "message: %s", cap.message[0]);
    cr_assert_eq(await_rc[0], -ECANCELED);
    cr_assert_eq(cleanup, 1, "the task was destroyed and cleaned up");
    EV_EXPECT(1);
    corio_handle_unref(h);
}

Test(loop_close, free_after_close, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_create_task(NULL, loop, sleeper_with_cleanup, IV(0), NULL), 0);
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(cleanup, 1);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(cap.n, 1, "the task was reported once");
    cr_assert_eq(cleanup, 1, "and destroyed once");
}

Test(loop_close, new_loop_after_free, .timeout = 10)
{
    for (int i = 0; i < 3; i++) {
        corio_loop *loop = new_loop();
        cr_assert_eq(corio_set_event_loop(loop), 0);
        cr_assert_eq(corio_get_event_loop(), loop);
        cr_assert_eq(corio_loop_free(loop), 0);
        cr_assert_null(corio_get_event_loop(), "a freed current loop is no longer current");
    }
}

Test(loop_close, future_outlives_loop, .timeout = 10)
{
    /* "Futures still referenced by the caller stay valid objects (their callbacks never run)". */
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future *g;
    cr_assert_eq(corio_future_new(&g, loop), 0);
    corio_future_set_result(g, IV(2));
    corio_future_add_done_callback(g, log_done, IV(9));
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(corio_future_done(f), 0);
    cr_assert_eq(corio_future_get_loop(f), loop, "the closed loop is still the future's");
    cr_assert_eq(corio_loop_free(loop), 0);
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
        corio_task *t;
        cr_assert_eq(corio_create_task(&t, loop, sleeper_with_cleanup, IV(0), NULL), 0);
        corio_task_unref(t);
    }
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, N);
    cr_assert_eq(cleanup, N);
    cr_assert_eq(corio_loop_free(loop), 0);
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
    cr_assert_eq(corio_loop_set_error_handler(loop, capture_handler, NULL), 0);
    cr_assert_eq(corio_loop_call_error_handler(loop, &ctx), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert_str_eq(cap.message[0], "test message");
    cr_assert_eq(cap.err[0], -EIO);
    cr_assert_eq(corio_loop_call_error_handler(loop, NULL), -EINVAL);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(corio_loop_set_error_handler(loop, chaining_handler, NULL), 0);
    cr_assert_eq(corio_loop_call_error_handler(loop, &ctx), 0);
    cr_assert_eq(dflt_handler_ran, 1);
    /* back to the default */
    cr_assert_eq(corio_loop_set_error_handler(loop, NULL, NULL), 0);
    cr_assert_eq(corio_loop_call_error_handler(loop, &ctx), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(dflt_handler_ran, 1);
    corio_loop_default_error_handler(loop, NULL); /* nothing for a NULL ctx; no crash */
    corio_loop_free(loop);
}

static int create_rc = 1;
static void *cleanup_awaits_other_task(void *arg)
{
    (void)arg;
    await_rc[0] = corio_sleep(100);
    /* cleanup that awaits a new task on its closing loop: either the loop refuses the task or
     * the await fails at once too; nothing hangs */
    corio_loop *loop = corio_future_get_loop(corio_task_future(corio_current_task()));
    corio_task *t;
    create_rc = corio_create_task(&t, loop, quick, NULL, NULL);
    if (create_rc == 0) {
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
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, cleanup_awaits_other_task, NULL, NULL), 0);
    corio_task_unref(t);
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cleanup, 1);
    cr_assert(create_rc == 0 || create_rc == CORIO_ECLOSED, "create_task: %s",
              corio_err_name(create_rc));
    cr_assert_eq(await_rc[0], -ECANCELED);
    cr_assert_eq(await_rc[1], -ECANCELED);
    cr_assert_eq(corio_loop_free(loop), 0);
}
