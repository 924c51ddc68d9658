/* run_in_executor, to_thread and executors across threads: a plain program (it runs under
 * ThreadSanitizer, where Criterion cannot), returning 0 when every check held.
 *
 *  - results and errors cross from the workers to the loop intact, completed on the loop's thread;
 *  - cancellation in every state: queued (the job never runs), running (its result is dropped and
 *    released by the dtor), done (nothing happens), and of a task awaiting to_thread;
 *  - executor shutdown with jobs queued and running, with and without cancel_futures and wait;
 *  - loop close with jobs queued and running on the default executor and on a user executor;
 *  - loops on several threads sharing one executor;
 *  - a worker that frees its own executor, or shuts it down with wait, gets -EDEADLK;
 *  - no thread and no fd outlives the library's objects (/proc/self/task, /proc/self/fd).
 */
#include <corio.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "standalone.h"

static int count_dir(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static atomic_int jobs_ran;

static void *counting_job(void *arg, int *err) {
    (void)err;
    atomic_fetch_add(&jobs_ran, 1);
    return arg;
}

/* Sleeps on the loop until cond holds (it is set by a worker), at most ~10 s. */
#define AWAIT_COND(cond)                                                                           \
    do {                                                                                           \
        for (int i_ = 0; i_ < 10000 && !(cond); i_++)                                              \
            corio_sleep(0.001);                                                                    \
        CHECK(cond);                                                                               \
    } while (0)

/* ---- results and errors ---- */

static pthread_t loop_thread_id;

static void *double_or_fail(void *arg, int *err) {
    intptr_t v = VI(arg);
    if (pthread_equal(pthread_self(), loop_thread_id))
        failures++; /* a job ran on the loop's thread */
    if (v % 3 == 0) {
        *err = -EIO;
        return IV(12345); /* ignored */
    }
    return IV(v * 2);
}

static void on_loop_thread(corio_future *f, void *arg) {
    (void)f;
    (void)arg;
    if (!pthread_equal(pthread_self(), loop_thread_id))
        failures++;
}

static void *results_main(void *arg) {
    (void)arg;
    enum { N = 600 };
    corio_executor *ex;
    CHECK(corio_executor_new(&ex, 3) == 0);
    corio_future *f[N];
    for (intptr_t i = 0; i < N; i++) {
        int err = corio_loop_run_in_executor(&f[i], NULL, i % 2 ? ex : NULL, double_or_fail, IV(i),
                                             NULL);
        CHECK(err == 0 && f[i]);
        corio_future_add_done_callback(f[i], on_loop_thread, NULL);
    }
    void *v[N];
    int e[N];
    CHECK(corio_gather(f, N, CORIO_GATHER_RETURN_ERRORS, v, e) == 0);
    for (intptr_t i = 0; i < N; i++) {
        if (i % 3 == 0)
            CHECK(e[i] == -EIO && v[i] == NULL);
        else
            CHECK(e[i] == 0 && v[i] == IV(i * 2));
        corio_future_unref(f[i]);
    }
    /* to_thread */
    void *r = NULL;
    CHECK(corio_to_thread(double_or_fail, IV(5), &r) == 0 && r == IV(10));
    CHECK(corio_to_thread(double_or_fail, IV(6), &r) == -EIO && r == NULL);
    CHECK(corio_executor_free(ex) == 0);
    return NULL;
}

static void test_results(void) {
    loop_thread_id = pthread_self();
    CHECK(corio_run(results_main, NULL, NULL, NULL) == 0);
}

/* ---- cancellation in every state ---- */

static atomic_int dtor_calls;
static void count_dtor(void *result) {
    CHECK(result == IV(77));
    atomic_fetch_add(&dtor_calls, 1);
}

static void *awaits_to_thread(void *arg) {
    (void)arg;
    void *r = IV(1);
    int rc = corio_to_thread(counting_job, IV(9), &r);
    CHECK(r == NULL);
    return IV(rc);
}

static void *cancel_main(void *arg) {
    (void)arg;
    corio_executor *ex;
    CHECK(corio_executor_new(&ex, 1) == 0);
    CHECK(corio_loop_set_default_executor(corio_get_running_loop(), ex) == 0); /* to_thread's */
    gate_set(0);
    atomic_store(&at_gate, 0);
    atomic_store(&jobs_ran, 0);
    /* One worker: `running` holds it, the others queue behind. */
    corio_future *running, *queued, *kept;
    CHECK(corio_loop_run_in_executor(&running, NULL, ex, gated_job, IV(77), count_dtor) == 0);
    CHECK(corio_loop_run_in_executor(&queued, NULL, ex, counting_job, IV(1), NULL) == 0);
    CHECK(corio_loop_run_in_executor(&kept, NULL, ex, counting_job, IV(2), NULL) == 0);
    CHECK(running && queued && kept);
    AWAIT_COND(atomic_load(&at_gate) == 1);

    CHECK(corio_future_cancel(queued, NULL) == 1); /* queued: removed, never runs */
    CHECK(corio_future_cancelled(queued));
    CHECK(corio_future_cancel(running, NULL) == 1); /* running: cancelled now, result dropped */
    CHECK(corio_future_cancelled(running));

    /* A task awaiting to_thread, cancelled while its job is queued. */
    corio_task *t;
    CHECK(corio_create_task(&t, NULL, awaits_to_thread, NULL, NULL) == 0);
    corio_sleep(0); /* t submits */
    corio_sleep(0);
    corio_task_cancel(t, NULL);

    gate_set(1);
    void *r = NULL;
    CHECK(corio_await(kept, &r) == 0 && r == IV(2));
    CHECK(corio_await(corio_task_future(t), &r) == -ECANCELED);
    AWAIT_COND(atomic_load(&dtor_calls) == 1); /* the running job's result, released */
    CHECK(atomic_load(&jobs_ran) == 1);        /* only `kept` */
    CHECK(corio_future_cancel(kept, NULL) == 0); /* done: nothing happens */
    CHECK(corio_future_result(kept, &r) == 0 && r == IV(2));

    corio_future_unref(running);
    corio_future_unref(queued);
    corio_future_unref(kept);
    corio_task_unref(t);
    return ex; /* freed once the loop is closed */
}

static void test_cancel(void) {
    atomic_store(&dtor_calls, 0);
    void *ex = NULL;
    CHECK(corio_run(cancel_main, NULL, &ex, NULL) == 0);
    CHECK(corio_executor_free(ex) == 0);
    CHECK(atomic_load(&dtor_calls) == 1);
}

/* ---- executor shutdown ---- */

typedef struct shutdown_args {
    corio_executor *ex;
    int wait, cancel;
} shutdown_args;

static void *shutdown_thread(void *arg) {
    shutdown_args *a = arg;
    CHECK(corio_executor_shutdown(a->ex, a->wait, a->cancel) == 0);
    return NULL;
}

static void *shutdown_main(void *arg) {
    (void)arg;
    for (int cancel = 0; cancel <= 1; cancel++) {
        corio_executor *ex;
        CHECK(corio_executor_new(&ex, 1) == 0);
        gate_set(0);
        atomic_store(&at_gate, 0);
        atomic_store(&jobs_ran, 0);
        corio_future *running, *q1, *q2;
        CHECK(corio_loop_run_in_executor(&running, NULL, ex, gated_job, IV(5), NULL) == 0);
        CHECK(corio_loop_run_in_executor(&q1, NULL, ex, counting_job, IV(6), NULL) == 0);
        CHECK(corio_loop_run_in_executor(&q2, NULL, ex, counting_job, IV(7), NULL) == 0);
        AWAIT_COND(atomic_load(&at_gate) == 1);
        /* From another thread, waiting: it returns once the gate opens and the queue is done
         * (or cancelled). */
        shutdown_args a = {ex, 1, cancel};
        pthread_t th;
        pthread_create(&th, NULL, shutdown_thread, &a);
        corio_sleep(0.01);
        corio_future *late;
        int err = corio_loop_run_in_executor(&late, NULL, ex, counting_job, IV(8), NULL);
        CHECK(err == CORIO_ECLOSED && late == NULL);
        gate_set(1);
        pthread_join(th, NULL);
        void *r;
        CHECK(corio_await(running, &r) == 0 && r == IV(5));
        if (cancel) {
            CHECK(corio_await(q1, &r) == -ECANCELED && corio_future_cancelled(q1));
            CHECK(corio_await(q2, &r) == -ECANCELED && corio_future_cancelled(q2));
            CHECK(atomic_load(&jobs_ran) == 0);
        } else {
            CHECK(corio_await(q1, &r) == 0 && r == IV(6));
            CHECK(corio_await(q2, &r) == 0 && r == IV(7));
            CHECK(atomic_load(&jobs_ran) == 2);
        }
        CHECK(corio_executor_shutdown(ex, 1, 1) == 0); /* again: harmless */
        corio_future_unref(running);
        corio_future_unref(q1);
        corio_future_unref(q2);
        CHECK(corio_executor_free(ex) == 0);
    }
    /* Shut down without waiting, freed later: free joins. */
    corio_executor *ex;
    CHECK(corio_executor_new(&ex, 2) == 0);
    corio_future *f;
    CHECK(corio_loop_run_in_executor(&f, NULL, ex, counting_job, IV(3), NULL) == 0);
    CHECK(corio_executor_shutdown(ex, 0, 0) == 0);
    void *r;
    CHECK(corio_await(f, &r) == 0 && r == IV(3));
    corio_future_unref(f);
    CHECK(corio_executor_free(ex) == 0);
    return NULL;
}

static void test_shutdown(void) { CHECK(corio_run(shutdown_main, NULL, NULL, NULL) == 0); }

/* ---- loop close with jobs in flight ---- */

static void *opener(void *arg) {
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* the loop is closing by now, waiting for the running job */
    gate_set(1);
    return NULL;
}

static void stop_cb(void *arg);

static void test_close_in_flight(int user_executor) {
    corio_loop *loop;
    CHECK(corio_loop_new(&loop, NULL) == 0);
    corio_executor *ex = NULL;
    if (user_executor)
        CHECK(corio_executor_new(&ex, 1) == 0);
    else
        CHECK(corio_loop_set_default_executor(loop, NULL) == 0);
    gate_set(0);
    atomic_store(&at_gate, 0);
    atomic_store(&jobs_ran, 0);
    atomic_store(&dtor_calls, 0);
    corio_future *running;
    CHECK(corio_loop_run_in_executor(&running, loop, ex, gated_job, IV(77), count_dtor) == 0);
    corio_future *queued[50];
    for (int i = 0; i < 50; i++) {
        if (i == 25) { /* the first ones go to the executor; the others stay pending */
            CHECK(corio_loop_call_soon(NULL, loop, stop_cb, loop) == 0);
            CHECK(corio_loop_run_forever(loop) == 0);
            while (atomic_load(&at_gate) < 1) /* `running` runs */
                sched_yield();
        }
        CHECK(corio_loop_run_in_executor(&queued[i], loop, ex, counting_job, IV(i), NULL) == 0);
    }
    pthread_t th;
    pthread_create(&th, NULL, opener, NULL);
    CHECK(corio_loop_close(loop) == 0); /* waits for what runs, drops the rest */
    pthread_join(th, NULL);
    if (user_executor) {
        CHECK(atomic_load(&jobs_ran) == 0);
        CHECK(corio_executor_free(ex) == 0);
    }
    CHECK(atomic_load(&dtor_calls) == 1);
    CHECK(!corio_future_done(running)); /* never completed: the loop closed first */
    corio_future *late = IV(1);
    CHECK(corio_loop_run_in_executor(&late, loop, NULL, counting_job, NULL, NULL) == CORIO_ECLOSED);
    CHECK(late == NULL);
    corio_future_unref(running);
    for (int i = 0; i < 50; i++)
        corio_future_unref(queued[i]);
    CHECK(corio_loop_free(loop) == 0);
}

static void stop_cb(void *arg) { corio_loop_stop(arg); }

/* ---- loops on several threads, one executor ---- */

#define LOOPS 4
static corio_executor *shared_ex;

static void *shared_main(void *arg) {
    enum { N = 300 };
    intptr_t base = VI(arg) * 1000;
    corio_future *f[N];
    for (intptr_t i = 0; i < N; i++)
        CHECK(corio_loop_run_in_executor(&f[i], NULL, shared_ex, counting_job, IV(base + i), NULL)
              == 0);
    void *v[N];
    int rc = corio_gather(f, N, 0, v, NULL);
    for (intptr_t i = 0; i < N; i++) {
        CHECK(v[i] == IV(base + i));
        corio_future_unref(f[i]);
    }
    return IV(rc);
}

static void *shared_thread(void *arg) {
    void *r = IV(-1);
    CHECK(corio_run(shared_main, arg, &r, NULL) == 0 && r == IV(0));
    return NULL;
}

static void test_shared_executor(void) {
    CHECK(corio_executor_new(&shared_ex, 3) == 0);
    pthread_t th[LOOPS];
    for (intptr_t i = 0; i < LOOPS; i++)
        pthread_create(&th[i], NULL, shared_thread, IV(i));
    for (int i = 0; i < LOOPS; i++)
        pthread_join(th[i], NULL);
    CHECK(corio_executor_free(shared_ex) == 0);
}

/* ---- a worker may not wait for its own executor ---- */

static atomic_int own_free_rc = 1, own_wait_rc = 1, own_nowait_rc = 1;

static void *waits_for_own_executor(void *arg, int *err) {
    (void)err;
    atomic_store(&own_free_rc, corio_executor_free(arg));            /* would join itself */
    atomic_store(&own_wait_rc, corio_executor_shutdown(arg, 1, 0));  /* the same */
    atomic_store(&own_nowait_rc, corio_executor_shutdown(arg, 0, 0)); /* allowed */
    return arg;
}

static void *own_worker_main(void *arg) {
    (void)arg;
    corio_executor *ex;
    CHECK(corio_executor_new(&ex, 1) == 0);
    corio_future *f;
    CHECK(corio_loop_run_in_executor(&f, NULL, ex, waits_for_own_executor, ex, NULL) == 0);
    void *r = NULL;
    CHECK(corio_await(f, &r) == 0 && r == ex);
    corio_future_unref(f);
    CHECK(atomic_load(&own_free_rc) == -EDEADLK);
    CHECK(atomic_load(&own_wait_rc) == -EDEADLK);
    CHECK(atomic_load(&own_nowait_rc) == 0);
    CHECK(corio_executor_free(ex) == 0); /* from the loop's thread: joins the worker */
    return NULL;
}

/* ---- a job that posts back with call_soon_threadsafe ---- */

static atomic_int posted_back;
static void posted_cb(void *arg) { atomic_store(&posted_back, (int)VI(arg)); }

static void *posting_job(void *arg, int *err) {
    (void)err;
    CHECK(corio_loop_call_soon_threadsafe(arg, posted_cb, IV(42)) == 0);
    return NULL;
}

static void *post_main(void *arg) {
    (void)arg;
    CHECK(corio_to_thread(posting_job, corio_get_running_loop(), NULL) == 0);
    AWAIT_COND(atomic_load(&posted_back) == 42);
    return NULL;
}

static void test_bad_input(void) {
    corio_executor *ex = IV(1);
    CHECK(corio_executor_new(NULL, 1) == -EINVAL);
    CHECK(corio_executor_new(&ex, 100000) == -EINVAL && ex == NULL);
    CHECK(corio_executor_shutdown(NULL, 1, 1) == -EINVAL);
    CHECK(corio_executor_free(NULL) == 0);
    corio_future *f = IV(1);
    CHECK(corio_loop_run_in_executor(&f, NULL, NULL, counting_job, NULL, NULL) == CORIO_ENOLOOP);
    CHECK(f == NULL); /* no loop on this thread */
    CHECK(corio_to_thread(counting_job, NULL, NULL) == CORIO_ENOTASK);
    CHECK(corio_loop_set_default_executor(NULL, NULL) == CORIO_ENOLOOP);
    CHECK(corio_executor_default_size() >= 5 && corio_executor_default_size() <= 32);
}

static void *nothing(void *arg) { return arg; }

int main(void) {
    /* A first thread, so that ThreadSanitizer's own background thread exists before counting. */
    pthread_t first;
    pthread_create(&first, NULL, nothing, NULL);
    pthread_join(first, NULL);
    int threads0 = count_dir("/proc/self/task"), fds0 = count_dir("/proc/self/fd");
    test_bad_input();
    test_results();
    test_cancel();
    test_shutdown();
    test_close_in_flight(0);
    test_close_in_flight(1);
    test_shared_executor();
    CHECK(corio_run(own_worker_main, NULL, NULL, NULL) == 0);
    CHECK(corio_run(post_main, NULL, NULL, NULL) == 0);
    /* Under qemu-user /proc/self/task also lists the emulator's own threads, which come and go.
     * Elsewhere a joined thread can stay listed a moment after pthread_join returns (it wakes
     * the joiner when it clears its tid, before the kernel reaps it): allow 5 s for that. */
    if (!getenv("CORIO_QEMU")) {
        for (int i = 0; i < 500 && count_dir("/proc/self/task") != threads0; i++)
            usleep(10000);
        CHECK(count_dir("/proc/self/task") == threads0);
    }
    CHECK(count_dir("/proc/self/fd") == fds0);
    printf("standalone_executor: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
