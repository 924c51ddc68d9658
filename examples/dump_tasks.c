/* Debug tools: the task tree dumped on a signal, on a loop with virtual time.
 *
 * main gathers two workers: one sleeps an hour, one waits for a future that a third task sets a
 * minute later. That task first signals the process (as `kill -USR1 PID` would) and the loop
 * prints its tasks. Then the hour passes on the virtual clock, in no real time. Run it with
 * CORIO_DEBUG=1 to see each task's stack high-water mark in the dump as well. */
#include <corio.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

static corio_future *ready;

static void *sleeper(void *arg)
{
    int rc = corio_sleep(3600.0);
    return rc < 0 ? corio_raise(rc) : arg;
}

static void *waiter(void *arg)
{
    (void)arg;
    void *v = NULL;
    int rc = corio_await(ready, &v);
    return rc < 0 ? corio_raise(rc) : v;
}

static void *trigger(void *arg)
{
    (void)arg;
    raise(SIGUSR1); /* the loop dumps its tasks once this step is over */
    int rc = corio_sleep(60.0);
    if (rc == 0)
        corio_future_set_result(ready, (void *)2);
    return NULL;
}

static void *main_task(void *arg)
{
    corio_loop *loop = arg;
    double t0 = corio_loop_time(loop);
    corio_task *a;
    corio_create_task(&a, NULL, sleeper, (void *)1, &(corio_task_opts){.name = "sleeper"});
    corio_task *b;
    corio_create_task(&b, NULL, waiter, NULL, &(corio_task_opts){.name = "waiter"});
    corio_create_task(NULL, NULL, trigger, NULL, &(corio_task_opts){.name = "trigger"});
    corio_future *fs[2] = {corio_task_future(a), corio_task_future(b)};
    void *v[2] = {NULL, NULL};
    int rc = corio_gather(fs, 2, 0, v, NULL);
    if (rc == 0)
        printf("gathered [%d, %d] after %.0f s of loop time\n", (int)(intptr_t)v[0],
               (int)(intptr_t)v[1], corio_loop_time(loop) - t0);
    corio_task_unref(a);
    corio_task_unref(b);
    return NULL;
}

int main(void)
{
    corio_loop *loop;
    corio_loop_opts opts = {.virtual_time = 1}; /* debug 0: from CORIO_DEBUG */
    if (corio_loop_new(&loop, &opts) < 0)
        return 1;
    corio_future_new(&ready, loop);
    corio_loop_dump_on_signal(loop, SIGUSR1, 1); /* to stdout */
    corio_task_opts named = {.name = "main"};
    corio_task *m;
    corio_create_task(&m, loop, main_task, loop, &named);
    int rc = corio_loop_run_until_complete(loop, corio_task_future(m), NULL);
    corio_task_unref(m);
    corio_future_unref(ready);
    corio_loop_free(loop);
    return rc < 0;
}
