/* Stress: a million timers per round, created with random deadlines, half of them cancelled in
 * random order (some before the loop runs, some from inside other timers' callbacks), the rest
 * fired. Checks that exactly the timers not cancelled ran, each once, none before its deadline,
 * and that RSS stays flat across rounds. */
#include "stress_util.h"

typedef struct timer_rec {
    corio_handle *h;
    double when;
    uint8_t cancelled, fired;
} timer_rec;

static timer_rec *recs;
static long nrecs, nfired, nearly, nlate_cancels;

static void on_fire(void *arg) {
    timer_rec *r = arg;
    corio_loop *loop = corio_get_running_loop();
    if (r->fired || r->cancelled)
        CHECK(0, "timer %ld ran twice or after its cancel", (long)(r - recs));
    r->fired = 1;
    nfired++;
    if (corio_loop_time(loop) + 1e-6 < r->when)
        nearly++;
    /* Every 16th firing cancels a random timer that is still pending. */
    if ((nfired & 15) == 0) {
        timer_rec *v = &recs[rng_below((uint64_t)nrecs)];
        if (!v->fired && !v->cancelled) {
            corio_handle_cancel(v->h);
            v->cancelled = 1;
            nlate_cancels++;
        }
    }
}

static void stop_loop(void *loop) { corio_loop_stop(loop); }

static void round_once(corio_loop *loop, long n) {
    nfired = nearly = nlate_cancels = 0;
    nrecs = n;
    double t0 = corio_loop_time(loop);
    for (long i = 0; i < n; i++) {
        timer_rec *r = &recs[i];
        memset(r, 0, sizeof *r);
        double delay = (double)rng_below(20000) / 1e6; /* 0-20 ms */
        r->when = t0 + delay;
        int rc = corio_loop_call_later(&r->h, loop, delay, on_fire, r);
        CHECK(rc == 0, "call_later: %s", corio_strerror(rc));
    }
    /* Cancel a random half before the loop runs, in random order. */
    long ncancel = 0;
    for (long k = 0; k < n / 2; k++) {
        timer_rec *r = &recs[rng_below((uint64_t)n)];
        if (!r->cancelled) {
            corio_handle_cancel(r->h);
            r->cancelled = 1;
            ncancel++;
        }
    }
    /* Run past the latest deadline; on a slow machine, keep going until every timer is done. */
    corio_loop_call_later(NULL, loop, 0.030, stop_loop, loop);
    corio_loop_run_forever(loop);
    while (nfired + ncancel + nlate_cancels < n) {
        corio_loop_call_later(NULL, loop, 0.010, stop_loop, loop);
        corio_loop_run_forever(loop);
    }
    long expect = n - ncancel - nlate_cancels;
    CHECK(nfired == expect, "fired %ld, expected %ld", nfired, expect);
    CHECK(nearly == 0, "%ld timers fired before their deadline", nearly);
    for (long i = 0; i < n; i++) {
        CHECK(recs[i].fired != recs[i].cancelled, "timer %ld: fired %d cancelled %d", i,
              recs[i].fired, recs[i].cancelled);
        corio_handle_unref(recs[i].h);
    }
    printf("  %ld timers: %ld cancelled before the run, %ld from callbacks, %ld fired\n", n, ncancel,
           nlate_cancels, nfired);
}

int main(void) {
    rng_seed();
    long n = scaled(1000000);
    int rounds = 4;
    recs = calloc((size_t)n, sizeof *recs);
    corio_loop *loop;
    if (!recs || corio_loop_new(&loop, NULL) < 0)
        return 2;
    long rss[4];
    double t = now_s();
    for (int r = 0; r < rounds; r++) {
        round_once(loop, n);
        rss[r] = rss_kib();
        printf("round %d: RSS %ld KiB\n", r + 1, rss[r]);
    }
    check_rss_flat(rss, rounds);
    int rc = corio_loop_free(loop);
    CHECK(rc == 0, "loop_free: %s", corio_strerror(rc));
    free(recs);
    printf("stress_timers: %ld timers in %d rounds in %.1f s\n", n * rounds, rounds, now_s() - t);
    return stress_result("stress_timers");
}
