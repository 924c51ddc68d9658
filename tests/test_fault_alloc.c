/* Allocation failure at every allocation site in turn (issue 6): each scenario runs once per
 * allocation it makes, with that allocation failing, and must end with a clear error (-ENOMEM
 * from the call that could not allocate, passed up by the scenario) or succeed despite it, never
 * crash or hang; the ASan and Valgrind runs of the suite find any leak. */
#include "fault_helpers.h"

static void *child(void *arg)
{
    int rc = corio_sleep(0.0002 * (VI(arg) % 3));
    return rc < 0 ? corio_raise(rc) : arg;
}

static void *sleeper(void *arg)
{
    (void)arg;
    int rc = corio_sleep(10);
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int gather_children(void)
{
    corio_task *ts[8];
    corio_future *fs[8];
    int n = 0, rc = 0;
    for (int i = 0; i < 8; i++) {
        char name[24];
        snprintf(name, sizeof name, "child-%d", i);
        corio_task_opts o = {.name = name, .flags = (i & 1) ? CORIO_TASK_COMPACT : 0};
        rc = corio_create_task(&ts[n], NULL, child, IV(i), &o);
        if (rc < 0)
            break;
        fs[n] = corio_task_future(ts[n]);
        n++;
    }
    void *vals[8];
    if (rc == 0)
        rc = corio_gather(fs, (size_t)n, 0, vals, NULL);
    for (int i = 0; i < n; i++) {
        corio_task_cancel(ts[i], "cleanup");
        corio_await(fs[i], NULL);
        corio_task_unref(ts[i]);
    }
    return rc;
}

static int timeout_of_sleeper(void)
{
    corio_task *t;
    int rc = corio_create_task(&t, NULL, sleeper, NULL, NULL);
    if (rc < 0)
        return rc;
    rc = corio_wait_for(corio_task_future(t), 0.001, NULL);
    corio_task_unref(t);
    return rc == -ETIMEDOUT ? 0 : rc;
}

static void count_cb(void *arg) { (*(int *)arg)++; }
static void done_cb(corio_future *f, void *arg) { (void)f, (*(int *)arg)++; }

static int callbacks(void)
{
    static int calls;
    calls = 0;
    corio_loop *loop = corio_get_running_loop();
    int rc = corio_loop_call_soon(NULL, loop, count_cb, &calls);
    if (rc == 0)
        rc = corio_loop_call_later(NULL, loop, 0.0001, count_cb, &calls);
    corio_future *f = NULL;
    if (rc == 0)
        rc = corio_future_new(&f, loop);
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = corio_future_add_done_callback(f, done_cb, &calls);
    if (f) {
        corio_future_set_result(f, NULL);
        corio_future_unref(f);
    }
    if (rc == 0)
        rc = corio_sleep(0.001);
    return rc;
}

static void *producer(void *arg)
{
    corio_queue *q = arg;
    for (int i = 0; i < 40; i++) {
        int rc = corio_queue_put(q, IV(i));
        if (rc < 0) { /* tell the consumer, as a producer that gives up must */
            corio_queue_shutdown(q, 0);
            return corio_raise(rc);
        }
    }
    return NULL;
}

static int queue_pipeline(void)
{
    corio_queue *q;
    corio_queue_opts o = {.kind = CORIO_QUEUE_FIFO, .maxsize = 4};
    int rc = corio_queue_new(&q, NULL, &o);
    if (rc < 0)
        return rc;
    corio_task *p;
    rc = corio_create_task(&p, NULL, producer, q, NULL);
    for (int i = 0; rc == 0 && i < 40; i++) {
        void *item;
        rc = corio_queue_get(q, &item);
        if (rc == 0 && VI(item) != i)
            rc = -EPROTO;
    }
    if (p) {
        corio_task_cancel(p, NULL);
        int prc = corio_await(corio_task_future(p), NULL);
        if ((rc == 0 || rc == CORIO_ESHUTDOWN) && prc != 0 && prc != -ECANCELED)
            rc = prc;
        corio_task_unref(p);
    }
    corio_queue_free(q);
    return rc;
}

static void *core_main(void *arg)
{
    (void)arg;
    int rc = gather_children();
    if (rc == 0)
        rc = timeout_of_sleeper();
    if (rc == 0)
        rc = callbacks();
    if (rc == 0)
        rc = queue_pipeline();
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int core_scenario(void) { return corio_run(core_main, NULL, NULL, NULL); }

Test(fault_alloc, every_core_allocation_fails_cleanly, .timeout = 120)
{
    long sites = fault_sweep(core_scenario, accept_ok_or_enomem, 100000);
    cr_log_info("fault_alloc: %ld allocation sites failed in turn\n", sites);
    printf("fault_alloc core: %ld allocations failed in turn, each with a clean outcome\n", sites);
    cr_assert_gt(sites, 20);
}
