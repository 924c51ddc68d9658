/* asyncio.wait_for: await with a deadline that cancels what it waits for. */
#include "task/task.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

typedef struct deadline {
    corio__timer timer;
    corio_future *fut;
    int expired;
} deadline;

static void deadline_expire(corio__timer *timer) {
    deadline *d = corio__container_of(timer, deadline, timer);
    d->expired = 1;
    corio_future_cancel(d->fut, "wait_for timed out");
}

/* After a timeout: f was cancelled; it is done when the await returned. A result it managed to
 * produce anyway wins over the timeout, as in asyncio. */
static int timed_out(corio_future *f, void **value) {
    if (f->state == CORIO_FUTURE_FINISHED && f->err == 0)
        return corio_future_result(f, value);
    if (f->state == CORIO_FUTURE_FINISHED)
        f->flags |= CORIO__F_RETRIEVED;
    return -ETIMEDOUT;
}

/* Cancels f and waits until it is done, even if the waiting task is cancelled meanwhile. */
static int cancel_and_wait(corio_future *f) {
    corio_future_cancel(f, "wait_for timed out");
    int cancelled = 0;
    while (f->state == CORIO_FUTURE_PENDING) {
        if (corio_await(f, NULL) == -ECANCELED && f->state == CORIO_FUTURE_PENDING) {
            if (corio__current_task()->destroying)
                return -ECANCELED;
            cancelled = 1;
        }
    }
    return cancelled ? -ECANCELED : 0;
}

int corio_wait_for(corio_future *f, double timeout, void **value) {
    if (value)
        *value = NULL;
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (!f)
        return -EINVAL;
    CORIO__CHECK_FUTURE(f);
    if (isnan(timeout))
        return -EINVAL;
    if (timeout < 0 || f->state != CORIO_FUTURE_PENDING)
        return corio_await(f, value);
    if (timeout == 0) {
        int rc = cancel_and_wait(f);
        return rc < 0 ? rc : timed_out(f, value);
    }
    /* On the heap, not in this frame: a compact task's frame is copied away while it waits. */
    corio_loop *loop = t->fut.loop;
    deadline *d = corio__malloc(sizeof *d);
    if (!d)
        return -ENOMEM;
    *d = (deadline){.timer = {.idx = CORIO__TIMER_IDLE, .expire = deadline_expire}, .fut = f};
    int rc = corio__loop_timer_after(loop, &d->timer, corio__sec_to_ns(timeout));
    if (rc < 0) {
        free(d);
        return rc;
    }
    int requests = t->ncancel;
    rc = corio_await(f, value);
    corio__loop_timer_cancel(loop, &d->timer);
    int expired = d->expired;
    free(d);
    /* A cancellation of the waiting task itself is not a timeout: it propagates. */
    if (expired && t->ncancel == requests)
        return timed_out(f, value);
    return rc;
}
