/* corio: Python asyncio's runtime model in C.
 *
 * An event loop, futures, and tasks that run plain C functions on their own stacks: a task calls
 * corio_await() (or anything built on it: corio_sleep, corio_gather, corio_wait_for) and the whole
 * chain of C calls on its stack is suspended until the awaited future is done, while the loop runs
 * other tasks. One loop per thread; concurrent, not parallel.
 *
 * Conventions that hold for every function below unless its comment says otherwise:
 *  - Errors are negative errno-style codes (-ENOMEM, -ECANCELED, -ETIMEDOUT, ...) or one of the
 *    CORIO_E* codes below; success is 0 or a non-negative value. corio_strerror() names them.
 *  - Threads: a loop and every object bound to it (futures, tasks, handles) may be used only from
 *    the thread that runs the loop. Nothing here is safe to call from another thread, except the
 *    few functions <corio/thread.h> marks ANY THREAD (corio_call_soon_threadsafe first).
 *  - Ownership: futures and tasks are reference counted. A function that returns a new object
 *    gives the caller one reference, to be dropped with corio_future_unref() / corio_task_unref().
 *    The loop holds its own reference to every pending task, so a task runs to completion even
 *    when its creator drops its reference at once ("fire and forget").
 *  - Awaiting functions (corio_await and everything documented "awaits") may be called only from
 *    inside a task; elsewhere they return CORIO_ENOTASK at once.
 */
#ifndef CORIO_H
#define CORIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CORIO_VERSION_MAJOR 0
#define CORIO_VERSION_MINOR 1
#define CORIO_VERSION_PATCH 0

/* ------------------------------------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------------------------------- */

/* corio's own codes, outside the range of errno values. */
enum {
    CORIO_EINVALSTATE = -20001, /* not valid in the object's current state (asyncio's
                                   InvalidStateError): result of a pending future, a second
                                   set_result, ... */
    CORIO_ENOTASK = -20002,     /* an awaiting call made outside a task */
    CORIO_ECLOSED = -20003,     /* the loop is closed */
    CORIO_ERUNNING = -20004,    /* the loop (or another loop on this thread) is already running */
    CORIO_ESTOPPED = -20005,    /* the loop stopped before the future it ran was done */
    CORIO_ENOLOOP = -20006      /* no event loop is set for this thread */
};

/* A static, human-readable description of `err` (any code this library returns). */
const char *corio_strerror(int err);
/* The symbolic name of `err`: "ECANCELED", "CORIO_EINVALSTATE", ... ("UNKNOWN" otherwise). */
const char *corio_err_name(int err);

/* ------------------------------------------------------------------------------------------------
 * Types
 * --------------------------------------------------------------------------------------------- */

typedef struct corio_loop corio_loop;
typedef struct corio_future corio_future;
typedef struct corio_task corio_task;
typedef struct corio_handle corio_handle;

/* A coroutine: runs on its task's own stack; its return value becomes the task's result. */
typedef void *(*corio_coro_fn)(void *arg);
/* A plain callback run by the loop. */
typedef void (*corio_callback_fn)(void *arg);
/* A future's done callback: receives the (done) future and the argument given when added. */
typedef void (*corio_done_fn)(corio_future *fut, void *arg);

/* Any negative timeout means "no timeout" where a timeout is taken. */
#define CORIO_FOREVER (-1.0)

/* ------------------------------------------------------------------------------------------------
 * Event loop
 * --------------------------------------------------------------------------------------------- */

typedef struct corio_loop_opts {
    size_t stack_size; /* default stack size of this loop's tasks in bytes; 0: CORIO_STACK_SIZE from
                          the environment, else 64 KiB */
    int debug;         /* 1 on, 0 off, -1: CORIO_DEBUG from the environment (also the default when
                          opts is NULL) */
    const char *backend; /* I/O backend: "epoll" or "io_uring" (then an error if the kernel
                            refuses it); NULL: CORIO_BACKEND from the environment, else io_uring
                            when the kernel allows it, else epoll */
    int virtual_time;  /* 1 on, 0 off, -1: CORIO_VIRTUAL_TIME from the environment (also the
                          default when opts is NULL). Under virtual time the loop's clock stands
                          still while callbacks run, and when the loop would sleep until a timer
                          it jumps the clock to that timer instead (I/O is still polled, without
                          waiting): an hour of sleeps and timeouts runs in milliseconds, always in
                          the same order. With no timer armed it waits for I/O as usual. For tests;
                          see include/corio/debug.h. */
} corio_loop_opts;

/* Creates a loop. opts may be NULL. It is not made the thread's current loop (see
 * corio_set_event_loop). Returns 0 and *out, or -ENOMEM / -EMFILE / another -errno. */
int corio_loop_new(corio_loop **out, const corio_loop_opts *opts);

/* Closes the loop and releases the caller's reference to it. Reports each task still pending
 * through the error handler ("Task was destroyed but it is pending!", naming the task), then
 * destroys it: its coroutine is resumed once more with every await failing at once with
 * -ECANCELED, so that it can release what it holds, and must return. Pending callbacks and
 * timers are dropped. Futures still referenced by the caller stay valid objects (their callbacks
 * never run). If the loop is this thread's current loop, the thread has none afterwards.
 * Returns 0, CORIO_ERUNNING if the loop is running (nothing is done), -EINVAL for NULL, -EEXIST
 * if the loop's io_uring ring still holds I/O for another live thread (see run_forever; nothing
 * is done: close it on that thread). */
int corio_loop_close(corio_loop *loop);

/* Runs the loop until corio_loop_stop(). Returns 0, CORIO_ERUNNING if this thread already runs a
 * loop, CORIO_ECLOSED if closed, -EEXIST if another thread that is still alive ran it last and
 * the kernel still holds I/O it submitted (an io_uring ring on Linux 6.1+ is bound to one thread;
 * with nothing in flight, or once that thread has exited, the loop moves to the caller, and ops
 * the exited thread left end with -ECANCELED). */
int corio_loop_run_forever(corio_loop *loop);

/* Runs the loop until `fut` is done and returns its outcome as corio_future_result() would.
 * Returns CORIO_ESTOPPED if the loop was stopped first, CORIO_ERUNNING / CORIO_ECLOSED / -EEXIST
 * as run_forever, -EINVAL if fut belongs to another loop. The caller keeps its reference to fut. */
int corio_loop_run_until_complete(corio_loop *loop, corio_future *fut, void **result);

/* Asks the loop to stop after the callbacks that are ready now have run. Loop thread only. */
void corio_loop_stop(corio_loop *loop);

int corio_loop_is_running(const corio_loop *loop);
int corio_loop_is_closed(const corio_loop *loop);

/* The loop's monotonic clock in seconds (CLOCK_MONOTONIC, or the virtual clock under
 * corio_loop_opts.virtual_time), the time base of call_at. */
double corio_loop_time(corio_loop *loop);

/* Debug mode: reports errors never retrieved from a future when it is freed (more checks come
 * with it over time). */
void corio_loop_set_debug(corio_loop *loop, int enabled);
int corio_loop_get_debug(const corio_loop *loop);

/* What the loop reports through its error handler (asyncio's exception handler context). The
 * pointers are valid only during the call. */
typedef struct corio_error_context {
    const char *message;
    int err;              /* the error code involved, or 0 */
    corio_future *future; /* the future involved, or NULL */
    corio_task *task;     /* the task involved, or NULL */
} corio_error_context;

typedef void (*corio_error_handler_fn)(corio_loop *loop, const corio_error_context *ctx,
                                       void *arg);

/* Sets the handler called for errors nobody can receive (NULL: the default, which writes one line
 * to stderr). */
void corio_loop_set_error_handler(corio_loop *loop, corio_error_handler_fn fn, void *arg);
/* Writes ctx to stderr as the default handler does. */
void corio_loop_default_error_handler(corio_loop *loop, const corio_error_context *ctx);
/* Passes ctx to the loop's current handler. */
void corio_loop_call_error_handler(corio_loop *loop, const corio_error_context *ctx);

/* The thread's current loop, created (and set) on first use as asyncio.get_event_loop() did.
 * NULL only when memory runs out. Inside a running loop, returns that loop. */
corio_loop *corio_get_event_loop(void);
/* Makes `loop` the thread's current loop (NULL unsets it). The thread holds no reference: close
 * the loop with corio_loop_close() as usual. Returns 0, or CORIO_ERUNNING if a loop is running. */
int corio_set_event_loop(corio_loop *loop);
/* The loop running on this thread, or NULL. */
corio_loop *corio_get_running_loop(void);

/* ------------------------------------------------------------------------------------------------
 * Callbacks and timers
 * --------------------------------------------------------------------------------------------- */

/* Schedules fn(arg) to run on the next loop iteration, after those already scheduled (FIFO).
 * If `out` is not NULL it receives a handle, with a reference the caller must release with
 * corio_handle_release(); with NULL the call is fire-and-forget. Returns 0, -ENOMEM,
 * CORIO_ECLOSED, -EINVAL. */
int corio_call_soon(corio_loop *loop, corio_callback_fn fn, void *arg, corio_handle **out);

/* Schedules fn(arg) `delay` seconds from now (delay <= 0: as soon as possible, after earlier
 * timers that are due). Timers due at the same time run in the order they were scheduled.
 * Returns as corio_call_soon, and -EINVAL for a NaN delay. */
int corio_call_later(corio_loop *loop, double delay, corio_callback_fn fn, void *arg,
                     corio_handle **out);

/* As corio_call_later at the absolute loop time `when` (see corio_loop_time). */
int corio_call_at(corio_loop *loop, double when, corio_callback_fn fn, void *arg,
                  corio_handle **out);

/* Cancels a callback or timer that has not run yet (nothing happens if it has). */
void corio_handle_cancel(corio_handle *h);
int corio_handle_cancelled(const corio_handle *h);
/* A timer's loop time; -1 for a call_soon handle. */
double corio_handle_when(const corio_handle *h);
/* Drops the caller's reference to the handle (it does not cancel it). NULL is ignored. */
void corio_handle_release(corio_handle *h);

/* ------------------------------------------------------------------------------------------------
 * Futures
 * --------------------------------------------------------------------------------------------- */

typedef enum corio_future_state {
    CORIO_PENDING = 0,
    CORIO_FINISHED = 1, /* with a result or with an error */
    CORIO_CANCELLED = 2
} corio_future_state;

/* A new pending future bound to `loop` (NULL: the thread's current loop). The caller owns one
 * reference. Returns NULL on -ENOMEM or when no loop is given and none exists. */
corio_future *corio_future_new(corio_loop *loop);

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
 * 0 if it was already done. */
int corio_future_cancel(corio_future *f, const char *msg);

corio_future_state corio_future_get_state(const corio_future *f);
int corio_future_done(const corio_future *f);
int corio_future_cancelled(const corio_future *f);

/* The outcome of a done future: 0 with *value set (value may be NULL), the error it finished
 * with, -ECANCELED if cancelled, CORIO_EINVALSTATE if still pending. *value is NULL whenever the
 * result is not 0. Marks the error retrieved. */
int corio_future_result(corio_future *f, void **value);
/* As corio_future_result without the value: 0, the error, -ECANCELED, CORIO_EINVALSTATE. */
int corio_future_error(corio_future *f);
/* The message given to cancel (valid while the future lives), or NULL. */
const char *corio_future_cancel_message(const corio_future *f);
corio_loop *corio_future_get_loop(const corio_future *f);

/* Adds fn(f, arg), scheduled on the loop when the future is done (at once if it already is),
 * never called inline; callbacks run in the order they were added. Returns 0 or -ENOMEM. */
int corio_future_add_done_callback(corio_future *f, corio_done_fn fn, void *arg);
/* Removes every registration of (fn, arg) not yet scheduled; returns how many were removed. */
int corio_future_remove_done_callback(corio_future *f, corio_done_fn fn, void *arg);

/* Awaits `f` from the current task: returns at once if f is done, else suspends the task until f
 * is done. Returns as corio_future_result (value may be NULL). Returns -ECANCELED when the task is
 * cancelled while it waits (f is cancelled too), CORIO_ENOTASK outside a task, -EDEADLK when a
 * task awaits itself. The caller keeps its reference to f. */
int corio_await(corio_future *f, void **value);

/* ------------------------------------------------------------------------------------------------
 * Tasks
 * --------------------------------------------------------------------------------------------- */

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

/* Creates a task running fn(arg) on its own stack, on the current thread's loop (the running
 * one, else the current one). Its first step is scheduled at once; fn does not start inside this
 * call. The caller owns one reference. opts may be NULL. Returns NULL on -ENOMEM or without a
 * loop. A task that has not started holds no stack. */
corio_task *corio_create_task(corio_coro_fn fn, void *arg, const corio_task_opts *opts);
/* As corio_create_task on the given loop. */
corio_task *corio_loop_create_task(corio_loop *loop, corio_coro_fn fn, void *arg,
                                   const corio_task_opts *opts);

/* A task is a future: its result is fn's return value. This is the same object (no reference
 * is taken). */
static inline corio_future *corio_task_future(corio_task *t) { return (corio_future *)t; }
corio_task *corio_task_ref(corio_task *t);
void corio_task_unref(corio_task *t);

/* The task running now on this thread, or NULL (plain callbacks, outside the loop). */
corio_task *corio_current_task(void);

/* Stores up to `cap` pointers to the loop's pending tasks (NULL loop: the running loop) in out
 * and returns how many there are (possibly more than cap). The pointers are borrowed: valid until
 * the loop runs again. */
size_t corio_all_tasks(corio_loop *loop, corio_task **out, size_t cap);

const char *corio_task_get_name(corio_task *t);
/* Renames the task (copied). Returns 0 or -ENOMEM. */
int corio_task_set_name(corio_task *t, const char *name);

/* Requests cancellation, as asyncio's Task.cancel: delivered as -ECANCELED from the task's
 * current await (the future it waits on is cancelled too) or from its next one; a task cancelled
 * before it started never runs fn. Returns 1 if the request was made, 0 if the task is done. */
int corio_task_cancel(corio_task *t, const char *msg);
/* Pending cancellation requests (asyncio's cancelling()). */
int corio_task_cancelling(const corio_task *t);
/* Withdraws one cancellation request and returns how many remain. A task whose fn returns while
 * requests remain ends CANCELLED; uncancelling down to 0 lets it end with its result. */
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

/* gather flag: return each child's error in place instead of failing fast. */
#define CORIO_GATHER_RETURN_ERRORS 1u

/* A future that completes when all `n` futures (or tasks) are done, as asyncio.gather. Its result
 * is a `void **` array of the children's results in argument order, owned by the gathering
 * future. Without CORIO_GATHER_RETURN_ERRORS, the first child to fail (or be cancelled) makes it
 * fail at once with that error while the others keep running; with it, it always finishes and a
 * failed child's slot holds NULL (the error is corio_gather_errors()[i]). Cancelling it cancels
 * the children that are not done. n == 0 gives a future already done. It takes its own
 * references to the children. Returns NULL on -ENOMEM or -EINVAL (children of another loop). */
corio_future *corio_gather_future(corio_future *const *futs, size_t n, unsigned flags);
/* The per-child outcomes of a done gathering future: errors[i] is 0 or child i's error. NULL
 * while any child is pending or if g is not a gathering future. */
const int *corio_gather_errors(corio_future *g);

/* Awaits corio_gather_future(futs, n, flags). On return values[i] (if values is not NULL) and
 * errors[i] (if errors is not NULL) hold each child's result and error (0, the error, -ECANCELED,
 * or CORIO_EINVALSTATE for a child still pending after a fail-fast). Returns 0, the first error
 * (without CORIO_GATHER_RETURN_ERRORS), -ECANCELED when the calling task is cancelled (the
 * children are cancelled), -ENOMEM, CORIO_ENOTASK. */
int corio_gather(corio_future *const *futs, size_t n, unsigned flags, void **values, int *errors);

/* Awaits `f` for at most `timeout` seconds (negative: no limit). On timeout `f` is cancelled and
 * awaited until it is done, then -ETIMEDOUT is returned (unless f managed to finish with a result
 * despite the cancel, which is then returned). If the calling task is cancelled, f is cancelled
 * too and -ECANCELED returned. Otherwise returns as corio_await. */
int corio_wait_for(corio_future *f, double timeout, void **value);

/* ------------------------------------------------------------------------------------------------
 * Running a program
 * --------------------------------------------------------------------------------------------- */

/* asyncio.run: creates a loop, makes it current, runs fn(arg) as its main task until it is done,
 * cancels the tasks still pending and lets them finish, closes the loop. Returns the main task's
 * outcome as corio_future_result (result in *result if not NULL), CORIO_ERUNNING if a loop is
 * running on this thread, -ENOMEM. */
int corio_run(corio_coro_fn fn, void *arg, void **result);

#ifdef __cplusplus
}
#endif

/* The rest of the API, one header per area. */
#include "corio/io.h"
#include "corio/stream.h"
#include "corio/combinators.h"
#include "corio/sync.h"
#include "corio/thread.h"
#include "corio/debug.h"

#endif
