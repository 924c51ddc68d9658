/* run_in_executor and to_thread: the loop's side of a job (submission, cancellation,
 * completion), the loop's default executor, and what loop close does about jobs in flight. */
#include "thread/executor.h"

#include "task/task.h"

#include <errno.h>
#include <stdlib.h>

/* A loop's executor state, made on its first job. */
struct corio__loop_exec {
    corio_executor *default_ex;
    int owns_default; /* made by the loop: shut down and freed at loop close */
    corio__link jobs; /* submitted and not yet completed here */
};

static struct corio__loop_exec *loop_exec(corio_loop *loop) {
    if (!loop->exec) {
        loop->exec = calloc(1, sizeof *loop->exec);
        if (loop->exec)
            corio__list_init(&loop->exec->jobs);
    }
    return loop->exec;
}

int corio_loop_set_default_executor(corio_loop *loop, corio_executor *ex) {
    if (!loop)
        return -EINVAL;
    if (loop->closed || loop->closing)
        return CORIO_ECLOSED;
    struct corio__loop_exec *e = loop_exec(loop);
    if (!e)
        return -ENOMEM;
    if (e->owns_default) /* its queued jobs still run, its threads are joined */
        corio_executor_free(e->default_ex);
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

static void job_free(corio__job *job) {
    corio__list_remove(&job->llink);
    corio_future_unref(job->fut);
    if (job->arg_free)
        job->arg_free(job->arg);
    free(job);
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
        corio_future_remove_done_callback(fut, job_fut_done, job);
        if (!drop) {
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

corio_future *corio__run_in_executor_full(corio_loop *loop, corio_executor *ex, corio_job_fn fn,
                                          void *arg, corio_result_dtor_fn dtor,
                                          void (*arg_free)(void *), int *errp) {
    int rc = 0;
    corio_future *fut = NULL;
    corio__job *job = NULL;
    if (!loop)
        loop = corio__running_loop ? corio__running_loop : corio__current_loop;
    struct corio__loop_exec *e;
    if (!loop || !fn)
        rc = -EINVAL;
    else if (loop->closed || loop->closing)
        rc = CORIO_ECLOSED;
    else if (!(e = loop_exec(loop)))
        rc = -ENOMEM;
    else if (!ex)
        rc = default_executor(e, &ex);
    if (rc == 0 && (!(job = malloc(sizeof *job)) || !(fut = corio_future_new(loop))))
        rc = -ENOMEM;
    if (rc == 0) {
        *job = (corio__job){.done.fn = job_complete, .ex = ex, .loop = loop,
                            .fut = corio_future_ref(fut), .fn = fn, .arg = arg, .dtor = dtor,
                            .arg_free = arg_free};
        corio__list_insert_tail(&e->jobs, &job->llink);
        rc = corio__future_add_eager_callback(fut, job_fut_done, job);
        if (rc == 0)
            rc = corio__executor_submit(ex, job);
        if (rc < 0) {
            corio_future_remove_done_callback(fut, job_fut_done, job);
            job_free(job); /* frees arg too */
            job = NULL;
            arg_free = NULL;
        }
    }
    if (rc < 0) {
        free(job);
        if (arg_free)
            arg_free(arg);
        corio_future_unref(fut);
        fut = NULL;
    }
    if (errp)
        *errp = rc;
    return fut;
}

corio_future *corio_run_in_executor_dtor(corio_loop *loop, corio_executor *ex, corio_job_fn fn,
                                         void *arg, corio_result_dtor_fn dtor, int *errp) {
    return corio__run_in_executor_full(loop, ex, fn, arg, dtor, NULL, errp);
}

corio_future *corio_run_in_executor(corio_loop *loop, corio_executor *ex, corio_job_fn fn,
                                    void *arg, int *errp) {
    return corio__run_in_executor_full(loop, ex, fn, arg, NULL, NULL, errp);
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
    int rc;
    corio_future *f =
        corio__run_in_executor_full(corio__running_loop, NULL, fn, arg, dtor, arg_free, &rc);
    if (!f)
        return rc;
    rc = corio_await(f, result);
    corio_future_unref(f);
    return rc;
}

int corio_to_thread(corio_job_fn fn, void *arg, void **result) {
    return corio__to_thread_full(fn, arg, NULL, NULL, result);
}

/* Loop close, after its tasks are destroyed: the loop's own default executor is shut down (jobs
 * not started are cancelled, running ones finish) and freed; this loop's jobs still queued on
 * other executors are removed; then the loop waits for the completions of those still running,
 * so that no worker posts to a freed loop. Everything else posted meanwhile is dropped, as loop
 * close drops pending callbacks. */
void corio__exec_loop_close(corio_loop *loop) {
    struct corio__loop_exec *e = loop->exec;
    if (!e)
        return;
    if (e->owns_default)
        corio_executor_shutdown(e->default_ex, 1, 1);
    for (corio__link *l = e->jobs.next, *next; l != &e->jobs; l = next) {
        next = l->next;
        corio__job *job = corio__container_of(l, corio__job, llink);
        if (corio__executor_remove(job->ex, job))
            job_free(job);
    }
    while (e->jobs.next != &e->jobs) {
        corio__workq q;
        corio__workq_init(&q);
        corio__inbox_wait(&loop->inbox, &loop->poller, &q);
        for (corio__work *w; (w = corio__workq_pop(&q));)
            w->fn(w, 1);
    }
    if (e->owns_default)
        corio_executor_free(e->default_ex);
    free(e);
    loop->exec = NULL;
}
