/* corio/future.h: futures (asyncio.Future) and corio_await.
 *
 * A future is PENDING, then FINISHED (with a result or with an error) or CANCELLED. Futures are
 * reference counted: the creator holds one reference (corio_future_unref). Done callbacks are
 * scheduled on the loop in the order they were added, never called inline.
 */
#ifndef CORIO_FUTURE_H
#define CORIO_FUTURE_H

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum corio_future_state {
    CORIO_FUTURE_PENDING = 0,
    CORIO_FUTURE_FINISHED = 1, /* with a result or with an error */
    CORIO_FUTURE_CANCELLED = 2
} corio_future_state;

/* A new pending future bound to `loop` (asyncio's loop.create_future). The caller owns one
 * reference. Returns 0, -EINVAL (NULL out), -ENOMEM, CORIO_ECLOSED, CORIO_ENOLOOP. */
int corio_future_new(corio_future **out, corio_loop *loop);

/* Takes another reference (returns f). */
corio_future *corio_future_ref(corio_future *f);
/* Drops a reference; the future is freed with the last one. In debug mode, a future that finished
 * with an error nobody retrieved is reported through the error handler then. NULL is ignored. */
void corio_future_unref(corio_future *f);

/* Completes the future with `value`, scheduling its done callbacks. CORIO_EINVALSTATE if it is
 * already done; -EINVAL for NULL, and for a task or a gathering future, which complete only
 * themselves (asyncio raises RuntimeError there). */
int corio_future_set_result(corio_future *f, void *value);
/* Completes the future with the error `err` (< 0; -ECANCELED cancels it instead). -EINVAL for
 * err >= 0 and as corio_future_set_result, CORIO_EINVALSTATE if already done. */
int corio_future_set_error(corio_future *f, int err);
/* Cancels a pending future, with an optional message (copied). Returns 1 if it is now cancelled,
 * 0 if it was already done, -EINVAL for NULL. */
int corio_future_cancel(corio_future *f, const char *msg);

/* The state; CORIO_FUTURE_PENDING for NULL. */
corio_future_state corio_future_get_state(const corio_future *f);
/* 1 if done (finished or cancelled) / cancelled, else 0 (also for NULL). */
int corio_future_done(const corio_future *f);
int corio_future_cancelled(const corio_future *f);

/* The outcome of a done future: 0 with *value set (value may be NULL), the error it finished
 * with, -ECANCELED if cancelled, CORIO_EINVALSTATE if still pending, -EINVAL for NULL. *value is
 * NULL whenever the result is not 0. Marks the error retrieved. */
int corio_future_result(corio_future *f, void **value);
/* asyncio's exception(): as corio_future_result without the value. */
int corio_future_error(corio_future *f);
/* The message given to cancel (valid while the future lives), or NULL. */
const char *corio_future_cancel_message(const corio_future *f);
/* The loop the future is bound to (NULL for NULL). */
corio_loop *corio_future_get_loop(const corio_future *f);

/* Adds fn(f, arg), scheduled on the loop when the future is done (at once if it already is),
 * never called inline; callbacks run in the order they were added. Returns 0, -EINVAL (NULL f or
 * fn), -ENOMEM. */
int corio_future_add_done_callback(corio_future *f, corio_done_fn fn, void *arg);
/* Removes every registration of (fn, arg) not yet scheduled; returns how many were removed
 * (-EINVAL for NULL f). */
int corio_future_remove_done_callback(corio_future *f, corio_done_fn fn, void *arg);

/* Awaits `f` from the current task: returns at once if f is done, else suspends the task until f
 * is done. Returns as corio_future_result (value may be NULL). Returns -ECANCELED when the task is
 * cancelled while it waits (f is cancelled too), CORIO_ENOTASK outside a task, -EDEADLK when a
 * task awaits itself, -EINVAL for NULL or a future of another loop. The caller keeps its
 * reference to f. */
int corio_await(corio_future *f, void **value);

#ifdef __cplusplus
}
#endif

#endif
