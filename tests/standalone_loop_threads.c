/* One loop per thread, four at once: a plain program (it also runs under ThreadSanitizer, where
 * Criterion cannot), returning 0 when every thread's tasks gave the right results. Loops share
 * nothing but the process: per-thread current and running loops, per-loop pools and stacks, the
 * once-per-process signal handler. */
#include <corio.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define TASKS 200

static void *worker(void *arg)
{
    intptr_t i = (intptr_t)arg;
    for (int k = 0; k < 3; k++)
        if (corio_sleep(k ? 0.001 * (double)(i % 5) : 0) < 0)
            return corio_raise(-ECANCELED);
    return arg;
}

static void *thread_main(void *arg)
{
    (void)arg;
    corio_future *f[TASKS];
    int create_rc = 0;
    for (intptr_t i = 0; i < TASKS; i++) {
        corio_task_opts o = {.flags = i % 2 ? CORIO_TASK_COMPACT : 0};
        corio_task *t;
        int rc = corio_create_task(&t, NULL, worker, (void *)i, &o);
        if (rc < 0 && create_rc == 0)
            create_rc = rc;
        f[i] = corio_task_future(t);
    }
    if (create_rc < 0) {
        for (int i = 0; i < TASKS; i++)
            corio_future_unref(f[i]);
        return corio_raise(create_rc);
    }
    void *v[TASKS];
    int rc = corio_gather(f, TASKS, 0, v, NULL);
    intptr_t sum = 0;
    for (int i = 0; i < TASKS; i++) {
        sum += (intptr_t)v[i];
        corio_future_unref(f[i]);
    }
    return rc < 0 ? corio_raise(rc) : (void *)sum;
}

static void *thread_body(void *arg)
{
    (void)arg;
    void *sum = NULL;
    int rc = corio_run(thread_main, NULL, &sum, NULL);
    return (void *)(intptr_t)(rc < 0 ? rc : (intptr_t)sum);
}

int main(void)
{
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, thread_body, NULL) != 0)
            return 1;
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        if ((intptr_t)r != (intptr_t)TASKS * (TASKS - 1) / 2) {
            fprintf(stderr, "thread %d: got %ld\n", i, (long)(intptr_t)r);
            bad = 1;
        }
    }
    printf("%d loops on %d threads, %d tasks each: %s\n", THREADS, THREADS, TASKS,
           bad ? "FAILED" : "ok");
    return bad;
}
