/* wait: ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION (a cancellation is not an exception),
 * timeouts that cancel nothing, futures done on entry, the waiting task cancelled, duplicates,
 * bad arguments, a compact waiting task (CPython test_tasks.py: test_wait, test_wait_first_completed,
 * test_wait_really_done, test_wait_first_exception, test_wait_first_exception_in_wait,
 * test_wait_with_exception, test_wait_with_timeout, test_wait_concurrent_complete,
 * test_wait_invalid_args, test_wait_errors, test_wait_duplicate_coroutines). */
#include "combine_helpers.h"

static void drop_all(corio_task **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cancel_and_drop(t[i]);
}

/* ---- ALL_COMPLETED ---- */

static void *all_completed_main(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(nap_ms, 60), spawn(nap_ms, 10)};
    corio_future *fs[2] = {tf(t[0]), tf(t[1])};
    unsigned char done[2] = {9, 9};
    cr_expect_eq(corio_wait(fs, 2, CORIO_ALL_COMPLETED, CORIO_FOREVER, done), 2);
    cr_expect(done[0] == 1 && done[1] == 1);
    drop_all(t, 2);
    return NULL;
}

Test(wait, all_completed, .timeout = 10)
{
    run_in_loop(all_completed_main, NULL);
    EV_EXPECT(10, 60);
}

/* ---- FIRST_COMPLETED ---- */

static void *first_completed_main(void *arg)
{
    (void)arg;
    corio_task *t[3] = {spawn(sleep_long, 0), spawn(nap_ms, 10), spawn(sleep_long, 2)};
    corio_future *fs[3] = {tf(t[0]), tf(t[1]), tf(t[2])};
    unsigned char done[3];
    cr_expect_eq(corio_wait(fs, 3, CORIO_FIRST_COMPLETED, CORIO_FOREVER, done), 1);
    cr_expect(done[0] == 0 && done[1] == 1 && done[2] == 0);
    cr_expect_eq(corio_future_get_state(fs[0]), CORIO_FUTURE_PENDING, "wait cancels nothing");
    drop_all(t, 3);
    return NULL;
}

Test(wait, first_completed, .timeout = 10)
{
    run_in_loop(first_completed_main, NULL);
    EV_EXPECT(10, 100, 102);
}

/* Done on entry: returns at once, without yielding to the other task that is ready. */
static void *logs_one(void *arg)
{
    (void)arg;
    ev(1);
    return NULL;
}

static void *done_on_entry_main(void *arg)
{
    (void)arg;
    corio_task *other = spawn(logs_one, 0);
    corio_future *f = new_future_on(NULL), *p = new_future_on(NULL);
    corio_future_set_result(f, NULL);
    corio_future *fs[2] = {p, f};
    unsigned char done[2];
    cr_expect_eq(corio_wait(fs, 2, CORIO_FIRST_COMPLETED, CORIO_FOREVER, done), 1);
    ev(0);
    cr_expect(done[0] == 0 && done[1] == 1);
    corio_future_set_result(p, NULL);
    cr_expect_eq(corio_wait(fs, 2, CORIO_ALL_COMPLETED, 0, NULL), 2);
    corio_future_unref(f);
    corio_future_unref(p);
    corio_await(tf(other), NULL);
    corio_task_unref(other);
    return NULL;
}

Test(wait, done_on_entry_returns_at_once, .timeout = 10)
{
    run_in_loop(done_on_entry_main, NULL);
    EV_EXPECT(0, 1);
}

/* Two futures done in the same iteration are both reported. */
static void *concurrent_complete_main(void *arg)
{
    (void)arg;
    corio_future *a = new_future_on(NULL), *b = new_future_on(NULL);
    corio_task *t = spawn(nap_ms, 10);
    corio_future *fs[3] = {a, b, tf(t)};
    corio_future_set_result(a, NULL); /* both before the waiting task runs again */
    corio_future_set_error(b, -EIO);
    unsigned char done[3];
    cr_expect_eq(corio_wait(fs, 3, CORIO_FIRST_COMPLETED, CORIO_FOREVER, done), 2);
    cr_expect(done[0] && done[1] && !done[2]);
    corio_future_error(b);
    corio_future_unref(a);
    corio_future_unref(b);
    drop_all(&t, 1);
    return NULL;
}

Test(wait, concurrent_complete, .timeout = 10)
{
    run_in_loop(concurrent_complete_main, NULL);
}

/* ---- FIRST_EXCEPTION ---- */

static void *first_exception_main(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(sleep_long, 0), spawn(fail_after_nap, -EIO)};
    corio_future *fs[2] = {tf(t[0]), tf(t[1])};
    unsigned char done[2];
    cr_expect_eq(corio_wait(fs, 2, CORIO_FIRST_EXCEPTION, CORIO_FOREVER, done), 1);
    cr_expect(!done[0] && done[1]);
    cr_expect_eq(corio_future_error(fs[1]), -EIO);
    drop_all(t, 2);
    return NULL;
}

Test(wait, first_exception, .timeout = 10)
{
    run_in_loop(first_exception_main, NULL);
}

/* ALL_COMPLETED with a failure among them: still waits for all. */
static void *all_with_error_main(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(fail_after_nap, -EIO), spawn(nap_ms, 30)};
    corio_future *fs[2] = {tf(t[0]), tf(t[1])};
    cr_expect_eq(corio_wait(fs, 2, CORIO_ALL_COMPLETED, CORIO_FOREVER, NULL), 2);
    cr_expect_eq(corio_future_error(fs[0]), -EIO);
    drop_all(t, 2);
    return NULL;
}

Test(wait, all_completed_with_error, .timeout = 10)
{
    run_in_loop(all_with_error_main, NULL);
    EV_EXPECT(30);
}

/* A cancellation is not an exception; with no error at all it is ALL_COMPLETED. */
static void *first_exception_cancel_main(void *arg)
{
    (void)arg;
    corio_task *t[3] = {spawn(sleep_long, 0), spawn(nap_ms, 10), spawn(nap_ms, 60)};
    corio_future *fs[3] = {tf(t[0]), tf(t[1]), tf(t[2])};
    corio_sleep(0);
    corio_task_cancel(t[0], NULL);
    cr_expect_eq(corio_wait(fs, 3, CORIO_FIRST_EXCEPTION, CORIO_FOREVER, NULL), 3);
    cr_expect(corio_future_cancelled(fs[0]));
    drop_all(t, 3);
    return NULL;
}

Test(wait, first_exception_ignores_cancellation, .timeout = 10)
{
    run_in_loop(first_exception_cancel_main, NULL);
    EV_EXPECT(100, 10, 60);
}

/* A future that failed before the wait: returns at once. */
static void *first_exception_done_main(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(sleep_long, 0), spawn(fail_now, -ENOENT)};
    corio_future *fs[2] = {tf(t[0]), tf(t[1])};
    corio_sleep(0);
    corio_sleep(0);
    cr_expect_eq(corio_future_error(fs[1]), -ENOENT);
    unsigned char done[2];
    cr_expect_eq(corio_wait(fs, 2, CORIO_FIRST_EXCEPTION, CORIO_FOREVER, done), 1);
    cr_expect(!done[0] && done[1]);
    drop_all(t, 2);
    return NULL;
}

Test(wait, first_exception_already_failed, .timeout = 10)
{
    run_in_loop(first_exception_done_main, NULL);
}

/* ---- timeouts ---- */

static void *timeout_main(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(nap_ms, 10), spawn(sleep_long, 1)};
    corio_future *fs[2] = {tf(t[0]), tf(t[1])};
    unsigned char done[2];
    double t0 = loop_now();
    cr_expect_eq(corio_wait(fs, 2, CORIO_ALL_COMPLETED, 0.1, done), 1);
    double elapsed = loop_now() - t0;
    cr_expect(done[0] && !done[1]);
    cr_expect_geq(elapsed, 0.099, "not before the timeout");
    cr_expect_lt(elapsed, 5.0);
    cr_expect_eq(corio_future_get_state(fs[1]), CORIO_FUTURE_PENDING,
                 "the timeout cancels nothing");
    drop_all(t, 2);
    return NULL;
}

Test(wait, timeout_cancels_nothing, .timeout = 10)
{
    run_in_loop(timeout_main, NULL);
    EV_EXPECT(10, 101);
}

static void *timeout_zero_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(sleep_long, 0);
    corio_future *fs[1] = {tf(t)};
    cr_expect_eq(corio_wait(fs, 1, CORIO_FIRST_COMPLETED, 0, NULL), 0);
    cr_expect_eq(corio_future_get_state(fs[0]), CORIO_FUTURE_PENDING);
    corio_task_cancel(t, NULL);
    cr_expect_eq(corio_wait(fs, 1, CORIO_FIRST_COMPLETED, CORIO_FOREVER, NULL), 1);
    corio_task_unref(t);
    return NULL;
}

Test(wait, timeout_zero_polls_once, .timeout = 10)
{
    run_in_loop(timeout_zero_main, NULL);
    EV_EXPECT(100);
}

/* Any negative timeout is CORIO_FOREVER: no limit, not "already expired". */
static void *negative_timeout_main(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(nap_ms, 50), spawn(nap_ms, 20)};
    corio_future *fs[2] = {tf(t[0]), tf(t[1])};
    unsigned char done[2] = {9, 9};
    cr_expect_eq(corio_wait(fs, 2, CORIO_ALL_COMPLETED, -0.001, done), 2);
    cr_expect(done[0] == 1 && done[1] == 1);
    cr_expect_eq(corio_wait(fs, 2, CORIO_FIRST_COMPLETED, -3600, NULL), 2);
    drop_all(t, 2);
    return NULL;
}

Test(wait, negative_timeout_means_no_limit, .timeout = 10)
{
    run_in_loop(negative_timeout_main, NULL);
    EV_EXPECT(20, 50);
}

/* The futures complete before the timeout: the timer goes with the wait. */
static void *unused_timeout_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 5);
    corio_future *fs[1] = {tf(t)};
    cr_expect_eq(corio_wait(fs, 1, CORIO_ALL_COMPLETED, 60, NULL), 1);
    corio_task_unref(t);
    return NULL;
}

Test(wait, unused_timeout, .timeout = 10)
{
    double t0 = now_s();
    run_in_real_loop(unused_timeout_main, NULL);
    cr_assert_lt(now_s() - t0, 30.0, "the loop did not wait for the dead timer");
}

/* ---- the waiting task is cancelled: -ECANCELED, the futures keep running ---- */

struct cancel_wait {
    corio_task *t[2];
    int rc;
    unsigned char done[2];
};

static void *waits_all(void *arg)
{
    struct cancel_wait *c = arg;
    corio_future *fs[2] = {tf(c->t[0]), tf(c->t[1])};
    c->rc = corio_wait(fs, 2, CORIO_ALL_COMPLETED, CORIO_FOREVER, c->done);
    return corio_raise(c->rc);
}

static void *cancel_waiter_main(void *arg)
{
    (void)arg;
    struct cancel_wait c = {.t = {spawn(nap_ms, 10), spawn(nap_ms, 300)}, .rc = 1};
    corio_task *w = spawn_opts(waits_all, &c, NULL);
    corio_sleep(0.1);
    corio_task_cancel(w, NULL);
    cr_expect_eq(corio_await(tf(w), NULL), -ECANCELED);
    cr_expect_eq(c.rc, -ECANCELED);
    cr_expect(c.done[0] == 1 && c.done[1] == 0, "done[] is filled on cancellation too");
    cr_expect_eq(corio_future_get_state(tf(c.t[1])), CORIO_FUTURE_PENDING);
    cr_expect_eq(corio_await(tf(c.t[1]), NULL), 0);
    corio_task_unref(w);
    drop_all(c.t, 2);
    return NULL;
}

Test(wait, cancelled_waiter_cancels_nothing, .timeout = 10)
{
    run_in_loop(cancel_waiter_main, NULL);
    EV_EXPECT(10, 300);
}

/* Cancelled before it started waiting (the request is pending at the call). */
static void *cancel_before_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 10);
    corio_future *fs[1] = {tf(t)};
    corio_task_cancel(corio_current_task(), NULL);
    cr_expect_eq(corio_wait(fs, 1, CORIO_ALL_COMPLETED, 1.0, NULL), -ECANCELED);
    cr_expect_eq(corio_task_uncancel(corio_current_task()), 0);
    cr_expect_eq(corio_wait(fs, 1, CORIO_ALL_COMPLETED, CORIO_FOREVER, NULL), 1);
    corio_task_unref(t);
    return NULL;
}

Test(wait, cancel_requested_before_the_wait, .timeout = 10)
{
    run_in_loop(cancel_before_main, NULL);
}

/* ---- the same future twice ---- */

static void *duplicates_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 10);
    corio_future *fs[3] = {tf(t), tf(t), tf(t)};
    unsigned char done[3];
    cr_expect_eq(corio_wait(fs, 3, CORIO_ALL_COMPLETED, CORIO_FOREVER, done), 3);
    cr_expect(done[0] && done[1] && done[2]);
    corio_task_unref(t);
    return NULL;
}

Test(wait, duplicate_futures, .timeout = 10)
{
    run_in_loop(duplicates_main, NULL);
    EV_EXPECT(10);
}

/* ---- bad arguments ---- */

static void *invalid_args_main(void *arg)
{
    corio_loop *other = arg;
    corio_future *f = new_future_on(NULL), *g = new_future_on(other);
    corio_future *fs[2] = {f, NULL}, *mixed[2] = {f, g};
    cr_expect_eq(corio_wait(fs, 0, CORIO_ALL_COMPLETED, -1, NULL), -EINVAL, "empty set");
    cr_expect_eq(corio_wait(NULL, 1, CORIO_ALL_COMPLETED, -1, NULL), -EINVAL);
    cr_expect_eq(corio_wait(fs, 2, CORIO_ALL_COMPLETED, -1, NULL), -EINVAL, "NULL future");
    cr_expect_eq(corio_wait(fs, 1, 0, -1, NULL), -EINVAL, "bad return_when");
    cr_expect_eq(corio_wait(fs, 1, 4, -1, NULL), -EINVAL, "bad return_when");
    cr_expect_eq(corio_wait(fs, 1, CORIO_ALL_COMPLETED, NAN, NULL), -EINVAL, "NaN timeout");
    cr_expect_eq(corio_wait(mixed, 2, CORIO_ALL_COMPLETED, -1, NULL), -EINVAL, "other loop");
    corio_future_unref(f);
    corio_future_unref(g);
    return NULL;
}

Test(wait, invalid_arguments, .timeout = 10)
{
    corio_loop *other = new_loop();
    run_in_loop(invalid_args_main, other);
    cr_assert_eq(corio_loop_free(other), 0);
    corio_future *f = NULL;
    cr_assert_eq(corio_wait(&f, 1, CORIO_ALL_COMPLETED, -1, NULL), CORIO_ENOTASK);
}

/* ---- compact tasks wait: the wait's state is not in their frames ---- */

static void *compact_waiter(void *arg)
{
    corio_future **fs = arg;
    unsigned char done[3];
    cr_expect_eq(corio_wait(fs, 3, CORIO_FIRST_COMPLETED, 5.0, done), 1);
    cr_expect(!done[0] && done[1] && !done[2]);
    cr_expect_eq(corio_wait(fs, 3, CORIO_ALL_COMPLETED, 5.0, done), 3);
    ev(1);
    return NULL;
}

static void *compact_main(void *arg)
{
    (void)arg;
    corio_future *fs[3] = {new_future_on(NULL), new_future_on(NULL), new_future_on(NULL)};
    const corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};
    corio_task *w[4];
    for (int i = 0; i < 4; i++)
        w[i] = spawn_opts(compact_waiter, fs, &compact);
    corio_sleep(0); /* all four wait now */
    corio_future_set_result(fs[1], NULL);
    corio_sleep(0); /* they see it and wait for all */
    corio_future_set_result(fs[0], NULL);
    corio_future_set_result(fs[2], NULL);
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(corio_await(tf(w[i]), NULL), 0);
        corio_task_unref(w[i]);
    }
    for (int i = 0; i < 3; i++)
        corio_future_unref(fs[i]);
    return NULL;
}

Test(wait, compact_waiting_tasks, .timeout = 10)
{
    run_in_loop(compact_main, NULL);
    EV_EXPECT(1, 1, 1, 1);
}
