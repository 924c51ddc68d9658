/* Cancelling executor jobs in every state (CPython: a cancelled run_in_executor future, a
 * cancelled to_thread): before the job starts (it never runs), while it runs (the future is
 * cancelled at once, the job finishes on its thread and its result is dropped, released by the
 * dtor), once done (nothing happens); a task awaiting to_thread cancelled; wait_for timing out;
 * loop close with jobs pending, queued and running. */
#include "core_helpers.h"

#include "gate.h"

static atomic_int ran, dtors;

static void *counted(void *arg, int *err)
{
    (void)err;
    atomic_fetch_add(&ran, 1);
    return arg;
}

static void *boxed(void *arg, int *err)
{
    (void)err;
    gated_job(NULL, err);
    int *p = malloc(sizeof *p); /* a result that owns memory: the dtor must release it */
    *p = VI(arg);
    return p;
}

static void free_box(void *p)
{
    atomic_fetch_add(&dtors, 1);
    free(p);
}

/* Sleeps on the loop until cond holds (set by a worker). */
#define AWAIT_COND(cond)                                                                           \
    do {                                                                                           \
        for (int i_ = 0; i_ < 20000 && !(cond); i_++)                                              \
            corio_sleep(0.0005);                                                                   \
        cr_expect(cond, #cond);                                                                    \
    } while (0)

/* Submits fn(arg) to ex (NULL: the default executor) from `loop` (NULL: the running loop), with
 * a check that it was taken; dtor releases a result dropped by a cancellation. */
static corio_future *submit(corio_loop *loop, corio_executor *ex, corio_job_fn fn, void *arg,
                            corio_result_dtor_fn dtor)
{
    corio_future *f;
    int rc = corio_loop_run_in_executor(&f, loop, ex, fn, arg, dtor);
    cr_expect_eq(rc, 0, "corio_loop_run_in_executor: %s", corio_err_name(rc));
    return f;
}

static corio_executor *one_thread(void)
{
    corio_executor *ex = NULL;
    cr_assert_eq(corio_executor_new(&ex, 1), 0);
    return ex;
}

/* Runs fn(ex) as the main task of a new loop, ex an executor of one thread, freed afterwards. */
static void run_on_one_thread(corio_coro_fn fn)
{
    corio_executor *ex = one_thread();
    cr_assert_eq(corio_run(fn, ex, NULL, NULL), 0);
    cr_assert_eq(corio_executor_free(ex), 0);
}

static void *states_main(void *arg)
{
    corio_executor *ex = arg;
    /* pending: cancelled in the iteration that submitted it, before the pool saw it */
    corio_future *p = submit(NULL, ex, counted, IV(1), NULL);
    cr_expect_eq(corio_future_cancel(p, "early"), 1);
    cr_expect(corio_future_cancelled(p));
    cr_expect_str_eq(corio_future_cancel_message(p), "early");

    corio_future *r = submit(NULL, ex, boxed, IV(7), free_box);
    corio_future *q = submit(NULL, ex, counted, IV(2), NULL);
    AWAIT_COND(atomic_load(&at_gate) == 1);
    /* queued behind the running job */
    cr_expect_eq(corio_future_cancel(q, NULL), 1);
    /* running */
    cr_expect_eq(corio_future_cancel(r, NULL), 1);
    cr_expect(corio_future_cancelled(r));
    gate_set(1);
    AWAIT_COND(atomic_load(&dtors) == 1);
    void *v = IV(1);
    cr_expect_eq(corio_future_result(r, &v), -ECANCELED);
    cr_expect_null(v);

    /* done */
    corio_future *d = submit(NULL, ex, counted, IV(3), NULL);
    cr_expect_eq(corio_await(d, &v), 0);
    cr_expect_eq(corio_future_cancel(d, NULL), 0);
    cr_expect_eq(corio_future_result(d, &v), 0);
    cr_expect_eq(v, IV(3));
    cr_expect_eq(atomic_load(&ran), 1); /* only d */

    corio_future_unref(p);
    corio_future_unref(q);
    corio_future_unref(r);
    corio_future_unref(d);
    return NULL;
}

Test(executor_cancel, in_every_state, .timeout = 30)
{
    run_on_one_thread(states_main);
    cr_assert_eq(atomic_load(&dtors), 1);
}

static void *awaits_gated(void *arg)
{
    (void)arg;
    void *v = IV(1);
    int rc = corio_to_thread(gated_job, IV(5), &v);
    cr_expect_null(v);
    return IV(rc);
}

static void *awaits_counted(void *arg)
{
    (void)arg;
    return IV(corio_to_thread(counted, IV(5), NULL));
}

static void *task_cancel_main(void *arg)
{
    corio_executor *ex = arg;
    cr_expect_eq(corio_loop_set_default_executor(corio_get_running_loop(), ex), 0);
    corio_task *running, *queued;
    cr_expect_eq(corio_create_task(&running, NULL, awaits_gated, NULL, NULL), 0);
    AWAIT_COND(atomic_load(&at_gate) == 1);
    cr_expect_eq(corio_create_task(&queued, NULL, awaits_counted, NULL, NULL), 0);
    corio_sleep(0.01);
    cr_expect_eq(corio_task_cancel(queued, NULL), 1);
    cr_expect_eq(corio_task_cancel(running, NULL), 1);
    void *v;
    cr_expect_eq(corio_await(corio_task_future(queued), &v), -ECANCELED);
    cr_expect_eq(corio_await(corio_task_future(running), &v), -ECANCELED);
    gate_set(1);
    /* the pool is free again; the cancelled queued job never ran */
    cr_expect_eq(corio_to_thread(counted, IV(1), NULL), 0);
    cr_expect_eq(atomic_load(&ran), 1);
    corio_task_unref(running);
    corio_task_unref(queued);
    return NULL;
}

Test(executor_cancel, task_awaiting_to_thread, .timeout = 30)
{
    run_on_one_thread(task_cancel_main);
}

static void *wait_for_main(void *arg)
{
    (void)arg;
    corio_future *f = submit(NULL, NULL, boxed, IV(1), NULL);
    corio_future *g = submit(NULL, NULL, boxed, IV(2), free_box);
    AWAIT_COND(atomic_load(&at_gate) == 2); /* both run: g times out while it runs */
    void *v;
    cr_expect_eq(corio_wait_for(g, 0.05, &v), -ETIMEDOUT);
    cr_expect(corio_future_cancelled(g));
    gate_set(1);
    cr_expect_eq(corio_await(f, &v), 0);
    cr_expect_eq(*(int *)v, 1);
    free(v);
    AWAIT_COND(atomic_load(&dtors) == 1);
    corio_future_unref(f);
    corio_future_unref(g);
    return NULL;
}

Test(executor_cancel, wait_for_times_out_and_the_result_is_released, .timeout = 30)
{
    cr_assert_eq(corio_run(wait_for_main, NULL, NULL, NULL), 0);
}

/* Opens the gate once loop close has had ample time to take e out of the queue (a wide margin:
 * it is done in microseconds, before close starts to wait). */
static void *open_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    gate_set(1);
    return NULL;
}

Test(executor_cancel, loop_close_with_jobs_pending_queued_and_running, .timeout = 30)
{
    corio_loop *loop = new_loop();
    corio_executor *ex = one_thread();
    corio_future *r = submit(loop, ex, boxed, IV(1), free_box);
    run_once(loop); /* hands r to the pool */
    while (atomic_load(&at_gate) < 1)
        sched_yield();
    corio_future *q = submit(loop, NULL, counted, IV(2), NULL);
    corio_future *e = submit(loop, ex, counted, IV(3), NULL);
    run_once(loop); /* q to the default executor (it may run), e queued behind r */
    corio_future *p = submit(loop, ex, counted, IV(4), NULL); /* pending */
    pthread_t th;
    pthread_create(&th, NULL, open_later, NULL);
    cr_assert_eq(corio_loop_close(loop), 0); /* waits for r, drops its result */
    pthread_join(th, NULL);
    cr_assert_eq(atomic_load(&dtors), 1);
    cr_assert_leq(atomic_load(&ran), 1); /* q perhaps; never e or p */
    cr_assert_eq(corio_executor_free(ex), 0);
    cr_assert(!corio_future_done(p));
    corio_future_unref(r);
    corio_future_unref(q);
    corio_future_unref(e);
    corio_future_unref(p);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* A running job of the default executor that waits on its loop while the loop closes: close must
 * keep serving the loop's inbox (dropping what is posted) rather than join the job's thread
 * first, or it would wait for the job's own time limit (forever without one). */
static atomic_int waiter_started;
static atomic_int waiter_rc;

static void *on_loop(void *arg) { return arg; }

static void *waits_on_its_loop(void *arg, int *err)
{
    (void)err;
    atomic_store(&waiter_started, 1);
    struct timespec ts = {0, 50 * 1000 * 1000}; /* let the loop start closing */
    nanosleep(&ts, NULL);
    corio_concurrent *h;
    int rc = corio_run_coroutine_threadsafe(&h, arg, on_loop, NULL);
    if (rc == 0) {
        rc = corio_concurrent_wait(h, 20.0, NULL);
        corio_concurrent_free(h);
    }
    atomic_store(&waiter_rc, rc);
    return NULL;
}

static void *leave_a_waiting_job(void *arg)
{
    (void)arg;
    corio_future *f = submit(NULL, NULL, waits_on_its_loop, corio_get_running_loop(), NULL);
    while (!atomic_load(&waiter_started))
        corio_sleep(0.001);
    corio_future_unref(f);
    return NULL;
}

Test(executor_cancel, loop_close_with_a_job_waiting_on_the_loop, .timeout = 30)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(corio_run(leave_a_waiting_job, NULL, NULL, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    int rc = atomic_load(&waiter_rc);
    cr_assert(rc == CORIO_ECLOSED || rc == -ECANCELED, "the job's wait: %s", corio_strerror(rc));
    cr_assert_lt(took, 10.0, "loop close waited %.1f s for the job's time limit", took);
}
