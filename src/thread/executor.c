/* The thread pool behind run_in_executor: a queue under one mutex, workers started on demand,
 * completions posted back to each job's loop in batches. */
#include "thread/executor.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* A worker takes up to this many jobs per visit to the queue, and never more than its share: a
 * burst of tiny jobs costs one lock and one post per batch, while long jobs still spread over
 * every worker. */
#define BATCH_MAX 16

unsigned corio_executor_default_size(void) {
    const char *v = getenv("CORIO_EXECUTOR_THREADS");
    if (v && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end == '\0' && n >= 1 && n <= 1024)
            return (unsigned)n;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    return cpus + 4 < 32 ? (unsigned)cpus + 4 : 32;
}

int corio_executor_new(corio_executor **out, unsigned nthreads) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (nthreads == 0)
        nthreads = corio_executor_default_size();
    if (nthreads > 1024)
        return -EINVAL;
    corio_executor *ex = corio__calloc(1, sizeof *ex);
    if (!ex || !(ex->threads = corio__calloc(nthreads, sizeof *ex->threads))) {
        free(ex);
        return -ENOMEM;
    }
    pthread_mutex_init(&ex->mu, NULL);
    pthread_mutex_init(&ex->join_mu, NULL);
    pthread_cond_init(&ex->cv, NULL);
    corio__list_init(&ex->queue);
    ex->max_threads = nthreads;
    ex->magic = CORIO__MAGIC_LIVE(CORIO__KIND_EXECUTOR);
    *out = ex;
    return 0;
}

/* Posts jobs[0..n) to their loops, one chain per run of jobs of the same loop. */
static void post_completions(corio__job **jobs, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && jobs[j]->loop == jobs[i]->loop)
            j++;
        for (size_t k = i + 1; k < j; k++)
            jobs[k]->done.next = &jobs[k - 1]->done;
        corio_loop *loop = jobs[i]->loop;
        /* Never refused: a loop closes only after every job of its own was posted. */
        corio__loop_post(loop, &jobs[j - 1]->done, &jobs[i]->done);
        i = j;
    }
}

/* Under ex->mu: takes the oldest job. */
static corio__job *queue_pop(corio_executor *ex) {
    corio__job *job = corio__container_of(ex->queue.next, corio__job, qlink);
    corio__list_remove(&job->qlink);
    ex->qlen--;
    return job;
}

static void run_job(corio_executor *ex, corio__job *job) {
    int taken = CORIO__JOB_TAKEN;
    job->err = 0;
    job->result = NULL;
    if (!atomic_load_explicit(&ex->cancelling, memory_order_relaxed) &&
        atomic_compare_exchange_strong_explicit(&job->state, &taken, CORIO__JOB_RUNNING,
                                                memory_order_acq_rel, memory_order_relaxed))
        job->result = job->fn(job->arg, &job->err);
    else
        job->err = -ECANCELED;
}

static void *worker_main(void *arg) {
    corio_executor *ex = arg;
    corio__job *batch[BATCH_MAX];
    pthread_mutex_lock(&ex->mu);
    for (;;) {
        while (ex->qlen == 0 && !ex->shutdown) {
            ex->idle++;
            pthread_cond_wait(&ex->cv, &ex->mu);
            ex->idle--;
            if (ex->signalled)
                ex->signalled--;
        }
        if (ex->qlen == 0)
            break; /* shut down, nothing left */
        size_t n = ex->qlen / ex->nthreads;
        n = n < 1 ? 1 : n > BATCH_MAX ? BATCH_MAX : n;
        for (size_t i = 0; i < n; i++) {
            batch[i] = queue_pop(ex);
            atomic_store_explicit(&batch[i]->state, CORIO__JOB_TAKEN, memory_order_relaxed);
        }
        pthread_mutex_unlock(&ex->mu);
        for (size_t i = 0; i < n; i++)
            run_job(ex, batch[i]);
        post_completions(batch, n);
        pthread_mutex_lock(&ex->mu);
    }
    pthread_mutex_unlock(&ex->mu);
    return NULL;
}

/* Under ex->mu: starts one more worker. Workers block every signal (they inherit the mask), so
 * that SIGINT and friends reach the program's own threads, whose loops can act on them. */
static int start_worker(corio_executor *ex) {
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    int rc = pthread_create(&ex->threads[ex->nthreads], NULL, worker_main, ex);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rc != 0)
        return -rc;
    ex->nthreads++;
    return 0;
}

int corio__executor_enqueue(corio_executor *ex, corio__link *first, corio__link *last,
                            size_t n) {
    for (corio__link *l = first;; l = l->next) {
        atomic_store_explicit(&corio__container_of(l, corio__job, qlink)->state, CORIO__JOB_QUEUED,
                              memory_order_relaxed);
        if (l == last)
            break;
    }
    pthread_mutex_lock(&ex->mu);
    if (ex->shutdown) {
        pthread_mutex_unlock(&ex->mu);
        return CORIO_ECLOSED;
    }
    /* Idle workers not yet woken take the jobs first; more start while jobs outnumber them. */
    unsigned free_workers = ex->idle > ex->signalled ? ex->idle - ex->signalled : 0;
    while (free_workers < n && ex->nthreads < ex->max_threads && start_worker(ex) == 0)
        free_workers++;
    if (ex->nthreads == 0) {
        pthread_mutex_unlock(&ex->mu);
        return -EAGAIN;
    }
    first->prev = ex->queue.prev;
    ex->queue.prev->next = first;
    last->next = &ex->queue;
    ex->queue.prev = last;
    ex->qlen += n;
    /* Waking a worker is a system call: only idle ones not already being woken. */
    for (size_t i = 0; i < n && ex->idle > ex->signalled; i++) {
        ex->signalled++;
        pthread_cond_signal(&ex->cv);
    }
    pthread_mutex_unlock(&ex->mu);
    return 0;
}

/* A job that left the queue never returns to it, so a job seen out of it needs no lock, and the
 * executor is not touched: the user may have freed it once the job ran. */
int corio__executor_remove(corio_executor *ex, corio__job *job) {
    int state = atomic_load_explicit(&job->state, memory_order_acquire);
    if (state == CORIO__JOB_PENDING) {
        corio__list_remove(&job->qlink);
        return 1;
    }
    if (state == CORIO__JOB_TAKEN)
        atomic_compare_exchange_strong_explicit(&job->state, &state, CORIO__JOB_SKIPPED,
                                                memory_order_acq_rel, memory_order_relaxed);
    if (state != CORIO__JOB_QUEUED)
        return 0;
    pthread_mutex_lock(&ex->mu);
    int queued = atomic_load_explicit(&job->state, memory_order_relaxed) == CORIO__JOB_QUEUED;
    if (queued) {
        corio__list_remove(&job->qlink);
        ex->qlen--;
        atomic_store_explicit(&job->state, CORIO__JOB_REMOVED, memory_order_relaxed);
    }
    pthread_mutex_unlock(&ex->mu);
    return queued;
}

/* Is the caller one of ex's workers? It could never join itself. A worker's own thread is in
 * threads[] before it runs a job, so the answer cannot change under the caller. */
static int on_own_worker(corio_executor *ex) {
    pthread_mutex_lock(&ex->mu);
    int found = 0;
    for (unsigned i = 0; i < ex->nthreads && !found; i++)
        found = pthread_equal(ex->threads[i], pthread_self());
    pthread_mutex_unlock(&ex->mu);
    return found;
}

/* Joins every worker started so far (none is started after shutdown). */
static void join_all(corio_executor *ex) {
    pthread_mutex_lock(&ex->join_mu);
    pthread_mutex_lock(&ex->mu);
    unsigned n = ex->nthreads;
    pthread_mutex_unlock(&ex->mu);
    for (; ex->joined < n; ex->joined++)
        pthread_join(ex->threads[ex->joined], NULL);
    pthread_mutex_unlock(&ex->join_mu);
}

int corio_executor_shutdown(corio_executor *ex, int wait, int cancel_futures) {
    if (!ex)
        return -EINVAL;
    CORIO__EXECUTOR_CHECK(ex);
    if (wait && on_own_worker(ex))
        return -EDEADLK; /* nothing is done: the worker may still shut down without waiting */
    corio__exec_flush_current(); /* jobs this thread submitted before are not refused */
    corio__job *removed[BATCH_MAX];
    pthread_mutex_lock(&ex->mu);
    ex->shutdown = 1;
    if (cancel_futures)
        atomic_store_explicit(&ex->cancelling, 1, memory_order_relaxed);
    pthread_cond_broadcast(&ex->cv);
    /* Cancelled jobs go back to their loops, which cancel the futures on their own threads. */
    while (cancel_futures && ex->qlen) {
        size_t n = 0;
        while (ex->qlen && n < BATCH_MAX) {
            removed[n] = queue_pop(ex);
            atomic_store_explicit(&removed[n]->state, CORIO__JOB_REMOVED, memory_order_relaxed);
            removed[n]->err = -ECANCELED;
            n++;
        }
        post_completions(removed, n);
    }
    pthread_mutex_unlock(&ex->mu);
    if (wait)
        join_all(ex);
    return 0;
}

int corio_executor_free(corio_executor *ex) {
    if (!ex)
        return 0;
    CORIO__EXECUTOR_CHECK(ex);
    int rc = corio_executor_shutdown(ex, 1, 0);
    if (rc < 0)
        return rc; /* -EDEADLK: called from one of its workers */
    pthread_cond_destroy(&ex->cv);
    pthread_mutex_destroy(&ex->join_mu);
    pthread_mutex_destroy(&ex->mu);
    free(ex->threads);
    corio__obj_free(ex, &ex->magic, corio__debug_env());
    return 0;
}
