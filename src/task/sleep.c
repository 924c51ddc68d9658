/* asyncio.sleep: a future completed by a loop timer. */
#include "task/task.h"

#include <errno.h>
#include <math.h>

/* Lives in the sleeping task's frame: the frame outlives the armed timer, since every way out of
 * corio_sleep disarms it first. */
typedef struct sleeper {
    corio__timer timer;
    corio_future *fut;
} sleeper;

static void sleeper_expire(corio__timer *timer) {
    sleeper *s = corio__container_of(timer, sleeper, timer);
    if (s->fut->state == CORIO_PENDING)
        corio__future_finish(s->fut, CORIO_FINISHED, 0, NULL, NULL);
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
    sleeper s = {.timer = {.idx = CORIO__TIMER_IDLE, .expire = sleeper_expire}};
    s.fut = corio_future_new(loop);
    if (!s.fut)
        return -ENOMEM;
    int rc = corio__loop_timer_after(loop, &s.timer, corio__sec_to_ns(seconds));
    if (rc == 0) {
        rc = corio_await(s.fut, NULL);
        corio__loop_timer_cancel(loop, &s.timer);
    }
    corio_future_unref(s.fut);
    return rc;
}
