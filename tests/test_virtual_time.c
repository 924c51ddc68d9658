/* Virtual time (corio_loop_opts.virtual_time): the clock jumps to the next timer instead of
 * sleeping, stands still while callbacks run, and timers fire in a fixed order. (asyncio's own
 * tests use a TestLoop that advances time by hand; Trio's MockClock autojumps like this.) */
#include "core_helpers.h"

/* ---- an hour of sleeps and timeouts in well under a second ---- */

static int hour_done;
static void *sleeps_for(void *arg)
{
    double total = 0;
    for (int i = 0; i < 60; i++) { /* a minute at a time */
        if (corio_sleep((double)VI(arg)) != 0)
            return corio_raise(-EIO);
        total += VI(arg);
    }
    hour_done++;
    return IV((int)total);
}

static void *never_done(void *arg)
{
    (void)arg;
    corio_sleep(1e6);
    return NULL;
}

static int timeouts;
static void *times_out_repeatedly(void *arg)
{
    (void)arg;
    for (int i = 0; i < 60; i++) { /* sixty one-minute timeouts */
        corio_task *t;
        cr_expect_eq(corio_create_task(&t, NULL, never_done, NULL, NULL), 0);
        if (corio_wait_for(corio_task_future(t), 60.0, NULL) == -ETIMEDOUT)
            timeouts++;
        corio_task_unref(t);
    }
    return NULL;
}

static void *hour_main(void *arg)
{
    (void)arg;
    corio_task *t[101];
    for (int i = 0; i < 100; i++)
        cr_expect_eq(corio_create_task(&t[i], NULL, sleeps_for, IV(60), NULL), 0);
    cr_expect_eq(corio_create_task(&t[100], NULL, times_out_repeatedly, NULL, NULL), 0);
    corio_future *fs[101];
    for (int i = 0; i < 101; i++)
        fs[i] = corio_task_future(t[i]);
    int rc = corio_gather(fs, 101, 0, NULL, NULL);
    for (int i = 0; i < 101; i++)
        corio_task_unref(t[i]);
    return IV(rc);
}

Test(virtual_time, an_hour_of_timers_takes_well_under_a_second, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    double l0 = corio_loop_time(loop), t0 = now_s();
    void *res = IV(1);
    cr_assert_eq(run_main(loop, hour_main, NULL, &res), 0);
    double real = now_s() - t0, virt = corio_loop_time(loop) - l0;
    cr_assert_eq(VI(res), 0);
    cr_assert_eq(hour_done, 100);
    cr_assert_eq(timeouts, 60);
    cr_assert_lt(fabs(virt - 3600.0), 1e-3, "an hour of loop time passed (%f s)", virt);
    cr_assert_lt(real, 1.0, "an hour of virtual time took %f s of real time", real);
    corio_loop_free(loop);
}

/* ---- order ---- */

static void *sleep_and_log(void *arg)
{
    int v = VI(arg);
    corio_sleep((double)(v / 10)); /* tens digit: seconds */
    ev(v);
    return NULL;
}

Test(virtual_time, timers_fire_by_deadline_then_scheduling_order, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    int order[] = {31, 10, 20, 11, 32, 21, 12, 30};
    corio_task *t[8];
    for (int i = 0; i < 8; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, sleep_and_log, IV(order[i]), NULL), 0);
    corio_future *fs[8];
    for (int i = 0; i < 8; i++)
        fs[i] = corio_task_future(t[i]);
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, fs, 8, 0), 0);
    cr_assert_eq(corio_loop_run_until_complete(loop, g, NULL), 0);
    EV_EXPECT(10, 11, 12, 20, 21, 31, 32, 30);
    corio_future_unref(g);
    for (int i = 0; i < 8; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

static corio_loop *the_loop;
static double seen[4];
static int nseen;
static void note_time(void *arg)
{
    (void)arg;
    seen[nseen++] = corio_loop_time(the_loop);
}

Test(virtual_time, clock_jumps_to_each_deadline_exactly, .timeout = 10)
{
    corio_loop *loop = the_loop = new_vt_loop();
    double l0 = corio_loop_time(loop);
    corio_loop_call_later(NULL, loop, 7200.0, note_time, NULL);
    corio_loop_call_later(NULL, loop, 0.25, note_time, NULL);
    corio_loop_call_at(NULL, loop, l0 + 3.5, note_time, NULL);
    corio_loop_call_later(NULL, loop, 7200.0, stop_cb, loop);
    double t0 = now_s();
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    cr_assert_lt(now_s() - t0, 1.0);
    cr_assert_eq(nseen, 3);
    cr_assert_lt(fabs(seen[0] - l0 - 0.25), 1e-6);
    cr_assert_lt(fabs(seen[1] - l0 - 3.5), 1e-6);
    cr_assert_lt(fabs(seen[2] - l0 - 7200.0), 1e-6);
    corio_loop_free(loop);
}

static void busy_then_note(void *arg)
{
    double before = corio_loop_time(the_loop);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* real time passes... */
    seen[nseen++] = corio_loop_time(the_loop) - before; /* ...loop time does not */
    (void)arg;
}

Test(virtual_time, clock_stands_still_while_callbacks_run, .timeout = 10)
{
    corio_loop *loop = the_loop = new_vt_loop();
    corio_loop_call_soon(NULL, loop, busy_then_note, NULL);
    run_once(loop);
    cr_assert_eq(nseen, 1);
    cr_assert_eq(seen[0], 0.0);
    corio_loop_free(loop);
}

/* ---- the same program, the same run ---- */

static char trace[4096];
static double start;
static void *worker(void *arg)
{
    int id = VI(arg);
    for (int i = 0; i < 5; i++) {
        corio_sleep(0.001 * ((id * 7 + i * 3) % 5));
        snprintf(trace + strlen(trace), sizeof trace - strlen(trace), "%d.%d@%.3f ", id, i,
                 loop_now() - start);
    }
    return NULL;
}

static void run_workers(char *out, size_t len)
{
    trace[0] = 0;
    corio_loop *loop = new_vt_loop();
    double l0 = start = corio_loop_time(loop);
    corio_task *t[6];
    for (int i = 0; i < 6; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, worker, IV(i), NULL), 0);
    for (int i = 0; i < 6; i++) {
        run_task(loop, t[i], NULL);
        corio_task_unref(t[i]);
    }
    snprintf(out, len, "%s|%.6f", trace, corio_loop_time(loop) - l0);
    corio_loop_free(loop);
}

Test(virtual_time, runs_are_repeatable, .timeout = 10)
{
    static char a[4200], b[4200];
    run_workers(a, sizeof a);
    run_workers(b, sizeof b);
    cr_assert_gt(strlen(a), 100);
    cr_assert_str_eq(a, b);
}

/* ---- cancellation and timeouts keep their meaning ---- */

static int slept_rc = 1;
static void *sleeps_long(void *arg)
{
    slept_rc = corio_sleep(3600.0);
    return arg;
}

static void *cancels_after(void *arg)
{
    corio_task *t = arg;
    corio_sleep(10.0);
    corio_task_cancel(t, NULL);
    return NULL;
}

Test(virtual_time, cancelled_sleep_ends_at_the_cancel, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    double l0 = corio_loop_time(loop);
    corio_task *s;
    cr_assert_eq(corio_create_task(&s, loop, sleeps_long, NULL, NULL), 0);
    corio_task *c;
    cr_assert_eq(corio_create_task(&c, loop, cancels_after, s, NULL), 0);
    cr_assert_eq(run_task(loop, s, NULL), -ECANCELED);
    cr_assert_eq(slept_rc, -ECANCELED);
    cr_assert_lt(fabs(corio_loop_time(loop) - l0 - 10.0), 1e-6);
    run_task(loop, c, NULL);
    corio_task_unref(s);
    corio_task_unref(c);
    corio_loop_free(loop);
}

/* ---- options ---- */

/* Does a loop made with these options (NULL: none) keep virtual time? Its clock stands still
 * while real time passes outside the loop. */
static int is_virtual(const corio_loop_opts *opts)
{
    corio_loop *loop;
    cr_assert_eq(corio_loop_new(&loop, opts), 0);
    double a = corio_loop_time(loop);
    double t0 = now_s();
    while (now_s() - t0 < 0.005) { /* nanosleep may return early on a signal */
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int virt = corio_loop_time(loop) == a;
    cr_assert_eq(corio_loop_free(loop), 0);
    return virt;
}

/* virtual_time is tri-state: 0 (a zeroed struct, or opts NULL) reads CORIO_VIRTUAL_TIME, > 0 is
 * on, < 0 is off, whatever the environment says. */
Test(virtual_time, option_is_tri_state, .timeout = 10)
{
    unsetenv("CORIO_VIRTUAL_TIME");
    cr_assert_not(is_virtual(NULL), "off by default");
    cr_assert_not(is_virtual(&(corio_loop_opts){0}), "a zeroed opts: the environment (unset)");
    cr_assert(is_virtual(&(corio_loop_opts){.virtual_time = 1}));
    cr_assert_not(is_virtual(&(corio_loop_opts){.virtual_time = -1}));

    setenv("CORIO_VIRTUAL_TIME", "1", 1);
    cr_assert(is_virtual(NULL), "CORIO_VIRTUAL_TIME=1 with opts NULL");
    cr_assert(is_virtual(&(corio_loop_opts){.virtual_time = 0}), "0 reads the environment");
    cr_assert(is_virtual(&(corio_loop_opts){.virtual_time = 1}));
    cr_assert_not(is_virtual(&(corio_loop_opts){.virtual_time = -1}),
                  "a negative value wins over the environment");

    setenv("CORIO_VIRTUAL_TIME", "0", 1);
    cr_assert_not(is_virtual(NULL), "CORIO_VIRTUAL_TIME=0");
    cr_assert_not(is_virtual(&(corio_loop_opts){.virtual_time = 0}));
    cr_assert(is_virtual(&(corio_loop_opts){.virtual_time = 2}),
              "a positive value wins over the environment");
    unsetenv("CORIO_VIRTUAL_TIME");
}

static void *seed_task(void *arg)
{
    corio_sleep((double)VI(arg));
    return arg;
}

static void *seed_main(void *arg)
{
    (void)arg;
    corio_task *a;
    cr_expect_eq(corio_create_task(&a, NULL, seed_task, IV(1), NULL), 0);
    corio_task *b;
    cr_expect_eq(corio_create_task(&b, NULL, seed_task, IV(2), NULL), 0);
    corio_future *fs[2] = {corio_task_future(a), corio_task_future(b)};
    void *v[2];
    int rc = corio_gather(fs, 2, 0, v, NULL);
    corio_task_unref(a);
    corio_task_unref(b);
    return rc ? corio_raise(rc) : IV(VI(v[0]) * 10 + VI(v[1]));
}

Test(virtual_time, corio_run_follows_the_environment, .timeout = 10)
{
    setenv("CORIO_VIRTUAL_TIME", "1", 1);
    double t0 = now_s();
    void *res = NULL;
    cr_assert_eq(corio_run(seed_main, NULL, &res, NULL), 0);
    cr_assert_eq(res, IV(12));
    cr_assert_lt(now_s() - t0, 0.5, "the seed's 2 s took %f s", now_s() - t0);
    unsetenv("CORIO_VIRTUAL_TIME");
}

static void *sleeps_forever_twice(void *arg)
{
    (void)arg;
    corio_sleep(1e12); /* saturates: "forever" */
    corio_sleep(1e12); /* from a clock that is near forever already */
    corio_sleep(1e12);
    return IV(7);
}

Test(virtual_time, forever_after_forever_does_not_overflow, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, sleeps_forever_twice, NULL, &res), 0);
    cr_assert_eq(res, IV(7));
    cr_assert_gt(corio_loop_time(loop), 1e9);
    corio_loop_free(loop);
}
