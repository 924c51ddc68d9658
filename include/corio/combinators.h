/* corio combinators: shield, wait, as_completed, timeout scopes and task groups, as asyncio's
 * shield(), wait(), as_completed(), timeout()/timeout_at() and TaskGroup.
 *
 * docs/conventions.md holds: errors are negative codes, every object belongs to the loop of the
 * thread that made it and is used from that thread only, and the functions documented "awaits"
 * run only inside a task (elsewhere they return CORIO_ENOTASK).
 */
#ifndef CORIO_COMBINATORS_H
#define CORIO_COMBINATORS_H

#include "corio/base.h"
#include "corio/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------
 * shield
 * --------------------------------------------------------------------------------------------- */

/* asyncio.shield: a future that mirrors `f` (its result, error or cancellation) but whose
 * cancellation does not reach f. A task awaiting the shield and cancelled meanwhile gets
 * -ECANCELED while f keeps running; f's outcome is then dropped. The caller owns one reference to
 * *out; the shield holds its own reference to f until f is done or the shield is. If f is
 * already done, *out is f itself with a new reference (as asyncio does). Returns 0, -EINVAL
 * (NULL f or out), -ENOMEM. */
int corio_shield(corio_future **out, corio_future *f);

/* ------------------------------------------------------------------------------------------------
 * wait
 * --------------------------------------------------------------------------------------------- */

enum {
    CORIO_FIRST_COMPLETED = 1, /* return when any future is done */
    CORIO_FIRST_EXCEPTION = 2, /* ... when any finishes with an error (a cancellation is not one),
                                  or when all are done */
    CORIO_ALL_COMPLETED = 3    /* ... when all are done */
};

/* asyncio.wait: awaits until the `n` futures (or tasks) satisfy `return_when`, or until `timeout`
 * seconds have passed (CORIO_FOREVER: no limit; 0: one pass through the loop). Nothing is cancelled,
 * neither on timeout nor when the calling task is cancelled. If the condition already holds on
 * entry it returns at once, without yielding. On return, done[i] (if done is not NULL) is 1 for
 * each future that is done and 0 for the pending ones (asyncio's (done, pending) pair).
 * Returns the number of done futures (a future listed twice counts twice), -ECANCELED if the
 * calling task is cancelled (done[] is filled all the same), -EINVAL for n == 0, a NULL future,
 * futures of another loop, a bad return_when or a NaN timeout, -ENOMEM, CORIO_ENOTASK. The caller
 * keeps its references. */
int corio_wait(corio_future *const *futs, size_t n, int return_when, double timeout,
               unsigned char *done);

/* ------------------------------------------------------------------------------------------------
 * as_completed
 * --------------------------------------------------------------------------------------------- */

typedef struct corio_as_completed corio_as_completed;

/* asyncio.as_completed as an iterator: yields the `n` futures in the order they complete
 * (those already done first, in argument order). `timeout` seconds (CORIO_FOREVER: none) bound
 * the whole iteration. Takes its own reference to every future. Returns 0 with *out set, -EINVAL
 * (NULL arguments, a NULL future, futures of different loops, NaN timeout), -ENOMEM,
 * CORIO_ENOLOOP (n == 0 without a loop). Callable outside a task; the iteration itself awaits.
 * The caller owns the iterator: corio_as_completed_free. */
int corio_as_completed_new(corio_as_completed **out, corio_future *const *futs, size_t n,
                           double timeout);

/* Awaits the next future to complete and stores it in *fut (borrowed: valid until
 * corio_as_completed_free). Returns 1 with *fut set, 0 when all n have been returned,
 * -ETIMEDOUT once the deadline has passed (once for each future that was still pending then;
 * those completed before it come first), -ECANCELED if the calling task is cancelled (no future
 * is consumed: the iteration can go on), CORIO_ENOTASK, -EINVAL (NULL arguments, a task of
 * another loop, or another task already waiting in next() on the same iterator). *fut is NULL
 * unless 1 is returned. Nothing is cancelled. */
int corio_as_completed_next(corio_as_completed *it, corio_future **fut);

/* Stops watching and drops the iterator's references. The futures keep running. Returns 0, or
 * -EBUSY while a task waits in corio_as_completed_next on it (nothing is freed). NULL does
 * nothing. */
int corio_as_completed_free(corio_as_completed *it);

/* ------------------------------------------------------------------------------------------------
 * Timeout scopes
 * --------------------------------------------------------------------------------------------- */

/* asyncio.timeout: a deadline over a block of code in the current task. When it passes, the task
 * is cancelled (its current or next await returns -ECANCELED); corio_timeout_exit then turns that
 * cancellation into -ETIMEDOUT, while a cancellation from elsewhere stays -ECANCELED (the scope
 * counts cancellation requests with corio_task_cancelling/uncancel, as asyncio does). Scopes nest:
 * exit them in the reverse order of entry.
 *
 *     corio_timeout *tm;
 *     int rc = corio_timeout_enter(&tm, 1.5);
 *     if (rc < 0)
 *         return rc;
 *     rc = work();                     // returns -ECANCELED when the deadline cuts it short
 *     rc = corio_timeout_exit(tm, rc); // -ETIMEDOUT then; otherwise rc as it was
 *
 * The scope lives on the heap (its timer must not point into a compact task's stack). */
typedef struct corio_timeout corio_timeout;

/* Enters a scope in the current task whose deadline is `delay` seconds from now (CORIO_FOREVER:
 * no deadline; 0: expires at the next loop iteration, so the block's first await that suspends is
 * cancelled). Returns 0 with *out set, CORIO_ENOTASK outside a task, -EINVAL (NULL out, NaN),
 * -ENOMEM. */
int corio_timeout_enter(corio_timeout **out, double delay);
/* asyncio.timeout_at: as corio_timeout_enter with an absolute deadline in loop time
 * (corio_loop_time; CORIO_FOREVER: none; a time already past expires at the next loop
 * iteration). */
int corio_timeout_enter_at(corio_timeout **out, double when);

/* Moves the deadline to the loop time `when` (CORIO_FOREVER: none). Returns 0, CORIO_EINVALSTATE
 * once the scope has expired, -EINVAL (NULL, NaN, a task other than the scope's), -ENOMEM. */
int corio_timeout_reschedule(corio_timeout *scope, double when);
/* The current deadline in loop time, CORIO_FOREVER if none (NaN for NULL). */
double corio_timeout_when(const corio_timeout *scope);
/* 1 once the deadline has passed and the task was cancelled for it, else 0 (also for NULL). */
int corio_timeout_expired(const corio_timeout *scope);

/* Leaves the scope and frees it; `rc` is the block's outcome. If the scope expired and rc is
 * -ECANCELED with no cancellation request left but the scope's own, returns -ETIMEDOUT; in every
 * other case returns rc. An expired scope always withdraws its own cancellation request, so a
 * block that finished despite the deadline leaves no cancellation pending. Call it from the task
 * that entered the scope (otherwise -EINVAL and nothing is done). NULL returns rc. */
int corio_timeout_exit(corio_timeout *scope, int rc);

/* ------------------------------------------------------------------------------------------------
 * Task groups
 * --------------------------------------------------------------------------------------------- */

/* asyncio.TaskGroup (3.11+ semantics). The task that creates the group owns it:
 *
 *     corio_taskgroup *tg;
 *     int rc = corio_taskgroup_new(&tg);                  // async with TaskGroup() as tg:
 *     if (rc < 0)
 *         return rc;
 *     rc = corio_taskgroup_create_task(NULL, tg, fn, arg, NULL);   // tg.create_task(...)
 *     if (rc == 0)
 *         rc = other_work();                               // the body: may await
 *     rc = corio_taskgroup_exit(tg, rc);                   // __aexit__: awaits every task
 *     corio_taskgroup_free(tg);
 *
 * - exit waits for every task of the group, however it ends.
 * - The first task to fail (with an error other than -ECANCELED) cancels the other tasks and the
 *   owner; the body sees -ECANCELED at its current or next await and should go to exit, which
 *   withdraws that cancellation and returns the error. A body that fails (exit with rc < 0 and
 *   not -ECANCELED) cancels the tasks the same way.
 * - Every error is kept: corio_taskgroup_errors lists them; exit returns the first.
 * - Cancelling the owner (while the body runs or while it waits in exit) cancels the tasks; exit
 *   then returns -ECANCELED, unless a task failed (errors win, and the owner's cancellation is
 *   re-requested so that its next await sees it).
 * - No task outlives its group: exit returns only when all are done (if the loop is closing under
 *   the owner, the tasks are being destroyed with it and exit does not wait).
 * A task's own cancellation (-ECANCELED) is not an error. */
typedef struct corio_taskgroup corio_taskgroup;

/* One error the group saw: task is the task that failed (borrowed, valid until
 * corio_taskgroup_free), or NULL for the body's own error given to corio_taskgroup_exit. */
typedef struct corio_taskgroup_error {
    corio_task *task;
    int err;
} corio_taskgroup_error;

/* Creates a group owned by the current task. Returns 0 with *out set, CORIO_ENOTASK outside a
 * task, -EINVAL, -ENOMEM. The owner frees it with corio_taskgroup_free after exit. */
int corio_taskgroup_new(corio_taskgroup **out);

/* Creates a task in the group (as corio_create_task, on the owner's loop). `out` may be NULL (the
 * group alone tracks the task); otherwise it receives a reference the caller must drop.
 * Callable from any task on the loop (a task of the group may add more). Returns 0,
 * CORIO_EINVALSTATE once the group is shutting down (a task failed, the owner was cancelled, the
 * body failed) or finished (exit returned), -EINVAL, -ENOMEM. */
int corio_taskgroup_create_task(corio_task **out, corio_taskgroup *tg, corio_coro_fn fn, void *arg,
                                const corio_task_opts *opts);

/* asyncio's __aexit__: awaits, from the owner, until every task of the group is done. body_rc is
 * how the body ended: 0 (or any value >= 0), -ECANCELED (its await was cancelled), or an error,
 * which aborts the group and is recorded last among the errors. Returns 0, the first recorded
 * error (children in the order they failed, then the body's), or -ECANCELED when the owner was
 * cancelled from outside (and no error was recorded). CORIO_EINVALSTATE if called twice,
 * -EINVAL from a task other than the owner, CORIO_ENOTASK outside a task. */
int corio_taskgroup_exit(corio_taskgroup *tg, int body_rc);

/* corio_taskgroup_exit(tg, 0). */
int corio_taskgroup_wait(corio_taskgroup *tg);

/* The errors recorded so far, in order; *errors (if not NULL) points to them, valid until the
 * next error or corio_taskgroup_free. Returns how many (0 for NULL). */
size_t corio_taskgroup_errors(const corio_taskgroup *tg, const corio_taskgroup_error **errors);

/* Frees the group. Called before exit (a leak of a group is a bug, but not a crash), it cancels
 * the tasks still running and lets them finish on their own. Returns 0, or -EBUSY while the owner
 * waits in corio_taskgroup_exit (nothing is freed). NULL does nothing. */
int corio_taskgroup_free(corio_taskgroup *tg);

#ifdef __cplusplus
}
#endif
#endif
