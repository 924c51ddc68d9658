/* What the sync benchmarks (bench/sync_queue.c, sync_lock.c) share. Header only: each C file in
 * bench/ is a program of its own. */
#ifndef CORIO_BENCH_SYNC_UTIL_H
#define CORIO_BENCH_SYNC_UTIL_H

#include "bench_util.h"

/* Gathers the n tasks, takes the time since (t0, c0), drops the tasks and prints the RESULT
 * line: rate per second, ns per operation (wall and CPU) over n operations. `check` runs after
 * the clock stops (it dies on a wrong result). */
static inline void bench_sync_finish(const char *bench, long n, corio_future **tasks, size_t ntasks,
                                     double t0, double c0, void (*check)(long n))
{
    int rc = corio_gather(tasks, ntasks, 0, NULL, NULL);
    double wall = bench_now() - t0, cpu = bench_cpu_now() - c0;
    if (rc < 0)
        BENCH_DIE("corio_gather: %s", corio_strerror(rc));
    check(n);
    for (size_t i = 0; i < ntasks; i++)
        corio_future_unref(tasks[i]);
    printf("RESULT bench=%s impl=corio n=%ld items_per_s=%.0f ns_per_op=%.1f "
           "cpu_ns_per_op=%.1f wall_s=%.4f peak_rss_kb=%ld\n",
           bench, n, (double)n / wall, wall * 1e9 / (double)n, cpu * 1e9 / (double)n, wall,
           bench_peak_rss_kb());
}

#endif
