/* Helpers shared by the core benchmarks. Header only: CMake turns every C file in bench/ into
 * its own executable, so shared code must not live in a .c file. */
#ifndef CORIO_BENCH_UTIL_H
#define CORIO_BENCH_UTIL_H

#include <corio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* N from argv[1] (default 1,000,000). */
static inline long bench_n(int argc, char **argv)
{
    long n = 1000000;
    if (argc > 1) {
        char *end = NULL;
        n = strtol(argv[1], &end, 10);
        if (!end || *end || n <= 0) {
            fprintf(stderr, "usage: %s [N > 0]\n", argv[0]);
            exit(2);
        }
    }
    return n;
}

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time used by the whole process (all threads), in seconds: unlike the wall clock, it does not
 * count time this process waited while another one had the CPU. */
static inline double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Peak resident set size of the whole process so far, in KiB (Linux reports ru_maxrss in KiB). */
static inline long bench_peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

#define BENCH_DIE(...)                                                                           \
    do {                                                                                         \
        fprintf(stderr, __VA_ARGS__);                                                            \
        fputc('\n', stderr);                                                                     \
        exit(1);                                                                                 \
    } while (0)

/* argv[i] as a positive number, `dflt` when absent; exits with `usage` on anything else. */
static inline long bench_arg_long(int argc, char **argv, int i, long dflt, const char *usage)
{
    if (argc <= i)
        return dflt;
    char *end = NULL;
    long v = strtol(argv[i], &end, 10);
    if (!end || *end || v <= 0)
        BENCH_DIE("usage: %s %s (positive numbers)", argv[0], usage);
    return v;
}

/* The body of benchmarks (a) and (b), inside the main task: creates n tasks running fn(i) (opts
 * may be NULL), gathers them, checks that the results are 0 + 1 + ... + n-1, and drops the
 * references. Timed (into *wall and *cpu, seconds): from before the first create to after the
 * gather returns, the arrays of tasks and results included, as Python's list and Go's slice are;
 * not the check nor the unrefs. */
static inline void bench_spawn_gather(long n, corio_coro_fn fn, const corio_task_opts *opts,
                                      double *wall, double *cpu)
{
    double t0 = bench_now(), c0 = bench_cpu_now();
    corio_future **tasks = malloc((size_t)n * sizeof *tasks);
    void **values = malloc((size_t)n * sizeof *values);
    if (!tasks || !values)
        BENCH_DIE("out of memory");
    for (long i = 0; i < n; i++) {
        corio_task *t;
        int rc = corio_create_task(&t, NULL, fn, (void *)(uintptr_t)i, opts);
        if (rc < 0)
            BENCH_DIE("corio_create_task at task %ld: %s", i, corio_strerror(rc));
        tasks[i] = corio_task_future(t);
    }
    int rc = corio_gather(tasks, (size_t)n, 0, values, NULL);
    *wall = bench_now() - t0;
    *cpu = bench_cpu_now() - c0;
    if (rc < 0)
        BENCH_DIE("corio_gather: %s", corio_strerror(rc));
    unsigned long long sum = 0;
    for (long i = 0; i < n; i++)
        sum += (uintptr_t)values[i];
    if (sum != (unsigned long long)n * (unsigned long long)(n - 1) / 2)
        BENCH_DIE("wrong sum of results: %llu", sum);
    for (long i = 0; i < n; i++)
        corio_future_unref(tasks[i]);
    free(tasks);
    free(values);
}

#endif
