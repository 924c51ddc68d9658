/* Benchmark (a): create N tasks that return at once, then gather them.
 *
 * Same work as bench/py/core.py --bench a and bench/go (-bench a): inside the main task, create N
 * tasks (each returns its index), gather all of them, check the sum of the results. Timed: from
 * before the first create to after the gather returns (the arrays of tasks and results are
 * allocated inside the timed region, as Python's list and Go's slice are). Not timed: dropping the
 * task references afterwards.
 *
 * Prints: RESULT bench=a impl=corio n=N ns_per_op=... cpu_ns_per_op=... wall_s=... peak_rss_kb=...
 * cpu_ns_per_op: process CPU time over the same region; peak_rss_kb: ru_maxrss of the whole
 * process. Usage: core_a [N]   (default 1,000,000)
 */
#include <corio.h>
#include <stdint.h>

#include "bench_util.h"

static long g_n;
static double g_wall, g_cpu;

static void *ret_index(void *arg) { return arg; }

static void *bench_main(void *arg)
{
    (void)arg;
    bench_spawn_gather(g_n, ret_index, NULL, &g_wall, &g_cpu);
    return NULL;
}

int main(int argc, char **argv)
{
    g_n = bench_n(argc, argv);
    int rc = corio_run(bench_main, NULL, NULL, NULL);
    if (rc < 0)
        BENCH_DIE("corio_run: %s", corio_strerror(rc));
    printf("RESULT bench=a impl=corio n=%ld ns_per_op=%.1f cpu_ns_per_op=%.1f wall_s=%.4f "
           "peak_rss_kb=%ld\n",
           g_n, g_wall * 1e9 / (double)g_n, g_cpu * 1e9 / (double)g_n, g_wall,
           bench_peak_rss_kb());
    return 0;
}
