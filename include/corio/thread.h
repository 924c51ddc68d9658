/* corio threads: worker pools for blocking calls, and the ways into a loop from other threads.
 *
 * Included by <corio.h>; do not include it on its own.
 *
 * !!! THREADS: as everywhere in corio, a loop and its objects belong to the loop's thread. The
 * !!! exceptions are exactly these, each callable from ANY thread:
 * !!!   corio_call_soon_threadsafe, corio_run_coroutine_threadsafe, the corio_concurrent_*
 * !!!   functions, and corio_executor_new / corio_executor_shutdown / corio_executor_free.
 * !!! Everything else here (run_in_executor, to_thread, getaddrinfo, set_default_executor) is
 * !!! loop-thread only, like the rest of the API.
 *
 * A loop that another thread may post to must outlive the posting: corio_call_soon_threadsafe
 * and corio_run_coroutine_threadsafe may not be called once corio_loop_close() of that loop has
 * begun (it frees the loop). Join or otherwise stop the posting threads before closing. Posts
 * that reach a closing loop are refused with CORIO_ECLOSED.
 */
#ifndef CORIO_THREAD_H
#define CORIO_THREAD_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CORIO_H
#error "include <corio.h>, not <corio/thread.h>"
#endif

struct addrinfo;

/* ------------------------------------------------------------------------------------------------
 * Executors (concurrent.futures.ThreadPoolExecutor)
 * --------------------------------------------------------------------------------------------- */

typedef struct corio_executor corio_executor;

/* A blocking job, run on a worker thread. Its return value becomes the future's result. To fail,
 * it stores a negative error code in *err (which starts at 0); the result is then ignored, and
 * -ECANCELED makes the future cancelled. It must not call loop-thread functions of any loop; it
 * may call corio_call_soon_threadsafe. */
typedef void *(*corio_job_fn)(void *arg, int *err);

/* Releases the result of a job whose future was cancelled while the job ran (see
 * corio_run_in_executor_dtor). Called on the loop's thread. */
typedef void (*corio_result_dtor_fn)(void *result);

/* Any thread. Creates a pool of at most `nthreads` worker threads (0: the default size, see
 * corio_executor_default_size). Threads start on demand, when a job finds none idle. Returns 0
 * and *out, -EINVAL, -ENOMEM. */
int corio_executor_new(corio_executor **out, unsigned nthreads);

/* The default executor's size: CORIO_EXECUTOR_THREADS from the environment if set (1..1024),
 * else min(32, number of online CPUs + 4), as Python's ThreadPoolExecutor. */
unsigned corio_executor_default_size(void);

/* Any thread (not one of ex's own workers when wait is set). Refuses new jobs from now on
 * (corio_run_in_executor returns CORIO_ECLOSED). With cancel_futures, jobs not yet started are
 * removed and their futures cancelled (on their loops' threads, shortly after). With wait, returns
 * once every started job has finished and every worker thread has been joined; without it, the
 * workers finish the queue and exit by themselves (corio_executor_free joins them). May be called
 * more than once. Returns 0 or -EINVAL. */
int corio_executor_shutdown(corio_executor *ex, int wait, int cancel_futures);

/* Any thread. Shuts ex down as corio_executor_shutdown(ex, 1, 0) (queued jobs still run), joins
 * its threads and frees it. Every loop with jobs on ex must still exist (not be closed) until
 * then, or have been closed after its jobs completed. NULL is ignored. */
void corio_executor_free(corio_executor *ex);

/* Makes `ex` the loop's default executor (NULL: back to one the loop creates on first use). The
 * loop does not own ex: the caller shuts it down and frees it after the loop is closed. A
 * default executor the loop created itself is shut down (queued jobs cancelled, running ones
 * waited for) and freed by corio_loop_close. Returns 0, -EINVAL, CORIO_ECLOSED. */
int corio_loop_set_default_executor(corio_loop *loop, corio_executor *ex);

/* Loop thread. Runs fn(arg, &err) on a worker of `ex` (NULL: the loop's default executor, made on
 * first use) and returns a new future of `loop` (NULL: the running or current loop) completed on
 * the loop's thread with fn's result or error; the caller owns one reference. Cancelling the
 * future before the job starts removes the job (fn never runs); once it runs, the job finishes on
 * its thread and its result is dropped. Returns NULL with *errp set (if errp is not NULL) to
 * -EINVAL, -ENOMEM, or CORIO_ECLOSED (the loop is closed or the executor shut down). The job
 * reaches the executor at the start of the loop's next iteration, with the others submitted in
 * this one (one lock for the burst); if the executor refuses it then (shut down meanwhile, or no
 * thread could be started: -EAGAIN), the future fails with that error. corio_loop_close cancels
 * the loop's jobs that have not started and waits for those that run. */
corio_future *corio_run_in_executor(corio_loop *loop, corio_executor *ex, corio_job_fn fn,
                                    void *arg, int *errp);

/* As corio_run_in_executor; if the future is cancelled while the job runs, dtor(result) releases
 * the result the job still returns (when the job did not fail). dtor may be NULL. */
corio_future *corio_run_in_executor_dtor(corio_loop *loop, corio_executor *ex, corio_job_fn fn,
                                         void *arg, corio_result_dtor_fn dtor, int *errp);

/* Awaits (asyncio.to_thread): runs fn(arg, &err) on the running loop's default executor and
 * returns 0 with *result (if not NULL) set to fn's result, fn's error, -ECANCELED if the calling
 * task is cancelled (the job is removed if it had not started, else its result is dropped),
 * CORIO_ENOTASK outside a task, or an error of corio_run_in_executor. */
int corio_to_thread(corio_job_fn fn, void *arg, void **result);

/* ------------------------------------------------------------------------------------------------
 * Into a loop from another thread
 * --------------------------------------------------------------------------------------------- */

/* ANY THREAD (the only way to schedule on a loop from another thread, and also safe from the
 * loop's own). Schedules fn(arg) on `loop` (never NULL here) and wakes it if it sleeps in the
 * poller; callbacks posted by one thread run in the order posted. Makes no system call while the
 * loop is busy; repeated posts to a sleeping loop wake it once. Not async-signal-safe (it
 * allocates). Returns 0, -EINVAL, -ENOMEM, CORIO_ECLOSED (the loop is closing: fn never runs). */
int corio_call_soon_threadsafe(corio_loop *loop, corio_callback_fn fn, void *arg);

/* A handle on a coroutine running on another thread's loop (concurrent.futures.Future). */
typedef struct corio_concurrent corio_concurrent;

/* ANY THREAD but the loop's own. Starts fn(arg) as a task on `loop` (which runs on another
 * thread) and returns in *out a handle to wait on, cancel and free. The task is created on the
 * loop's thread shortly after; if the loop closes first, the handle completes with
 * CORIO_ECLOSED. Returns 0, -EINVAL, -ENOMEM, CORIO_ECLOSED. */
int corio_run_coroutine_threadsafe(corio_loop *loop, corio_coro_fn fn, void *arg,
                                   corio_concurrent **out);

/* Any thread but the loop's. Blocks until the task is done or `timeout` seconds have passed
 * (negative: no limit). Returns the task's outcome as corio_future_result (0 with *result set, its
 * error, -ECANCELED), -ETIMEDOUT (the task goes on), CORIO_ECLOSED (the loop closed before it
 * could start the task), -EDEADLK on the loop's own thread, -EINVAL. *result is NULL unless 0
 * is returned. May be called again after a timeout. */
int corio_concurrent_wait(corio_concurrent *h, double timeout, void **result);

/* Any thread. Requests cancellation: the handle is cancelled at once (waiters return
 * -ECANCELED) and the task is cancelled on its loop shortly after. Returns 1, or 0 if the handle
 * was already done. */
int corio_concurrent_cancel(corio_concurrent *h);

/* Any thread. 1 if the outcome is known (finished, failed, cancelled), else 0. */
int corio_concurrent_done(corio_concurrent *h);

/* Any thread. Releases the caller's handle (the task itself goes on). NULL is ignored. */
void corio_concurrent_free(corio_concurrent *h);

/* ------------------------------------------------------------------------------------------------
 * Name lookup off the loop thread
 * --------------------------------------------------------------------------------------------- */

/* getaddrinfo's EAI_* codes, as corio errors: CORIO_EAI(EAI_NONAME) and so on. corio_strerror
 * names them with gai_strerror's words. (EAI_SYSTEM comes back as the -errno it stands for.) */
#define CORIO_EAI_BASE (-21000)
#define CORIO_EAI(eai) (CORIO_EAI_BASE - (eai) * ((eai) < 0 ? -1 : 1))

/* Awaits getaddrinfo(host, service, hints) run on the loop's default executor. host, service
 * and hints are copied first, so they need not outlive the call. On 0, *res holds the list, to be
 * released with the plain freeaddrinfo(). Returns 0, CORIO_EAI(code), -errno, -ECANCELED (the
 * list, if the lookup still completes, is freed), CORIO_ENOTASK, -EINVAL (both host and service
 * NULL, or res NULL). */
int corio_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res);

#ifdef __cplusplus
}
#endif

#endif
