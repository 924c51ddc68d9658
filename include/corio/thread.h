/* corio threads: worker pools for blocking calls, and the ways into a loop from other threads.
 *
 * Included by <corio.h>; docs/conventions.md holds.
 *
 * !!! THREADS: as everywhere in corio, a loop and its objects belong to the loop's thread. The
 * !!! exceptions are exactly these, each callable from ANY thread:
 * !!!   corio_loop_call_soon_threadsafe, corio_run_coroutine_threadsafe, the corio_concurrent_*
 * !!!   functions, and corio_executor_new / corio_executor_shutdown / corio_executor_free.
 * !!! Everything else here (run_in_executor, to_thread, getaddrinfo, set_default_executor) is
 * !!! loop-thread only, like the rest of the API. A NULL loop is the calling thread's own
 * !!! (running or current), as everywhere: from another thread, name the loop.
 *
 * A loop that another thread may post to must outlive the posting: corio_loop_call_soon_threadsafe
 * and corio_run_coroutine_threadsafe may not be called once corio_loop_free() of that loop has
 * begun. Join or otherwise stop the posting threads before freeing. Posts that reach a closed or
 * closing loop are refused with CORIO_ECLOSED.
 */
#ifndef CORIO_THREAD_H
#define CORIO_THREAD_H

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

struct addrinfo;

/* ------------------------------------------------------------------------------------------------
 * Executors (concurrent.futures.ThreadPoolExecutor)
 * --------------------------------------------------------------------------------------------- */

typedef struct corio_executor corio_executor;

/* A blocking job, run on a worker thread. Its return value becomes the future's result. To fail,
 * it stores a negative error code in *err (which starts at 0); the result is then ignored, and
 * -ECANCELED makes the future cancelled. It must not call loop-thread functions of any loop; it
 * may call corio_loop_call_soon_threadsafe. */
typedef void *(*corio_job_fn)(void *arg, int *err);

/* Releases the result of a job whose future was cancelled while the job ran (see
 * corio_loop_run_in_executor). Called on the loop's thread. */
typedef void (*corio_result_dtor_fn)(void *result);

/* Any thread. Creates a pool of at most `nthreads` worker threads (0: the default size, see
 * corio_executor_default_size). Threads start on demand, when a job finds none idle. Returns 0
 * and *out, -EINVAL, -ENOMEM. The caller owns it: corio_executor_free. */
int corio_executor_new(corio_executor **out, unsigned nthreads);

/* The default executor's size: CORIO_EXECUTOR_THREADS from the environment if set (1..1024),
 * else min(32, number of online CPUs + 4), as Python's ThreadPoolExecutor. */
unsigned corio_executor_default_size(void);

/* Any thread (not one of ex's own workers when wait is set). Refuses new jobs from now on
 * (corio_loop_run_in_executor returns CORIO_ECLOSED). With cancel_futures, jobs not yet started are
 * removed and their futures cancelled (on their loops' threads, shortly after). With wait, returns
 * once every started job has finished and every worker thread has been joined; without it, the
 * workers finish the queue and exit by themselves (corio_executor_free joins them). May be called
 * more than once. Returns 0, -EINVAL, -EDEADLK (wait from one of ex's own workers: nothing is
 * done). */
int corio_executor_shutdown(corio_executor *ex, int wait, int cancel_futures);

/* Any thread but ex's own workers. Shuts ex down as corio_executor_shutdown(ex, 1, 0) (queued
 * jobs still run), joins its threads and frees it. Every loop with jobs on ex must still exist
 * (not be closed) until then, or have been closed after its jobs completed. Returns 0, or -EDEADLK
 * from one of ex's workers (nothing is done). NULL does nothing. */
int corio_executor_free(corio_executor *ex);

/* Makes `ex` the loop's default executor (NULL: back to one the loop creates on first use). The
 * loop does not own ex: the caller shuts it down and frees it after the loop is closed. A
 * default executor the loop created itself is shut down (queued jobs cancelled, running ones
 * waited for) and freed by corio_loop_close. Returns 0, CORIO_ECLOSED, CORIO_ENOLOOP. */
int corio_loop_set_default_executor(corio_loop *loop, corio_executor *ex);

/* asyncio's loop.run_in_executor: runs fn(arg, &err) on a worker of `ex` (NULL: the loop's
 * default executor, made on first use) and gives in *out a new future of `loop`, completed on the
 * loop's thread with fn's result or error; the caller owns one reference. Cancelling the future
 * before the job starts removes the job (fn never runs); once it runs, the job finishes on its
 * thread and its result is dropped: dtor(result) releases it (when the job did not fail; dtor may
 * be NULL). Returns 0, -EINVAL (NULL out or fn), -ENOMEM, CORIO_ENOLOOP, CORIO_ECLOSED (the loop is
 * closed or the executor shut down). The job reaches the executor at the start of the loop's next
 * iteration, with the others submitted in this one (one lock for the burst); if the executor
 * refuses it then (shut down meanwhile, or no thread could be started: -EAGAIN), the future fails
 * with that error. corio_loop_close cancels the loop's jobs that have not started and waits for
 * those that run. */
int corio_loop_run_in_executor(corio_future **out, corio_loop *loop, corio_executor *ex,
                               corio_job_fn fn, void *arg, corio_result_dtor_fn dtor);

/* Awaits (asyncio.to_thread): runs fn(arg, &err) on the running loop's default executor and
 * returns 0 with *result (if not NULL) set to fn's result, fn's error, -ECANCELED if the calling
 * task is cancelled (the job is removed if it had not started, else its result is dropped),
 * CORIO_ENOTASK outside a task, or an error of corio_loop_run_in_executor. */
int corio_to_thread(corio_job_fn fn, void *arg, void **result);

/* ------------------------------------------------------------------------------------------------
 * Into a loop from another thread
 * --------------------------------------------------------------------------------------------- */

/* ANY THREAD (the only way to schedule on a loop from another thread, and also safe from the
 * loop's own). Schedules fn(arg) on `loop` and wakes it if it sleeps in the poller; callbacks
 * posted by one thread run in the order posted. Makes no system call while the loop is busy;
 * repeated posts to a sleeping loop wake it once. Not async-signal-safe (it allocates). Returns
 * 0, -EINVAL (NULL fn), -ENOMEM, CORIO_ECLOSED (the loop is closing: fn never runs),
 * CORIO_ENOLOOP. */
int corio_loop_call_soon_threadsafe(corio_loop *loop, corio_callback_fn fn, void *arg);

/* A handle on a coroutine running on another thread's loop (concurrent.futures.Future). */
typedef struct corio_concurrent corio_concurrent;

/* ANY THREAD. Starts fn(arg) as a task on `loop` and returns in *out a handle to wait on, cancel
 * and free (corio_concurrent_free). The task is created on the loop's thread shortly after; if the
 * loop closes first, the handle completes with CORIO_ECLOSED. Meant for a loop that runs on
 * another thread: a NULL loop is the calling thread's own (running, else current), as everywhere,
 * and a task of a loop waiting on its own handle with corio_concurrent_wait would deadlock (that
 * call returns -EDEADLK there). Returns 0, -EINVAL, -ENOMEM, CORIO_ECLOSED, CORIO_ENOLOOP. */
int corio_run_coroutine_threadsafe(corio_concurrent **out, corio_loop *loop, corio_coro_fn fn,
                                   void *arg);

/* Any thread but the loop's. Blocks until the task is done or `timeout` seconds have passed
 * (CORIO_FOREVER: no limit). Returns the task's outcome as corio_future_result (0 with *result set, its
 * error, -ECANCELED), -ETIMEDOUT (the task goes on), CORIO_ECLOSED (the loop closed before it
 * could start the task), -EDEADLK on the loop's own thread, -EINVAL. *result is NULL unless 0
 * is returned. May be called again after a timeout. */
int corio_concurrent_wait(corio_concurrent *h, double timeout, void **result);

/* Any thread. Requests cancellation: the handle is cancelled at once (waiters return
 * -ECANCELED) and the task is cancelled on its loop shortly after. Returns 1, or 0 if the handle
 * was already done, -EINVAL for NULL. */
int corio_concurrent_cancel(corio_concurrent *h);

/* Any thread. 1 if the outcome is known (finished, failed, cancelled), else 0 (also for NULL). */
int corio_concurrent_done(corio_concurrent *h);

/* Any thread. Frees the caller's handle (the task itself goes on). Returns 0. NULL does
 * nothing. */
int corio_concurrent_free(corio_concurrent *h);

/* ------------------------------------------------------------------------------------------------
 * Name lookup off the loop thread
 * --------------------------------------------------------------------------------------------- */

/* Awaits getaddrinfo(host, service, hints) run on the loop's default executor. host, service
 * and hints are copied first, so they need not outlive the call. On 0, *res holds the list, to be
 * released with the plain freeaddrinfo(). Returns 0, CORIO_EAI_* (getaddrinfo's EAI_* codes as
 * corio errors, corio/errors.h; EAI_SYSTEM and EAI_MEMORY come back as -errno), -ECANCELED (the
 * list, if the lookup still completes, is freed), CORIO_ENOTASK, -EINVAL (both host and service
 * NULL, or res NULL). */
int corio_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res);

#ifdef __cplusplus
}
#endif

#endif
