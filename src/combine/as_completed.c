/* asyncio.as_completed as an iterator: the futures in the order they complete, under one
 * deadline. */
#include "combine/combine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

struct corio_as_completed {
    corio__timer timer;
    corio_loop *loop;
    corio_future *waiter; /* the future a next() in progress awaits, or NULL */
    size_t n;
    size_t head, tail;    /* the done queue: done[head..tail) in completion order */
    size_t timeouts;      /* futures still pending when the deadline passed, not yet reported */
    size_t returned;      /* futures and timeouts handed out so far */
    int expired;
    uint32_t magic;       /* base/obj.h */
    corio_future **futs;  /* the iterator's references (and one on loop) */
    corio_future **done;
};

#define CHECK(it) CORIO__CHECK(it, CORIO__KIND_AS_COMPLETED, (it)->loop)

static void iter_free(corio_as_completed *it);

static void wake(corio_as_completed *it) {
    if (it->waiter && corio__future_pending(it->waiter))
        corio_future_set_result(it->waiter, NULL);
}

static void on_completion(corio_future *f, void *arg) {
    corio_as_completed *it = arg;
    it->done[it->tail++] = f;
    if (it->tail == it->n)
        corio__loop_timer_cancel(it->loop, &it->timer);
    wake(it);
}

/* The deadline: every future still pending is reported as one timeout, and no longer watched. */
static void on_timeout(corio__timer *t) {
    corio_as_completed *it = corio__container_of(t, corio_as_completed, timer);
    it->expired = 1;
    for (size_t i = 0; i < it->n; i++)
        it->timeouts += (size_t)corio_future_remove_done_callback(it->futs[i], on_completion, it);
    wake(it);
}

int corio_as_completed_new(corio_as_completed **out, corio_future *const *futs, size_t n,
                           double timeout) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    if ((n && (!futs || !futs[0])) || isnan(timeout))
        return -EINVAL;
    if (n)
        CORIO__CHECK_FUTURE(futs[0]);
    /* The futures' loop; with none, the thread's (the iteration ends at once). */
    corio_loop *loop = n ? futs[0]->loop : corio__loop_resolve(NULL);
    if (!loop)
        return CORIO_ENOLOOP;
    if (corio__check_futures(futs, n, loop) < 0)
        return -EINVAL;
    corio_as_completed *it = corio__calloc(1, sizeof *it);
    if (!it)
        return -ENOMEM;
    it->futs = corio__calloc(n ? n : 1, sizeof *it->futs);
    it->done = corio__calloc(n ? n : 1, sizeof *it->done);
    if (!it->futs || !it->done) {
        free(it->futs);
        free(it->done);
        free(it);
        return -ENOMEM;
    }
    it->loop = loop;
    corio__loop_ref(loop); /* n may be 0: no future holds it then */
    it->magic = CORIO__MAGIC_LIVE(CORIO__KIND_AS_COMPLETED);
    it->n = n;
    it->timer = (corio__timer){.idx = CORIO__TIMER_IDLE, .expire = on_timeout};
    for (size_t i = 0; i < n; i++) {
        it->futs[i] = corio_future_ref(futs[i]);
        if (!corio__future_pending(futs[i]))
            it->done[it->tail++] = futs[i];
    }
    int rc = corio__watch_pending(it->futs, n, on_completion, it);
    if (rc == 0 && it->tail < n)
        rc = corio__timer_arm_after(loop, &it->timer, timeout);
    if (rc < 0) {
        iter_free(it);
        return rc;
    }
    *out = it;
    return 0;
}

/* Hands out what is ready: 1 and a future, -ETIMEDOUT, 0 at the end; -EAGAIN if nothing is. */
static int take(corio_as_completed *it, corio_future **fut) {
    if (it->returned == it->n)
        return 0;
    if (it->head < it->tail) {
        *fut = it->done[it->head++];
        it->returned++;
        return 1;
    }
    if (it->timeouts) {
        it->timeouts--;
        it->returned++;
        return -ETIMEDOUT;
    }
    return -EAGAIN;
}

int corio_as_completed_next(corio_as_completed *it, corio_future **fut) {
    if (fut)
        *fut = NULL;
    if (!it)
        return -EINVAL;
    CHECK(it);
    if (!fut)
        return -EINVAL;
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (corio__task_loop_of(t) != it->loop || it->waiter)
        return -EINVAL; /* another loop, or another task is already waiting on it */
    int rc;
    while ((rc = take(it, fut)) == -EAGAIN) {
        if (corio__task_destroying(t))
            return -ECANCELED;
        rc = corio__future_new(&it->waiter, it->loop);
        if (rc < 0)
            return rc;
        rc = corio_await(it->waiter, NULL);
        corio_future_unref(it->waiter);
        it->waiter = NULL;
        if (rc < 0)
            return rc;
    }
    return rc;
}

static void iter_free(corio_as_completed *it) {
    corio_future **futs = it->futs;
    size_t n = it->n;
    corio__loop_timer_cancel(it->loop, &it->timer);
    corio__unwatch(futs, n, on_completion, it);
    free(it->done);
    /* Before the references that may be the loop's last: a kept object's loop outlives it in
     * the keep (base/obj.h). */
    corio_loop *loop = it->loop;
    corio__obj_free(it, &it->magic, corio__loop_keeps(loop));
    for (size_t i = 0; i < n; i++)
        corio__future_unref(futs[i]);
    free(futs);
    corio__loop_unref(loop);
}

int corio_as_completed_free(corio_as_completed *it) {
    if (!it)
        return 0;
    CHECK(it);
    if (it->waiter)
        return -EBUSY; /* a task waits in next(): its wake-up would reach freed memory */
    iter_free(it);
    return 0;
}
