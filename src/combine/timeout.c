/* asyncio.timeout / timeout_at: a deadline over a block of code that cancels the task, and turns
 * that cancellation (but no other) into -ETIMEDOUT when the block ends. */
#include "combine/combine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

enum { ENTERED, EXPIRING };

struct corio_timeout {
    corio__timer timer; /* on the heap with the scope: a compact task's frame moves */
    corio_task *task;   /* the task that entered (a reference) */
    corio_loop *loop;   /* the task's, for a misuse report once the task may be gone */
    double when;        /* loop time, CORIO_FOREVER for none */
    int cancelling;     /* the task's cancellation requests when it entered */
    int state;
    uint32_t magic;     /* base/obj.h: dead once exited */
};

#define CHECK(s) CORIO__CHECK(s, CORIO__KIND_TIMEOUT, (s)->loop)

static void on_timeout(corio__timer *timer) {
    corio_timeout *s = corio__container_of(timer, corio_timeout, timer);
    corio_task_cancel(s->task, "timeout scope expired");
    s->state = EXPIRING;
}

/* Sets the deadline: `when` in loop time, negative for none. +inf is never reached either: no
 * timer for it (under virtual time the loop would jump to a far timer and fire it). */
static int arm(corio_timeout *s, double when) {
    corio_loop *loop = corio__task_loop_of(s->task);
    corio__loop_timer_cancel(loop, &s->timer);
    if (when < 0 || isinf(when)) {
        s->when = CORIO_FOREVER;
        return 0;
    }
    s->when = when;
    /* A deadline already past fires at the next iteration, as asyncio's call_soon. */
    double delay = when - corio_loop_time(loop);
    return corio__loop_timer_after(loop, &s->timer, corio__sec_to_ns(delay > 0 ? delay : 0));
}

int corio_timeout_enter_at(corio_timeout **out, double when) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (isnan(when))
        return -EINVAL;
    corio_timeout *s = corio__malloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    *s = (corio_timeout){.timer = {.idx = CORIO__TIMER_IDLE, .expire = on_timeout},
                         .task = t,
                         .loop = corio__task_loop_of(t),
                         .cancelling = corio__task_cancelling(t),
                         .state = ENTERED,
                         .magic = CORIO__MAGIC_LIVE(CORIO__KIND_TIMEOUT)};
    corio__future_ref(corio__task_fut(t));
    int rc = arm(s, when);
    if (rc < 0) {
        corio__future_unref(corio__task_fut(t));
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int corio_timeout_enter(corio_timeout **out, double delay) {
    if (isnan(delay) || !corio__current_task())
        return corio_timeout_enter_at(out, delay); /* for its error code */
    if (delay < 0)
        return corio_timeout_enter_at(out, CORIO_FOREVER);
    corio_loop *loop = corio__task_loop_of(corio__current_task());
    return corio_timeout_enter_at(out, corio_loop_time(loop) + delay);
}

int corio_timeout_reschedule(corio_timeout *s, double when) {
    if (!s)
        return -EINVAL;
    CHECK(s);
    if (isnan(when) || s->task != corio__current_task())
        return -EINVAL;
    if (s->state != ENTERED)
        return CORIO_EINVALSTATE;
    return arm(s, when);
}

double corio_timeout_when(const corio_timeout *s) {
    if (!s)
        return NAN;
    CHECK(s);
    return s->when;
}

int corio_timeout_expired(const corio_timeout *s) {
    if (!s)
        return 0;
    CHECK(s);
    return s->state == EXPIRING;
}

int corio_timeout_exit(corio_timeout *s, int rc) {
    if (!s)
        return rc;
    CHECK(s);
    if (s->task != corio__current_task())
        return -EINVAL;
    corio__loop_timer_cancel(corio__task_loop_of(s->task), &s->timer);
    /* Only if no cancellation was requested since the scope's own is this one ours to handle. */
    corio_task *t = s->task;
    if (s->state == EXPIRING && corio_task_uncancel(t) <= s->cancelling && rc == -ECANCELED)
        rc = -ETIMEDOUT;
    /* Before the task's reference, which holds the loop a kept scope names (base/obj.h). */
    corio__obj_free(s, &s->magic, corio__loop_keeps(s->loop));
    corio__future_unref(corio__task_fut(t));
    return rc;
}
