/* corio_run, the analogue of asyncio.run: result of main, errors, leftover tasks cancelled and
 * finished, the loop made current while running and gone afterwards, nested run refused
 * (CPython test_runners.py: test_asyncio_run_return, test_asyncio_run_raises,
 * test_asyncio_run_only_coro, test_asyncio_run_cancels_hanging_tasks, ...). */
#include "core_helpers.h"

static void *ret_arg(void *arg) { return arg; }

Test(run, returns_main_result, .timeout = 10)
{
    void *res = NULL;
    cr_assert_eq(corio_run(ret_arg, IV(42), &res, NULL), 0);
    cr_assert_eq(res, IV(42));
    cr_assert_eq(corio_run(ret_arg, IV(1), NULL, NULL), 0, "result may be NULL");
}

static void *raise_arg(void *arg) { return corio_raise(VI(arg)); }

Test(run, returns_main_error, .timeout = 10)
{
    void *res = NULL;
    cr_assert_eq(corio_run(raise_arg, IV(-ENOSPC), &res, NULL), -ENOSPC);
}

static void *cancel_self(void *arg)
{
    (void)arg;
    corio_task_cancel(corio_current_task(), NULL);
    corio_sleep(0);
    return IV(1);
}

Test(run, main_cancelled, .timeout = 10)
{
    cr_assert_eq(corio_run(cancel_self, NULL, NULL, NULL), -ECANCELED);
}

static void *sleep_and_return(void *arg)
{
    corio_sleep(0.01);
    return arg;
}

Test(run, main_that_awaits, .timeout = 10)
{
    void *res = NULL;
    cr_assert_eq(corio_run(sleep_and_return, IV(3), &res, NULL), 0);
    cr_assert_eq(res, IV(3));
}

static int leftover_rc[3] = {1, 1, 1};
static int leftover_cleanup;
static corio_task *held;
static void *leftover(void *arg)
{
    int i = VI(arg);
    leftover_rc[i] = corio_sleep(100);
    /* it may await again while finishing: corio_run lets it */
    corio_sleep(0);
    leftover_cleanup++;
    return NULL;
}

static void *spawns_and_returns(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) /* fire and forget */
        cr_expect_eq(corio_create_task(NULL, NULL, leftover, IV(i), NULL), 0);
    /* held is kept past the run */
    cr_expect_eq(corio_create_task(&held, NULL, leftover, IV(2), NULL), 0);
    corio_sleep(0.01);
    return IV(5);
}

Test(run, cancels_leftover_tasks_and_lets_them_finish, .timeout = 10)
{
    double t0 = now_s();
    void *res = NULL;
    cr_assert_eq(corio_run(spawns_and_returns, NULL, &res, NULL), 0);
    cr_assert_eq(res, IV(5));
    cr_assert_lt(now_s() - t0, 5.0, "the 100 s sleeps were cancelled");
    for (int i = 0; i < 3; i++)
        cr_assert_eq(leftover_rc[i], -ECANCELED);
    cr_assert_eq(leftover_cleanup, 3);
    cr_assert_not_null(held);
    cr_assert(corio_future_cancelled(corio_task_future(held)));
    corio_task_unref(held);
}

static corio_loop *running, *current;
static void *observe_loops(void *arg)
{
    (void)arg;
    running = corio_get_running_loop();
    current = corio_get_event_loop();
    corio_future *f;
    cr_expect_eq(corio_future_new(&f, NULL), 0, "a NULL loop is the running loop");
    int ok = f && corio_future_get_loop(f) == running;
    corio_future_unref(f);
    return IV(ok);
}

Test(run, loop_is_current_while_running_and_gone_after, .timeout = 10)
{
    void *res = NULL;
    cr_assert_eq(corio_run(observe_loops, NULL, &res, NULL), 0);
    cr_assert_not_null(running);
    cr_assert_eq(current, running);
    cr_assert_eq(res, IV(1));
    cr_assert_null(corio_get_running_loop());
    cr_assert_null(corio_get_event_loop(), "the thread has no current loop after corio_run");
    corio_future *f = SENTINEL;
    cr_assert_eq(corio_future_new(&f, NULL), CORIO_ENOLOOP);
    cr_assert_null(f);
}

static void *nested_run(void *arg)
{
    (void)arg;
    return IV(corio_run(ret_arg, IV(1), NULL, NULL));
}

Test(run, nested_run_is_erunning, .timeout = 10)
{
    void *res = NULL;
    cr_assert_eq(corio_run(nested_run, NULL, &res, NULL), 0);
    cr_assert_eq(VI(res), CORIO_ERUNNING);
}

static void run_in_callback(void *arg)
{
    *(int *)arg = corio_run(ret_arg, NULL, NULL, NULL);
}

Test(run, run_inside_running_loop_is_erunning, .timeout = 10)
{
    corio_loop *loop = new_loop();
    int rc = 1;
    cr_assert_eq(corio_loop_call_soon(NULL, loop, run_in_callback, &rc), 0);
    run_once(loop);
    cr_assert_eq(rc, CORIO_ERUNNING);
    corio_loop_free(loop);
}

Test(run, sequential_runs, .timeout = 10)
{
    for (int i = 0; i < 50; i++) {
        void *res = NULL;
        cr_assert_eq(corio_run(sleep_and_return, IV(i), &res, NULL), 0);
        cr_assert_eq(res, IV(i));
    }
}

Test(run, does_not_use_or_close_callers_loop, .timeout = 10)
{
    /* A loop the caller made current is not the one corio_run uses or closes. */
    corio_loop *mine = new_loop();
    cr_assert_eq(corio_set_event_loop(mine), 0);
    void *res = NULL;
    cr_assert_eq(corio_run(observe_loops, NULL, &res, NULL), 0);
    cr_assert_neq(running, mine, "corio_run creates its own loop");
    cr_assert_eq(corio_loop_is_closed(mine), 0);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_loop_free(mine);
}

static void *gathers_children(void *arg)
{
    (void)arg;
    corio_task *t[3];
    corio_future *fs[3];
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(corio_create_task(&t[i], NULL, sleep_and_return, IV(i + 1), NULL), 0);
        fs[i] = corio_task_future(t[i]);
    }
    void *values[3] = {0};
    int rc = corio_gather(fs, 3, 0, values, NULL);
    for (int i = 0; i < 3; i++)
        corio_task_unref(t[i]);
    if (rc)
        return corio_raise(rc);
    return IV(VI(values[0]) * 100 + VI(values[1]) * 10 + VI(values[2]));
}

Test(run, main_gathers_children, .timeout = 10)
{
    void *res = NULL;
    cr_assert_eq(corio_run(gathers_children, NULL, &res, NULL), 0);
    cr_assert_eq(res, IV(123));
}
