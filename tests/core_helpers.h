/* Small helpers shared by the core API tests (tests/test_*.c that exercise include/corio.h).
 *
 * Each Criterion test runs in its own process, so the static state below starts fresh per test.
 * Coroutines and callbacks record what they see (in the event log or in globals) and use cr_expect
 * (never cr_assert, which would longjmp off a task's stack); the test body asserts afterwards.
 */
#ifndef CORIO_TESTS_CORE_HELPERS_H
#define CORIO_TESTS_CORE_HELPERS_H

#include <criterion/criterion.h>
#include <corio.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IV(x) ((void *)(intptr_t)(x))
#define VI(p) ((int)(intptr_t)(p))

/* A pointer no call hands out: preset an out-parameter with it to check that a failing call sets
 * it (to NULL, docs/conventions.md). */
#define SENTINEL ((void *)(uintptr_t)0x5e7)

/* ---- an ordered log of small integers ---- */

#define EV_MAX 1024
static int ev_log[EV_MAX];
static int ev_n;

static inline void ev(int v)
{
    if (ev_n < EV_MAX)
        ev_log[ev_n] = v;
    ev_n++;
}

/* Asserts that the log holds exactly the `n` values of `want`, printing both on mismatch. */
static inline void ev_expect(const int *want, int n)
{
    char got[512] = "", exp[512] = "";
    for (int i = 0; i < ev_n && i < EV_MAX; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%d ", ev_log[i]);
    for (int i = 0; i < n; i++)
        snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%d ", want[i]);
    cr_assert_eq(ev_n, n, "event log: got [%s], want [%s]", got, exp);
    for (int i = 0; i < n; i++)
        cr_assert_eq(ev_log[i], want[i], "event log: got [%s], want [%s]", got, exp);
}
#define EV_EXPECT(...)                                                                             \
    do {                                                                                           \
        const int want_[] = {__VA_ARGS__};                                                         \
        ev_expect(want_, (int)(sizeof want_ / sizeof want_[0]));                                   \
    } while (0)

/* ---- loops ---- */

/* A loop with debug mode and virtual time off, whatever the environment says. */
static inline corio_loop *new_loop(void)
{
    corio_loop *loop = NULL;
    corio_loop_opts opts = {.stack_size = 0, .debug = -1, .virtual_time = -1};
    cr_assert_eq(corio_loop_new(&loop, &opts), 0);
    cr_assert_not_null(loop);
    return loop;
}

/* A loop on virtual time: sleeps and timeouts take no real time and fire in a fixed order. Tests
 * of timeouts use it unless they are about real timers. */
static inline corio_loop *new_vt_loop(void)
{
    corio_loop *loop = NULL;
    corio_loop_opts opts = {.stack_size = 0, .debug = -1, .virtual_time = 1};
    cr_assert_eq(corio_loop_new(&loop, &opts), 0);
    cr_assert_not_null(loop);
    return loop;
}

/* The running loop's time (virtual on a new_vt_loop). */
static inline double loop_now(void) { return corio_loop_time(corio_get_running_loop()); }

static inline corio_loop *new_debug_loop(void)
{
    corio_loop *loop = NULL;
    corio_loop_opts opts = {.stack_size = 0, .debug = 1, .virtual_time = -1};
    cr_assert_eq(corio_loop_new(&loop, &opts), 0);
    cr_assert_not_null(loop);
    return loop;
}

static inline void stop_cb(void *arg) { corio_loop_stop((corio_loop *)arg); }

/* Runs the callbacks that are ready now (and those they schedule before the stop callback runs),
 * then returns: call_soon(stop) + run_forever. */
static inline void run_once(corio_loop *loop)
{
    cr_assert_eq(corio_loop_call_soon(NULL, loop, stop_cb, loop), 0);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
}

/* Runs the task (or future) to completion and returns its outcome; *res gets its value. */
static inline int run_task(corio_loop *loop, corio_task *t, void **res)
{
    cr_assert_not_null(t);
    return corio_loop_run_until_complete(loop, corio_task_future(t), res);
}

/* Creates a task on `loop`, runs the loop until it is done, drops it and returns its outcome. */
static inline int run_main(corio_loop *loop, corio_coro_fn fn, void *arg, void **res)
{
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, fn, arg, NULL), 0);
    int rc = corio_loop_run_until_complete(loop, corio_task_future(t), res);
    corio_task_unref(t);
    return rc;
}

/* ---- an error handler that records what it is given ---- */

#define CAP_MAX 64
struct captured {
    int n;
    int err[CAP_MAX];
    int has_future[CAP_MAX];
    int has_task[CAP_MAX];
    char message[CAP_MAX][256];
    char task_name[CAP_MAX][128];
};
static struct captured cap;

static inline void capture_handler(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)loop;
    (void)arg;
    if (cap.n < CAP_MAX) {
        int i = cap.n;
        cap.err[i] = ctx->err;
        cap.has_future[i] = ctx->future != NULL;
        cap.has_task[i] = ctx->task != NULL;
        snprintf(cap.message[i], sizeof cap.message[i], "%s", ctx->message ? ctx->message : "");
        const char *name = ctx->task ? corio_task_get_name(ctx->task) : NULL;
        snprintf(cap.task_name[i], sizeof cap.task_name[i], "%s", name ? name : "");
    }
    cap.n++;
}

/* Does report i name the task `name` (in the context's task or in the message)? */
static inline int cap_names(int i, const char *name)
{
    return strcmp(cap.task_name[i], name) == 0 || strstr(cap.message[i], name) != NULL;
}

/* ---- time ---- */

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#include "under_valgrind.h"

/* Under qemu-user (make check-aarch64) the test program's environment preloads an aarch64
 * library (cmake/qemu_exec_shim.c); the host programs the tests spawn (sh, cat, openssl, python)
 * must not inherit it, or their loader complains on their stderr. */
static inline void host_children_env(void)
{
    if (getenv("CORIO_QEMU")) {
        unsetenv("LD_PRELOAD");
        unsetenv("LD_LIBRARY_PATH");
    }
}

#endif
