/* gather: results in argument order, fail-fast with the others still running, RETURN_ERRORS,
 * n == 0, cancelling the gather or its awaiting task cancels the children, a cancelled child,
 * the same future twice (CPython test_tasks.py GatherTests: test_result_order, test_one_exception,
 * test_return_exceptions, test_constructor_empty_sequence, test_cancel_gather_*, ...). */
#include "core_helpers.h"

static void *sleep_ms_return(void *arg)
{
    int ms = VI(arg);
    int rc = corio_sleep(ms / 1000.0);
    if (rc)
        return corio_raise(rc);
    ev(ms);
    return arg;
}

static corio_task *spawn(void *(*fn)(void *), int arg)
{
    corio_task *t;
    cr_expect_eq(corio_create_task(&t, NULL, fn, IV(arg), NULL), 0);
    return t;
}

static void unref_all(corio_task **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        corio_task_unref(t[i]);
}

/* ---- results in argument order ---- */

static void *gather_reverse(void *arg)
{
    (void)arg;
    corio_task *t[3] = {spawn(sleep_ms_return, 30), spawn(sleep_ms_return, 20),
                        spawn(sleep_ms_return, 10)};
    corio_future *fs[3] = {corio_task_future(t[0]), corio_task_future(t[1]), corio_task_future(t[2])};
    void *values[3] = {0};
    int errors[3] = {7, 7, 7};
    int rc = corio_gather(fs, 3, 0, values, errors);
    cr_expect_eq(rc, 0);
    cr_expect_eq(values[0], IV(30));
    cr_expect_eq(values[1], IV(20));
    cr_expect_eq(values[2], IV(10));
    cr_expect(errors[0] == 0 && errors[1] == 0 && errors[2] == 0);
    unref_all(t, 3);
    return IV(rc);
}

Test(gather, results_in_argument_order, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = IV(1);
    cr_assert_eq(run_main(loop, gather_reverse, NULL, &res), 0);
    cr_assert_eq(VI(res), 0);
    EV_EXPECT(10, 20, 30); /* they really finished in reverse order */
    corio_loop_free(loop);
}

static void *gather_null_outputs(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(sleep_ms_return, 2), spawn(sleep_ms_return, 1)};
    corio_future *fs[2] = {corio_task_future(t[0]), corio_task_future(t[1])};
    int rc = corio_gather(fs, 2, 0, NULL, NULL);
    unref_all(t, 2);
    return IV(rc);
}

Test(gather, null_output_arrays, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = IV(1);
    cr_assert_eq(run_main(loop, gather_null_outputs, NULL, &res), 0);
    cr_assert_eq(VI(res), 0);
    corio_loop_free(loop);
}

Test(gather, gather_future_of_plain_futures, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *fs[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(corio_future_new(&fs[i], loop), 0);
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 3, 0), 0);
    cr_assert_eq(corio_future_get_loop(g), loop);
    cr_assert_eq(corio_future_done(g), 0);
    const int *errs = SENTINEL;
    cr_assert_eq(corio_gather_errors(g, &errs), CORIO_EINVALSTATE,
                 "no outcomes while a child is pending");
    cr_assert_null(errs);
    corio_future_set_result(fs[2], IV(3));
    corio_future_set_result(fs[0], IV(1));
    run_once(loop);
    cr_assert_eq(corio_future_done(g), 0);
    corio_future_set_result(fs[1], IV(2));
    void *v = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, g, &v), 0);
    void **values = (void **)v;
    cr_assert_not_null(values);
    cr_assert_eq(values[0], IV(1));
    cr_assert_eq(values[1], IV(2));
    cr_assert_eq(values[2], IV(3));
    cr_assert_eq(corio_gather_errors(g, &errs), 3);
    cr_assert_not_null(errs);
    cr_assert(errs[0] == 0 && errs[1] == 0 && errs[2] == 0);
    cr_assert_eq(corio_gather_errors(g, NULL), 3, "errors may be NULL");
    /* the gather holds its own references: the children can be dropped first */
    for (int i = 0; i < 3; i++)
        corio_future_unref(fs[i]);
    cr_assert_eq(corio_future_result(g, &v), 0);
    cr_assert_eq(((void **)v)[1], IV(2));
    corio_future_unref(g);
    corio_loop_free(loop);
}

Test(gather, children_dropped_before_done, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *a;
    cr_assert_eq(corio_future_new(&a, loop), 0);
    corio_future *b;
    cr_assert_eq(corio_future_new(&b, loop), 0);
    corio_future *fs[2] = {a, b};
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 2, 0), 0);
    corio_future_set_result(a, IV(1));
    corio_future_set_result(b, IV(2));
    corio_future_unref(a);
    corio_future_unref(b);
    void *v = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, g, &v), 0);
    cr_assert_eq(((void **)v)[0], IV(1));
    cr_assert_eq(((void **)v)[1], IV(2));
    corio_future_unref(g);
    corio_loop_free(loop);
}

Test(gather, already_done_children, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *a;
    cr_assert_eq(corio_future_new(&a, loop), 0);
    corio_future *b;
    cr_assert_eq(corio_future_new(&b, loop), 0);
    corio_future_set_result(a, IV(5));
    corio_future_set_result(b, IV(6));
    corio_future *fs[2] = {a, b};
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 2, 0), 0);
    void *v = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, g, &v), 0);
    cr_assert_eq(((void **)v)[0], IV(5));
    cr_assert_eq(((void **)v)[1], IV(6));
    corio_future_unref(g);
    corio_future_unref(a);
    corio_future_unref(b);
    corio_loop_free(loop);
}

Test(gather, errors_of_non_gathering_future_is_einval, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_set_result(f, NULL);
    const int *errs = SENTINEL;
    cr_assert_eq(corio_gather_errors(f, &errs), -EINVAL);
    cr_assert_null(errs);
    cr_assert_eq(corio_gather_errors(NULL, &errs), -EINVAL);
    corio_future_unref(f);
    corio_loop_free(loop);
}

/* ---- n == 0 ---- */

static void *gather_empty(void *arg)
{
    (void)arg;
    corio_future *g;
    int rc = corio_gather_new(&g, NULL, 0, 0);
    cr_expect_eq(rc, 0);
    if (rc < 0)
        return IV(rc);
    cr_expect_eq(corio_gather_errors(g, NULL), 0, "no children, no outcomes");
    cr_expect(corio_future_done(g), "n == 0 gives a future already done");
    cr_expect_eq(corio_future_result(g, NULL), 0);
    corio_future_unref(g);
    return IV(corio_gather(NULL, 0, 0, NULL, NULL));
}

Test(gather, empty, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = IV(1);
    cr_assert_eq(run_main(loop, gather_empty, NULL, &res), 0);
    cr_assert_eq(VI(res), 0);
    corio_loop_free(loop);
}

Test(gather, empty_on_current_loop, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, NULL, 0, CORIO_GATHER_RETURN_ERRORS), 0);
    cr_assert(corio_future_done(g));
    cr_assert_eq(corio_future_get_loop(g), loop);
    corio_future_unref(g);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_loop_free(loop);
}

Test(gather, empty_without_loop_is_enoloop, .timeout = 10)
{
    /* n == 0 names no loop: the running or current one is needed, and there is none. */
    corio_future *g = SENTINEL;
    cr_assert_eq(corio_gather_new(&g, NULL, 0, 0), CORIO_ENOLOOP);
    cr_assert_null(g);
    cr_assert_null(corio_get_event_loop(), "no loop was created on the way");
}

/* ---- fail fast ---- */

static void *fail_after(void *arg)
{
    corio_sleep(0.01);
    ev(1);
    return corio_raise(VI(arg));
}

static int slow_finished;
static void *slow_ok(void *arg)
{
    int rc = corio_sleep(0.05);
    if (rc == 0)
        slow_finished++;
    ev(2);
    return arg;
}

static void *gather_fail_fast(void *arg)
{
    (void)arg;
    corio_task *t[3] = {spawn(slow_ok, 100), spawn(fail_after, -EIO), spawn(slow_ok, 300)};
    corio_future *fs[3] = {corio_task_future(t[0]), corio_task_future(t[1]), corio_task_future(t[2])};
    void *values[3] = {0};
    int errors[3] = {7, 7, 7};
    int rc = corio_gather(fs, 3, 0, values, errors);
    ev(3);
    cr_expect_eq(rc, -EIO, "gather fails with the first child's error");
    cr_expect_eq(errors[1], -EIO);
    cr_expect_eq(errors[0], CORIO_EINVALSTATE, "still pending after the fail-fast");
    cr_expect_eq(errors[2], CORIO_EINVALSTATE);
    cr_expect_eq(corio_future_done(fs[0]), 0, "the others keep running");
    cr_expect_eq(corio_future_done(fs[2]), 0);
    /* and they finish normally */
    void *v = NULL;
    cr_expect_eq(corio_await(fs[0], &v), 0);
    cr_expect_eq(v, IV(100));
    cr_expect_eq(corio_await(fs[2], &v), 0);
    cr_expect_eq(v, IV(300));
    unref_all(t, 3);
    return IV(rc);
}

Test(gather, fail_fast_others_keep_running, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, gather_fail_fast, NULL, &res), 0);
    cr_assert_eq(VI(res), -EIO);
    cr_assert_eq(slow_finished, 2, "the other children were not cancelled");
    EV_EXPECT(1, 3, 2, 2);
    corio_loop_free(loop);
}

Test(gather, fail_fast_gather_future, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *fs[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(corio_future_new(&fs[i], loop), 0);
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 3, 0), 0);
    corio_future_set_error(fs[1], -EPIPE);
    cr_assert_eq(corio_loop_run_until_complete(loop, g, NULL), -EPIPE);
    cr_assert_eq(corio_future_get_state(g), CORIO_FUTURE_FINISHED);
    cr_assert_eq(corio_future_cancelled(fs[0]), 0, "fail-fast does not cancel the others");
    cr_assert_eq(corio_future_done(fs[0]), 0);
    cr_assert_eq(corio_future_done(fs[2]), 0);
    /* a later error does not change the outcome */
    corio_future_set_error(fs[0], -EIO);
    corio_future_set_result(fs[2], IV(1));
    run_once(loop);
    cr_assert_eq(corio_future_error(g), -EPIPE);
    corio_future_error(fs[0]);
    for (int i = 0; i < 3; i++)
        corio_future_unref(fs[i]);
    corio_future_unref(g);
    corio_loop_free(loop);
}

/* ---- RETURN_ERRORS ---- */

static void *raise_now(void *arg) { return corio_raise(VI(arg)); }
static void *return_now(void *arg) { return arg; }

static void *gather_return_errors(void *arg)
{
    (void)arg;
    corio_task *t[4] = {spawn(return_now, 1), spawn(fail_after, -EIO), spawn(raise_now, -EPIPE),
                        spawn(slow_ok, 4)};
    corio_task_cancel(t[3], NULL);
    corio_future *fs[4];
    for (int i = 0; i < 4; i++)
        fs[i] = corio_task_future(t[i]);
    void *values[4] = {IV(9), IV(9), IV(9), IV(9)};
    int errors[4] = {7, 7, 7, 7};
    int rc = corio_gather(fs, 4, CORIO_GATHER_RETURN_ERRORS, values, errors);
    cr_expect_eq(rc, 0, "with RETURN_ERRORS gather always finishes");
    cr_expect_eq(values[0], IV(1));
    cr_expect_null(values[1]);
    cr_expect_null(values[2]);
    cr_expect_null(values[3]);
    cr_expect_eq(errors[0], 0);
    cr_expect_eq(errors[1], -EIO);
    cr_expect_eq(errors[2], -EPIPE);
    cr_expect_eq(errors[3], -ECANCELED);
    unref_all(t, 4);
    return IV(rc);
}

Test(gather, return_errors_in_place, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = IV(1);
    cr_assert_eq(run_main(loop, gather_return_errors, NULL, &res), 0);
    cr_assert_eq(VI(res), 0);
    corio_loop_free(loop);
}

Test(gather, return_errors_gather_future, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *fs[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(corio_future_new(&fs[i], loop), 0);
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 3, CORIO_GATHER_RETURN_ERRORS), 0);
    corio_future_set_error(fs[0], -ENOENT);
    corio_future_cancel(fs[1], "c");
    run_once(loop);
    cr_assert_eq(corio_future_done(g), 0, "waits for all with RETURN_ERRORS");
    cr_assert_eq(corio_gather_errors(g, NULL), CORIO_EINVALSTATE);
    corio_future_set_result(fs[2], IV(33));
    void *v = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, g, &v), 0);
    void **values = v;
    cr_assert_null(values[0]);
    cr_assert_null(values[1]);
    cr_assert_eq(values[2], IV(33));
    const int *errs = NULL;
    cr_assert_eq(corio_gather_errors(g, &errs), 3);
    cr_assert_not_null(errs);
    cr_assert_eq(errs[0], -ENOENT);
    cr_assert_eq(errs[1], -ECANCELED);
    cr_assert_eq(errs[2], 0);
    for (int i = 0; i < 3; i++)
        corio_future_unref(fs[i]);
    corio_future_unref(g);
    corio_loop_free(loop);
}

/* ---- a cancelled child without RETURN_ERRORS ---- */

static void *gather_with_cancelled_child(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(slow_ok, 1), spawn(slow_ok, 2)};
    corio_future *fs[2] = {corio_task_future(t[0]), corio_task_future(t[1])};
    corio_task_cancel(t[1], NULL);
    int errors[2] = {7, 7};
    int rc = corio_gather(fs, 2, 0, NULL, errors);
    cr_expect_eq(errors[1], -ECANCELED);
    cr_expect_eq(corio_task_cancelling(corio_current_task()), 0,
                 "the gathering task itself was not cancelled");
    /* let the other child finish */
    corio_await(fs[0], NULL);
    unref_all(t, 2);
    return IV(rc);
}

Test(gather, cancelled_child_fails_gather, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, gather_with_cancelled_child, NULL, &res), 0);
    cr_assert_eq(VI(res), -ECANCELED);
    corio_loop_free(loop);
}

/* ---- cancelling the gather ---- */

static int child_rc[3] = {1, 1, 1};
static int child_cleanup;
static void *child_sleeps(void *arg)
{
    int i = VI(arg);
    child_rc[i] = corio_sleep(i == 0 ? 0.0 : 100);
    child_cleanup++;
    return arg;
}

Test(gather, cancel_gather_future_cancels_children, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, child_sleeps, IV(i), NULL), 0);
    corio_future *fs[3] = {corio_task_future(t[0]), corio_task_future(t[1]), corio_task_future(t[2])};
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 3, 0), 0);
    run_task(loop, t[0], NULL); /* child 0 done, 1 and 2 sleep */
    run_once(loop);
    double t0 = corio_loop_time(loop);
    cr_assert_eq(corio_future_cancel(g, "stop all"), 1);
    cr_assert_eq(corio_loop_run_until_complete(loop, g, NULL), -ECANCELED);
    cr_assert_lt(corio_loop_time(loop) - t0, 5.0);
    cr_assert(corio_future_cancelled(g));
    run_task(loop, t[1], NULL);
    run_task(loop, t[2], NULL);
    cr_assert_eq(corio_future_get_state(fs[0]), CORIO_FUTURE_FINISHED,
                 "a done child keeps its result");
    cr_assert(corio_future_cancelled(fs[1]));
    cr_assert(corio_future_cancelled(fs[2]));
    cr_assert_eq(child_rc[1], -ECANCELED);
    cr_assert_eq(child_rc[2], -ECANCELED);
    cr_assert_eq(child_cleanup, 3);
    corio_future_unref(g);
    unref_all(t, 3);
    corio_loop_free(loop);
}

Test(gather, cancel_gather_of_plain_futures, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *fs[2];
    cr_assert_eq(corio_future_new(&fs[0], loop), 0);
    cr_assert_eq(corio_future_new(&fs[1], loop), 0);
    corio_future_set_result(fs[0], IV(1));
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 2, CORIO_GATHER_RETURN_ERRORS), 0);
    cr_assert_eq(corio_future_cancel(g, NULL), 1);
    cr_assert(corio_future_cancelled(fs[1]));
    cr_assert_eq(corio_future_get_state(fs[0]), CORIO_FUTURE_FINISHED);
    cr_assert_eq(corio_loop_run_until_complete(loop, g, NULL), -ECANCELED);
    cr_assert_eq(corio_future_cancel(g, NULL), 0, "already done");
    corio_future_unref(fs[0]);
    corio_future_unref(fs[1]);
    corio_future_unref(g);
    corio_loop_free(loop);
}

static corio_task *kids[3];
static int gather_rc = 1;
static void *awaits_gather(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        cr_expect_eq(corio_create_task(&kids[i], NULL, child_sleeps, IV(i), NULL), 0);
    corio_future *fs[3] = {corio_task_future(kids[0]), corio_task_future(kids[1]),
                           corio_task_future(kids[2])};
    int errors[3] = {7, 7, 7};
    gather_rc = corio_gather(fs, 3, 0, NULL, errors);
    return NULL;
}

Test(gather, cancelling_awaiting_task_cancels_children, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *main;
    cr_assert_eq(corio_create_task(&main, loop, awaits_gather, NULL, NULL), 0);
    run_once(loop);
    run_once(loop);
    run_once(loop);
    double t0 = corio_loop_time(loop);
    cr_assert_eq(corio_task_cancel(main, NULL), 1);
    cr_assert_eq(run_task(loop, main, NULL), -ECANCELED);
    cr_assert_eq(gather_rc, -ECANCELED);
    for (int i = 1; i < 3; i++) {
        cr_assert_eq(run_task(loop, kids[i], NULL), -ECANCELED);
        cr_assert_eq(child_rc[i], -ECANCELED);
    }
    cr_assert_lt(corio_loop_time(loop) - t0, 5.0);
    cr_assert_eq(child_cleanup, 3);
    for (int i = 0; i < 3; i++)
        corio_task_unref(kids[i]);
    corio_task_unref(main);
    corio_loop_free(loop);
}

/* ---- the same future twice ---- */

static void *gather_same_twice(void *arg)
{
    (void)arg;
    corio_task *t = spawn(sleep_ms_return, 5);
    corio_future *fs[3] = {corio_task_future(t), corio_task_future(t), corio_task_future(t)};
    void *values[3] = {0};
    int rc = corio_gather(fs, 3, 0, values, NULL);
    cr_expect_eq(values[0], IV(5));
    cr_expect_eq(values[1], IV(5));
    cr_expect_eq(values[2], IV(5));
    corio_task_unref(t);
    return IV(rc);
}

Test(gather, same_future_passed_twice, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = IV(1);
    cr_assert_eq(run_main(loop, gather_same_twice, NULL, &res), 0);
    cr_assert_eq(VI(res), 0);
    EV_EXPECT(5);
    corio_loop_free(loop);
}

Test(gather, same_failed_future_twice_return_errors, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future *fs[2] = {f, f};
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 2, CORIO_GATHER_RETURN_ERRORS), 0);
    corio_future_set_error(f, -EIO);
    cr_assert_eq(corio_loop_run_until_complete(loop, g, NULL), 0);
    const int *errs = NULL;
    cr_assert_eq(corio_gather_errors(g, &errs), 2);
    cr_assert_not_null(errs);
    cr_assert_eq(errs[0], -EIO);
    cr_assert_eq(errs[1], -EIO);
    corio_future_unref(f);
    corio_future_unref(g);
    corio_loop_free(loop);
}

/* ---- bad input ---- */

Test(gather, children_of_another_loop, .timeout = 10)
{
    corio_loop *a = new_vt_loop();
    corio_loop *b = new_vt_loop();
    corio_future *fs[2];
    cr_assert_eq(corio_future_new(&fs[0], a), 0);
    cr_assert_eq(corio_future_new(&fs[1], b), 0);
    corio_future *g = SENTINEL;
    cr_assert_eq(corio_gather_new(&g, fs, 2, 0), -EINVAL);
    cr_assert_null(g);
    corio_future_unref(fs[0]);
    corio_future_unref(fs[1]);
    corio_loop_free(a);
    corio_loop_free(b);
}

Test(gather, null_children_are_einval, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future *g = SENTINEL;
    cr_assert_eq(corio_gather_new(&g, NULL, 2, 0), -EINVAL, "NULL futs with n > 0");
    cr_assert_null(g);
    corio_future *fs[2] = {f, NULL};
    g = SENTINEL;
    cr_assert_eq(corio_gather_new(&g, fs, 2, 0), -EINVAL, "a NULL child");
    cr_assert_null(g);
    cr_assert_eq(corio_future_done(f), 0, "the refused gather did not touch its children");
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(gather, outside_task_is_enotask, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    corio_future_set_result(f, NULL);
    cr_assert_eq(corio_gather(&f, 1, 0, NULL, NULL), CORIO_ENOTASK);
    corio_future_unref(f);
    corio_loop_free(loop);
}

/* ---- nested gathers ---- */

static void *nested_gather(void *arg)
{
    (void)arg;
    corio_task *t[4] = {spawn(sleep_ms_return, 4), spawn(sleep_ms_return, 3),
                        spawn(sleep_ms_return, 2), spawn(sleep_ms_return, 1)};
    corio_future *left[2] = {corio_task_future(t[0]), corio_task_future(t[1])};
    corio_future *right[2] = {corio_task_future(t[2]), corio_task_future(t[3])};
    corio_future *g[2];
    cr_expect_eq(corio_gather_new(&g[0], left, 2, 0), 0);
    cr_expect_eq(corio_gather_new(&g[1], right, 2, 0), 0);
    void *values[2] = {0};
    int rc = corio_gather(g, 2, 0, values, NULL);
    cr_expect_eq(rc, 0);
    void **l = values[0], **r = values[1];
    cr_expect(l && r);
    if (l && r) {
        cr_expect_eq(l[0], IV(4));
        cr_expect_eq(l[1], IV(3));
        cr_expect_eq(r[0], IV(2));
        cr_expect_eq(r[1], IV(1));
    }
    corio_future_unref(g[0]);
    corio_future_unref(g[1]);
    unref_all(t, 4);
    return IV(rc);
}

Test(gather, nested, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = IV(1);
    cr_assert_eq(run_main(loop, nested_gather, NULL, &res), 0);
    cr_assert_eq(VI(res), 0);
    corio_loop_free(loop);
}

/* The seed's example at 1/10 scale: two tasks sleeping 0.1 s and 0.2 s, gathered. */
static void *seed_child(void *arg)
{
    corio_sleep(VI(arg) / 10.0);
    return arg;
}

static void *seed_main(void *arg)
{
    (void)arg;
    corio_task *a;
    cr_expect_eq(corio_create_task(&a, NULL, seed_child, IV(1), NULL), 0);
    corio_task *b;
    cr_expect_eq(corio_create_task(&b, NULL, seed_child, IV(2), NULL), 0);
    corio_future *fs[2] = {corio_task_future(a), corio_task_future(b)};
    void *values[2] = {0};
    int rc = corio_gather(fs, 2, 0, values, NULL);
    corio_task_unref(a);
    corio_task_unref(b);
    if (rc)
        return corio_raise(rc);
    return IV(VI(values[0]) * 10 + VI(values[1]));
}

Test(gather, seed_example, .timeout = 10)
{
    double t0 = now_s();
    void *res = NULL;
    cr_assert_eq(corio_run(seed_main, NULL, &res, NULL), 0);
    double dt = now_s() - t0;
    cr_assert_eq(res, IV(12), "result : [1, 2]");
    cr_assert_geq(dt, 0.2);
    cr_assert_lt(dt, 1.2, "total time %f s: the sleeps overlap", dt);
}
