/* Executor benchmark: N trivial blocking calls offloaded to worker threads and awaited, in
 * batches: a task submits BATCH calls with corio_loop_run_in_executor, gathers their futures, and
 * repeats until N calls are done. Each call returns its index; the sum is checked.
 *
 * Same work as bench/executor_uv.c (uv_queue_work) and bench/py/executor.py (asyncio's
 * run_in_executor). Timed: from the first submission to the last result received.
 *
 * Prints: RESULT bench=executor impl=corio n=N batch=B threads=T calls_per_s=... ns_per_call=...
 *         cpu_ns_per_call=... wall_s=...
 * Usage: executor [N [BATCH [THREADS]]]   (default 100,000, 1,000, the default executor's size)
 */
#include <corio.h>
#include <stdint.h>

#include "bench_util.h"

struct run {
    long n, batch;
    corio_executor *ex;
    double wall, cpu;
};

static void *trivial(void *arg, int *err)
{
    (void)err;
    return arg;
}

static void *bench_main(void *arg)
{
    struct run *r = arg;
    corio_future **futs = malloc((size_t)r->batch * sizeof *futs);
    void **values = malloc((size_t)r->batch * sizeof *values);
    if (!futs || !values)
        BENCH_DIE("out of memory");
    unsigned long long sum = 0;
    double t0 = bench_now(), c0 = bench_cpu_now();
    for (long done = 0; done < r->n;) {
        long k = r->n - done < r->batch ? r->n - done : r->batch;
        for (long i = 0; i < k; i++) {
            int err = corio_loop_run_in_executor(&futs[i], NULL, r->ex, trivial,
                                                 (void *)(uintptr_t)(done + i), NULL);
            if (err < 0)
                BENCH_DIE("corio_loop_run_in_executor: %s", corio_strerror(err));
        }
        int rc = corio_gather(futs, (size_t)k, 0, values, NULL);
        if (rc < 0)
            BENCH_DIE("corio_gather: %s", corio_strerror(rc));
        for (long i = 0; i < k; i++) {
            sum += (uintptr_t)values[i];
            corio_future_unref(futs[i]);
        }
        done += k;
    }
    r->wall = bench_now() - t0;
    r->cpu = bench_cpu_now() - c0;
    if (sum != (unsigned long long)r->n * (unsigned long long)(r->n - 1) / 2)
        BENCH_DIE("wrong sum of results: %llu", sum);
    free(futs);
    free(values);
    return NULL;
}

#define USAGE "[N [BATCH [THREADS]]]"

int main(int argc, char **argv)
{
    struct run r = {.n = bench_arg_long(argc, argv, 1, 100000, USAGE),
                    .batch = bench_arg_long(argc, argv, 2, 1000, USAGE)};
    long threads = bench_arg_long(argc, argv, 3, (long)corio_executor_default_size(), USAGE);
    int rc = corio_executor_new(&r.ex, (unsigned)threads);
    if (rc < 0)
        BENCH_DIE("corio_executor_new: %s", corio_strerror(rc));
    rc = corio_run(bench_main, &r, NULL, NULL);
    if (rc < 0)
        BENCH_DIE("corio_run: %s", corio_strerror(rc));
    rc = corio_executor_free(r.ex);
    if (rc < 0)
        BENCH_DIE("corio_executor_free: %s", corio_strerror(rc));
    printf("RESULT bench=executor impl=corio n=%ld batch=%ld threads=%ld calls_per_s=%.0f "
           "ns_per_call=%.1f cpu_ns_per_call=%.1f wall_s=%.4f\n",
           r.n, r.batch, threads, (double)r.n / r.wall, r.wall * 1e9 / (double)r.n,
           r.cpu * 1e9 / (double)r.n, r.wall);
    return 0;
}
