/* Sync benchmark (lock): a lock handed among 1,000 tasks.
 *
 * Same work in bench/py/sync.py --bench lock and bench/go (-bench lock, sync.Mutex): 1,000 tasks
 * share one lock and a counter; each runs N/1,000 rounds of: acquire the lock, yield once to the
 * scheduler (corio_sleep(0); asyncio.sleep(0); runtime.Gosched()), increment the counter,
 * release. The counter is checked against N. Since every task yields while it holds the lock, the
 * others queue up on it: nearly every acquisition is a wait and a wake-up. Timed: from before
 * the tasks are created to after all are gathered. Reported: acquisitions per second and ns per
 * acquisition.
 *
 * Prints: RESULT bench=lock impl=corio n=N items_per_s=... ns_per_op=... cpu_ns_per_op=...
 * Usage: sync_lock [N]   (default 1,000,000; a multiple of 1,000)
 */
#include <corio.h>
#include <stdint.h>

#include "sync_util.h"

enum { TASKS = 1000 };

static corio_lock *lock;
static long rounds, counter;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        int rc = corio_lock_acquire(lock);
        if (rc < 0)
            BENCH_DIE("corio_lock_acquire: %s", corio_strerror(rc));
        if ((rc = corio_sleep(0)) < 0)
            BENCH_DIE("corio_sleep: %s", corio_strerror(rc));
        counter++;
        corio_lock_release(lock);
    }
    return NULL;
}

static void check_count(long n)
{
    if (counter != n)
        BENCH_DIE("wrong count: %ld", counter);
}

static void *bench_main(void *arg)
{
    long n = *(long *)arg;
    int rc = corio_lock_new(&lock, NULL);
    if (rc < 0)
        BENCH_DIE("corio_lock_new: %s", corio_strerror(rc));
    rounds = n / TASKS;
    static corio_future *tasks[TASKS];
    double t0 = bench_now(), c0 = bench_cpu_now();
    for (int i = 0; i < TASKS; i++) {
        corio_task *t;
        rc = corio_create_task(&t, NULL, worker, NULL, NULL);
        if (rc < 0)
            BENCH_DIE("corio_create_task: %s", corio_strerror(rc));
        tasks[i] = corio_task_future(t);
    }
    bench_sync_finish("lock", n, tasks, TASKS, t0, c0, check_count);
    corio_lock_free(lock);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = bench_n(argc, argv);
    if (n % TASKS)
        BENCH_DIE("N must be a multiple of %d", TASKS);
    return corio_run(bench_main, &n, NULL, NULL) < 0;
}
