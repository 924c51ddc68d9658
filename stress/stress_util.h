/* Shared bits of the stress programs (stress/stress_*.c): plain programs that run bounded rounds of a
 * heavy workload, check every outcome, print their figures and exit 0 only if all held.
 *
 * STRESS_SCALE (environment, default 1) multiplies the counts: the sanitizer builds run with a
 * fraction, a long soak by hand with more. */
#ifndef CORIO_STRESS_UTIL_H
#define CORIO_STRESS_UTIL_H

#include <corio.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int stress_failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            stress_failures++;                                                                     \
            fprintf(stderr, "FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

static inline double stress_scale(void) {
    const char *s = getenv("STRESS_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

static inline long scaled(long n) {
    long v = (long)((double)n * stress_scale());
    return v > 0 ? v : 1;
}

/* Resident set size in KiB, of this process or of another (its /proc/<pid>/statm). */
static inline long rss_kib_of(const char *statm) {
    FILE *f = fopen(statm, "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}
static inline long rss_kib(void) { return rss_kib_of("/proc/self/statm"); }

/* The fds open in a /proc/<pid>/fd directory. */
static inline int fds_in(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}
/* This process's, without the one that counts them. */
static inline int open_fds(void) { return fds_in("/proc/self/fd") - 1; }

static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: reproducible randomness from STRESS_SEED (printed, so a failure can be rerun). */
static uint64_t rng_state;
static inline void rng_seed(void) {
    const char *s = getenv("STRESS_SEED");
    rng_state = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (!rng_state)
        rng_state = 1;
    printf("seed %llu (STRESS_SEED reproduces a run)\n", (unsigned long long)rng_state);
}
static inline uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static inline uint64_t rng_below(uint64_t n) { return n ? rng() % n : 0; }

/* RSS must not grow from round to round once the library's caches are warm. It keeps what it
 * freed for reuse: object pools in 2 MiB chunks, sized by the peak number of objects alive at
 * once, and up to two stack slabs of 1,024 stacks (the spare, and the one holding the loop's
 * spare stack) with the pages their stacks touched, 4 to 8 MiB each. Which slabs stay, and the
 * peak, differ between random rounds. So the first two rounds warm up, and every later one may
 * exceed the larger of them by at most 10% or 16 MiB. A leak grows with every round and shows
 * past that (at 50,000 tasks a round, about 110 bytes a task over three rounds). */
static inline void check_rss_flat(const long *rss, int rounds) {
#ifdef CORIO_SANITIZE
    /* AddressSanitizer keeps freed memory in quarantine (256 MiB by default), so RSS grows by
     * design there; its LeakSanitizer checks for leaks at exit instead. */
    (void)rss, (void)rounds;
    printf("RSS not checked under a sanitizer (quarantine); leaks are checked at exit\n");
    return;
#endif
    int warm = rounds >= 3 ? 2 : 1;
    long base = rss[0];
    for (int r = 1; r < warm; r++)
        base = rss[r] > base ? rss[r] : base;
    long slack = base / 10 > 16384 ? base / 10 : 16384;
    for (int r = warm; r < rounds; r++)
        CHECK(rss[r] <= base + slack, "RSS grew: %ld KiB after the warm-up round(s), %ld after "
              "round %d", base, rss[r], r + 1);
}

static inline int stress_result(const char *name) {
    printf("%s: %s (%d failed checks)\n", name, stress_failures ? "FAILED" : "passed",
           stress_failures);
    return stress_failures ? 1 : 0;
}

#endif
