/* asyncio.sleep: a future completed by a loop timer. */
#include "task/debug.h"

#include <errno.h>
#include <math.h>

/* The timer lives in the future, not in the sleeping task's frame: a compact task's frame is
 * copied away while it sleeps, so nothing outside the task may point into it. */
typedef struct sleep_future {
    corio_future fut;
    corio__timer timer;
} sleep_future;

const size_t corio__sleep_future_size = sizeof(sleep_future);

static void sleep_destroy(corio_future *f) {
    sleep_future *s = (sleep_future *)f;
    corio__loop_timer_cancel(f->loop, &s->timer);
    corio__pool_free(&f->loop->task.pools[CORIO__POOL_SLEEP], s);
}

const corio__future_ops corio__sleep_ops = {.destroy = sleep_destroy};

static void sleep_expire(corio__timer *timer) {
    sleep_future *s = corio__container_of(timer, sleep_future, timer);
    if (s->fut.state == CORIO_FUTURE_PENDING)
        corio__future_finish(&s->fut, CORIO_FUTURE_FINISHED, 0, NULL, NULL);
}

int corio_sleep(double seconds) {
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (isnan(seconds))
        return -EINVAL;
    if (t->destroying)
        return -ECANCELED;
    if (seconds <= 0)
        return corio__task_yield(t);
    corio_loop *loop = t->fut.loop;
    sleep_future *s = corio__pool_alloc(&loop->task.pools[CORIO__POOL_SLEEP]);
    if (!s)
        return -ENOMEM;
    corio__future_init(&s->fut, loop, CORIO__FUT_SLEEP);
    s->timer.idx = CORIO__TIMER_IDLE;
    s->timer.expire = sleep_expire;
    int rc = corio__loop_timer_after(loop, &s->timer, corio__sec_to_ns(seconds));
    if (rc == 0)
        rc = corio_await(&s->fut, NULL);
    corio_future_unref(&s->fut); /* disarms the timer */
    return rc;
}

int64_t corio__sleep_deadline(corio_future *f) {
    return ((sleep_future *)f)->timer.when;
}
