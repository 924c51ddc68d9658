/* run_in_executor and to_thread: the loop's side of a job (submission, cancellation,
 * completion), the loop's default executor, and what loop close does about jobs in flight. */
#include "thread/executor.h"

#include "task/task.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* A loop's executor state, made on its first job. */
struct corio__loop_exec {
    corio_loop *loop;
    corio_executor *default_ex;
    int owns_default;    /* made by the loop: shut down and freed at loop close */
    int flush_queued;    /* `flush` is in the ready queue */
    corio__link jobs;    /* submitted and not yet completed here */
    corio__link pending; /* submitted in this iteration, not yet handed to their executors */
    corio__work flush;   /* hands them over, at the start of the next iteration */
    corio__job *spare;   /* freed jobs, for reuse (linked through done.next) */
};

static void flush_run(corio__work *w, int drop);
static void flush_pending(struct corio__loop_exec *e);

static struct corio__loop_exec *loop_exec(corio_loop *loop) {
    if (!loop->thread.exec) {
        struct corio__loop_exec *e = corio__calloc(1, sizeof *e);
        if (!e)
            return NULL;
        e->loop = loop;
        corio__list_init(&e->jobs);
        corio__list_init(&e->pending);
        e->flush.fn = flush_run;
        loop->thread.exec = e;
    }
    return loop->thread.exec;
}

/* Jobs are made and freed on the loop's thread, a burst at a time: a free list spares malloc
 * most of the work (the sanitizer builds skip it, as the loop's own pools do). */
static corio__job *job_alloc(struct corio__loop_exec *e) {
#ifndef CORIO_NO_POOL
    corio__job *job = e->spare;
    if (job) {
        e->spare = (corio__job *)(void *)job->done.next;
        return job;
    }
#else
    (void)e;
#endif
    return corio__malloc(sizeof(corio__job));
}

static void job_release(struct corio__loop_exec *e, corio__job *job) {
#ifndef CORIO_NO_POOL
    job->done.next = (corio__work *)(void *)e->spare;
    e->spare = job;
#else
    (void)e;
    free(job);
#endif
}

int corio_loop_set_default_executor(corio_loop *loop, corio_executor *ex) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (ex)
        CORIO__EXECUTOR_CHECK(ex);
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    struct corio__loop_exec *e = loop_exec(loop);
    if (!e)
        return -ENOMEM;
    if (e->owns_default) { /* its jobs still run, its threads are joined */
        flush_pending(e);
        corio_executor_free(e->default_ex);
    }
    e->default_ex = ex;
    e->owns_default = 0;
    return 0;
}

static int default_executor(struct corio__loop_exec *e, corio_executor **out) {
    if (!e->default_ex) {
        int rc = corio_executor_new(&e->default_ex, 0);
        if (rc < 0)
            return rc;
        e->owns_default = 1;
    }
    *out = e->default_ex;
    return 0;
}

/* A bound job's future (corio__to_thread_bound): its cancel asks the executor first. */
typedef struct job_fut {
    corio_future fut;
    corio__job *job; /* NULL once the job is freed */
} job_fut;

static void job_free(corio__job *job) {
    if (job->bound)
        ((job_fut *)job->fut)->job = NULL;
    corio__list_remove(&job->llink);
    corio_future_unref(job->fut);
    if (job->arg_free)
        job->arg_free(job->arg);
    job_release(job->loop->thread.exec, job);
}

/* The future became done before the job did (cancelled, or completed by its owner): an
 * internal callback that runs at once, so that a job not yet started leaves the queue now. */
static void job_fut_done(corio_future *fut, void *arg) {
    (void)fut;
    corio__job *job = arg;
    if (corio__executor_remove(job->ex, job))
        job_free(job);
    else
        job->abandoned = 1; /* running: its completion drops the result */
}

/* The job is over (posted by the worker, or by a shutdown that cancelled it). */
static void job_complete(corio__work *w, int drop) {
    corio__job *job = corio__container_of(w, corio__job, done);
    corio_future *fut = job->fut;
    int delivered = 0;
    if (!job->abandoned) {
        if (!job->bound)
            corio_future_remove_done_callback(fut, job_fut_done, job);
        if (!drop && job->bound) { /* not a plain future: the setters would refuse it */
            if (job->err == -ECANCELED)
                corio__future_finish(fut, CORIO_FUTURE_CANCELLED, 0, NULL, NULL);
            else
                corio__future_finish(fut, CORIO_FUTURE_FINISHED, job->err < 0 ? job->err : 0,
                                     job->err ? NULL : job->result, NULL);
            delivered = 1;
        } else if (!drop) {
            if (job->err)
                corio_future_set_error(fut, job->err < 0 ? job->err : -EINVAL);
            else
                corio_future_set_result(fut, job->result);
            delivered = 1;
        }
    }
    if (!delivered && job->err == 0 && job->dtor)
        job->dtor(job->result);
    job_free(job);
}

static corio_future *bound_future_new(corio_loop *loop);

/* Submits fn(arg) to ex (NULL: the loop's default) with a new future: a plain one, or for a
 * bound job one of the thread layer's kind. arg_free(arg) runs on every failure path. */
static int job_submit(corio_future **out, corio_loop *loop, corio_executor *ex, corio_job_fn fn,
                      void *arg, corio_result_dtor_fn dtor, void (*arg_free)(void *), int bound) {
    int rc = 0;
    corio_future *fut = NULL;
    corio__job *job = NULL;
    struct corio__loop_exec *e = NULL;
    *out = NULL;
    if (!(loop = corio__loop_resolve(loop)))
        rc = CORIO_ENOLOOP;
    else if (corio__loop_closing(loop))
        rc = CORIO_ECLOSED;
    else if (!(e = loop_exec(loop)))
        rc = -ENOMEM;
    else if (!ex)
        rc = default_executor(e, &ex);
    if (rc == 0 && atomic_load_explicit(&ex->shutdown, memory_order_relaxed))
        rc = CORIO_ECLOSED; /* a shutdown racing with this call is caught at the flush */
    if (rc == 0 && !(job = job_alloc(e)))
        rc = -ENOMEM;
    if (rc == 0 && bound && !(fut = bound_future_new(loop)))
        rc = -ENOMEM;
    else if (rc == 0 && !bound)
        rc = corio__future_new(&fut, loop);
    if (rc == 0) {
        *job = (corio__job){.done.fn = job_complete, .ex = ex, .loop = loop,
                            .fut = corio_future_ref(fut), .fn = fn, .arg = arg, .dtor = dtor,
                            .arg_free = arg_free, .bound = bound};
        corio__list_insert_tail(&e->jobs, &job->llink);
        if (bound) /* its cancel hook does what job_fut_done does */
            ((job_fut *)fut)->job = job;
        else if ((rc = corio__future_add_eager_callback(fut, job_fut_done, job)) < 0) {
            job_free(job); /* frees arg too */
            job = NULL;
            arg_free = NULL;
        }
    }
    if (rc < 0) {
        if (job)
            job_release(e, job);
        if (arg_free)
            arg_free(arg);
        if (fut)
            corio__future_unref(fut);
        return rc;
    }
    corio__list_insert_tail(&e->pending, &job->qlink);
    if (!e->flush_queued) {
        e->flush_queued = 1;
        corio__loop_schedule(loop, &e->flush);
    }
    *out = fut;
    return 0;
}

int corio__run_in_executor_full(corio_future **out, corio_loop *loop, corio_executor *ex,
                                corio_job_fn fn, void *arg, corio_result_dtor_fn dtor,
                                void (*arg_free)(void *)) {
    if (!out || !fn) {
        if (out)
            *out = NULL;
        if (arg_free)
            arg_free(arg);
        return -EINVAL;
    }
    return job_submit(out, loop, ex, fn, arg, dtor, arg_free, 0);
}

/* Hands the pending jobs to their executors, one lock per run of jobs bound for the same one.
 * Jobs an executor refuses (shut down since, or unable to start a thread) fail with its error. */
static void flush_pending(struct corio__loop_exec *e) {
    while (e->pending.next != &e->pending) {
        corio__link *first = e->pending.next, *last = first;
        corio_executor *ex = corio__container_of(first, corio__job, qlink)->ex;
        size_t n = 1;
        while (last->next != &e->pending &&
               corio__container_of(last->next, corio__job, qlink)->ex == ex) {
            last = last->next;
            n++;
        }
        e->pending.next = last->next; /* detach first .. last */
        last->next->prev = &e->pending;
        int rc = corio__executor_enqueue(ex, first, last, n);
        for (corio__link *l = first, *next; rc < 0 && n--; l = next) {
            next = l->next;
            corio__job *job = corio__container_of(l, corio__job, qlink);
            job->err = rc;
            job_complete(&job->done, 0);
        }
    }
}

static void flush_run(corio__work *w, int drop) {
    struct corio__loop_exec *e = corio__container_of(w, struct corio__loop_exec, flush);
    e->flush_queued = 0;
    if (!drop)
        flush_pending(e);
}

void corio__exec_flush_current(void) {
    corio_loop *loop = corio__loop_resolve(NULL);
    if (loop && loop->thread.exec && !corio__loop_closing(loop))
        flush_pending(loop->thread.exec);
}

int corio_loop_run_in_executor(corio_future **out, corio_loop *loop, corio_executor *ex,
                               corio_job_fn fn, void *arg, corio_result_dtor_fn dtor) {
    if (loop) /* here, not below, to be reported in this function's name */
        CORIO__LOOP_CHECK(loop);
    if (ex)
        CORIO__EXECUTOR_CHECK(ex);
    return corio__run_in_executor_full(out, loop, ex, fn, arg, dtor, NULL);
}

int corio__to_thread_full(corio_job_fn fn, void *arg, corio_result_dtor_fn dtor,
                          void (*arg_free)(void *), void **result) {
    if (result)
        *result = NULL;
    if (!corio__current_task()) {
        if (arg_free)
            arg_free(arg);
        return CORIO_ENOTASK;
    }
    corio_future *f;
    int rc = corio__run_in_executor_full(&f, corio__running_loop, NULL, fn, arg, dtor, arg_free);
    if (rc < 0)
        return rc;
    rc = corio_await(f, result);
    corio_future_unref(f);
    return rc;
}

int corio_to_thread(corio_job_fn fn, void *arg, void **result) {
    return corio__to_thread_full(fn, arg, NULL, NULL, result);
}

/* ---- bound jobs ---- */

/* A worker may be writing into the caller's memory: cancelling takes the job out of the queue if
 * it has not started, and otherwise leaves the future to the job's completion. */
/* Makes sure the job never starts, if it has not: 1 if so (it was removed and freed, or a
 * worker's batch holds it, marked to be skipped, and its completion will only free it), 0 if it
 * runs. */
static int bound_stop(corio__job *job) {
    if (corio__executor_remove(job->ex, job)) {
        job_free(job);
        return 1;
    }
    if (atomic_load_explicit(&job->state, memory_order_acquire) != CORIO__JOB_SKIPPED)
        return 0;
    job->abandoned = 1;
    return 1;
}

static int bound_cancel(corio_future *f, const char *msg) {
    corio__job *job = ((job_fut *)f)->job;
    if (job && !bound_stop(job))
        return 0; /* a worker runs it: its completion finishes f */
    return corio__future_cancel_plain(f, msg);
}

static void bound_destroy(corio_future *f) {
    corio__pool_free(&corio__future_loop(f)->thread.futs, f);
}

static const corio__future_ops bound_ops = {.cancel = bound_cancel, .destroy = bound_destroy};

static corio_future *bound_future_new(corio_loop *loop) {
    job_fut *jf = corio__pool_alloc(&loop->thread.futs);
    if (!jf)
        return NULL;
    corio__future_init(&jf->fut, loop, CORIO__FUT_JOB);
    jf->job = NULL;
    return &jf->fut;
}

void corio__thread_loop_init(corio_loop *loop) {
    loop->thread.exec = NULL;
    corio__pool_init(&loop->thread.futs, sizeof(job_fut), offsetof(job_fut, fut.magic));
    corio__loop_add_pool(loop, &loop->thread.futs);
    corio__future_kind_register(loop, CORIO__FUT_JOB, &bound_ops);
}

/* The call returns without its job's result (loop close is destroying the awaiting task, or
 * the await failed to start): the job's memory is the caller's, so the job is stopped if it has
 * not started, or waited for here until no worker holds it. Only loop close can get that far,
 * and whatever else is posted meanwhile is dropped, as the close would. */
static void bound_wait(corio_loop *loop, job_fut *jf) {
    if (jf->job && bound_stop(jf->job))
        return;
    while (jf->job) {
        corio__workq q;
        corio__workq_init(&q);
        corio__loop_wait_posted(loop, &q);
        for (corio__work *w; (w = corio__workq_pop(&q));)
            w->fn(w, 1);
    }
}

int corio__to_thread_bound(corio_job_fn fn, void *arg, corio_result_dtor_fn dtor,
                           void **result) {
    if (result)
        *result = NULL;
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (corio__task_take_cancel(t))
        return -ECANCELED;
    corio_future *f;
    int rc = job_submit(&f, corio__running_loop, NULL, fn, arg, dtor, NULL, 1);
    if (rc < 0)
        return rc;
    rc = corio_await(f, result);
    if (rc < 0 && corio__future_pending(f)) {
        /* The task is being destroyed, or the await could not start (-ENOMEM): the job, still
         * pending unless the task was destroyed, must not outlive the call. */
        bound_wait(corio__running_loop, (job_fut *)f);
    } else if (rc == -ECANCELED && corio__future_state(f) == CORIO_FUTURE_FINISHED) {
        /* The job had run: its result is the caller's, the cancellation comes at the next
         * await. */
        rc = corio__future_result(f, result);
        corio__task_defer_cancel(t);
    }
    corio__future_unref(f);
    return rc;
}

/* Loop close, after its tasks are destroyed: the loop's own default executor is shut down (jobs
 * not started are cancelled, running ones finish) and freed; this loop's jobs still queued on
 * other executors are removed; then the loop waits for the completions of those still running,
 * so that no worker posts to a freed loop. Everything else posted meanwhile is dropped, as loop
 * close drops pending callbacks: a running job that waits on this loop (run_coroutine_threadsafe
 * and a wait) gets CORIO_ECLOSED and can finish. So the default executor's threads are joined
 * only after that (corio_executor_free), never while the inbox is not being served. */
void corio__thread_loop_term(corio_loop *loop) {
    struct corio__loop_exec *e = loop->thread.exec;
    if (!e)
        return;
    while (e->pending.next != &e->pending) {
        corio__job *job = corio__container_of(e->pending.next, corio__job, qlink);
        corio__list_remove(&job->qlink);
        job_free(job);
    }
    if (e->flush_queued)
        corio__loop_unschedule(loop, &e->flush); /* it lives in the state freed here */
    if (e->owns_default)
        corio_executor_shutdown(e->default_ex, 0, 1);
    for (corio__link *l = e->jobs.next, *next; l != &e->jobs; l = next) {
        next = l->next;
        corio__job *job = corio__container_of(l, corio__job, llink);
        if (corio__executor_remove(job->ex, job))
            job_free(job);
    }
    while (e->jobs.next != &e->jobs) {
        corio__workq q;
        corio__workq_init(&q);
        corio__loop_wait_posted(loop, &q);
        for (corio__work *w; (w = corio__workq_pop(&q));)
            w->fn(w, 1);
    }
    if (e->owns_default)
        corio_executor_free(e->default_ex);
    while (e->spare) {
        corio__job *job = e->spare;
        e->spare = (corio__job *)(void *)job->done.next;
        free(job);
    }
    free(e);
    loop->thread.exec = NULL;
}
