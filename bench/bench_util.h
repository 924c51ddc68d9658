/* Helpers shared by the core benchmarks. Header only: CMake turns every C file in bench/ into
 * its own executable, so shared code must not live in a .c file. */
#ifndef CORIO_BENCH_UTIL_H
#define CORIO_BENCH_UTIL_H

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

#endif
