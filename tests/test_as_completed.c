/* as_completed: futures in completion order (those done on entry first, in argument order), one
 * deadline over the iteration that reports each future still pending as one -ETIMEDOUT, the
 * waiting task cancelled at next(), duplicates, an empty set, bad arguments, freeing early
 * (CPython test_tasks.py: test_as_completed, test_as_completed_with_timeout,
 * test_as_completed_with_unused_timeout, test_as_completed_reverse_wait,
 * test_as_completed_concurrent, test_as_completed_duplicate_coroutines,
 * test_as_completed_invalid_args, test_as_completed_resume_iterator). */
#include "combine_helpers.h"

static corio_as_completed *iter(corio_future *const *fs, size_t n, double timeout)
{
    corio_as_completed *it = NULL;
    cr_expect_eq(corio_as_completed_new(&it, fs, n, timeout), 0);
    return it;
}

/* ---- completion order ---- */

static void *order_main(void *arg)
{
    (void)arg;
    corio_task *t[3] = {spawn(nap_ms, 90), spawn(nap_ms, 30), spawn(nap_ms, 60)};
    corio_future *fs[3] = {tf(t[0]), tf(t[1]), tf(t[2])};
    corio_as_completed *it = iter(fs, 3, CORIO_FOREVER);
    corio_future *f;
    void *v;
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(corio_as_completed_next(it, &f), 1);
        cr_expect_eq(corio_future_result(f, &v), 0);
        ev(1000 + VI(v));
    }
    cr_expect_eq(corio_as_completed_next(it, &f), 0, "the end");
    cr_expect_null(f);
    cr_expect_eq(corio_as_completed_next(it, &f), 0, "and it stays at the end");
    cr_expect_eq(corio_as_completed_free(it), 0);
    for (int i = 0; i < 3; i++)
        corio_task_unref(t[i]);
    return NULL;
}

Test(as_completed, completion_order, .timeout = 10)
{
    run_in_loop(order_main, NULL);
    EV_EXPECT(30, 1030, 60, 1060, 90, 1090);
}

/* Done on entry: first, in argument order; then the others as they complete. */
static void *done_first_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 10);
    corio_future *a = new_future_on(NULL), *b = new_future_on(NULL);
    corio_future_set_result(b, IV(2));
    corio_future_set_error(a, -EIO);
    corio_future *fs[3] = {tf(t), a, b};
    corio_as_completed *it = iter(fs, 3, -2.5); /* any negative timeout: none */
    corio_future *f;
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(f, a);
    cr_expect_eq(corio_future_error(f), -EIO);
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(f, b);
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(f, tf(t));
    cr_expect_eq(corio_as_completed_next(it, &f), 0);
    cr_expect_eq(corio_as_completed_free(it), 0);
    corio_future_unref(a);
    corio_future_unref(b);
    corio_task_unref(t);
    return NULL;
}

Test(as_completed, done_on_entry_first, .timeout = 10)
{
    run_in_loop(done_first_main, NULL);
}

/* ---- the deadline ---- */

static void *timeout_main(void *arg)
{
    (void)arg;
    corio_task *t[3] = {spawn(sleep_long, 0), spawn(nap_ms, 10), spawn(sleep_long, 2)};
    corio_future *fs[3] = {tf(t[0]), tf(t[1]), tf(t[2])};
    corio_as_completed *it = iter(fs, 3, 0.1);
    corio_future *f;
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(f, fs[1]);
    double t0 = loop_now();
    cr_expect_eq(corio_as_completed_next(it, &f), -ETIMEDOUT);
    cr_expect_null(f);
    cr_expect_gt(loop_now() - t0, 0.05, "at the deadline, not before");
    cr_expect_eq(corio_as_completed_next(it, &f), -ETIMEDOUT, "one per pending future");
    cr_expect_eq(corio_as_completed_next(it, &f), 0);
    cr_expect_eq(corio_future_get_state(fs[0]), CORIO_FUTURE_PENDING, "nothing is cancelled");
    cr_expect_eq(corio_as_completed_free(it), 0);
    for (int i = 0; i < 3; i++)
        cancel_and_drop(t[i]);
    return NULL;
}

Test(as_completed, timeout_once_per_pending_future, .timeout = 10)
{
    run_in_loop(timeout_main, NULL);
    EV_EXPECT(10, 100, 102);
}

/* Completed before the deadline but not yet taken: still returned before the timeouts. */
static void *late_reader_main(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(nap_ms, 5), spawn(sleep_long, 1)};
    corio_future *fs[2] = {tf(t[0]), tf(t[1])};
    corio_as_completed *it = iter(fs, 2, 0.05);
    corio_sleep(0.1); /* past the deadline before the first next() */
    corio_future *f;
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(f, fs[0]);
    cr_expect_eq(corio_as_completed_next(it, &f), -ETIMEDOUT);
    cr_expect_eq(corio_as_completed_next(it, &f), 0);
    cr_expect_eq(corio_as_completed_free(it), 0);
    cancel_and_drop(t[0]);
    cancel_and_drop(t[1]);
    return NULL;
}

Test(as_completed, completed_before_deadline_come_first, .timeout = 10)
{
    run_in_loop(late_reader_main, NULL);
}

static void *unused_timeout_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 5);
    corio_future *fs[1] = {tf(t)};
    corio_as_completed *it = iter(fs, 1, 60);
    corio_future *f;
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(corio_as_completed_next(it, &f), 0);
    cr_expect_eq(corio_as_completed_free(it), 0);
    corio_task_unref(t);
    return NULL;
}

Test(as_completed, unused_timeout, .timeout = 10)
{
    double t0 = now_s();
    run_in_real_loop(unused_timeout_main, NULL);
    cr_assert_lt(now_s() - t0, 30.0);
}

/* ---- the reading task is cancelled in next(): nothing is consumed ---- */

struct reader {
    corio_as_completed *it;
    int rc[2];
    corio_future *got;
};

static void *reads_twice(void *arg)
{
    struct reader *r = arg;
    corio_future *f;
    r->rc[0] = corio_as_completed_next(r->it, &f);
    cr_expect_null(f);
    corio_task_uncancel(corio_current_task());
    r->rc[1] = corio_as_completed_next(r->it, &r->got);
    return NULL;
}

static void *cancel_reader_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 200);
    corio_future *fs[1] = {tf(t)};
    struct reader r = {.it = iter(fs, 1, CORIO_FOREVER)};
    corio_task *reader = spawn_opts(reads_twice, &r, NULL);
    corio_sleep(0.005);
    corio_task_cancel(reader, NULL);
    cr_expect_eq(corio_await(tf(reader), NULL), 0);
    cr_expect_eq(r.rc[0], -ECANCELED);
    cr_expect_eq(r.rc[1], 1, "the iteration went on after the cancellation");
    cr_expect_eq(r.got, fs[0]);
    cr_expect_eq(corio_future_get_state(fs[0]), CORIO_FUTURE_FINISHED,
                 "the future was not cancelled");
    cr_expect_eq(corio_as_completed_free(r.it), 0);
    corio_task_unref(reader);
    corio_task_unref(t);
    return NULL;
}

Test(as_completed, cancelled_reader_consumes_nothing, .timeout = 10)
{
    run_in_loop(cancel_reader_main, NULL);
    EV_EXPECT(200);
}

/* The cancellation was requested before next(): delivered there, and nothing is consumed. */
static void *cancel_before_next_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 5);
    corio_future *fs[1] = {tf(t)};
    corio_as_completed *it = iter(fs, 1, 1.0);
    corio_future *f;
    corio_task_cancel(corio_current_task(), NULL);
    cr_expect_eq(corio_as_completed_next(it, &f), -ECANCELED);
    cr_expect_eq(corio_task_uncancel(corio_current_task()), 0);
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(f, fs[0]);
    cr_expect_eq(corio_as_completed_free(it), 0);
    corio_task_unref(t);
    return NULL;
}

Test(as_completed, cancel_requested_before_next, .timeout = 10)
{
    run_in_loop(cancel_before_next_main, NULL);
}

/* While one task waits in next(), another one's next() is refused. */
static void *first_reader(void *arg)
{
    corio_future *f;
    int rc = corio_as_completed_next(arg, &f);
    return IV(rc == 1 ? 0 : rc);
}

static void *two_readers_main(void *arg)
{
    (void)arg;
    corio_future *p = new_future_on(NULL);
    corio_as_completed *it = iter(&p, 1, CORIO_FOREVER);
    corio_task *reader = spawn_opts(first_reader, it, NULL);
    corio_sleep(0); /* the reader waits in next() now */
    corio_future *f = IV(1);
    cr_expect_eq(corio_as_completed_next(it, &f), -EINVAL);
    cr_expect_null(f);
    cr_expect_eq(corio_as_completed_free(it), -EBUSY, "refused while the reader waits");
    corio_future_set_result(p, NULL);
    void *v = IV(1);
    cr_expect_eq(corio_await(tf(reader), &v), 0);
    cr_expect_eq(v, IV(0), "the waiting reader got the future: the iterator was not freed");
    corio_task_unref(reader);
    cr_expect_eq(corio_as_completed_free(it), 0);
    corio_future_unref(p);
    return NULL;
}

Test(as_completed, one_reader_at_a_time, .timeout = 10)
{
    run_in_loop(two_readers_main, NULL);
}

static int busy_reader_rc = 1;

static void *busy_reader(void *arg)
{
    corio_future *f;
    busy_reader_rc = corio_as_completed_next(arg, &f);
    return corio_raise(busy_reader_rc);
}

/* Freeing while a task waits in next() is refused (nothing freed); once that task has left
 * (cancelled here), the iterator goes, and the futures keep running. */
static void *busy_free_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 50);
    corio_future *fs[1] = {tf(t)};
    corio_as_completed *it = iter(fs, 1, CORIO_FOREVER);
    corio_task *reader = spawn_opts(busy_reader, it, NULL);
    corio_sleep(0);
    cr_expect_eq(corio_as_completed_free(it), -EBUSY);
    cr_expect_eq(corio_as_completed_free(it), -EBUSY, "still refused: nothing changed");
    cr_expect_eq(corio_task_cancel(reader, NULL), 1);
    cr_expect_eq(corio_await(tf(reader), NULL), -ECANCELED);
    cr_expect_eq(busy_reader_rc, -ECANCELED, "next() returned -ECANCELED to the reader");
    corio_task_unref(reader);
    cr_expect_eq(corio_as_completed_free(it), 0, "nobody waits now");
    cr_expect_eq(corio_future_get_state(fs[0]), CORIO_FUTURE_PENDING, "nothing is cancelled");
    void *v = NULL;
    cr_expect_eq(corio_await(fs[0], &v), 0);
    cr_expect_eq(v, IV(50));
    corio_task_unref(t);
    return NULL;
}

Test(as_completed, free_while_a_task_waits_is_refused, .timeout = 10)
{
    run_in_loop(busy_free_main, NULL);
    EV_EXPECT(50);
}

/* ---- duplicates, empty, early free, bad arguments ---- */

static void *duplicates_main(void *arg)
{
    (void)arg;
    corio_task *t = spawn(nap_ms, 5);
    corio_future *fs[2] = {tf(t), tf(t)};
    corio_as_completed *it = iter(fs, 2, 1.0);
    corio_future *f;
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(corio_as_completed_next(it, &f), 1, "listed twice, returned twice");
    cr_expect_eq(corio_as_completed_next(it, &f), 0);
    cr_expect_eq(corio_as_completed_free(it), 0);
    corio_task_unref(t);
    return NULL;
}

Test(as_completed, duplicate_futures, .timeout = 10)
{
    run_in_loop(duplicates_main, NULL);
}

static void *empty_main(void *arg)
{
    (void)arg;
    corio_as_completed *it = iter(NULL, 0, 1.0);
    corio_future *f;
    cr_expect_eq(corio_as_completed_next(it, &f), 0);
    cr_expect_eq(corio_as_completed_free(it), 0);
    return NULL;
}

Test(as_completed, empty_set, .timeout = 10)
{
    run_in_loop(empty_main, NULL);
}

static void *early_free_main(void *arg)
{
    (void)arg;
    corio_task *t[2] = {spawn(nap_ms, 10), spawn(nap_ms, 60)};
    corio_future *fs[2] = {tf(t[0]), tf(t[1])};
    corio_as_completed *it = iter(fs, 2, 0.5);
    corio_future *f;
    cr_expect_eq(corio_as_completed_next(it, &f), 1);
    cr_expect_eq(corio_as_completed_free(it), 0); /* t[1] still runs, no longer watched */
    cr_expect_eq(corio_await(fs[1], NULL), 0);
    corio_task_unref(t[0]);
    corio_task_unref(t[1]);
    return NULL;
}

Test(as_completed, free_before_the_end, .timeout = 10)
{
    run_in_loop(early_free_main, NULL);
    EV_EXPECT(10, 60);
}

Test(as_completed, invalid_arguments, .timeout = 10)
{
    corio_loop *loop = new_loop(), *other = new_loop();
    corio_future *f, *g;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_new(&g, other), 0);
    corio_future *fs[2] = {f, NULL}, *mixed[2] = {f, g};
    corio_as_completed *it = IV(1);
    cr_assert_eq(corio_as_completed_new(NULL, fs, 1, 1.0), -EINVAL);
    cr_assert_eq(corio_as_completed_new(&it, fs, 2, 1.0), -EINVAL);
    cr_assert_null(it);
    cr_assert_eq(corio_as_completed_new(&it, NULL, 1, 1.0), -EINVAL);
    cr_assert_eq(corio_as_completed_new(&it, fs, 1, NAN), -EINVAL);
    cr_assert_eq(corio_as_completed_new(&it, mixed, 2, 1.0), -EINVAL);
    cr_assert_eq(corio_as_completed_new(&it, fs, 1, 1.0), 0, "creatable outside a task");
    corio_future *out = IV(1);
    cr_assert_eq(corio_as_completed_next(it, &out), CORIO_ENOTASK);
    cr_assert_null(out);
    cr_assert_eq(corio_as_completed_next(NULL, &out), -EINVAL);
    cr_assert_eq(corio_as_completed_free(it), 0);
    cr_assert_eq(corio_as_completed_free(NULL), 0);
    /* n == 0 names no loop: the running or current one, else CORIO_ENOLOOP */
    it = IV(1);
    cr_assert_eq(corio_as_completed_new(&it, NULL, 0, 1.0), CORIO_ENOLOOP);
    cr_assert_null(it);
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_as_completed_new(&it, NULL, 0, 1.0), 0, "n == 0: the current loop");
    cr_assert_eq(corio_as_completed_free(it), 0);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_future_unref(f);
    corio_future_unref(g);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(corio_loop_free(other), 0);
}

/* ---- compact readers ---- */

static void *compact_reader(void *arg)
{
    corio_task **t = arg;
    corio_future *fs[3] = {tf(t[0]), tf(t[1]), tf(t[2])};
    corio_as_completed *it = iter(fs, 3, 5.0);
    corio_future *f;
    int seen = 0;
    while (corio_as_completed_next(it, &f) == 1)
        seen++;
    cr_expect_eq(corio_as_completed_free(it), 0);
    cr_expect_eq(seen, 3);
    return NULL;
}

static void *compact_main(void *arg)
{
    (void)arg;
    corio_task *t[3] = {spawn(nap_ms, 30), spawn(nap_ms, 10), spawn(nap_ms, 20)};
    const corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};
    corio_task *r[3];
    for (int i = 0; i < 3; i++)
        r[i] = spawn_opts(compact_reader, t, &compact);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(corio_await(tf(r[i]), NULL), 0);
        corio_task_unref(r[i]);
        corio_task_unref(t[i]);
    }
    return NULL;
}

Test(as_completed, compact_readers, .timeout = 10)
{
    run_in_loop(compact_main, NULL);
}
