/* asyncio.Queue, LifoQueue and PriorityQueue, with 3.13's shutdown. Wakers pop the waiter they
 * wake (asyncio's _wakeup_next); a woken waiter that cannot take its turn (cancelled) wakes the
 * next one in its place. Put and get that need no wait create no future. */
#include "sync/queue_store.h"
#include "sync/sync.h"

#include <stdlib.h>

struct corio_queue {
    corio_loop *loop;
    corio__qstore store;
    size_t maxsize;
    size_t unfinished;
    corio__waitq getters, putters;
    corio_event finished; /* set while unfinished == 0: what join waits on */
    void (*drop)(void *item);
    uint8_t shutdown;
    uint32_t magic;
};

#define CHECK(q) CORIO__SYNC_CHECK(q, CORIO__KIND_QUEUE)

int corio_queue_new(corio_queue **out, corio_loop *loop, const corio_queue_opts *opts) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    corio_queue_opts o = opts ? *opts : (corio_queue_opts){0};
    if ((unsigned)o.kind > CORIO_QUEUE_PRIORITY)
        return -EINVAL;
    int rc;
    corio_queue *q = corio__sync_new(&loop, sizeof *q, &rc, __func__);
    if (!q)
        return rc;
    q->loop = loop;
    q->store.kind = (uint8_t)o.kind;
    q->maxsize = o.maxsize;
    q->drop = o.drop;
    corio__event_init(&q->finished, loop);
    q->finished.set = 1;
    q->magic = CORIO__MAGIC_LIVE(CORIO__KIND_QUEUE);
    *out = q;
    return 0;
}

static void discard_items(corio_queue *q) {
    while (q->store.len) {
        void *item = corio__qstore_get(&q->store);
        if (q->drop)
            q->drop(item);
        if (q->unfinished > 0)
            q->unfinished--;
    }
}

int corio_queue_free(corio_queue *q) {
    if (!q)
        return 0;
    CHECK(q);
    if (q->getters.inside || q->putters.inside || q->finished.waiters.inside)
        return -EBUSY;
    discard_items(q);
    corio__qstore_fini(&q->store);
    corio__waitq_fini(&q->getters);
    corio__waitq_fini(&q->putters);
    corio__waitq_fini(&q->finished.waiters);
    corio__sync_free(q, &q->magic, q->loop);
    return 0;
}

static inline int is_full(const corio_queue *q) {
    return q->maxsize > 0 && q->store.len >= q->maxsize;
}

/* After a wait on `waiters` failed: the turn this waiter may have been given (its future done,
 * not cancelled) goes to the next one if there is something for it. */
static int give_up_turn(corio__waitq *waiters, corio_future *fut, int rc, int has_turn) {
    if (fut) {
        corio__future_cancel(fut, NULL); /* in case it is still pending */
        corio__waitq_remove(waiters, fut);
        if (has_turn && corio__future_state(fut) != CORIO_FUTURE_CANCELLED)
            corio__waitq_wake_pop(waiters);
        corio__future_unref(fut);
    }
    return rc;
}

static int put_nowait(corio_queue *q, void *item, int64_t prio) {
    if (q->shutdown)
        return CORIO_ESHUTDOWN;
    if (is_full(q))
        return -EAGAIN;
    int rc = corio__qstore_put(&q->store, item, prio);
    if (rc < 0)
        return rc;
    q->unfinished++;
    q->finished.set = 0;
    if (q->getters.len)
        corio__waitq_wake_pop(&q->getters);
    return 0;
}

static int put(corio_queue *q, void *item, int64_t prio) {
    int rc = corio__sync_can_wait(q->loop);
    if (rc < 0)
        return rc;
    while (is_full(q)) {
        if (q->shutdown)
            return CORIO_ESHUTDOWN;
        corio_future *fut;
        rc = corio__sync_wait(q->loop, &q->putters, &fut);
        if (rc < 0)
            return give_up_turn(&q->putters, fut, rc, !is_full(q));
        corio__future_unref(fut);
    }
    return put_nowait(q, item, prio);
}

int corio_queue_put(corio_queue *q, void *item) {
    if (!q)
        return -EINVAL;
    CHECK(q);
    return put(q, item, 0);
}

int corio_queue_put_prio(corio_queue *q, void *item, int64_t prio) {
    if (!q)
        return -EINVAL;
    CHECK(q);
    if (q->store.kind != CORIO_QUEUE_PRIORITY)
        return -EINVAL;
    return put(q, item, prio);
}

int corio_queue_put_nowait(corio_queue *q, void *item) {
    if (!q)
        return -EINVAL;
    CHECK(q);
    return put_nowait(q, item, 0);
}

int corio_queue_put_prio_nowait(corio_queue *q, void *item, int64_t prio) {
    if (!q)
        return -EINVAL;
    CHECK(q);
    if (q->store.kind != CORIO_QUEUE_PRIORITY)
        return -EINVAL;
    return put_nowait(q, item, prio);
}

static int get_nowait(corio_queue *q, void **item) {
    if (!q->store.len)
        return q->shutdown ? CORIO_ESHUTDOWN : -EAGAIN;
    *item = corio__qstore_get(&q->store);
    if (q->putters.len)
        corio__waitq_wake_pop(&q->putters);
    return 0;
}

int corio_queue_get_nowait(corio_queue *q, void **item) {
    if (item)
        *item = NULL;
    if (!q)
        return -EINVAL;
    CHECK(q);
    if (!item)
        return -EINVAL;
    return get_nowait(q, item);
}

int corio_queue_get(corio_queue *q, void **item) {
    if (item)
        *item = NULL;
    if (!q)
        return -EINVAL;
    CHECK(q);
    if (!item)
        return -EINVAL;
    int rc = corio__sync_can_wait(q->loop);
    if (rc < 0)
        return rc;
    while (!q->store.len) {
        if (q->shutdown)
            return CORIO_ESHUTDOWN;
        corio_future *fut;
        rc = corio__sync_wait(q->loop, &q->getters, &fut);
        if (rc < 0)
            return give_up_turn(&q->getters, fut, rc, q->store.len > 0);
        corio__future_unref(fut);
    }
    return get_nowait(q, item);
}

int corio_queue_task_done(corio_queue *q) {
    if (!q)
        return -EINVAL;
    CHECK(q);
    if (q->unfinished == 0)
        return CORIO_EINVALSTATE;
    if (--q->unfinished == 0)
        corio__event_set(&q->finished);
    return 0;
}

int corio_queue_join(corio_queue *q) {
    if (!q)
        return -EINVAL;
    CHECK(q);
    return corio__event_wait(&q->finished);
}

static void wake_all(corio__waitq *waiters) {
    while (corio__waitq_wake_pop(waiters))
        ;
}

int corio_queue_shutdown(corio_queue *q, int immediate) {
    if (!q)
        return -EINVAL;
    CHECK(q);
    q->shutdown = 1;
    if (immediate) {
        discard_items(q);
        if (q->unfinished == 0)
            corio__event_set(&q->finished);
    }
    wake_all(&q->getters);
    wake_all(&q->putters);
    return 0;
}

size_t corio_queue_qsize(const corio_queue *q) {
    if (!q)
        return 0;
    CHECK(q);
    return q->store.len;
}

size_t corio_queue_maxsize(const corio_queue *q) {
    if (!q)
        return 0;
    CHECK(q);
    return q->maxsize;
}

int corio_queue_empty(const corio_queue *q) {
    if (!q)
        return 0; /* 0 for NULL, as every accessor */
    CHECK(q);
    return q->store.len == 0;
}

int corio_queue_full(const corio_queue *q) {
    if (!q)
        return 0;
    CHECK(q);
    return is_full(q);
}

int corio_queue_is_shutdown(const corio_queue *q) {
    if (!q)
        return 0;
    CHECK(q);
    return q->shutdown;
}
