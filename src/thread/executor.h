/* Internal: the thread pool and its jobs. */
#ifndef CORIO_THREAD_EXECUTOR_H
#define CORIO_THREAD_EXECUTOR_H

#include "loop/loop.h"

#include <pthread.h>
#include <stdatomic.h>

/* Where a job is. PENDING: submitted on its loop, which hands its jobs to the executor in one
 * go per loop iteration (loop thread only). QUEUED: in the executor's queue (changes under its mutex). TAKEN: in a worker's
 * batch, not started; the worker moves it to RUNNING, or finds it SKIPPED (cancelled there) and
 * posts it back unrun. REMOVED: taken out of the queue by a cancel or a shutdown. */
enum { CORIO__JOB_PENDING, CORIO__JOB_QUEUED, CORIO__JOB_TAKEN, CORIO__JOB_RUNNING, CORIO__JOB_SKIPPED,
       CORIO__JOB_REMOVED };

/* One run_in_executor call. Made and freed on the loop's thread; between submission and the
 * post of `done` the worker owns the fields it writes (result, err). */
typedef struct corio__job {
    corio__work done;   /* posted to the loop's inbox once the job ran, or was cancelled */
    corio__link qlink;  /* in the loop's pending list, then in the executor's queue */
    corio__link llink;  /* in the loop's list of jobs not yet completed (loop thread) */
    corio_executor *ex;
    corio_loop *loop;
    corio_future *fut;  /* holds a reference */
    corio_job_fn fn;
    void *arg;
    corio_result_dtor_fn dtor;
    void (*arg_free)(void *arg); /* internal jobs own their argument: freed with the job */
    void *result;
    int err;
    atomic_int state;   /* CORIO__JOB_*: changed under ex->mu, read without it by remove */
    int abandoned;      /* the future was done before the job was (loop thread) */
    int bound;          /* corio__to_thread_bound's: never abandoned once it runs */
} corio__job;

struct corio_executor {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* idle workers wait here for jobs or shutdown */
    corio__link queue;      /* QUEUED jobs, oldest first */
    size_t qlen;
    unsigned max_threads, nthreads, idle, signalled;
    atomic_int shutdown;    /* set under mu; also read without it by run_in_executor */
    atomic_int cancelling;  /* shut down with cancel_futures: taken jobs are skipped too */
    pthread_t *threads;     /* nthreads started, joined by join_all */
    pthread_mutex_t join_mu; /* one joiner at a time */
    unsigned joined;        /* threads[0 .. joined) are joined */
    uint32_t magic;         /* base/obj.h */
};

/* An executor belongs to no loop: a misuse is reported to the calling thread's loop, and only
 * CORIO_DEBUG keeps a freed one aside. */
#define CORIO__EXECUTOR_CHECK(ex) CORIO__CHECK(ex, CORIO__KIND_EXECUTOR, NULL)

/* Loop thread. Moves the n PENDING jobs first .. last (linked through qlink, detached from any
 * list) to the executor's queue, waking or starting workers for them. Returns 0, CORIO_ECLOSED
 * after shutdown, -EAGAIN if no worker exists and none could be started (nothing is queued). */
int corio__executor_enqueue(corio_executor *ex, corio__link *first, corio__link *last, size_t n);

/* Hands the jobs this thread's loop has pending to their executors (see executor shutdown). */
void corio__exec_flush_current(void);

/* Loop thread. Makes sure a job that has not started never does: returns 1 if it was taken out
 * of the loop's pending list or the executor's queue (the job is the caller's to free), 0 if a worker has it (its completion will be
 * posted, unrun if it had not started). */
int corio__executor_remove(corio_executor *ex, corio__job *job);

/* run_in_executor and to_thread for internal jobs whose arg is owned by the job: arg_free(arg)
 * runs on the loop's thread when the job is freed, including on every failure path, so arg is
 * the callee's in every case. */
int corio__run_in_executor_full(corio_future **out, corio_loop *loop, corio_executor *ex,
                                corio_job_fn fn, void *arg, corio_result_dtor_fn dtor,
                                void (*arg_free)(void *));
int corio__to_thread_full(corio_job_fn fn, void *arg, corio_result_dtor_fn dtor,
                          void (*arg_free)(void *), void **result);

/* ---- the thread layer's part of the loop ---- */

/* Awaits fn(arg) on the running loop's default executor, as corio__to_thread_full, for jobs
 * that use the caller's memory (a buffer to read into, a path): a job that has started is never
 * abandoned. Cancelled before it starts, it is removed and the call returns -ECANCELED; once it
 * runs, the call waits for it and returns its outcome, and the cancellation is delivered at the
 * task's next await (as an I/O call whose operation the kernel had finished). A task destroyed by
 * loop close waits right there for the job to end. dtor releases a result nobody will get
 * (loop close). */
int corio__to_thread_bound(corio_job_fn fn, void *arg, corio_result_dtor_fn dtor,
                           void **result);

/* Bound jobs' futures are of the thread layer's own kind (the second slot above the task
 * layer's; io/io.h has the first). */
#define CORIO__FUT_JOB (CORIO__FUT_UPPER + 1)

/* The pool of bound jobs' futures and their kind; the executor state is made by the first job. */
void corio__thread_loop_init(corio_loop *loop);
/* Loop close, after the tasks are destroyed: see run_in_executor.c. */
void corio__thread_loop_term(corio_loop *loop);

#endif
