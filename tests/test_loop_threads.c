/* One loop per thread: loops on several threads at once share nothing (per-thread current and
 * running loop, per-loop stack pools, per-thread signal stacks). */
#include "core_helpers.h"

#include <pthread.h>

#define THREADS 4
#define TASKS 500

static void *nap(void *arg)
{
    if (corio_sleep(0.001 * (double)(VI(arg) % 7)) < 0)
        return corio_raise(-ECANCELED);
    return arg;
}

static void *thread_main_task(void *arg)
{
    corio_loop *mine = corio_get_running_loop();
    corio_future *f[TASKS];
    int create_rc = 0;
    for (int i = 0; i < TASKS; i++) {
        corio_task *t;
        int rc = corio_create_task(&t, NULL, nap, IV(i), NULL);
        if (rc < 0 && create_rc == 0)
            create_rc = rc;
        f[i] = corio_task_future(t);
    }
    if (create_rc < 0) { /* no cr_expect off the test's thread */
        for (int i = 0; i < TASKS; i++)
            corio_future_unref(f[i]);
        return IV(create_rc);
    }
    void *v[TASKS];
    int rc = corio_gather(f, TASKS, 0, v, NULL);
    long sum = 0;
    for (int i = 0; i < TASKS; i++) {
        sum += VI(v[i]);
        corio_future_unref(f[i]);
    }
    /* Nothing of another thread's loop leaked into this one. */
    if (corio_get_running_loop() != mine || corio_all_tasks(NULL, NULL, 0) != 1)
        return IV(-1);
    *(long *)arg = sum;
    return IV(rc);
}

static void *thread_body(void *arg)
{
    void *r = IV(-2);
    int rc = corio_run(thread_main_task, arg, &r, NULL);
    return IV(rc < 0 ? rc : VI(r));
}

Test(loop_threads, one_loop_per_thread_at_once, .timeout = 20)
{
    pthread_t th[THREADS];
    long sums[THREADS] = {0};
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, thread_body, &sums[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        cr_assert_eq(pthread_join(th[i], &r), 0);
        cr_assert_eq(VI(r), 0, "thread %d: %d", i, VI(r));
        cr_assert_eq(sums[i], (long)TASKS * (TASKS - 1) / 2);
    }
    cr_assert_null(corio_get_running_loop());
}

struct current_report {
    corio_loop *inherited; /* the new thread's current loop before it set one */
    corio_loop *own;       /* its current loop after setting its own */
    int rc;
};

static void *report_current(void *arg)
{
    struct current_report *r = arg;
    r->inherited = corio_get_event_loop();
    corio_loop *loop = NULL;
    r->rc = corio_loop_new(&loop, NULL);
    if (r->rc == 0)
        r->rc = corio_set_event_loop(loop);
    r->own = corio_get_event_loop();
    if (r->rc == 0 && r->own != loop)
        r->rc = -1;
    int free_rc = corio_loop_free(loop);
    if (r->rc == 0)
        r->rc = free_rc;
    return NULL;
}

Test(loop_threads, each_thread_has_its_own_current_loop, .timeout = 10)
{
    corio_loop *here = new_loop();
    cr_assert_eq(corio_set_event_loop(here), 0);
    struct current_report there = {.rc = 1};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, report_current, &there), 0);
    cr_assert_eq(pthread_join(th, NULL), 0);
    cr_assert_eq(there.rc, 0, "in the thread: %s", corio_err_name(there.rc));
    cr_assert_null(there.inherited, "a new thread has no current loop");
    cr_assert_not_null(there.own);
    cr_assert_neq(here, there.own);
    cr_assert_eq(corio_get_event_loop(), here, "this thread's current loop is unchanged");
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_loop_free(here);
}
