/* Benchmark (c): two tasks hand a value back and forth N times through futures.
 *
 * Same work as bench/py/core.py --bench c (loop.create_future()). The two tasks share one slot
 * holding the future that the waiting task awaits. Each round, the running task creates a fresh
 * future of its own, puts it in the slot, sets the result of the future the other task awaits
 * (the value + 1: one hand-off) and awaits its own future, then drops its reference to it. The
 * task that makes the N-th hand-off returns instead of waiting. Timed: from the first hand-off
 * to the last one received. (Go does the same with an unbuffered channel: bench/go.)
 *
 * Prints: RESULT bench=c impl=corio n=N ns_per_op=... cpu_ns_per_op=... wall_s=... peak_rss_kb=...
 * Usage: core_c [N]   (default 1,000,000)
 */
#include <corio.h>
#include <stdint.h>

#include "bench_util.h"

struct pingpong {
    corio_future *slot; /* the future the waiting task awaits, or NULL */
    long n;             /* hand-offs to make */
    double t0, t1;      /* first hand-off, last hand-off received (wall clock) */
    double c0, c1;      /* the same in process CPU time */
};

static void *player(void *arg)
{
    struct pingpong *p = arg;
    uintptr_t v = 0;
    for (;;) {
        corio_future *other = p->slot;
        if (other && v == 0) { /* the first hand-off (the other task is already waiting) */
            p->t0 = bench_now();
            p->c0 = bench_cpu_now();
        }
        if (other && v + 1 >= (uintptr_t)p->n) { /* the last hand-off: nobody waits for a reply */
            p->slot = NULL;
            corio_future_set_result(other, (void *)(v + 1));
            return NULL;
        }
        corio_future *mine;
        int rc = corio_future_new(&mine, NULL);
        if (rc < 0)
            BENCH_DIE("corio_future_new: %s", corio_strerror(rc));
        p->slot = mine;
        if (other) {
            rc = corio_future_set_result(other, (void *)(v + 1));
            if (rc < 0)
                BENCH_DIE("corio_future_set_result: %s", corio_strerror(rc));
        }
        void *got = NULL;
        rc = corio_await(mine, &got);
        corio_future_unref(mine);
        if (rc < 0)
            BENCH_DIE("corio_await: %s", corio_strerror(rc));
        v = (uintptr_t)got;
        if (v >= (uintptr_t)p->n) {
            p->t1 = bench_now();
            p->c1 = bench_cpu_now();
            return NULL;
        }
    }
}

static void *bench_main(void *arg)
{
    struct pingpong *p = arg;
    /* The first task created runs first: it finds the slot empty and waits; the second one makes
     * the first hand-off. */
    corio_task *a, *b;
    int rc = corio_create_task(&a, NULL, player, p, NULL);
    if (rc == 0)
        rc = corio_create_task(&b, NULL, player, p, NULL);
    if (rc < 0)
        BENCH_DIE("corio_create_task: %s", corio_strerror(rc));
    corio_future *both[2] = {corio_task_future(a), corio_task_future(b)};
    rc = corio_gather(both, 2, 0, NULL, NULL);
    if (rc < 0)
        BENCH_DIE("corio_gather: %s", corio_strerror(rc));
    corio_task_unref(a);
    corio_task_unref(b);
    return NULL;
}

int main(int argc, char **argv)
{
    struct pingpong p = {NULL, bench_n(argc, argv), 0, 0, 0, 0};
    int rc = corio_run(bench_main, &p, NULL, NULL);
    if (rc < 0)
        BENCH_DIE("corio_run: %s", corio_strerror(rc));
    double wall = p.t1 - p.t0;
    printf("RESULT bench=c impl=corio n=%ld ns_per_op=%.1f cpu_ns_per_op=%.1f wall_s=%.4f "
           "peak_rss_kb=%ld\n",
           p.n, wall * 1e9 / (double)p.n, (p.c1 - p.c0) * 1e9 / (double)p.n, wall,
           bench_peak_rss_kb());
    return 0;
}
