/* A queue's ring buffer and binary heap. */
#include "sync/queue_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void corio__qstore_fini(corio__qstore *s) {
    free(s->ring); /* the union's members share the pointer */
    s->ring = NULL;
    s->head = s->len = s->cap = 0;
}

int corio__qstore_grow(corio__qstore *s) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    if (s->kind == CORIO_QUEUE_PRIORITY) {
        if (cap > SIZE_MAX / sizeof(corio__qentry))
            return -ENOMEM;
        corio__qentry *heap = corio__realloc(s->heap, cap * sizeof *heap);
        if (!heap)
            return -ENOMEM;
        s->heap = heap;
        s->cap = cap;
        return 0;
    }
    if (cap > SIZE_MAX / sizeof(void *))
        return -ENOMEM;
    void **ring = corio__malloc(cap * sizeof *ring);
    if (!ring)
        return -ENOMEM;
    /* Unwrap: the items that wrapped around follow those up to the old end. */
    size_t first = s->len < s->cap - s->head ? s->len : s->cap - s->head;
    if (s->len) {
        memcpy(ring, s->ring + s->head, first * sizeof *ring);
        memcpy(ring + first, s->ring, (s->len - first) * sizeof *ring);
    }
    free(s->ring);
    s->ring = ring;
    s->head = 0;
    s->cap = cap;
    return 0;
}

static int before(const corio__qentry *a, const corio__qentry *b) {
    return a->prio < b->prio || (a->prio == b->prio && a->seq < b->seq);
}

void corio__qstore_heap_push(corio__qstore *s, void *item, int64_t prio) {
    corio__qentry e = {.prio = prio, .seq = s->seq++, .item = item};
    size_t i = s->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = e;
}

void *corio__qstore_heap_pop(corio__qstore *s) {
    void *item = s->heap[0].item;
    corio__qentry last = s->heap[--s->len];
    size_t n = s->len, i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && before(&s->heap[child + 1], &s->heap[child]))
            child++;
        if (!before(&s->heap[child], &last))
            break;
        s->heap[i] = s->heap[child];
        i = child;
    }
    if (n)
        s->heap[i] = last;
    return item;
}
