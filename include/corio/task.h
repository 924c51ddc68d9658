/* corio/task.h: tasks (asyncio.Task), and the awaiting calls built on them: sleep, gather and
 * wait_for.
 *
 * A task runs a C function on a stack of its own; a task is a future whose result is the
 * function's return value (corio_task_future). Creating a task schedules its first step: the
 * function does not start inside the create call. The loop holds a reference to every pending
 * task, so a task runs to the end even when its creator drops its reference at once.
 *
 * Stacks: 64 KiB by default (corio_loop_opts.stack_size, corio_task_opts.stack_size,
 * CORIO_STACK_SIZE), with a guard region below each stack (32 KiB; 64 KiB on aarch64, where gcc's
 * stack clash protection probes every 64 KiB). A task that runs into the guard is stopped with
 * "corio: stack overflow in task 'NAME'" and the program aborts. A frame larger than the guard
 * could jump over it into a neighbouring stack: build code that runs in tasks with
 * -fstack-clash-protection (corio's pkg-config Cflags and CMake target add it), which makes every
 * large frame touch its pages in order, so that the guard is always hit first.
 */
#ifndef CORIO_TASK_H
#define CORIO_TASK_H

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_task_opts {
    const char *name;  /* copied; NULL: "Task-<n>" */
    size_t stack_size; /* 0: the loop's default (ignored for a compact task) */
    unsigned flags;    /* CORIO_TASK_* */
} corio_task_opts;

/* Task flag: run on a stack shared by the loop's compact tasks and, while suspended, keep only the
 * bytes of stack in use, copied out (a few hundred bytes for a task waiting in corio_sleep,
 * against a page or more for a task with its own stack). Each switch into or out of the task
 * copies those bytes, so it suits many mostly-idle tasks. The rule it imposes: nothing outside
 * the task may hold a pointer into the task's stack (its local variables) while it is suspended;
 * share heap memory instead. Where copying is not supported (the ucontext build,
 * AddressSanitizer) the task gets a stack of its own, so the flag is always safe to pass. */
#define CORIO_TASK_COMPACT 1u

/* asyncio.create_task: a task running fn(arg) on `loop`. Its first step is scheduled at once; fn
 * does not start inside this call. `out` may be NULL (fire and forget: the loop keeps the task
 * until it is done); otherwise it receives a reference for the caller (corio_task_unref). A task
 * that has not started holds no stack. Returns 0, -EINVAL (NULL fn), -ENOMEM, CORIO_ECLOSED,
 * CORIO_ENOLOOP. */
int corio_create_task(corio_task **out, corio_loop *loop, corio_coro_fn fn, void *arg,
                      const corio_task_opts *opts);

/* A task is a future: its result is fn's return value. This is the same object (no reference
 * is taken). */
static inline corio_future *corio_task_future(corio_task *t) { return (corio_future *)t; }
corio_task *corio_task_ref(corio_task *t);
void corio_task_unref(corio_task *t);

/* The task running now on this thread, or NULL (plain callbacks, outside the loop). */
corio_task *corio_current_task(void);

/* asyncio.all_tasks: stores up to `cap` pointers to the loop's pending tasks in out and returns
 * how many there are (possibly more than cap; 0 on a closed loop), or CORIO_ENOLOOP, -EINVAL (NULL
 * out with cap > 0).
 * The pointers are borrowed: valid until the loop runs again. */
int corio_all_tasks(corio_loop *loop, corio_task **out, size_t cap);

/* The task's name (valid until it is renamed or freed; "" for NULL). */
const char *corio_task_get_name(corio_task *t);
/* Renames the task (copied). Returns 0, -EINVAL, -ENOMEM. */
int corio_task_set_name(corio_task *t, const char *name);

/* Requests cancellation, as asyncio's Task.cancel: delivered as -ECANCELED from the task's
 * current await (the future it waits on is cancelled too) or from its next one; a task cancelled
 * before it started never runs fn. Returns 1 if the request was made, 0 if the task is done,
 * -EINVAL for NULL. */
int corio_task_cancel(corio_task *t, const char *msg);
/* Pending cancellation requests (asyncio's cancelling()); 0 for NULL. */
int corio_task_cancelling(const corio_task *t);
/* Withdraws one cancellation request and returns how many remain. A task whose fn returns while
 * requests remain ends CANCELLED; uncancelling down to 0 lets it end with its result. -EINVAL for
 * NULL. */
int corio_task_uncancel(corio_task *t);

/* Makes the current task end with error `err` when its fn returns (fn's return value is then
 * ignored); err == -ECANCELED makes it end CANCELLED. Returns NULL so that a coroutine can
 * write `return corio_raise(rc);`. Outside a task, or with err >= 0, it does nothing. */
void *corio_raise(int err);

/* ------------------------------------------------------------------------------------------------
 * Sleeping, gathering, waiting
 * --------------------------------------------------------------------------------------------- */

/* Awaits: suspends the current task for `seconds` on the loop's timer (<= 0: yields once to the
 * loop, letting every ready task run). Returns 0, -ECANCELED, CORIO_ENOTASK, -EINVAL for NaN. */
int corio_sleep(double seconds);

/* gather flag: return each child's error in place instead of failing fast (asyncio's
 * return_exceptions=True). */
#define CORIO_GATHER_RETURN_ERRORS 1u

/* asyncio.gather as a future: one that completes when all `n` futures (or tasks) are done. Its
 * result is a `void **` array of the children's results in argument order, owned by the gathering
 * future. Without CORIO_GATHER_RETURN_ERRORS, the first child to fail (or be cancelled) makes it
 * fail at once with that error while the others keep running; with it, it always finishes and a
 * failed child's slot holds NULL (the error is in corio_gather_errors). Cancelling it cancels the
 * children that are not done. n == 0 gives a future already done, on the running or current
 * loop. It takes its own references to the children. Returns 0, -EINVAL (NULL futs with n > 0, a
 * NULL child, children of different loops), -ENOMEM, CORIO_ENOLOOP (n == 0 without a loop). */
int corio_gather_new(corio_future **out, corio_future *const *futs, size_t n, unsigned flags);

/* The per-child outcomes of a done gathering future: *errors (if not NULL) points to n codes, 0
 * or child i's error, owned by g. Returns n, CORIO_EINVALSTATE while g is pending, -EINVAL if g is
 * not a gathering future. */
int corio_gather_errors(corio_future *g, const int **errors);

/* Awaits corio_gather_new(futs, n, flags). On return values[i] (if values is not NULL) and
 * errors[i] (if errors is not NULL) hold each child's result and error (0, the error, -ECANCELED,
 * or CORIO_EINVALSTATE for a child still pending after a fail-fast). Returns 0, the first error
 * (without CORIO_GATHER_RETURN_ERRORS), -ECANCELED when the calling task is cancelled (the
 * children are cancelled), -EINVAL, -ENOMEM, CORIO_ENOTASK. */
int corio_gather(corio_future *const *futs, size_t n, unsigned flags, void **values, int *errors);

/* Awaits `f` for at most `timeout` seconds (CORIO_FOREVER: no limit; 0: only if it is already
 * done). On timeout `f` is cancelled and awaited until it is done, then -ETIMEDOUT is returned
 * (unless f managed to finish with a result despite the cancel, which is then returned). If the
 * calling task is cancelled, f is cancelled too and -ECANCELED returned. Otherwise returns as
 * corio_await; -EINVAL also for a NaN timeout. */
int corio_wait_for(corio_future *f, double timeout, void **value);

#ifdef __cplusplus
}
#endif

#endif
