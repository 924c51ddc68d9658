/* Tasks: creation only schedules, results and errors propagate, await rules, current_task,
 * all_tasks, names (CPython test_tasks.py: test_task_basics, test_create_task_*, test_await_*,
 * test_current_task, test_all_tasks, test_task_set_name_*, ...). */
#include "core_helpers.h"

static int ran;

static void *set_ran(void *arg)
{
    ran++;
    return arg;
}

Test(task_basics, create_task_does_not_run_fn, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, set_ran, IV(42), NULL), 0);
    cr_assert_eq(ran, 0, "fn must not start inside create_task");
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_PENDING);
    cr_assert_eq(corio_future_get_loop(corio_task_future(t)), loop);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(ran, 1);
    cr_assert_eq(res, IV(42));
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_FINISHED);
    res = NULL;
    cr_assert_eq(corio_future_result(corio_task_future(t), &res), 0);
    cr_assert_eq(res, IV(42));
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(task_basics, create_task_uses_current_loop, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, NULL, set_ran, IV(7), NULL), 0);
    cr_assert_eq(corio_future_get_loop(corio_task_future(t)), loop);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(res, IV(7));
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(task_basics, create_task_without_loop_is_enoloop, .timeout = 10)
{
    /* No running loop, no current loop: CORIO_ENOLOOP, and no loop is created on the way. */
    corio_task *t = SENTINEL;
    cr_assert_eq(corio_create_task(&t, NULL, set_ran, NULL, NULL), CORIO_ENOLOOP);
    cr_assert_null(t, "*out is set to NULL on failure");
    cr_assert_null(corio_get_event_loop());
    cr_assert_eq(ran, 0);
}

Test(task_basics, create_task_argument_errors, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t = SENTINEL;
    cr_assert_eq(corio_create_task(&t, loop, NULL, NULL, NULL), -EINVAL, "NULL fn");
    cr_assert_null(t);
    cr_assert_eq(corio_all_tasks(loop, NULL, 0), 0, "nothing was scheduled");
    cr_assert_eq(corio_loop_close(loop), 0);
    t = SENTINEL;
    cr_assert_eq(corio_create_task(&t, loop, set_ran, NULL, NULL), CORIO_ECLOSED);
    cr_assert_null(t);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(ran, 0);
}

Test(task_basics, create_task_fire_and_forget_null_out, .timeout = 10)
{
    /* out may be NULL: the loop keeps the task until it is done. */
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_create_task(NULL, loop, set_ran, IV(5), NULL), 0);
    cr_assert_eq(corio_all_tasks(loop, NULL, 0), 1);
    run_once(loop);
    cr_assert_eq(ran, 1);
    cr_assert_eq(corio_all_tasks(loop, NULL, 0), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

static void *log_arg(void *arg)
{
    ev(VI(arg));
    return NULL;
}

Test(task_basics, tasks_start_in_creation_order, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t[5];
    for (int i = 0; i < 5; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, log_arg, IV(i + 1), NULL), 0);
    run_task(loop, t[4], NULL);
    EV_EXPECT(1, 2, 3, 4, 5);
    for (int i = 0; i < 5; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

static void log_cb(void *arg) { ev(VI(arg)); }

Test(task_basics, first_step_is_a_ready_callback, .timeout = 10)
{
    /* Creating a task schedules its first step FIFO with other ready callbacks. */
    corio_loop *loop = new_loop();
    corio_loop_call_soon(NULL, loop, log_cb, IV(1));
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, log_arg, IV(2), NULL), 0);
    corio_loop_call_soon(NULL, loop, log_cb, IV(3));
    run_once(loop);
    EV_EXPECT(1, 2, 3);
    cr_assert(corio_future_done(corio_task_future(t)));
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(task_basics, fire_and_forget, .timeout = 10)
{
    /* The loop holds its own reference to a pending task. */
    corio_loop *loop = new_loop();
    for (int i = 0; i < 3; i++) {
        corio_task *t;
        cr_assert_eq(corio_create_task(&t, loop, log_arg, IV(i + 1), NULL), 0);
        corio_task_unref(t);
    }
    run_once(loop);
    EV_EXPECT(1, 2, 3);
    corio_loop_free(loop);
}

static void *sleeper_logs(void *arg)
{
    corio_sleep(0.01);
    ev(VI(arg));
    return arg;
}

Test(task_basics, fire_and_forget_across_awaits, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, sleeper_logs, IV(1), NULL), 0);
    corio_task_unref(t);
    corio_task *u;
    cr_assert_eq(corio_create_task(&u, loop, sleeper_logs, IV(2), NULL), 0);
    run_task(loop, u, NULL);
    corio_task_unref(u);
    EV_EXPECT(1, 2);
    corio_loop_free(loop);
}

static void *raise_arg(void *arg) { return corio_raise(VI(arg)); }

Test(task_basics, raise_finishes_with_error, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, raise_arg, IV(-EPIPE), NULL), 0);
    void *res = IV(1);
    cr_assert_eq(run_task(loop, t, &res), -EPIPE);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_FINISHED);
    cr_assert_eq(corio_future_error(corio_task_future(t)), -EPIPE);
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(task_basics, raise_ecanceled_ends_cancelled, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, raise_arg, IV(-ECANCELED), NULL), 0);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(corio_future_get_state(corio_task_future(t)), CORIO_FUTURE_CANCELLED);
    corio_task_unref(t);
    corio_loop_free(loop);
}

static void *raise_non_negative(void *arg)
{
    cr_expect_null(corio_raise(5));
    cr_expect_null(corio_raise(0));
    return arg;
}

Test(task_basics, raise_non_negative_does_nothing, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, raise_non_negative, IV(3), NULL), 0);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(res, IV(3));
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(task_basics, raise_outside_task_does_nothing, .timeout = 10)
{
    cr_assert_null(corio_raise(-EIO));
    corio_loop *loop = new_loop();
    cr_assert_null(corio_raise(-EIO));
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, set_ran, IV(1), NULL), 0);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0, "a raise outside any task leaks into no task");
    cr_assert_eq(res, IV(1));
    corio_task_unref(t);
    corio_loop_free(loop);
}

static void *raise_then_return(void *arg)
{
    corio_raise(-EIO);
    corio_sleep(0); /* the pending error survives an await */
    return arg;
}

Test(task_basics, raise_ignores_return_value, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, raise_then_return, IV(9), NULL), 0);
    cr_assert_eq(run_task(loop, t, NULL), -EIO);
    corio_task_unref(t);
    corio_loop_free(loop);
}

static void *await_child_outcome(void *arg)
{
    corio_task *child;
    cr_expect_eq(corio_create_task(&child, NULL, raise_arg, arg, NULL), 0);
    void *v = IV(123);
    int rc = corio_await(corio_task_future(child), &v);
    corio_task_unref(child);
    return IV(rc);
}

Test(task_basics, error_propagates_to_awaiter, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, await_child_outcome, IV(-ECONNRESET), &res), 0);
    cr_assert_eq(VI(res), -ECONNRESET);
    corio_loop_free(loop);
}

static void *child_value(void *arg)
{
    corio_sleep(0);
    return arg;
}

static void *await_child_value(void *arg)
{
    corio_task *child;
    cr_expect_eq(corio_create_task(&child, NULL, child_value, arg, NULL), 0);
    void *v = NULL;
    int rc = corio_await(corio_task_future(child), &v);
    cr_expect_eq(rc, 0);
    corio_task_unref(child);
    return (void *)((intptr_t)v * 2);
}

Test(task_basics, result_propagates_to_awaiter, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, await_child_value, IV(21), &res), 0);
    cr_assert_eq(res, IV(42));
    corio_loop_free(loop);
}

static corio_future *done_f;

static void *await_done_future(void *arg)
{
    (void)arg;
    corio_loop_call_soon(NULL, corio_get_running_loop(), log_cb, IV(2));
    void *v = NULL;
    int rc = corio_await(done_f, &v);
    ev(1); /* must come before the callback: no suspension happened */
    cr_expect_eq(rc, 0);
    cr_expect_eq(v, IV(5));
    corio_sleep(0);
    ev(3);
    return NULL;
}

Test(task_basics, await_done_future_does_not_suspend, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&done_f, loop), 0);
    corio_future_set_result(done_f, IV(5));
    cr_assert_eq(run_main(loop, await_done_future, NULL, NULL), 0);
    EV_EXPECT(1, 2, 3);
    corio_future_unref(done_f);
    corio_loop_free(loop);
}

static void set_done_f(void *arg) { corio_future_set_result(done_f, arg); }

static void *await_pending_future(void *arg)
{
    (void)arg;
    void *v = NULL;
    ev(1);
    int rc = corio_await(done_f, &v);
    ev(3);
    cr_expect_eq(rc, 0);
    return v;
}

Test(task_basics, await_pending_future_suspends_until_done, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&done_f, loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, await_pending_future, NULL, NULL), 0);
    run_once(loop);
    EV_EXPECT(1);
    cr_assert_eq(corio_future_done(corio_task_future(t)), 0);
    ev(2);
    corio_loop_call_later(NULL, loop, 0.01, set_done_f, IV(77));
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(res, IV(77));
    EV_EXPECT(1, 2, 3);
    corio_task_unref(t);
    corio_future_unref(done_f);
    corio_loop_free(loop);
}

Test(task_basics, await_outside_task_is_enotask, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    void *v = IV(1);
    cr_assert_eq(corio_await(f, &v), CORIO_ENOTASK);
    cr_assert_eq(corio_sleep(0), CORIO_ENOTASK);
    cr_assert_eq(corio_sleep(0.01), CORIO_ENOTASK);
    corio_future_set_result(f, IV(2));
    cr_assert_eq(corio_await(f, &v), CORIO_ENOTASK, "even on a done future");
    corio_future_unref(f);
    corio_loop_free(loop);
}

static corio_future *cb_f;
static int cb_rc = 1;
static void await_in_callback(void *arg)
{
    (void)arg;
    cb_rc = corio_await(cb_f, NULL);
}

Test(task_basics, await_in_plain_callback_is_enotask, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&cb_f, loop), 0);
    corio_loop_call_soon(NULL, loop, await_in_callback, NULL);
    run_once(loop);
    cr_assert_eq(cb_rc, CORIO_ENOTASK);
    corio_future_unref(cb_f);
    corio_loop_free(loop);
}

static void *await_self(void *arg)
{
    (void)arg;
    corio_task *me = corio_current_task();
    int rc = corio_await(corio_task_future(me), NULL);
    return IV(rc);
}

Test(task_basics, await_self_is_edeadlk, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, await_self, NULL, &res), 0);
    cr_assert_eq(VI(res), -EDEADLK);
    corio_loop_free(loop);
}

static corio_task *expected_task;
static void *check_current(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_current_task(), expected_task);
    corio_sleep(0);
    cr_expect_eq(corio_current_task(), expected_task, "still current after resuming");
    return corio_current_task();
}

static corio_task *task_in_cb = (corio_task *)1;
static void current_in_cb(void *arg)
{
    (void)arg;
    task_in_cb = corio_current_task();
}

Test(task_basics, current_task, .timeout = 10)
{
    cr_assert_null(corio_current_task());
    corio_loop *loop = new_loop();
    cr_assert_null(corio_current_task());
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, check_current, NULL, NULL), 0);
    expected_task = t;
    corio_loop_call_soon(NULL, loop, current_in_cb, NULL);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(res, (void *)t);
    cr_assert_null(task_in_cb, "no current task in a plain callback");
    cr_assert_null(corio_current_task());
    corio_task_unref(t);
    corio_loop_free(loop);
}

static size_t seen_count;
static corio_task *seen_tasks[8];
static void *count_tasks(void *arg)
{
    (void)arg;
    seen_count = corio_all_tasks(NULL, seen_tasks, 8);
    return NULL;
}

static void *sleep_a_bit(void *arg)
{
    corio_sleep(0.02);
    return arg;
}

Test(task_basics, all_tasks, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_all_tasks(loop, NULL, 0), 0);
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, sleep_a_bit, NULL, NULL), 0);
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, sleep_a_bit, NULL, NULL), 0);
    corio_task *me;
    cr_assert_eq(corio_create_task(&me, loop, count_tasks, NULL, NULL), 0);
    corio_task *out[8] = {0};
    cr_assert_eq(corio_all_tasks(loop, out, 8), 3, "pending tasks, not yet started included");
    int found_a = 0, found_b = 0, found_me = 0;
    for (int i = 0; i < 3; i++) {
        found_a += out[i] == a;
        found_b += out[i] == b;
        found_me += out[i] == me;
    }
    cr_assert(found_a == 1 && found_b == 1 && found_me == 1);
    cr_assert_eq(corio_all_tasks(loop, out, 1), 3, "returns how many there are, beyond cap");
    cr_assert_eq(corio_all_tasks(loop, NULL, 0), 3);

    run_task(loop, me, NULL);
    cr_assert_eq(seen_count, 3, "the running task is among the pending ones");
    run_task(loop, b, NULL);
    run_task(loop, a, NULL);
    cr_assert_eq(corio_all_tasks(loop, out, 8), 0, "done tasks are not listed");
    corio_task_unref(a);
    corio_task_unref(b);
    corio_task_unref(me);
    corio_loop_free(loop);
}

Test(task_basics, all_tasks_without_loop_is_enoloop, .timeout = 10)
{
    /* A NULL loop is the running loop, else the current one; there is neither here. */
    corio_task *out[2];
    cr_assert_eq(corio_all_tasks(NULL, out, 2), CORIO_ENOLOOP);
}

Test(task_basics, all_tasks_null_loop_is_current_loop, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, set_ran, NULL, NULL), 0);
    corio_task *out[2] = {0};
    cr_assert_eq(corio_all_tasks(NULL, out, 2), 1);
    cr_assert_eq(out[0], t);
    cr_assert_eq(corio_all_tasks(loop, NULL, 1), -EINVAL, "NULL out with cap > 0");
    cr_assert_eq(run_task(loop, t, NULL), 0);
    corio_task_unref(t);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_loop_free(loop);
}

static int name_is_default(const char *n)
{
    if (!n || strncmp(n, "Task-", 5) != 0 || n[5] == 0)
        return 0;
    for (const char *p = n + 5; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

Test(task_basics, default_names, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, set_ran, NULL, NULL), 0);
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, set_ran, NULL, NULL), 0);
    cr_assert(name_is_default(corio_task_get_name(a)), "got \"%s\"", corio_task_get_name(a));
    cr_assert(name_is_default(corio_task_get_name(b)), "got \"%s\"", corio_task_get_name(b));
    cr_assert_str_neq(corio_task_get_name(a), corio_task_get_name(b));
    long na = strtol(corio_task_get_name(a) + 5, NULL, 10);
    long nb = strtol(corio_task_get_name(b) + 5, NULL, 10);
    cr_assert_gt(nb, na, "names count up");
    run_task(loop, b, NULL);
    corio_task_unref(a);
    corio_task_unref(b);
    corio_loop_free(loop);
}

Test(task_basics, names_from_opts_and_set_name, .timeout = 10)
{
    corio_loop *loop = new_loop();
    char buf[32];
    strcpy(buf, "worker");
    corio_task_opts opts = {.name = buf, .stack_size = 0};
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, set_ran, NULL, &opts), 0);
    strcpy(buf, "changed");
    cr_assert_str_eq(corio_task_get_name(t), "worker", "the name is copied");
    strcpy(buf, "renamed");
    cr_assert_eq(corio_task_set_name(t, buf), 0);
    strcpy(buf, "XXXXXXX");
    cr_assert_str_eq(corio_task_get_name(t), "renamed");
    run_task(loop, t, NULL);
    cr_assert_eq(corio_task_set_name(t, "after done"), 0);
    cr_assert_str_eq(corio_task_get_name(t), "after done");
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(task_basics, task_refs, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, set_ran, IV(1), NULL), 0);
    cr_assert_eq(corio_task_ref(t), t);
    run_task(loop, t, NULL);
    corio_task_unref(t);
    /* one reference left */
    cr_assert(corio_future_done(corio_task_future(t)));
    cr_assert_eq(corio_future_ref(corio_task_future(t)), corio_task_future(t));
    corio_future_unref(corio_task_future(t));
    corio_task_unref(t);
    corio_loop_free(loop);
}

/* A chain of plain C calls: an await deep in the chain suspends the whole task. */
static int chain(int depth)
{
    if (depth == 0) {
        ev(10);
        corio_sleep(0);
        ev(30);
        return 1;
    }
    return chain(depth - 1) + 1;
}

static void *chain_task(void *arg)
{
    (void)arg;
    return IV(chain(20));
}

static void *interleaver(void *arg)
{
    (void)arg;
    ev(20);
    return NULL;
}

Test(task_basics, await_deep_in_call_chain_suspends_task, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, chain_task, NULL, NULL), 0);
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, interleaver, NULL, NULL), 0);
    void *res = NULL;
    cr_assert_eq(run_task(loop, a, &res), 0);
    cr_assert_eq(res, IV(21));
    EV_EXPECT(10, 20, 30);
    corio_task_unref(a);
    corio_task_unref(b);
    corio_loop_free(loop);
}

/* Ping-pong through futures: two tasks wake each other many times. */
enum { ROUNDS = 1000 };
static corio_future *to_a[ROUNDS], *to_b[ROUNDS];

static void *pinger(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        corio_future_set_result(to_b[i], IV(i));
        void *v = NULL;
        if (corio_await(to_a[i], &v) != 0 || v != IV(i + 1))
            return IV(-1);
    }
    return IV(ROUNDS);
}

static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        void *v = NULL;
        if (corio_await(to_b[i], &v) != 0 || v != IV(i))
            return IV(-2);
        corio_future_set_result(to_a[i], IV(i + 1));
    }
    return IV(ROUNDS);
}

Test(task_basics, ping_pong, .timeout = 10)
{
    corio_loop *loop = new_loop();
    for (int i = 0; i < ROUNDS; i++) {
        cr_assert_eq(corio_future_new(&to_a[i], loop), 0);
        cr_assert_eq(corio_future_new(&to_b[i], loop), 0);
    }
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, ponger, NULL, NULL), 0);
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, pinger, NULL, NULL), 0);
    void *ra = NULL, *rb = NULL;
    cr_assert_eq(run_task(loop, b, &rb), 0);
    cr_assert_eq(run_task(loop, a, &ra), 0);
    cr_assert_eq(rb, IV(ROUNDS));
    cr_assert_eq(ra, IV(ROUNDS));
    corio_task_unref(a);
    corio_task_unref(b);
    for (int i = 0; i < ROUNDS; i++) {
        corio_future_unref(to_a[i]);
        corio_future_unref(to_b[i]);
    }
    corio_loop_free(loop);
}

/* Several tasks awaiting one future wake in the order they started waiting. */
static corio_future *shared;
static void *await_shared_log(void *arg)
{
    void *v = NULL;
    int rc = corio_await(shared, &v);
    cr_expect_eq(rc, 0);
    cr_expect_eq(v, IV(99));
    ev(VI(arg));
    return NULL;
}

Test(task_basics, awaiters_of_one_future_wake_in_order, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&shared, loop), 0);
    corio_task *t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, await_shared_log, IV(i + 1), NULL), 0);
    run_once(loop);
    cr_assert_eq(ev_n, 0);
    corio_future_set_result(shared, IV(99));
    for (int i = 0; i < 4; i++)
        run_task(loop, t[i], NULL);
    EV_EXPECT(1, 2, 3, 4);
    for (int i = 0; i < 4; i++)
        corio_task_unref(t[i]);
    corio_future_unref(shared);
    corio_loop_free(loop);
}

static void *await_failing(void *arg)
{
    (void)arg;
    void *v = NULL;
    return IV(corio_await(shared, &v));
}

static void fail_shared(void *arg) { corio_future_set_error(shared, VI(arg)); }

Test(task_basics, await_future_that_fails, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(&shared, loop), 0);
    corio_loop_call_later(NULL, loop, 0.01, fail_shared, IV(-ENOTCONN));
    void *res = NULL;
    cr_assert_eq(run_main(loop, await_failing, NULL, &res), 0);
    cr_assert_eq(VI(res), -ENOTCONN);
    corio_future_unref(shared);
    corio_loop_free(loop);
}

static void *which_loop(void *arg)
{
    (void)arg;
    return corio_get_event_loop();
}

Test(task_basics, get_event_loop_in_task_is_running_loop, .timeout = 10)
{
    /* Inside a running loop get_event_loop returns that loop, even if another one is current;
     * corio_create_task uses the running loop too. */
    corio_loop *current = new_loop();
    corio_loop *other = new_loop();
    cr_assert_eq(corio_set_event_loop(current), 0);
    void *res = NULL;
    cr_assert_eq(run_main(other, which_loop, NULL, &res), 0);
    cr_assert_eq(res, (void *)other);
    cr_assert_eq(corio_get_event_loop(), current, "the current loop is unchanged");
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_loop_free(other);
    corio_loop_free(current);
}

static void *create_child_here(void *arg)
{
    (void)arg;
    corio_task *c;
    cr_expect_eq(corio_create_task(&c, NULL, which_loop, NULL, NULL), 0);
    void *v = NULL;
    corio_await(corio_task_future(c), &v);
    corio_loop *l = corio_future_get_loop(corio_task_future(c));
    corio_task_unref(c);
    return l == (corio_loop *)v ? v : NULL;
}

Test(task_basics, create_task_in_task_uses_running_loop, .timeout = 10)
{
    corio_loop *current = new_loop();
    corio_loop *other = new_loop();
    cr_assert_eq(corio_set_event_loop(current), 0);
    void *res = NULL;
    cr_assert_eq(run_main(other, create_child_here, NULL, &res), 0);
    cr_assert_eq(res, (void *)other);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_loop_free(other);
    corio_loop_free(current);
}

/* A task completes only itself (asyncio: "Task does not support set_result() operation"); so does
 * a gathering future. */
Test(task_basics, set_result_on_a_task_is_refused, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, set_ran, IV(1), NULL), 0);
    cr_assert_eq(corio_future_set_result(corio_task_future(t), IV(2)), -EINVAL);
    cr_assert_eq(corio_future_set_error(corio_task_future(t), -EIO), -EINVAL);
    corio_future *fs[1] = {corio_task_future(t)};
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 1, 0), 0);
    cr_assert_eq(corio_future_set_result(g, NULL), -EINVAL);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq(res, IV(1), "the task's own result, not the refused one");
    corio_future_unref(g);
    corio_task_unref(t);
    corio_loop_free(loop);
}
