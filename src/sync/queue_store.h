/* Internal: a queue's items: a ring buffer (FIFO and LIFO) or a binary heap (PRIORITY) that grows
 * by doubling and never shrinks, so that a queue in steady use allocates nothing. */
#ifndef CORIO_SYNC_QUEUE_STORE_H
#define CORIO_SYNC_QUEUE_STORE_H

#include "corio.h"
#include "base/alloc.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

typedef struct corio__qentry {
    int64_t prio;
    uint64_t seq; /* arrival order: equal priorities come out FIFO */
    void *item;
} corio__qentry;

typedef struct corio__qstore {
    union {
        void **ring;
        corio__qentry *heap;
    };
    size_t head, len, cap; /* cap: a power of two for the ring */
    uint64_t seq;
    uint8_t kind;          /* corio_queue_kind */
} corio__qstore;

void corio__qstore_fini(corio__qstore *s);
/* Doubles the capacity: 0 or -ENOMEM. */
int corio__qstore_grow(corio__qstore *s);
void corio__qstore_heap_push(corio__qstore *s, void *item, int64_t prio);
void *corio__qstore_heap_pop(corio__qstore *s);

static inline int corio__qstore_put(corio__qstore *s, void *item, int64_t prio) {
    if (__builtin_expect(s->len == s->cap, 0) && corio__qstore_grow(s) < 0)
        return -ENOMEM;
    if (s->kind == CORIO_QUEUE_PRIORITY) {
        corio__qstore_heap_push(s, item, prio);
        return 0;
    }
    s->ring[(s->head + s->len++) & (s->cap - 1)] = item;
    return 0;
}

/* Removes the next item; the store must not be empty. */
static inline void *corio__qstore_get(corio__qstore *s) {
    if (s->kind == CORIO_QUEUE_FIFO) {
        void *item = s->ring[s->head];
        s->head = (s->head + 1) & (s->cap - 1);
        s->len--;
        return item;
    }
    if (s->kind == CORIO_QUEUE_LIFO)
        return s->ring[(s->head + --s->len) & (s->cap - 1)];
    return corio__qstore_heap_pop(s);
}

#endif
