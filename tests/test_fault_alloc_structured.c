/* Allocation failure at every allocation site of the structured calls (issue 6): a TaskGroup
 * whose children use timeout scopes; wait, as_completed and shield over running tasks; Lock,
 * Queue and Event between producers and a consumer. Each run must end with success or -ENOMEM,
 * never crash or hang, and the ASan and Valgrind runs of the suite check that nothing leaks.
 *
 * No run may hang, so every scenario is built for one side's failure to reach the others: the
 * group cancels its other children when one fails; a producer or consumer that gives up shuts
 * the queue down (the others see CORIO_ESHUTDOWN, which for them means "the other side gave
 * up", not an error of their own) and the consumer always sets the event the main task waits
 * on. Cancellations (-ECANCELED) that the scenario itself makes while cleaning up are not
 * outcomes: the first real error, -ENOMEM, is what each scenario returns. */
#include "fault_helpers.h"

/* ---- TaskGroup and timeout scopes ---- */

/* Sleeps inside a scope that does not expire (i > 0) or does (i == 0: turned into success). */
static void *scoped_child(void *arg)
{
    int i = VI(arg);
    corio_timeout *tm;
    int rc = corio_timeout_enter(&tm, i ? 5.0 : 0.001);
    if (rc < 0)
        return corio_raise(rc);
    rc = corio_sleep(i ? 0.0005 * i : 10);
    rc = corio_timeout_exit(tm, rc);
    if (i == 0 && rc == -ETIMEDOUT)
        rc = 0;
    return rc < 0 ? corio_raise(rc) : arg;
}

static void *group_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg;
    int rc = corio_taskgroup_new(&tg);
    if (rc < 0)
        return corio_raise(rc);
    for (int i = 0; rc == 0 && i < 4; i++)
        rc = corio_taskgroup_create_task(NULL, tg, scoped_child, IV(i), NULL);
    corio_timeout *tm = NULL;
    if (rc == 0)
        rc = corio_timeout_enter(&tm, 5.0); /* the body's own scope, around its await */
    if (rc == 0) {
        rc = corio_sleep(0.0002);
        rc = corio_timeout_exit(tm, rc);
    }
    rc = corio_taskgroup_exit(tg, rc);
    int freed = corio_taskgroup_free(tg); /* 0: the owner has left exit */
    if (rc >= 0)
        rc = freed;
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int group_scenario(void) { return corio_run(group_main, NULL, NULL, NULL); }

Test(fault_alloc_structured, taskgroup_and_timeout_scopes, .timeout = 120)
{
    fault_sweep_report("fault_alloc_structured taskgroup+timeout", group_scenario, 5);
}

/* ---- wait, as_completed, shield ---- */

static void *napper(void *arg)
{
    int rc = corio_sleep(0.0003 * VI(arg));
    return rc < 0 ? corio_raise(rc) : arg;
}

static int spawn_nappers(corio_task **ts, corio_future **fs, int n)
{
    for (int i = 0; i < n; i++) {
        int rc = corio_create_task(&ts[i], NULL, napper, IV(i + 1), NULL);
        if (rc < 0)
            return rc;
        fs[i] = corio_task_future(ts[i]);
    }
    return 0;
}

static int iterate(corio_future **fs, int n)
{
    corio_as_completed *it;
    int rc = corio_as_completed_new(&it, fs, (size_t)n, 5.0);
    if (rc < 0)
        return rc;
    int seen = 0;
    corio_future *f;
    while ((rc = corio_as_completed_next(it, &f)) == 1) {
        seen++;
        if ((rc = corio_future_result(f, NULL)) < 0)
            break;
    }
    int freed = corio_as_completed_free(it); /* 0: nobody waits in next() */
    if (rc >= 0)
        rc = freed;
    return rc < 0 ? rc : seen == n ? 0 : -EPROTO;
}

/* A shielded task outlives a wait_for that times out on the shield, then is awaited itself. */
static int shielded(corio_future *inner)
{
    corio_future *s;
    int rc = corio_shield(&s, inner);
    if (rc < 0)
        return rc;
    rc = corio_wait_for(s, 0.0001, NULL);
    corio_future_unref(s);
    if (rc == 0 || rc == -ETIMEDOUT)
        rc = corio_await(inner, NULL);
    return rc;
}

static void *combine_main(void *arg)
{
    (void)arg;
    enum { N = 4 };
    corio_task *ts[N] = {0};
    corio_future *fs[N];
    int rc = spawn_nappers(ts, fs, N);
    if (rc == 0) {
        unsigned char done[N];
        rc = corio_wait(fs, N, CORIO_FIRST_COMPLETED, 5.0, done);
        rc = rc > 0 ? 0 : rc < 0 ? rc : -EPROTO;
    }
    if (rc == 0)
        rc = iterate(fs, N);
    corio_task *slow = NULL;
    if (rc == 0)
        rc = corio_create_task(&slow, NULL, napper, IV(3), NULL);
    if (slow)
        rc = shielded(corio_task_future(slow));
    reap_tasks(ts, N); /* a failed run leaves tasks running */
    reap_tasks(&slow, 1);
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int combine_scenario(void) { return corio_run(combine_main, NULL, NULL, NULL); }

Test(fault_alloc_structured, wait_as_completed_and_shield, .timeout = 120)
{
    fault_sweep_report("fault_alloc_structured wait+as_completed+shield", combine_scenario, 5);
}

/* ---- Lock, Queue, Event ---- */

static corio_lock *lock;
static corio_queue *queue;
static corio_event *finished;
static int counter;

#define ITEMS 12

static void *producer(void *arg)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < ITEMS / 2; i++) {
        if ((rc = corio_lock_acquire(lock)) < 0)
            break;
        counter++;
        rc = corio_sleep(0); /* hold the lock across a yield: the other producer waits */
        corio_lock_release(lock);
        if (rc == 0)
            rc = corio_queue_put(queue, arg);
    }
    if (rc == CORIO_ESHUTDOWN) /* the consumer gave up: its error is reported, not ours */
        return NULL;
    if (rc < 0)
        corio_queue_shutdown(queue, 1);
    return rc < 0 ? corio_raise(rc) : NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    int rc = 0;
    void *item;
    for (int got = 0; rc == 0 && got < ITEMS; got++)
        rc = corio_queue_get(queue, &item);
    if (rc < 0 && rc != CORIO_ESHUTDOWN)
        corio_queue_shutdown(queue, 1); /* unblocks producers waiting in put */
    int set = corio_event_set(finished);
    if (rc == CORIO_ESHUTDOWN) /* a producer gave up: its error is reported */
        rc = 0;
    if (rc == 0)
        rc = set;
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int sync_objects(void)
{
    corio_loop *loop = corio_get_running_loop();
    corio_queue_opts qo = {.maxsize = 2};
    int rc = corio_lock_new(&lock, loop);
    if (rc == 0)
        rc = corio_event_new(&finished, loop);
    if (rc == 0)
        rc = corio_queue_new(&queue, loop, &qo);
    return rc;
}

static void sync_free(void)
{
    /* cr_expect: this runs in a task (cr_assert would jump off its stack) */
    cr_expect_eq(corio_queue_free(queue), 0);
    cr_expect_eq(corio_event_free(finished), 0);
    cr_expect_eq(corio_lock_free(lock), 0);
    queue = NULL, finished = NULL, lock = NULL;
}

static void *sync_main(void *arg)
{
    (void)arg;
    enum { N = 3 };
    corio_coro_fn fns[N] = {producer, producer, consumer};
    corio_task *ts[N] = {0};
    corio_future *fs[N];
    int n = 0, rc = sync_objects();
    for (; rc == 0 && n < N; n++) {
        rc = corio_create_task(&ts[n], NULL, fns[n], IV(n), NULL);
        if (rc == 0)
            fs[n] = corio_task_future(ts[n]);
    }
    if (rc == 0)
        rc = corio_event_wait(finished);
    if (rc == 0)
        rc = corio_gather(fs, N, 0, NULL, NULL); /* fail-fast: the first error */
    if (rc < 0 && queue)
        corio_queue_shutdown(queue, 1);
    reap_tasks(ts, N);
    if (rc == 0 && counter != ITEMS)
        rc = -EPROTO;
    sync_free();
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int sync_scenario(void)
{
    counter = 0;
    return corio_run(sync_main, NULL, NULL, NULL);
}

Test(fault_alloc_structured, lock_queue_and_event, .timeout = 120)
{
    fault_sweep_report("fault_alloc_structured lock+queue+event", sync_scenario, 5);
}
