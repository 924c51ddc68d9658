/* Futures: done callbacks (scheduled on the loop in registration order, never called inline,
 * removable) and the debug-mode "error never retrieved" report (CPython test_futures.py:
 * test_callbacks_invoked_on_set_result, test_callbacks_remove_*, test_tb_logger_*). */
#include "core_helpers.h"

static corio_future *seen_future[16];
static void *seen_arg[16];
static int seen_state[16];
static int seen_n;

static void record_cb(corio_future *f, void *arg)
{
    if (seen_n < 16) {
        seen_future[seen_n] = f;
        seen_arg[seen_n] = arg;
        seen_state[seen_n] = (int)corio_future_get_state(f);
    }
    seen_n++;
    ev(VI(arg));
}

static void other_cb(corio_future *f, void *arg)
{
    (void)f;
    ev(100 + VI(arg));
}

static void log_cb(void *arg) { ev(VI(arg)); }

Test(future_callbacks, not_called_inline_on_set_result, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_add_done_callback(f, record_cb, IV(1)), 0);
    cr_assert_eq(corio_future_set_result(f, IV(5)), 0);
    cr_assert_eq(seen_n, 0, "done callbacks must be scheduled, not called inline");
    run_once(loop);
    cr_assert_eq(seen_n, 1);
    cr_assert_eq(seen_future[0], f);
    cr_assert_eq(seen_arg[0], IV(1));
    cr_assert_eq(seen_state[0], CORIO_FUTURE_FINISHED);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_callbacks, not_called_inline_on_cancel_or_error, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *a;
    cr_assert_eq(corio_future_new(&a, loop), 0);
    corio_future *b;
    cr_assert_eq(corio_future_new(&b, loop), 0);
    corio_future_add_done_callback(a, record_cb, IV(1));
    corio_future_add_done_callback(b, record_cb, IV(2));
    cr_assert_eq(corio_future_cancel(a, NULL), 1);
    cr_assert_eq(corio_future_set_error(b, -EIO), 0);
    cr_assert_eq(seen_n, 0);
    run_once(loop);
    cr_assert_eq(seen_n, 2);
    cr_assert_eq(seen_state[0], CORIO_FUTURE_CANCELLED);
    cr_assert_eq(seen_state[1], CORIO_FUTURE_FINISHED);
    EV_EXPECT(1, 2);
    cr_assert_eq(corio_future_error(b), -EIO);
    corio_future_unref(a);
    corio_future_unref(b);
    corio_loop_free(loop);
}

Test(future_callbacks, registration_order, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    for (int i = 1; i <= 5; i++)
        cr_assert_eq(corio_future_add_done_callback(f, record_cb, IV(i)), 0);
    corio_future_set_result(f, NULL);
    run_once(loop);
    EV_EXPECT(1, 2, 3, 4, 5);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_callbacks, scheduled_when_done_among_other_callbacks, .timeout = 10)
{
    /* The done callbacks enter the ready queue at the moment the future completes. */
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_add_done_callback(f, record_cb, IV(2));
    corio_future_add_done_callback(f, record_cb, IV(3));
    corio_loop_call_soon(NULL, loop, log_cb, IV(1));
    corio_future_set_result(f, NULL);
    corio_loop_call_soon(NULL, loop, log_cb, IV(4));
    run_once(loop);
    EV_EXPECT(1, 2, 3, 4);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_callbacks, added_to_done_future_is_scheduled_at_once, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_set_result(f, IV(8));
    corio_loop_call_soon(NULL, loop, log_cb, IV(1));
    cr_assert_eq(corio_future_add_done_callback(f, record_cb, IV(2)), 0);
    cr_assert_eq(seen_n, 0, "never called inline, even on a done future");
    corio_loop_call_soon(NULL, loop, log_cb, IV(3));
    run_once(loop);
    EV_EXPECT(1, 2, 3);
    cr_assert_eq(seen_future[0], f);
    corio_future_unref(f);
    corio_loop_free(loop);
}

static corio_future *chain_f;
static void adds_another_cb(corio_future *f, void *arg)
{
    ev(VI(arg));
    corio_future_add_done_callback(f, record_cb, IV(9));
    cr_expect_eq(seen_n, 0, "a callback added from a callback is not called inline either");
}

Test(future_callbacks, added_from_a_callback_runs_later, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&chain_f, loop), 0);
    corio_future_add_done_callback(chain_f, adds_another_cb, IV(1));
    corio_future_add_done_callback(chain_f, other_cb, IV(2));
    corio_future_set_result(chain_f, NULL);
    run_once(loop);
    run_once(loop);
    EV_EXPECT(1, 102, 9);
    corio_future_unref(chain_f);
    corio_loop_free(loop);
}

Test(future_callbacks, remove_all_matching_registrations, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_add_done_callback(f, record_cb, IV(1));
    corio_future_add_done_callback(f, other_cb, IV(1));
    corio_future_add_done_callback(f, record_cb, IV(1));
    corio_future_add_done_callback(f, record_cb, IV(2));
    corio_future_add_done_callback(f, record_cb, IV(1));
    corio_future_add_done_callback(f, other_cb, IV(3));
    cr_assert_eq(corio_future_remove_done_callback(f, record_cb, IV(1)), 3);
    cr_assert_eq(corio_future_remove_done_callback(f, record_cb, IV(1)), 0);
    cr_assert_eq(corio_future_remove_done_callback(f, record_cb, IV(7)), 0,
                 "same fn, other arg: no match");
    cr_assert_eq(corio_future_remove_done_callback(f, other_cb, IV(2)), 0);
    corio_future_set_result(f, NULL);
    run_once(loop);
    EV_EXPECT(101, 2, 103);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_callbacks, remove_first_middle_last, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    for (int i = 1; i <= 5; i++)
        corio_future_add_done_callback(f, record_cb, IV(i));
    cr_assert_eq(corio_future_remove_done_callback(f, record_cb, IV(1)), 1);
    cr_assert_eq(corio_future_remove_done_callback(f, record_cb, IV(3)), 1);
    cr_assert_eq(corio_future_remove_done_callback(f, record_cb, IV(5)), 1);
    corio_future_add_done_callback(f, record_cb, IV(6));
    corio_future_set_result(f, NULL);
    run_once(loop);
    EV_EXPECT(2, 4, 6);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_callbacks, remove_from_empty_future_returns_zero, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_remove_done_callback(f, record_cb, NULL), 0);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_callbacks, remove_after_scheduled_returns_zero, .timeout = 10)
{
    /* Once the future is done its callbacks are scheduled; they can no longer be removed. */
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_add_done_callback(f, record_cb, IV(1));
    corio_future_set_result(f, NULL);
    cr_assert_eq(corio_future_remove_done_callback(f, record_cb, IV(1)), 0);
    run_once(loop);
    EV_EXPECT(1);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_callbacks, each_callback_runs_once, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_add_done_callback(f, record_cb, IV(1));
    corio_future_set_result(f, NULL);
    run_once(loop);
    run_once(loop);
    run_once(loop);
    EV_EXPECT(1);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_callbacks, callback_keeps_future_alive, .timeout = 10)
{
    /* As in asyncio, a scheduled done callback holds the future: the caller may drop its last
     * reference right after completing it. */
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_add_done_callback(f, record_cb, IV(1));
    corio_future_set_result(f, IV(3));
    corio_future_unref(f);
    run_once(loop);
    cr_assert_eq(seen_n, 1);
    cr_assert_eq(seen_state[0], CORIO_FUTURE_FINISHED);
    corio_loop_free(loop);
}

static void result_in_cb(corio_future *f, void *arg)
{
    void *v = NULL;
    int rc = corio_future_result(f, &v);
    ev(rc == 0 ? VI(v) : rc);
    (void)arg;
}

Test(future_callbacks, callback_sees_outcome, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *a;
    cr_assert_eq(corio_future_new(&a, loop), 0);
    corio_future *b;
    cr_assert_eq(corio_future_new(&b, loop), 0);
    corio_future *c;
    cr_assert_eq(corio_future_new(&c, loop), 0);
    corio_future_add_done_callback(a, result_in_cb, NULL);
    corio_future_add_done_callback(b, result_in_cb, NULL);
    corio_future_add_done_callback(c, result_in_cb, NULL);
    corio_future_set_result(a, IV(11));
    corio_future_set_error(b, -EPIPE);
    corio_future_cancel(c, "x");
    run_once(loop);
    EV_EXPECT(11, -EPIPE, -ECANCELED);
    corio_future_unref(a);
    corio_future_unref(b);
    corio_future_unref(c);
    corio_loop_free(loop);
}

Test(future_callbacks, callbacks_dropped_on_close, .timeout = 10)
{
    /* Close drops scheduled callbacks; the future stays a valid object (no leak, no run). */
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future *g;
    cr_assert_eq(corio_future_new(&g, loop), 0);
    corio_future_add_done_callback(f, record_cb, IV(1));
    corio_future_add_done_callback(g, record_cb, IV(2));
    corio_future_set_result(f, NULL);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(seen_n, 0);
    cr_assert(corio_future_done(f));
    cr_assert_eq(corio_future_done(g), 0);
    corio_future_unref(f);
    corio_future_unref(g);
    cr_assert_eq(seen_n, 0);
}

/* ---- debug mode: an error nobody retrieved ---- */

Test(future_callbacks, debug_reports_error_never_retrieved, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    cr_assert(corio_loop_get_debug(loop));
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_set_error(f, -EIO);
    corio_future_unref(f);
    cr_assert_eq(cap.n, 1, "one report for the unretrieved error");
    cr_assert_eq(cap.err[0], -EIO);
    cr_assert(cap.message[0][0] != 0, "the report has a message");
    corio_loop_free(loop);
    cr_assert_eq(cap.n, 1);
}

Test(future_callbacks, debug_no_report_once_retrieved, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_future *a;
    cr_assert_eq(corio_future_new(&a, loop), 0);
    corio_future *b;
    cr_assert_eq(corio_future_new(&b, loop), 0);
    corio_future_set_error(a, -EIO);
    corio_future_set_error(b, -EIO);
    cr_assert_eq(corio_future_result(a, NULL), -EIO);
    cr_assert_eq(corio_future_error(b), -EIO);
    corio_future_unref(a);
    corio_future_unref(b);
    corio_loop_free(loop);
    cr_assert_eq(cap.n, 0);
}

Test(future_callbacks, debug_no_report_for_result_or_cancel, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_future *a;
    cr_assert_eq(corio_future_new(&a, loop), 0);
    corio_future *b;
    cr_assert_eq(corio_future_new(&b, loop), 0);
    corio_future *c;
    cr_assert_eq(corio_future_new(&c, loop), 0);
    corio_future_set_result(a, IV(1));
    corio_future_cancel(b, "m");
    corio_future_unref(a);
    corio_future_unref(b);
    corio_future_unref(c); /* pending */
    corio_loop_free(loop);
    cr_assert_eq(cap.n, 0);
}

Test(future_callbacks, no_report_without_debug, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_get_debug(loop), 0);
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_set_error(f, -EIO);
    corio_future_unref(f);
    corio_loop_free(loop);
    cr_assert_eq(cap.n, 0);
}

Test(future_callbacks, set_debug_toggles, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_loop_set_debug(loop, 1);
    cr_assert(corio_loop_get_debug(loop));
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_set_error(f, -ENOENT);
    corio_future_unref(f);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(cap.err[0], -ENOENT);
    corio_loop_set_debug(loop, 0);
    cr_assert_eq(corio_loop_get_debug(loop), 0);
    corio_loop_free(loop);
}

static void *raise_eio(void *arg)
{
    (void)arg;
    return corio_raise(-EIO);
}

static void *await_child(void *arg)
{
    corio_task *child;
    cr_expect_eq(corio_create_task(&child, NULL, raise_eio, NULL, NULL), 0);
    int rc = corio_await(corio_task_future(child), NULL);
    corio_task_unref(child);
    (void)arg;
    return IV(rc);
}

Test(future_callbacks, debug_no_report_when_awaited, .timeout = 10)
{
    /* An error delivered to an awaiting task counts as retrieved. */
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    void *res = NULL;
    cr_assert_eq(run_main(loop, await_child, NULL, &res), 0);
    cr_assert_eq(VI(res), -EIO);
    corio_loop_free(loop);
    cr_assert_eq(cap.n, 0);
}

Test(future_callbacks, debug_reports_failed_task_never_retrieved, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, raise_eio, NULL, NULL), 0);
    corio_task *t2;
    cr_assert_eq(corio_create_task(&t2, loop, await_child, NULL, NULL), 0);
    corio_loop_run_until_complete(loop, corio_task_future(t2), NULL);
    corio_task_unref(t2);
    cr_assert(corio_future_done(corio_task_future(t)));
    cr_assert_eq(cap.n, 0);
    corio_task_unref(t); /* the error of t was never retrieved */
    corio_loop_free(loop);
    cr_assert_eq(cap.n, 1);
    cr_assert_eq(cap.err[0], -EIO);
}

Test(future_callbacks, done_callbacks_on_a_task, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, raise_eio, NULL, NULL), 0);
    corio_future_add_done_callback(corio_task_future(t), result_in_cb, NULL);
    corio_future_add_done_callback(corio_task_future(t), record_cb, IV(1));
    cr_assert_eq(run_task(loop, t, NULL), -EIO);
    run_once(loop);
    EV_EXPECT(-EIO, 1);
    cr_assert_eq((void *)seen_future[0], (void *)t);
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(future_callbacks, debug_from_environment, .timeout = 10)
{
    /* opts == NULL: debug comes from CORIO_DEBUG. */
    setenv("CORIO_DEBUG", "1", 1);
    corio_loop *loop = NULL;
    cr_assert_eq(corio_loop_new(&loop, NULL), 0);
    cr_assert(corio_loop_get_debug(loop), "CORIO_DEBUG=1 turns debug mode on");
    corio_loop_free(loop);
    setenv("CORIO_DEBUG", "0", 1);
    cr_assert_eq(corio_loop_new(&loop, NULL), 0);
    cr_assert_eq(corio_loop_get_debug(loop), 0);
    corio_loop_free(loop);
    unsetenv("CORIO_DEBUG");
}
