/* run_coroutine_threadsafe: a task started on another thread's loop, and the handle a plain
 * thread waits on (concurrent.futures.Future). */
#include "task/task.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct corio_concurrent {
    atomic_uint refs;      /* the caller's, the loop side's until the task is done, a cancel's */
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* on CLOCK_MONOTONIC */
    int done, cancel_posted; /* under mu */
    int rc;                /* the outcome once done */
    uint32_t magic;        /* base/obj.h: dead once the caller freed it, memory or not */
    int keep;              /* its memory is kept aside when it goes (debug mode) */
    void *result;
    corio_loop *loop;
    corio_coro_fn fn;
    void *arg;
    corio_task *task;      /* loop thread: the running task, with a reference */
    corio__work start;     /* posted by run_coroutine_threadsafe */
    corio__work cancel;    /* posted by the first cancel */
};

/* The handle's loop runs on another thread as a rule: a misuse is reported to the calling
 * thread's loop. */
#define CHECK(h) CORIO__CHECK(h, CORIO__KIND_CONCURRENT, NULL)

static void handle_unref(corio_concurrent *h) {
    if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    corio__obj_free(h, &h->magic, h->keep);
}

static int handle_done(corio_concurrent *h) {
    pthread_mutex_lock(&h->mu);
    int done = h->done;
    pthread_mutex_unlock(&h->mu);
    return done;
}

/* Sets the outcome unless there is one (a cancel got there first). */
static void handle_complete(corio_concurrent *h, int rc, void *result) {
    pthread_mutex_lock(&h->mu);
    if (!h->done) {
        h->done = 1;
        h->rc = rc;
        h->result = rc == 0 ? result : NULL;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
}

/* Runs at the task's completion, even when a closing loop destroys it: its waiters are never
 * left hanging on a callback that loop close would drop. */
static void task_done(corio_future *f, void *arg) {
    corio_concurrent *h = arg;
    void *result;
    int rc = corio_future_result(f, &result);
    handle_complete(h, rc, result);
    corio_task_unref(h->task);
    h->task = NULL;
    handle_unref(h);
}

static void start_run(corio__work *w, int drop) {
    corio_concurrent *h = corio__container_of(w, corio_concurrent, start);
    if (drop) {
        handle_complete(h, CORIO_ECLOSED, NULL);
        handle_unref(h);
        return;
    }
    if (handle_done(h)) { /* cancelled before it started: fn never runs */
        handle_unref(h);
        return;
    }
    int rc = corio_create_task(&h->task, h->loop, h->fn, h->arg, NULL);
    if (rc == 0 && corio__future_add_eager_callback(corio_task_future(h->task), task_done, h)) {
        corio_task_cancel(h->task, NULL);
        corio_task_unref(h->task);
        h->task = NULL;
        rc = -ENOMEM;
    }
    if (rc < 0) {
        handle_complete(h, rc, NULL);
        handle_unref(h);
    }
}

static void cancel_run(corio__work *w, int drop) {
    corio_concurrent *h = corio__container_of(w, corio_concurrent, cancel);
    if (!drop && h->task)
        corio_task_cancel(h->task, NULL);
    handle_unref(h);
}

int corio_run_coroutine_threadsafe(corio_concurrent **out, corio_loop *loop, corio_coro_fn fn,
                                   void *arg) {
    if (out)
        *out = NULL;
    if (!fn || !out)
        return -EINVAL;
    if (!(loop = corio__loop_resolve(loop))) /* the calling thread's own: name it from others */
        return CORIO_ENOLOOP;
    corio_concurrent *h = corio__calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&h->mu, NULL);
    atomic_init(&h->refs, 2);
    h->magic = CORIO__MAGIC_LIVE(CORIO__KIND_CONCURRENT);
    /* Read here, not when the handle goes: the loop may be gone by then. */
    h->keep = corio__loop_keeps(loop);
    h->loop = loop;
    h->fn = fn;
    h->arg = arg;
    h->start.fn = start_run;
    h->cancel.fn = cancel_run;
    int rc = corio__loop_post(loop, &h->start, &h->start);
    if (rc < 0) {
        atomic_store(&h->refs, 1);
        handle_unref(h);
        return rc;
    }
    *out = h;
    return 0;
}

static void deadline_after(struct timespec *ts, double seconds) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    if (seconds > 1e9)
        seconds = 1e9;
    time_t whole = (time_t)seconds; /* seconds >= 0: truncation is floor, without libm */
    ts->tv_sec += whole;
    ts->tv_nsec += (long)((seconds - (double)whole) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int corio_concurrent_wait(corio_concurrent *h, double timeout, void **result) {
    if (result)
        *result = NULL;
    if (!h)
        return -EINVAL;
    CHECK(h);
    if (isnan(timeout))
        return -EINVAL;
    if (corio__running_loop == h->loop)
        return -EDEADLK;
    struct timespec deadline;
    if (timeout >= 0)
        deadline_after(&deadline, timeout);
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->done && rc == 0)
        rc = timeout >= 0 ? pthread_cond_timedwait(&h->cv, &h->mu, &deadline)
                          : pthread_cond_wait(&h->cv, &h->mu);
    if (h->done) {
        rc = h->rc;
        if (rc == 0 && result)
            *result = h->result;
    } else {
        rc = -ETIMEDOUT;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int corio_concurrent_cancel(corio_concurrent *h) {
    if (!h)
        return -EINVAL;
    CHECK(h);
    pthread_mutex_lock(&h->mu);
    if (h->done) {
        pthread_mutex_unlock(&h->mu);
        return 0;
    }
    h->done = 1;
    h->rc = -ECANCELED;
    pthread_cond_broadcast(&h->cv);
    int post = !h->cancel_posted;
    h->cancel_posted = 1;
    pthread_mutex_unlock(&h->mu);
    if (post) {
        atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
        if (corio__loop_post(h->loop, &h->cancel, &h->cancel) < 0)
            handle_unref(h);
    }
    return 1;
}

int corio_concurrent_done(corio_concurrent *h) {
    if (!h)
        return 0;
    CHECK(h);
    return handle_done(h);
}

int corio_concurrent_free(corio_concurrent *h) {
    if (!h)
        return 0;
    CHECK(h);
    corio__obj_kill(&h->magic, h->keep);
    handle_unref(h);
    return 0;
}
