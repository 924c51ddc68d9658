/* Benchmark (b): N tasks sleeping 1 s at the same time.
 *
 * Same work as bench/py/core.py --bench b and bench/go (-bench b): inside the main task, create N
 * tasks whose body is minimal (corio_sleep(1.0), then return its index), gather them, check the
 * sum of the results. Timed: the whole run, from before the first create to after the gather
 * returns (at best 1 s). Memory: peak RSS of the process minus its peak RSS just before the tasks
 * are created (the baseline: loop, main task, binary, libc), divided by N.
 *
 * By default every task runs on its own stack of the library's default size (the loop is created
 * with default options: 64 KiB unless CORIO_STACK_SIZE is set in the environment; bench/run.sh
 * unsets it). Only the pages a task really touches become resident, but each task touches one
 * fresh page, and each fresh page is a page fault. With --compact the tasks are created with
 * CORIO_TASK_COMPACT: they share one run stack and keep only the bytes they use while asleep.
 *
 * Prints: RESULT bench=b impl=corio[-compact] n=N wall_s=... cpu_s=... peak_rss_kb=...
 *         base_rss_kb=... rss_per_task_b=...      Usage: core_b [--compact] [N]
 */
#include <corio.h>
#include <stdint.h>
#include <string.h>

#include "bench_util.h"

static long g_n;
static double g_wall, g_cpu;
static long g_base_kb;
static corio_task_opts g_opts;

static void *sleeper(void *arg)
{
    corio_sleep(1.0);
    return arg;
}

static void *bench_main(void *arg)
{
    (void)arg;
    g_base_kb = bench_peak_rss_kb();
    bench_spawn_gather(g_n, sleeper, &g_opts, &g_wall, &g_cpu);
    return NULL;
}

int main(int argc, char **argv)
{
    int compact = argc > 1 && strcmp(argv[1], "--compact") == 0;
    if (compact) {
        g_opts.flags = CORIO_TASK_COMPACT;
        argv[1] = argv[0];
        argc--, argv++;
    }
    g_n = bench_n(argc, argv);
    int rc = corio_run(bench_main, NULL, NULL, NULL);
    if (rc < 0)
        BENCH_DIE("corio_run: %s", corio_strerror(rc));
    long peak = bench_peak_rss_kb();
    printf("RESULT bench=b impl=corio%s n=%ld wall_s=%.4f cpu_s=%.4f peak_rss_kb=%ld "
           "base_rss_kb=%ld rss_per_task_b=%.1f\n",
           compact ? "-compact" : "", g_n, g_wall, g_cpu, peak, g_base_kb,
           (double)(peak - g_base_kb) * 1024.0 / (double)g_n);
    return 0;
}
