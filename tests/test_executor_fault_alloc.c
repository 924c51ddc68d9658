/* Allocation failure at every allocation site of the thread calls (issue 6): run_in_executor,
 * to_thread, call_soon_threadsafe and run_coroutine_threadsafe from a worker thread, and
 * getaddrinfo of a numeric host. corio__alloc_fail_arm counts the calling thread's allocations
 * only, so the failures land on the loop thread: the default executor's creation, the job
 * records and futures, the inbox's handling of posts from the worker, the task that
 * run_coroutine_threadsafe creates there, the lookup's copies. Each run must end with success
 * or -ENOMEM; the ASan and Valgrind runs of the suite check that nothing leaks. */
#include "fault_helpers.h"

#include <netdb.h>

static void *square(void *arg, int *err)
{
    (void)err;
    return IV(VI(arg) * VI(arg));
}

static volatile int posted; /* set on the loop thread by the callback a worker posts */
static void set_posted(void *arg) { posted = VI(arg); }

/* On a worker: posts a callback to the loop and reports whether the post was taken. */
static void *poster(void *arg, int *err)
{
    int rc = corio_loop_call_soon_threadsafe(arg, set_posted, IV(1));
    if (rc < 0)
        *err = rc;
    return NULL;
}

static void *coro_on_loop(void *arg) { return arg; }

/* On a worker: runs a coroutine on the loop and waits for its outcome (at most 10 s, so that a
 * lost task shows as -ETIMEDOUT rather than a hang). */
static void *remote_coro(void *arg, int *err)
{
    corio_concurrent *h;
    int rc = corio_run_coroutine_threadsafe(&h, arg, coro_on_loop, IV(5));
    void *res = NULL;
    if (rc == 0) {
        rc = corio_concurrent_wait(h, 10.0, &res);
        corio_concurrent_free(h);
    }
    if (rc < 0)
        *err = rc;
    return res;
}

static int in_executor(void)
{
    corio_future *f;
    int rc = corio_loop_run_in_executor(&f, NULL, NULL, square, IV(7), NULL);
    if (rc < 0)
        return rc;
    void *res = NULL;
    rc = corio_await(f, &res);
    corio_future_unref(f);
    return rc == 0 && VI(res) != 49 ? -EPROTO : rc;
}

static int to_thread(void)
{
    void *res = NULL;
    int rc = corio_to_thread(square, IV(6), &res);
    return rc == 0 && VI(res) != 36 ? -EPROTO : rc;
}

static int threadsafe_post(void)
{
    posted = 0;
    int rc = corio_to_thread(poster, corio_get_running_loop(), NULL);
    for (int i = 0; rc == 0 && !posted && i < 5000; i++) /* the callback runs soon after */
        rc = corio_sleep(0.001);
    return rc == 0 && !posted ? -ETIMEDOUT : rc;
}

static int threadsafe_coro(void)
{
    void *res = NULL;
    int rc = corio_to_thread(remote_coro, corio_get_running_loop(), &res);
    return rc == 0 && VI(res) != 5 ? -EPROTO : rc;
}

static int lookup(void)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = corio_getaddrinfo("127.0.0.1", "80", &hints, &res);
    if (rc == 0) {
        rc = res && res->ai_family == AF_INET ? 0 : -EPROTO;
        freeaddrinfo(res);
    }
    return rc;
}

static void *executor_main(void *arg)
{
    (void)arg;
    int (*steps[])(void) = {in_executor, to_thread, threadsafe_post, threadsafe_coro, lookup};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof steps / sizeof *steps; i++)
        rc = steps[i]();
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int executor_scenario(void) { return corio_run(executor_main, NULL, NULL, NULL); }

Test(executor_fault_alloc, every_thread_call_allocation_fails_cleanly, .timeout = 300)
{
    fault_sweep_report("executor_fault_alloc (loop thread)", executor_scenario, 10);
}
