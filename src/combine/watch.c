/* Watching many futures at once, for wait and as_completed. */
#include "combine/combine.h"

#include <errno.h>

int corio__check_futures_as(corio_future *const *futs, size_t n, corio_loop *loop,
                            const char *fn) {
    if (n && !futs)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!futs[i])
            return -EINVAL;
        CORIO__CHECK_FUTURE_AS(futs[i], fn);
        if (corio__future_loop(futs[i]) != loop)
            return -EINVAL;
    }
    return 0;
}

int corio__watch_pending(corio_future *const *futs, size_t n, corio_done_fn fn, void *arg) {
    for (size_t i = 0; i < n; i++) {
        if (!corio__future_pending(futs[i]))
            continue;
        if (corio__future_add_eager_callback(futs[i], fn, arg) < 0) {
            corio__unwatch(futs, i, fn, arg);
            return -ENOMEM;
        }
    }
    return 0;
}

void corio__unwatch(corio_future *const *futs, size_t n, corio_done_fn fn, void *arg) {
    for (size_t i = 0; i < n; i++)
        corio_future_remove_done_callback(futs[i], fn, arg);
}

int corio__timer_arm_after(corio_loop *loop, corio__timer *t, double seconds) {
    if (seconds < 0)
        return 0;
    return corio__loop_timer_after(loop, t, corio__sec_to_ns(seconds));
}
