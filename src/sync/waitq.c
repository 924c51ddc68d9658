/* The waiter queue and the wait every primitive is built on. */
#include "sync/sync.h"

#include <stdlib.h>

void corio__waitq_fini(corio__waitq *q) {
    free(q->buf);
    corio__waitq_init(q);
}

static int grow(corio__waitq *q) {
    uint32_t cap = q->cap ? q->cap * 2 : 8;
    if (cap < q->cap)
        return -ENOMEM;
    corio_future **buf = corio__malloc(cap * sizeof *buf);
    if (!buf)
        return -ENOMEM;
    for (uint32_t i = 0; i < q->len; i++)
        buf[i] = corio__waitq_at(q, i);
    free(q->buf);
    q->buf = buf;
    q->head = 0;
    q->cap = cap;
    return 0;
}

static int push(corio__waitq *q, corio_future *f) {
    if (q->len == q->cap && grow(q) < 0)
        return -ENOMEM;
    q->buf[(q->head + q->len++) & (q->cap - 1)] = f;
    return 0;
}

corio_future *corio__waitq_pop(corio__waitq *q) {
    if (!q->len)
        return NULL;
    corio_future *f = q->buf[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
    return f;
}

int corio__waitq_remove(corio__waitq *q, corio_future *f) {
    /* Usually the first: waiters are woken, and so leave, in order. A cancelled one in the
     * middle costs a shift, as asyncio's deque.remove does. */
    for (uint32_t i = 0; i < q->len; i++) {
        if (corio__waitq_at(q, i) != f)
            continue;
        if (i == 0) {
            corio__waitq_pop(q);
            return 1;
        }
        for (uint32_t j = i + 1; j < q->len; j++)
            q->buf[(q->head + j - 1) & (q->cap - 1)] = corio__waitq_at(q, j);
        q->len--;
        return 1;
    }
    return 0;
}

int corio__waitq_wake_first(corio__waitq *q) {
    /* Only the head: if it is done it was woken already (and will take the lock) or cancelled
     * (and will pass the wake-up on when it leaves). Looking further would wake two. */
    corio_future *f = q->len ? corio__waitq_at(q, 0) : NULL;
    if (!f || corio__waiter_done(f))
        return 0;
    corio__waiter_wake(f);
    return 1;
}

int corio__waitq_wake_pop(corio__waitq *q) {
    for (corio_future *f; (f = corio__waitq_pop(q));) {
        if (!corio__waiter_done(f)) {
            corio__waiter_wake(f);
            return 1;
        }
    }
    return 0;
}

int corio__waitq_all_cancelled(const corio__waitq *q) {
    for (uint32_t i = 0; i < q->len; i++)
        if (corio__future_state(corio__waitq_at(q, i)) != CORIO_FUTURE_CANCELLED)
            return 0;
    return 1;
}

int corio__sync_wait(corio_loop *loop, corio__waitq *q, corio_future **fut) {
    int rc = corio__future_new(fut, loop);
    if (rc < 0)
        return rc;
    corio_future *f = *fut;
    if (push(q, f) < 0) {
        corio__future_unref(f);
        *fut = NULL;
        return -ENOMEM;
    }
    q->inside++;
    rc = corio_await(f, NULL);
    q->inside--;
    return rc;
}

void *corio__sync_new(corio_loop **loop, size_t size, int *rc, const char *fn) {
    *loop = corio__loop_resolve_as(*loop, fn);
    *rc = !*loop ? CORIO_ENOLOOP : corio__loop_closed(*loop) ? CORIO_ECLOSED : 0;
    void *obj = *rc ? NULL : corio__calloc(1, size);
    if (!obj) {
        *rc = *rc ? *rc : -ENOMEM;
        return NULL;
    }
    corio__loop_ref(*loop);
    return obj;
}

void corio__sync_free(void *obj, uint32_t *magic, corio_loop *loop) {
    corio__obj_free(obj, magic, corio__loop_keeps(loop));
    corio__loop_unref(loop);
}
