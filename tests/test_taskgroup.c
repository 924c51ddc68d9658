/* TaskGroup: the group waits for all its tasks; the first failure cancels the other tasks and the
 * body, and exit withdraws that cancellation of the owner; every error is kept; cancelling the
 * owner (in the body or in exit) cancels the group and propagates; errors win over an outside
 * cancellation, which is requested again; no task outlives the group; misuse gets a clear code
 * (CPython test_taskgroups.py: test_taskgroup_01 .. _23, test_taskgroup_cancel_children_on_child_error,
 * test_taskgroup_cancel_body_on_child_error, test_taskgroup_no_create_task_after_failure,
 * test_taskgroup_without_parent_task, test_taskgroup_double_enter, test_children_complete_on_child_error,
 * test_cancellation_in_body, test_taskgroup_task_cancelled_by_body; test_timeouts.py:
 * test_timeout_taskgroup). */
#include "combine_helpers.h"

static corio_task *self(void) { return corio_current_task(); }

static corio_taskgroup *group(void)
{
    corio_taskgroup *tg = NULL;
    cr_expect_eq(corio_taskgroup_new(&tg), 0);
    return tg;
}

static corio_task *add(corio_taskgroup *tg, corio_coro_fn fn, int arg)
{
    corio_task *t = NULL;
    cr_expect_eq(corio_taskgroup_create_task(&t, tg, fn, IV(arg), NULL), 0);
    return t;
}

static void add_anon(corio_taskgroup *tg, corio_coro_fn fn, int arg)
{
    cr_expect_eq(corio_taskgroup_create_task(NULL, tg, fn, IV(arg), NULL), 0);
}

/* Sleeps an hour; when cancelled, cleans up for 10 ms (an await) and logs 200 + arg. */
static void *slow_cleanup(void *arg)
{
    int rc = corio_sleep(3600);
    if (rc == -ECANCELED) {
        corio_sleep(0.01);
        ev(200 + VI(arg));
    }
    return corio_raise(rc);
}

/* Sleeps an hour; when cancelled, fails with -EPIPE instead. */
static void *fails_on_cancel(void *arg)
{
    (void)arg;
    int rc = corio_sleep(3600);
    return corio_raise(rc == -ECANCELED ? -EPIPE : rc);
}

/* Sleeps an hour; when cancelled, withdraws it, naps 10 ms and returns its argument. */
static void *declines_cancel(void *arg)
{
    if (corio_sleep(3600) == -ECANCELED)
        corio_task_uncancel(self());
    corio_sleep(0.01);
    return arg;
}

static void expect_errors(corio_taskgroup *tg, size_t n, const corio_task *const *tasks,
                          const int *errs)
{
    const corio_taskgroup_error *e = NULL;
    cr_expect_eq(corio_taskgroup_errors(tg, &e), n);
    for (size_t i = 0; i < n && e; i++) {
        cr_expect_eq(e[i].task, tasks[i], "error %zu: task", i);
        cr_expect_eq(e[i].err, errs[i], "error %zu: %s", i, corio_err_name(e[i].err));
    }
}

/* ---- all tasks finish ---- */

static void *results_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task *a = add(tg, nap_ms, 60), *b = add(tg, nap_ms, 10);
    cr_expect_eq(corio_taskgroup_wait(tg), 0);
    void *v;
    cr_expect_eq(corio_future_result(tf(a), &v), 0);
    cr_expect_eq(v, IV(60));
    cr_expect_eq(corio_future_result(tf(b), &v), 0);
    cr_expect_eq(v, IV(10));
    expect_errors(tg, 0, NULL, NULL);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    corio_task_unref(a);
    corio_task_unref(b);
    return NULL;
}

Test(taskgroup, waits_for_all_results, .timeout = 10)
{
    run_in_loop(results_main, NULL);
    EV_EXPECT(10, 60);
}

/* Tasks added from the body after an await and from a task of the group. */
static void *spawns_more(void *arg)
{
    corio_taskgroup *tg = arg;
    corio_sleep(0.05);
    cr_expect_eq(corio_taskgroup_create_task(NULL, tg, nap_ms, IV(10), NULL), 0);
    ev(1);
    return NULL;
}

static void *spawning_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    cr_expect_eq(corio_taskgroup_create_task(NULL, tg, spawns_more, tg, NULL), 0);
    corio_sleep(0);
    add_anon(tg, nap_ms, 5);
    cr_expect_eq(corio_taskgroup_wait(tg), 0);
    ev(2);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, tasks_added_later_are_awaited, .timeout = 10)
{
    run_in_loop(spawning_main, NULL);
    EV_EXPECT(5, 1, 10, 2);
}

static void *done_before_exit_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    add_anon(tg, nap_ms, 5);
    corio_sleep(0.05);
    cr_expect_eq(corio_taskgroup_wait(tg), 0);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    tg = group();
    cr_expect_eq(corio_taskgroup_wait(tg), 0, "an empty group");
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, done_before_exit_and_empty, .timeout = 10)
{
    run_in_loop(done_before_exit_main, NULL);
}

static void *many_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    for (int i = 0; i < 1000; i++)
        cr_expect_eq(corio_taskgroup_create_task(NULL, tg, nap_ms, IV(1), NULL), 0);
    cr_expect_eq(corio_taskgroup_wait(tg), 0);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, thousand_tasks, .timeout = 20)
{
    run_in_loop(many_main, NULL);
    cr_assert_eq(ev_n, 1000);
}

/* ---- a task fails: the others and the body are cancelled ---- */

static void *child_error_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task *bad = add(tg, fail_after_nap, -EIO), *other = add(tg, sleep_long, 1);
    int rc = corio_sleep(10);
    cr_expect_eq(rc, -ECANCELED, "the body is cancelled by the group");
    rc = corio_taskgroup_exit(tg, rc);
    cr_expect_eq(rc, -EIO);
    expect_errors(tg, 1, (const corio_task *[]){bad}, (int[]){-EIO});
    cr_expect(corio_future_cancelled(tf(other)));
    cr_expect_eq(corio_task_cancelling(self()), 0, "the group withdrew its own cancellation");
    cr_expect_eq(corio_sleep(0.001), 0, "the owner goes on after the group");
    cr_expect_eq(corio_taskgroup_create_task(NULL, tg, nap_ms, IV(1), NULL), CORIO_EINVALSTATE,
                 "finished");
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    corio_task_unref(bad);
    corio_task_unref(other);
    return NULL;
}

Test(taskgroup, child_error_cancels_siblings_and_body, .timeout = 10)
{
    run_in_loop(child_error_main, NULL);
    EV_EXPECT(101);
}

/* The group retrieves its tasks' errors: debug mode reports none as never retrieved. */
Test(taskgroup, errors_count_as_retrieved, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(run_main(loop, child_error_main, NULL, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(cap.n, 0, "reported: %s", cap.message[0]);
}

static void *error_in_exit_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    add_anon(tg, fail_after_nap, -EIO);
    add_anon(tg, slow_cleanup, 2);
    cr_expect_eq(corio_taskgroup_wait(tg), -EIO);
    ev(1); /* after the cleanup: no task outlives the group */
    cr_expect_eq(corio_task_cancelling(self()), 0);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, child_error_while_owner_waits, .timeout = 10)
{
    run_in_loop(error_in_exit_main, NULL);
    EV_EXPECT(202, 1);
}

static void *two_errors_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task *a = add(tg, fail_after_nap, -EIO), *b = add(tg, fails_on_cancel, 0);
    corio_task *c = add(tg, nap_ms, 1);
    cr_expect_eq(corio_taskgroup_wait(tg), -EIO, "the first error");
    expect_errors(tg, 2, (const corio_task *[]){a, b}, (int[]){-EIO, -EPIPE});
    cr_expect_eq(corio_future_error(tf(c)), 0);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    corio_task_unref(a);
    corio_task_unref(b);
    corio_task_unref(c);
    return NULL;
}

Test(taskgroup, every_error_is_kept, .timeout = 10)
{
    run_in_loop(two_errors_main, NULL);
}

static void *failed_group_refuses_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    add_anon(tg, fail_now, -EIO);
    int rc = corio_sleep(10);
    cr_expect_eq(rc, -ECANCELED);
    corio_task *t = IV(1);
    cr_expect_eq(corio_taskgroup_create_task(&t, tg, nap_ms, IV(1), NULL), CORIO_EINVALSTATE,
                 "shutting down");
    cr_expect_null(t);
    cr_expect_eq(corio_taskgroup_exit(tg, rc), -EIO);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, no_create_task_after_failure, .timeout = 10)
{
    run_in_loop(failed_group_refuses_main, NULL);
    cr_assert_eq(ev_n, 0);
}

static void *declines_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task *t = add(tg, declines_cancel, 7);
    add_anon(tg, fail_after_nap, -EIO);
    cr_expect_eq(corio_taskgroup_wait(tg), -EIO);
    void *v;
    cr_expect_eq(corio_future_result(tf(t), &v), 0, "it declined the cancellation");
    cr_expect_eq(v, IV(7));
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    corio_task_unref(t);
    return NULL;
}

Test(taskgroup, task_that_declines_cancellation, .timeout = 10)
{
    run_in_loop(declines_main, NULL);
}

/* A task cancelled by the body is not an error. */
static void *body_cancels_child_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task *t = add(tg, sleep_long, 1);
    add_anon(tg, nap_ms, 5);
    corio_sleep(0);
    corio_task_cancel(t, NULL);
    cr_expect_eq(corio_taskgroup_wait(tg), 0);
    expect_errors(tg, 0, NULL, NULL);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    corio_task_unref(t);
    return NULL;
}

Test(taskgroup, cancelled_task_is_not_an_error, .timeout = 10)
{
    run_in_loop(body_cancels_child_main, NULL);
    EV_EXPECT(101, 5);
}

/* ---- the body fails ---- */

static void *body_error_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    add_anon(tg, sleep_long, 1);
    add_anon(tg, slow_cleanup, 2);
    corio_sleep(0);
    cr_expect_eq(corio_taskgroup_exit(tg, -EINVAL), -EINVAL);
    ev(1);
    expect_errors(tg, 1, (const corio_task *[]){NULL}, (int[]){-EINVAL});
    cr_expect_eq(corio_task_cancelling(self()), 0);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, body_error_cancels_tasks, .timeout = 10)
{
    run_in_loop(body_error_main, NULL);
    EV_EXPECT(101, 202, 1);
}

static void *body_and_child_error_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task *bad = add(tg, fail_after_nap, -EIO);
    cr_expect_eq(corio_sleep(10), -ECANCELED);
    /* the body's cleanup fails in turn */
    cr_expect_eq(corio_taskgroup_exit(tg, -ENOENT), -EIO, "the task's error came first");
    expect_errors(tg, 2, (const corio_task *[]){bad, NULL}, (int[]){-EIO, -ENOENT});
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    corio_task_unref(bad);
    return NULL;
}

Test(taskgroup, body_error_recorded_last, .timeout = 10)
{
    run_in_loop(body_and_child_error_main, NULL);
}

/* ---- the owner is cancelled from outside ---- */

struct owner_result {
    int body_rc, exit_rc, cancelling, after_rc;
};

static void *owner_cancelled_in_body(void *arg)
{
    struct owner_result *r = arg;
    corio_taskgroup *tg = group();
    add_anon(tg, sleep_long, 1);
    add_anon(tg, slow_cleanup, 2);
    r->body_rc = corio_sleep(10);
    r->exit_rc = corio_taskgroup_exit(tg, r->body_rc);
    ev(1);
    r->cancelling = corio_task_cancelling(self());
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return corio_raise(r->exit_rc);
}

static void *owner_cancelled_in_exit(void *arg)
{
    struct owner_result *r = arg;
    corio_taskgroup *tg = group();
    add_anon(tg, sleep_long, 1);
    add_anon(tg, slow_cleanup, 2);
    r->exit_rc = corio_taskgroup_wait(tg);
    ev(1);
    r->cancelling = corio_task_cancelling(self());
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return corio_raise(r->exit_rc);
}

static void *cancel_owner_main(void *arg)
{
    struct owner_result r = {1, 1, -1, 1};
    corio_task *owner = spawn_opts(arg, &r, NULL);
    corio_sleep(0.01);
    corio_task_cancel(owner, NULL);
    cr_expect_eq(corio_await(tf(owner), NULL), -ECANCELED);
    if (arg == owner_cancelled_in_body)
        cr_expect_eq(r.body_rc, -ECANCELED);
    cr_expect_eq(r.exit_rc, -ECANCELED, "the outside cancellation propagates");
    cr_expect_eq(r.cancelling, 1, "and stays counted");
    corio_task_unref(owner);
    return NULL;
}

Test(taskgroup, owner_cancelled_in_body, .timeout = 10)
{
    run_in_loop(cancel_owner_main, owner_cancelled_in_body);
    EV_EXPECT(101, 202, 1);
}

Test(taskgroup, owner_cancelled_in_exit, .timeout = 10)
{
    run_in_loop(cancel_owner_main, owner_cancelled_in_exit);
    EV_EXPECT(101, 202, 1);
}

/* The owner's cancellation is requested before it reaches exit, with no await in between. */
static void *cancel_before_exit_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    add_anon(tg, slow_cleanup, 1);
    corio_task_cancel(self(), NULL);
    cr_expect_eq(corio_taskgroup_wait(tg), -ECANCELED);
    ev(1);
    cr_expect_eq(corio_task_uncancel(self()), 0);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return NULL;
}

Test(taskgroup, owner_cancelled_just_before_exit, .timeout = 10)
{
    run_in_loop(cancel_before_exit_main, NULL);
    EV_EXPECT(201, 1);
}

/* Cancelled from outside while waiting, and a task fails as it is cancelled: the error wins, and
 * the owner's cancellation is requested again for its next await. */
static void *owner_error_wins(void *arg)
{
    struct owner_result *r = arg;
    corio_taskgroup *tg = group();
    add_anon(tg, fails_on_cancel, 0);
    r->exit_rc = corio_taskgroup_wait(tg);
    r->cancelling = corio_task_cancelling(self());
    r->after_rc = corio_sleep(0.001);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return corio_raise(r->after_rc);
}

static void *error_wins_main(void *arg)
{
    (void)arg;
    struct owner_result r = {1, 1, -1, 1};
    corio_task *owner = spawn_opts(owner_error_wins, &r, NULL);
    corio_sleep(0.01);
    corio_task_cancel(owner, NULL);
    cr_expect_eq(corio_await(tf(owner), NULL), -ECANCELED);
    cr_expect_eq(r.exit_rc, -EPIPE, "errors win over the cancellation");
    cr_expect_eq(r.cancelling, 1);
    cr_expect_eq(r.after_rc, -ECANCELED, "re-requested: the next await is cancelled");
    corio_task_unref(owner);
    return NULL;
}

Test(taskgroup, errors_win_over_outside_cancel, .timeout = 10)
{
    run_in_loop(error_wins_main, NULL);
}

/* ---- nested groups ---- */

static void *inner_group(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    add_anon(tg, fail_after_nap, -EIO);
    add_anon(tg, sleep_long, 3);
    int rc = corio_taskgroup_wait(tg);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return corio_raise(rc);
}

static void *nested_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task *child = add(tg, inner_group, 0);
    add_anon(tg, sleep_long, 4);
    cr_expect_eq(corio_taskgroup_wait(tg), -EIO);
    expect_errors(tg, 1, (const corio_task *[]){child}, (int[]){-EIO});
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    corio_task_unref(child);
    return NULL;
}

Test(taskgroup, nested_groups, .timeout = 10)
{
    run_in_loop(nested_main, NULL);
    EV_EXPECT(103, 104);
}

/* ---- with a timeout scope around it ---- */

static void *timeout_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = NULL;
    cr_expect_eq(corio_timeout_enter(&tm, 0.01), 0);
    corio_taskgroup *tg = group();
    add_anon(tg, sleep_long, 1);
    add_anon(tg, slow_cleanup, 2);
    int rc = corio_taskgroup_exit(tg, corio_sleep(10));
    cr_expect_eq(rc, -ECANCELED);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    cr_expect_eq(corio_timeout_exit(tm, rc), -ETIMEDOUT);
    cr_expect_eq(corio_task_cancelling(self()), 0);
    return NULL;
}

Test(taskgroup, inside_timeout_scope, .timeout = 10)
{
    run_in_loop(timeout_main, NULL);
    EV_EXPECT(101, 202);
}

static void *timeout_in_exit_main(void *arg)
{
    (void)arg;
    corio_timeout *tm = NULL;
    cr_expect_eq(corio_timeout_enter(&tm, 0.01), 0);
    corio_taskgroup *tg = group();
    add_anon(tg, slow_cleanup, 1);
    int rc = corio_taskgroup_wait(tg);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    cr_expect_eq(corio_timeout_exit(tm, rc), -ETIMEDOUT);
    return NULL;
}

Test(taskgroup, timeout_while_waiting_in_exit, .timeout = 10)
{
    run_in_loop(timeout_in_exit_main, NULL);
    EV_EXPECT(201);
}

/* ---- compact owner and tasks ---- */

static void *compact_owner(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task_opts opts = {.flags = CORIO_TASK_COMPACT};
    for (int i = 0; i < 20; i++)
        cr_expect_eq(corio_taskgroup_create_task(NULL, tg, nap_ms, IV(1 + i % 3), &opts), 0);
    cr_expect_eq(corio_taskgroup_create_task(NULL, tg, fail_after_nap, IV(-EIO), &opts), 0);
    cr_expect_eq(corio_taskgroup_create_task(NULL, tg, slow_cleanup, IV(0), &opts), 0);
    int rc = corio_taskgroup_wait(tg);
    int freed = corio_taskgroup_free(tg);
    return IV(rc == -EIO && freed == 0 ? 0 : -1);
}

static void *compact_main(void *arg)
{
    (void)arg;
    const corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};
    corio_task *t = spawn_opts(compact_owner, NULL, &compact);
    void *v = IV(1);
    cr_expect_eq(corio_await(tf(t), &v), 0);
    cr_expect_eq(v, IV(0));
    corio_task_unref(t);
    return NULL;
}

Test(taskgroup, compact_tasks, .timeout = 10)
{
    run_in_loop(compact_main, NULL);
}

/* ---- freeing: refused while the owner waits in exit, leaving early, loop close ---- */

struct busy_free {
    corio_taskgroup *tg;
    int rc;
};

/* A task of the group that tries to free it while the owner waits in exit. */
static void *frees_its_group(void *arg)
{
    struct busy_free *b = arg;
    corio_sleep(0.01); /* the owner waits in exit by now */
    b->rc = corio_taskgroup_free(b->tg);
    ev(1);
    return NULL;
}

static void *busy_free_main(void *arg)
{
    (void)arg;
    struct busy_free b = {group(), 1};
    cr_expect_eq(corio_taskgroup_create_task(NULL, b.tg, frees_its_group, &b, NULL), 0);
    add_anon(b.tg, nap_ms, 20);
    cr_expect_eq(corio_taskgroup_wait(b.tg), 0, "the refused free changed nothing");
    ev(2);
    cr_expect_eq(b.rc, -EBUSY);
    cr_expect_eq(corio_taskgroup_free(b.tg), 0, "the owner has left exit");
    return NULL;
}

Test(taskgroup, free_while_owner_waits_in_exit_is_refused, .timeout = 10)
{
    run_in_loop(busy_free_main, NULL);
    EV_EXPECT(1, 20, 2);
}

static void *free_early_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    corio_task *t = add(tg, sleep_long, 1);
    corio_sleep(0);
    cr_expect_eq(corio_taskgroup_free(tg), 0); /* without exit: the tasks are cancelled */
    cr_expect_eq(corio_await(tf(t), NULL), -ECANCELED);
    corio_task_unref(t);
    return NULL;
}

Test(taskgroup, free_without_exit_cancels_tasks, .timeout = 10)
{
    run_in_loop(free_early_main, NULL);
    EV_EXPECT(101);
}

static int close_exit_rc = 1, close_free_rc = 1;

static void *close_owner(void *arg)
{
    (void)arg;
    corio_taskgroup *tg = group();
    add_anon(tg, sleep_long, 1);
    add_anon(tg, slow_cleanup, 2);
    close_exit_rc = corio_taskgroup_wait(tg);
    close_free_rc = corio_taskgroup_free(tg);
    return NULL;
}

Test(taskgroup, loop_close_while_owner_waits, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *owner;
    cr_assert_eq(corio_create_task(&owner, loop, close_owner, NULL, NULL), 0);
    run_once(loop);
    run_once(loop);
    cr_assert_eq(corio_future_get_state(tf(owner)), CORIO_FUTURE_PENDING);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(close_exit_rc, -ECANCELED, "exit gives up when the loop destroys its owner");
    cr_assert_eq(close_free_rc, 0, "and the group can be freed after it");
    cr_assert_eq(cap.n, 3, "three pending tasks reported");
    corio_task_unref(owner);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- misuse ---- */

static void *exit_from_other(void *arg) { return IV(corio_taskgroup_wait(arg)); }

static void *misuse_main(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_taskgroup_new(NULL), -EINVAL);
    corio_taskgroup *tg = group();
    cr_expect_eq(corio_taskgroup_create_task(NULL, NULL, nap_ms, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_taskgroup_create_task(NULL, tg, NULL, NULL, NULL), -EINVAL);
    corio_task *t = spawn_opts(exit_from_other, tg, NULL);
    void *v;
    corio_await(tf(t), &v);
    cr_expect_eq(VI(v), -EINVAL, "only the owner exits");
    corio_task_unref(t);
    cr_expect_eq(corio_taskgroup_wait(tg), 0);
    cr_expect_eq(corio_taskgroup_wait(tg), CORIO_EINVALSTATE, "exit twice");
    cr_expect_eq(corio_taskgroup_exit(NULL, 0), -EINVAL);
    cr_expect_eq(corio_taskgroup_errors(NULL, NULL), 0);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    cr_expect_eq(corio_taskgroup_free(NULL), 0);
    return NULL;
}

Test(taskgroup, misuse, .timeout = 10)
{
    run_in_loop(misuse_main, NULL);
    corio_taskgroup *tg = IV(1);
    cr_assert_eq(corio_taskgroup_new(&tg), CORIO_ENOTASK);
    cr_assert_null(tg);
    cr_assert_eq(corio_taskgroup_wait(NULL), CORIO_ENOTASK);
}
