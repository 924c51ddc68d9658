/* run_in_executor and to_thread (CPython test_asyncio: test_run_in_executor, test_to_thread):
 * results and errors arrive on the loop's thread, an error code of the job's own, the default
 * executor made on first use and shut down by loop close, user executors, bad input. Cancellation
 * is in test_executor_cancel.c; the threaded stress parts in tests/standalone_executor.c (TSan). */
#include "core_helpers.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static pthread_t loop_tid;

static void *job_double(void *arg, int *err)
{
    (void)err;
    cr_expect(!pthread_equal(pthread_self(), loop_tid), "a job ran on the loop's thread");
    return IV(VI(arg) * 2);
}

static void *job_fail(void *arg, int *err)
{
    *err = VI(arg);
    return IV(99); /* ignored */
}

static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

/* Submits fn(arg) to ex (NULL: the default executor) from the loop `loop` (NULL: the running
 * one), with a check that it was taken. */
static corio_future *submit(corio_loop *loop, corio_executor *ex, corio_job_fn fn, void *arg)
{
    corio_future *f;
    int rc = corio_loop_run_in_executor(&f, loop, ex, fn, arg, NULL);
    cr_expect_eq(rc, 0, "corio_loop_run_in_executor: %s", corio_err_name(rc));
    return f;
}

static void done_cb(corio_future *f, void *arg)
{
    (void)f;
    cr_expect(pthread_equal(pthread_self(), loop_tid));
    ev(VI(arg));
}

static void *results_main(void *arg)
{
    (void)arg;
    corio_future *a = submit(NULL, NULL, job_double, IV(21));
    corio_future *b = submit(NULL, NULL, job_fail, IV(-EPIPE));
    corio_future *c = submit(NULL, NULL, job_fail, IV(-ECANCELED));
    corio_future *d = submit(NULL, NULL, job_fail, IV(5)); /* not < 0 */
    cr_expect(a && b && c && d);
    corio_future_add_done_callback(a, done_cb, IV(1));
    cr_expect(!corio_future_done(a)); /* never inline */
    void *v = IV(1);
    cr_expect_eq(corio_await(a, &v), 0);
    cr_expect_eq(v, IV(42));
    cr_expect_eq(corio_await(b, &v), -EPIPE);
    cr_expect_null(v);
    cr_expect_eq(corio_await(c, &v), -ECANCELED);
    cr_expect(corio_future_cancelled(c));
    cr_expect_eq(corio_await(d, &v), -EINVAL);
    corio_sleep(0);
    corio_future_unref(a);
    corio_future_unref(b);
    corio_future_unref(c);
    corio_future_unref(d);
    return NULL;
}

Test(executor_run, results_and_errors_cross_to_the_loop_thread, .timeout = 20)
{
    loop_tid = pthread_self();
    cr_assert_eq(corio_run(results_main, NULL, NULL, NULL), 0);
    EV_EXPECT(1);
}

static void *to_thread_main(void *arg)
{
    (void)arg;
    void *v = NULL;
    cr_expect_eq(corio_to_thread(job_double, IV(4), &v), 0);
    cr_expect_eq(v, IV(8));
    cr_expect_eq(corio_to_thread(job_fail, IV(-EIO), &v), -EIO);
    cr_expect_null(v);
    cr_expect_eq(corio_to_thread(job_double, IV(1), NULL), 0);
    return NULL;
}

Test(executor_run, to_thread_awaits_the_result, .timeout = 20)
{
    loop_tid = pthread_self();
    cr_assert_eq(corio_run(to_thread_main, NULL, NULL, NULL), 0);
}

Test(executor_run, to_thread_outside_a_task, .timeout = 10)
{
    void *v = IV(1);
    cr_assert_eq(corio_to_thread(job_double, IV(1), &v), CORIO_ENOTASK);
    cr_assert_null(v);
}

static void *many_main(void *arg)
{
    corio_executor *ex = arg;
    enum { N = 2000 };
    static corio_future *f[N];
    static void *v[N];
    for (intptr_t i = 0; i < N; i++)
        f[i] = submit(NULL, ex, job_double, IV(i));
    cr_expect_eq(corio_gather(f, N, 0, v, NULL), 0);
    for (intptr_t i = 0; i < N; i++) {
        cr_expect_eq(v[i], IV(2 * i));
        corio_future_unref(f[i]);
    }
    return NULL;
}

/* Runs fn(ex) as the main task of a new loop, with a new executor of `threads` threads, freed
 * once the loop is closed. */
static void run_with_executor(unsigned threads, corio_coro_fn fn)
{
    loop_tid = pthread_self();
    corio_executor *ex = NULL;
    cr_assert_eq(corio_executor_new(&ex, threads), 0);
    cr_assert_eq(corio_run(fn, ex, NULL, NULL), 0);
    cr_assert_eq(corio_executor_free(ex), 0);
}

Test(executor_run, user_executor_many_jobs_in_order_of_arguments, .timeout = 30)
{
    for (unsigned threads = 1; threads <= 4; threads *= 2)
        run_with_executor(threads, many_main);
}

Test(executor_run, default_executor_threads_end_with_the_loop, .timeout = 20)
{
    /* qemu-user lists its own threads in /proc/self/task, and they come and go */
    if (getenv("CORIO_QEMU"))
        cr_skip_test("thread count not observable under qemu-user");
    loop_tid = pthread_self();
    int before = threads_now();
    cr_assert_eq(corio_run(many_main, NULL, NULL, NULL), 0);
    /* A joined thread can still be listed for a moment: pthread_join returns once the thread has
     * cleared its tid, a little before the kernel removes it from /proc. Wait up to 5 s. */
    int after = threads_now();
    for (int i = 0; i < 500 && after != before; i++) {
        usleep(10000);
        after = threads_now();
    }
    cr_assert_eq(after, before, "threads: %d before, %d after", before, after);
}

static void *set_default_main(void *arg)
{
    corio_executor *ex = arg;
    cr_expect_eq(corio_loop_set_default_executor(corio_get_running_loop(), ex), 0);
    void *v;
    cr_expect_eq(corio_to_thread(job_double, IV(3), &v), 0);
    cr_expect_eq(v, IV(6));
    return NULL;
}

Test(executor_run, set_default_executor_is_used_and_not_freed_by_the_loop, .timeout = 20)
{
    loop_tid = pthread_self();
    corio_executor *ex = NULL;
    cr_assert_eq(corio_executor_new(&ex, 2), 0);
    cr_assert_eq(corio_run(set_default_main, ex, NULL, NULL), 0);
    /* still usable after the loop is gone: the loop did not own it */
    cr_assert_eq(corio_run(many_main, ex, NULL, NULL), 0);
    cr_assert_eq(corio_executor_free(ex), 0);
}

static void *after_shutdown_main(void *arg)
{
    corio_executor *ex = arg;
    corio_future *f = submit(NULL, ex, job_double, IV(1));
    cr_expect_eq(corio_executor_shutdown(ex, 1, 0), 0); /* submitted before: still runs */
    void *v;
    cr_expect_eq(corio_await(f, &v), 0);
    cr_expect_eq(v, IV(2));
    corio_future_unref(f);
    f = IV(1);
    cr_expect_eq(corio_loop_run_in_executor(&f, NULL, ex, job_double, IV(1), NULL), CORIO_ECLOSED);
    cr_expect_null(f);
    return NULL;
}

Test(executor_run, shutdown_refuses_new_jobs_and_runs_earlier_ones, .timeout = 20)
{
    run_with_executor(1, after_shutdown_main);
}

Test(executor_run, bad_input, .timeout = 10)
{
    corio_executor *ex = IV(1);
    cr_assert_eq(corio_executor_new(NULL, 1), -EINVAL);
    cr_assert_eq(corio_executor_new(&ex, 5000), -EINVAL);
    cr_assert_null(ex);
    cr_assert_eq(corio_executor_shutdown(NULL, 0, 0), -EINVAL);
    cr_assert_eq(corio_executor_free(NULL), 0);
    cr_assert_eq(corio_loop_set_default_executor(NULL, NULL), CORIO_ENOLOOP);

    loop_tid = pthread_self();
    corio_loop *loop = new_loop();
    corio_future *f = IV(1);
    cr_assert_eq(corio_loop_run_in_executor(&f, loop, NULL, NULL, NULL, NULL), -EINVAL);
    cr_assert_null(f);
    cr_assert_eq(corio_loop_run_in_executor(NULL, loop, NULL, job_double, NULL, NULL), -EINVAL);
    f = IV(1);
    cr_assert_eq(corio_loop_run_in_executor(&f, NULL, NULL, job_double, NULL, NULL),
                 CORIO_ENOLOOP, "no loop given, none running or current");
    cr_assert_null(f);

    /* NULL: the thread's current loop */
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_loop_run_in_executor(&f, NULL, NULL, job_double, IV(4), NULL), 0);
    cr_assert_eq(corio_future_get_loop(f), loop);
    void *v = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, f, &v), 0);
    cr_assert_eq(v, IV(8));
    corio_future_unref(f);

    /* a closed loop refuses */
    cr_assert_eq(corio_loop_close(loop), 0);
    f = IV(1);
    cr_assert_eq(corio_loop_run_in_executor(&f, loop, NULL, job_double, NULL, NULL), CORIO_ECLOSED);
    cr_assert_null(f);
    cr_assert_eq(corio_loop_set_default_executor(loop, NULL), CORIO_ECLOSED);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(executor_run, default_size_follows_the_environment, .timeout = 10)
{
    setenv("CORIO_EXECUTOR_THREADS", "3", 1);
    cr_assert_eq(corio_executor_default_size(), 3);
    setenv("CORIO_EXECUTOR_THREADS", "nonsense", 1);
    unsigned n = corio_executor_default_size();
    cr_assert(n >= 5 && n <= 32, "default size %u", n);
    unsetenv("CORIO_EXECUTOR_THREADS");
}

static void *replace_default_main(void *arg)
{
    corio_executor *ex = arg;
    /* submitted to the loop's own default executor, which is replaced (and freed) in the same
     * iteration, before the pool ever saw the job: it still runs */
    corio_future *f = submit(NULL, NULL, job_double, IV(5));
    cr_expect_eq(corio_loop_set_default_executor(corio_get_running_loop(), ex), 0);
    void *v;
    cr_expect_eq(corio_await(f, &v), 0);
    cr_expect_eq(v, IV(10));
    corio_future_unref(f);
    cr_expect_eq(corio_to_thread(job_double, IV(6), &v), 0);
    cr_expect_eq(v, IV(12));
    return NULL;
}

Test(executor_run, replacing_the_default_executor_keeps_its_jobs, .timeout = 20)
{
    run_with_executor(1, replace_default_main);
}

/* ---- a worker may not wait for its own executor ---- */

static atomic_int own_free_rc = 1, own_wait_rc = 1, own_wait_cancel_rc = 1, own_nowait_rc = 1;

/* On a worker of ex: freeing ex or shutting it down with wait would join this very thread. */
static void *waits_for_own_executor(void *arg, int *err)
{
    (void)err;
    atomic_store(&own_free_rc, corio_executor_free(arg));
    atomic_store(&own_wait_rc, corio_executor_shutdown(arg, 1, 0));
    atomic_store(&own_wait_cancel_rc, corio_executor_shutdown(arg, 1, 1));
    return IV(1);
}

/* On a worker of ex: a shutdown that does not wait is allowed there. */
static void *shuts_own_executor_down(void *arg, int *err)
{
    (void)err;
    atomic_store(&own_nowait_rc, corio_executor_shutdown(arg, 0, 0));
    return IV(2);
}

static void *own_worker_main(void *arg)
{
    corio_executor *ex = arg;
    void *v = NULL;
    corio_future *f = submit(NULL, ex, waits_for_own_executor, ex);
    cr_expect_eq(corio_await(f, &v), 0);
    cr_expect_eq(v, IV(1));
    corio_future_unref(f);
    cr_expect_eq(atomic_load(&own_free_rc), -EDEADLK, "corio_executor_free from its worker");
    cr_expect_eq(atomic_load(&own_wait_rc), -EDEADLK, "shutdown(wait) from its worker");
    cr_expect_eq(atomic_load(&own_wait_cancel_rc), -EDEADLK);

    /* nothing was done: the executor still takes jobs */
    f = submit(NULL, ex, job_double, IV(21));
    cr_expect_eq(corio_await(f, &v), 0);
    cr_expect_eq(v, IV(42));
    corio_future_unref(f);

    f = submit(NULL, ex, shuts_own_executor_down, ex);
    cr_expect_eq(corio_await(f, &v), 0);
    cr_expect_eq(v, IV(2));
    corio_future_unref(f);
    cr_expect_eq(atomic_load(&own_nowait_rc), 0, "shutdown without wait from its worker");
    f = IV(1);
    cr_expect_eq(corio_loop_run_in_executor(&f, NULL, ex, job_double, IV(1), NULL), CORIO_ECLOSED);
    cr_expect_null(f);
    return NULL;
}

Test(executor_run, free_or_wait_from_own_worker_is_edeadlk, .timeout = 20)
{
    run_with_executor(2, own_worker_main); /* then freed from this thread: 0 */
}
