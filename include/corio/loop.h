/* corio/loop.h: the event loop (asyncio's AbstractEventLoop): creating, running, stopping and
 * closing it, callbacks and timers, the error handler, the thread's loop, and corio_run.
 *
 * One loop per thread; every object bound to a loop is used on that loop's thread only, except
 * where a header says ANY THREAD. A NULL loop argument is the running loop, else the thread's
 * current one, else CORIO_ENOLOOP (docs/conventions.md).
 */
#ifndef CORIO_LOOP_H
#define CORIO_LOOP_H

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------
 * Creating, running and closing a loop
 * --------------------------------------------------------------------------------------------- */

typedef struct corio_loop_opts {
    size_t stack_size;   /* default stack size of this loop's tasks in bytes; 0: CORIO_STACK_SIZE
                            from the environment, else 64 KiB (see corio/task.h for the guard) */
    int debug;           /* 0: CORIO_DEBUG from the environment; > 0 on; < 0 off */
    const char *backend; /* I/O backend: "epoll" or "io_uring" (then an error if the kernel
                            refuses it); NULL: CORIO_BACKEND from the environment, else io_uring
                            when the kernel allows it, else epoll */
    int virtual_time;    /* 0: CORIO_VIRTUAL_TIME from the environment; > 0 on; < 0 off. Under
                            virtual time the loop's clock stands still while callbacks run, and
                            when the loop would sleep until a timer it jumps the clock to that
                            timer instead (I/O is still polled, without waiting): an hour of
                            sleeps and timeouts runs in milliseconds, always in the same order.
                            With no timer armed it waits for I/O as usual. For tests; see
                            corio/debug.h. */
} corio_loop_opts;

/* Creates a loop (asyncio.new_event_loop). It is not made the thread's current loop (see
 * corio_set_event_loop). Returns 0, -ENOMEM, -EMFILE, -EINVAL (unknown backend name), -ENOSYS /
 * -EPERM (the backend named in opts is refused by the kernel), another -errno. The caller owns the
 * loop: corio_loop_free. */
int corio_loop_new(corio_loop **out, const corio_loop_opts *opts);

/* Closes the loop (asyncio's close): reports each task still pending through the error handler
 * ("Task was destroyed but it is pending!", naming the task), then destroys it: its coroutine is
 * resumed once more with every await failing at once with -ECANCELED, so that it can release what
 * it holds, and must return. Pending callbacks and timers are dropped, the default executor is
 * shut down. Futures still referenced stay valid objects (their callbacks never run). If the loop
 * is this thread's current loop, the thread has none afterwards. The loop object stays valid,
 * closed, until corio_loop_free. Returns 0 (also when already closed), CORIO_ERUNNING if the loop
 * is running (nothing is done), CORIO_ENOLOOP, -EEXIST if the loop's io_uring ring still holds
 * I/O for another live thread (see run_forever; nothing is done: close it on that thread). */
int corio_loop_close(corio_loop *loop);

/* Closes the loop as corio_loop_close if it is not closed, and drops the caller's ownership; the
 * memory goes once the last future bound to the loop is freed. Returns 0 or corio_loop_close's
 * error (then nothing is freed). NULL does nothing. */
int corio_loop_free(corio_loop *loop);

/* Runs the loop until corio_loop_stop(). Returns 0, CORIO_ERUNNING if this thread already runs a
 * loop, CORIO_ECLOSED if closed, CORIO_ENOLOOP, -EEXIST if another thread that is still alive ran
 * it last and the kernel still holds I/O it submitted (an io_uring ring on Linux 6.1+ is bound to
 * one thread; with nothing in flight, or once that thread has exited, the loop moves to the
 * caller, and ops the exited thread left end with -ECANCELED). */
int corio_loop_run_forever(corio_loop *loop);

/* Runs the loop until `fut` is done and returns its outcome as corio_future_result() would.
 * Returns CORIO_ESTOPPED if the loop was stopped first, CORIO_ERUNNING / CORIO_ECLOSED / -EEXIST
 * as run_forever, -EINVAL for a NULL fut or one of another loop. The caller keeps its reference
 * to fut. */
int corio_loop_run_until_complete(corio_loop *loop, corio_future *fut, void **result);

/* Asks the loop to stop after the callbacks that are ready now have run. Returns 0 or
 * CORIO_ENOLOOP. */
int corio_loop_stop(corio_loop *loop);

/* 1 if the loop is running / closed, else 0 (also 0 without a loop). */
int corio_loop_is_running(const corio_loop *loop);
int corio_loop_is_closed(const corio_loop *loop);

/* The loop's monotonic clock in seconds (CLOCK_MONOTONIC, or the virtual clock under
 * corio_loop_opts.virtual_time), the time base of corio_loop_call_at and every deadline. Never
 * negative. Without a loop: CLOCK_MONOTONIC. */
double corio_loop_time(const corio_loop *loop);

/* Debug mode (see corio/debug.h for what it checks). Returns 0 or CORIO_ENOLOOP. */
int corio_loop_set_debug(corio_loop *loop, int enabled);
/* 1 if debug mode is on, else 0 (also without a loop). */
int corio_loop_get_debug(const corio_loop *loop);

/* ------------------------------------------------------------------------------------------------
 * asyncio.run and the thread's loop
 * --------------------------------------------------------------------------------------------- */

typedef struct corio_run_opts {
    const corio_loop_opts *loop; /* the loop's options; NULL: the defaults */
    int sigint;                  /* 0 or > 0: asyncio.Runner's handling of SIGINT (below);
                                    < 0: none, SIGINT keeps its action */
} corio_run_opts;

/* asyncio.run: creates a loop, makes it current, runs fn(arg) as its main task (named "main")
 * until it is done, cancels the tasks still pending and lets them finish, closes and frees the
 * loop. Returns the main task's outcome as corio_future_result (result in *result if not NULL),
 * CORIO_EINTERRUPTED (below), CORIO_ERUNNING if a loop is running on this thread, -EINVAL for a
 * NULL fn, -ENOMEM, or an error of corio_loop_new.
 *
 * SIGINT, as asyncio.Runner: called on the process's main thread while SIGINT has its default
 * action and is not blocked, corio_run takes SIGINT for as long as the main task runs. The first
 * Ctrl-C cancels the main task, which can clean up (its await returns -ECANCELED) and return;
 * corio_run then returns CORIO_EINTERRUPTED (asyncio's KeyboardInterrupt), whatever the task
 * returned. The first delivery also puts the default action back at once, in the signal handler
 * itself, so that a second Ctrl-C ends the program at once, even while a task hogs the loop.
 * A program that handles SIGINT itself keeps it: corio_run steps aside when SIGINT's action is
 * not the default, and as soon as any loop registers SIGINT (corio/signal.h). opts->sigint < 0
 * turns this off. To end with the status a shell expects after Ctrl-C, a program can
 * raise(SIGINT) when corio_run returns CORIO_EINTERRUPTED: the default action is back by then. */
int corio_run(corio_coro_fn fn, void *arg, void **result, const corio_run_opts *opts);

/* The loop running on this thread, else the thread's current loop (corio_set_event_loop), else
 * NULL. Never creates one (asyncio 3.14's get_event_loop). */
corio_loop *corio_get_event_loop(void);
/* Makes `loop` the thread's current loop (NULL unsets it). The thread holds no reference: free
 * the loop with corio_loop_free() as usual. Returns 0, CORIO_ERUNNING if a loop is running on
 * this thread, CORIO_ECLOSED for a closed loop. */
int corio_set_event_loop(corio_loop *loop);
/* The loop running on this thread, or NULL. */
corio_loop *corio_get_running_loop(void);

/* ------------------------------------------------------------------------------------------------
 * Callbacks and timers
 * --------------------------------------------------------------------------------------------- */

/* Schedules fn(arg) to run on the next loop iteration, after those already scheduled (FIFO).
 * `out` may be NULL (fire and forget); otherwise it receives a handle with a reference for the
 * caller (corio_handle_unref). Returns 0, -EINVAL (NULL fn), -ENOMEM, CORIO_ECLOSED,
 * CORIO_ENOLOOP. */
int corio_loop_call_soon(corio_handle **out, corio_loop *loop, corio_callback_fn fn, void *arg);

/* Schedules fn(arg) `delay` seconds from now (<= 0: as soon as possible, after earlier timers
 * that are due). Timers due at the same time run in the order they were scheduled. Returns as
 * corio_loop_call_soon, and -EINVAL for a NaN delay. */
int corio_loop_call_later(corio_handle **out, corio_loop *loop, double delay,
                          corio_callback_fn fn, void *arg);

/* As corio_loop_call_later at the loop time `when` (corio_loop_time; a time already past,
 * negative ones included: as soon as possible). */
int corio_loop_call_at(corio_handle **out, corio_loop *loop, double when, corio_callback_fn fn,
                       void *arg);

/* A callback or timer scheduled by the calls above: reference counted. */
corio_handle *corio_handle_ref(corio_handle *h);
void corio_handle_unref(corio_handle *h);

/* Cancels a callback or timer that has not run yet (nothing happens if it has, or for NULL). */
void corio_handle_cancel(corio_handle *h);
/* 1 if cancelled, else 0 (also for NULL). */
int corio_handle_cancelled(const corio_handle *h);
/* A timer's loop time; -1 for a call_soon handle; NaN for NULL. */
double corio_handle_when(const corio_handle *h);

/* ------------------------------------------------------------------------------------------------
 * The error handler
 * --------------------------------------------------------------------------------------------- */

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

/* Sets the handler called for errors nobody can receive (NULL fn: the default, which writes one
 * line to stderr). Returns 0 or CORIO_ENOLOOP. */
int corio_loop_set_error_handler(corio_loop *loop, corio_error_handler_fn fn, void *arg);
/* Writes ctx to stderr as the default handler does (nothing for a NULL ctx). */
void corio_loop_default_error_handler(corio_loop *loop, const corio_error_context *ctx);
/* Passes ctx to the loop's handler. Returns 0, -EINVAL for a NULL ctx, CORIO_ENOLOOP. */
int corio_loop_call_error_handler(corio_loop *loop, const corio_error_context *ctx);

#ifdef __cplusplus
}
#endif

#endif
