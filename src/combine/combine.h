/* Internal: what the combinators (wait, as_completed, shield, timeout scopes, task groups) share.
 *
 * They watch other futures through eager callbacks (corio__future_add_eager_callback): on a
 * pending future such a callback is never queued, so once it is removed nothing points at the
 * combinator's state any more, and the state can be freed as soon as the combinator returns.
 */
#ifndef CORIO_COMBINE_COMBINE_H
#define CORIO_COMBINE_COMBINE_H

#include "corio/combinators.h"
#include "task/task.h"

/* -EINVAL unless futs holds n non-NULL futures of `loop`; each is checked to be live, in the name
 * of the calling public function. */
int corio__check_futures_as(corio_future *const *futs, size_t n, corio_loop *loop,
                            const char *fn);
#define corio__check_futures(futs, n, loop) corio__check_futures_as((futs), (n), (loop), __func__)

/* Registers fn(f, arg) as an eager callback on each pending future of futs. On failure removes
 * what it registered and returns -ENOMEM. */
int corio__watch_pending(corio_future *const *futs, size_t n, corio_done_fn fn, void *arg);
/* Removes every registration of (fn, arg) from futs. */
void corio__unwatch(corio_future *const *futs, size_t n, corio_done_fn fn, void *arg);

/* Arms `t` for `seconds` from now (seconds < 0: leaves it idle). Returns 0 or -ENOMEM. */
int corio__timer_arm_after(corio_loop *loop, corio__timer *t, double seconds);

#endif
