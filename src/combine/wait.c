/* asyncio.wait: await until the first, the first failed, or all of a set of futures are done, or
 * a timeout passes. Nothing is cancelled. */
#include "combine/combine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* On the heap, not in the waiting frame: the callbacks and the timer reach it while the task is
 * suspended, and a compact task's frame is copied away then. */
typedef struct waiting {
    corio__timer timer;
    corio_future *waiter; /* what the task awaits; completed to wake it */
    size_t pending;       /* registrations that have not fired */
    int return_when;
} waiting;

static void wake(waiting *w) {
    if (corio__future_pending(w->waiter))
        corio_future_set_result(w->waiter, NULL);
}

static int is_failure(corio_future *f) {
    return corio__future_state(f) == CORIO_FUTURE_FINISHED && corio__future_err(f) != 0;
}

static void on_completion(corio_future *f, void *arg) {
    waiting *w = arg;
    w->pending--;
    if (w->pending == 0 || w->return_when == CORIO_FIRST_COMPLETED ||
        (w->return_when == CORIO_FIRST_EXCEPTION && is_failure(f)))
        wake(w);
}

static void on_timeout(corio__timer *t) { wake(corio__container_of(t, waiting, timer)); }

/* Does the condition hold already? Counts the futures still pending into *pending. */
static int satisfied(corio_future *const *futs, size_t n, int return_when, size_t *pending) {
    size_t done = 0;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!corio__future_pending(futs[i]))
            done++;
        failed |= is_failure(futs[i]);
    }
    *pending = n - done;
    return done == n || (return_when == CORIO_FIRST_COMPLETED && done > 0) ||
           (return_when == CORIO_FIRST_EXCEPTION && failed);
}

static int report(corio_future *const *futs, size_t n, unsigned char *done, int rc) {
    int ndone = 0;
    for (size_t i = 0; i < n; i++) {
        int d = !corio__future_pending(futs[i]);
        if (done)
            done[i] = (unsigned char)d;
        ndone += d;
    }
    return rc < 0 ? rc : ndone;
}

/* Registers, awaits the waiter, unregisters. Returns 0 or the await's error. */
static int wait_pending(waiting *w, corio_future *const *futs, size_t n, double timeout) {
    corio_loop *loop = futs[0]->loop;
    int rc = corio__watch_pending(futs, n, on_completion, w);
    if (rc < 0)
        return rc;
    rc = corio__timer_arm_after(loop, &w->timer, timeout);
    if (rc == 0)
        rc = corio_await(w->waiter, NULL);
    corio__loop_timer_cancel(loop, &w->timer);
    corio__unwatch(futs, n, on_completion, w);
    return rc;
}

int corio_wait(corio_future *const *futs, size_t n, int return_when, double timeout,
               unsigned char *done) {
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (n == 0 || isnan(timeout) || return_when < CORIO_FIRST_COMPLETED ||
        return_when > CORIO_ALL_COMPLETED ||
        corio__check_futures(futs, n, corio__task_loop_of(t)) < 0)
        return -EINVAL;
    size_t pending;
    if (satisfied(futs, n, return_when, &pending))
        return report(futs, n, done, 0);
    if (corio__task_destroying(t))
        return report(futs, n, done, -ECANCELED);
    waiting *w = corio__malloc(sizeof *w);
    if (!w)
        return -ENOMEM;
    *w = (waiting){.timer = {.idx = CORIO__TIMER_IDLE, .expire = on_timeout},
                   .pending = pending,
                   .return_when = return_when};
    int rc = corio__future_new(&w->waiter, corio__task_loop_of(t));
    if (rc == 0)
        rc = wait_pending(w, futs, n, timeout);
    corio_future_unref(w->waiter);
    free(w);
    return report(futs, n, done, rc);
}
