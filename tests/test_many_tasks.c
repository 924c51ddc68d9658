/* Scale: 100,000 tasks sleeping at once, gathered; 10,000 sequential tasks (stack reuse);
 * fire-and-forget tasks. Limits are generous: they catch O(n^2) behaviour and leaks of stacks,
 * not a few percent of speed. Under Valgrind, sanitizers and qemu the counts shrink (slow_build):
 * each fresh stack page costs several times more there. */
#include "core_helpers.h"

static void *sleep_return(void *arg)
{
    int rc = corio_sleep(0.01);
    if (rc)
        return corio_raise(rc);
    return arg;
}

static int n_tasks;

static void *gather_many(void *arg)
{
    (void)arg;
    int n = n_tasks;
    corio_task **t = calloc((size_t)n, sizeof *t);
    corio_future **fs = calloc((size_t)n, sizeof *fs);
    void **values = calloc((size_t)n, sizeof *values);
    int created = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        rc = corio_create_task(&t[i], NULL, sleep_return, IV(i), NULL);
        if (rc < 0)
            break;
        fs[i] = corio_task_future(t[i]);
        created++;
    }
    if (rc == 0)
        rc = corio_gather(fs, (size_t)n, 0, values, NULL);
    int wrong = 0;
    for (int i = 0; rc == 0 && i < n; i++)
        wrong += values[i] != IV(i);
    for (int i = 0; i < created; i++)
        corio_task_unref(t[i]);
    free(t);
    free(fs);
    free(values);
    if (rc)
        return corio_raise(rc);
    return IV(wrong);
}

Test(many_tasks, hundred_thousand_sleepers_gathered, .timeout = 30)
{
    n_tasks = under_valgrind() ? 2000 : slow_build() ? 20000 : 100000;
    double t0 = now_s();
    void *res = IV(-1);
    int rc = corio_run(gather_many, NULL, &res, NULL);
    double dt = now_s() - t0;
    cr_assert_eq(rc, 0, "corio_run: %s", corio_err_name(rc));
    cr_assert_eq(VI(res), 0, "every result in its place");
    cr_assert_lt(dt, 25.0, "%d sleeping tasks took %f s", n_tasks, dt); /* ~0.3 s natively */
}

static void *ret_arg(void *arg) { return arg; }

static void *sequential(void *arg)
{
    int n = VI(arg);
    for (int i = 0; i < n; i++) {
        corio_task *t;
        int rc = corio_create_task(&t, NULL, ret_arg, IV(i), NULL);
        if (rc < 0)
            return corio_raise(rc);
        void *v = NULL;
        rc = corio_await(corio_task_future(t), &v);
        corio_task_unref(t);
        if (rc)
            return corio_raise(rc);
        if (v != IV(i))
            return corio_raise(-EIO);
    }
    return IV(n);
}

Test(many_tasks, ten_thousand_sequential_tasks, .timeout = 30)
{
    int n = under_valgrind() ? 1000 : 10000;
    double t0 = now_s();
    void *res = NULL;
    cr_assert_eq(corio_run(sequential, IV(n), &res, NULL), 0);
    cr_assert_eq(res, IV(n));
    double dt = now_s() - t0;
    cr_assert_lt(dt, 20.0, "%d sequential tasks took %f s", n, dt);
}

static void *sequential_suspending(void *arg)
{
    (void)arg;
    corio_sleep(0);
    return arg;
}

Test(many_tasks, sequential_tasks_that_suspend_reuse_stacks, .timeout = 30)
{
    /* 10,000 tasks that really take a stack (they suspend), one after another on one loop:
     * the pool hands the same stacks out again (else this would map 10,000 stacks). */
    corio_loop *loop = new_loop();
    int n = under_valgrind() ? 500 : 10000;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        corio_task *t;
        cr_assert_eq(corio_create_task(&t, loop, sequential_suspending, IV(i), NULL), 0);
        void *res = NULL;
        cr_assert_eq(run_task(loop, t, &res), 0);
        cr_assert_eq(res, IV(i));
        corio_task_unref(t);
    }
    cr_assert_lt(now_s() - t0, 20.0);
    corio_loop_free(loop);
}

static int finished;
static void *count_and_finish(void *arg)
{
    corio_sleep(0);
    finished++;
    return arg;
}

static void *fire_and_forget_many(void *arg)
{
    int n = VI(arg);
    for (int i = 0; i < n; i++) {
        int rc = corio_create_task(NULL, NULL, count_and_finish, NULL, NULL);
        if (rc < 0)
            return corio_raise(rc);
    }
    while (finished < n)
        corio_sleep(0);
    return IV(finished);
}

Test(many_tasks, fire_and_forget_tasks_all_run, .timeout = 30)
{
    int n = under_valgrind() ? 1000 : slow_build() ? 10000 : 50000;
    void *res = NULL;
    cr_assert_eq(corio_run(fire_and_forget_many, IV(n), &res, NULL), 0);
    cr_assert_eq(res, IV(n));
}

static void *create_and_return_at_once(void *arg)
{
    int n = VI(arg);
    corio_task **t = calloc((size_t)n, sizeof *t);
    corio_future **fs = calloc((size_t)n, sizeof *fs);
    int rc = 0, created = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = corio_create_task(&t[i], NULL, ret_arg, IV(i), NULL);
        fs[i] = corio_task_future(t[i]);
        created += rc == 0;
    }
    if (rc == 0)
        rc = corio_gather(fs, (size_t)n, 0, NULL, NULL);
    for (int i = 0; i < created; i++)
        corio_task_unref(t[i]);
    free(t);
    free(fs);
    return IV(rc);
}

Test(many_tasks, create_and_gather_tasks_that_return_at_once, .timeout = 30)
{
    int n = under_valgrind() ? 2000 : slow_build() ? 40000 : 200000;
    void *res = IV(1);
    double t0 = now_s();
    cr_assert_eq(corio_run(create_and_return_at_once, IV(n), &res, NULL), 0);
    cr_assert_eq(VI(res), 0);
    cr_assert_lt(now_s() - t0, 25.0);
}
