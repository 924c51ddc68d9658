#include "loop/timer_heap.h"
#include "base/alloc.h"

#include <errno.h>
#include <stdlib.h>

void corio__timer_heap_init(corio__timer_heap *h) {
    h->v = NULL;
    h->n = h->cap = 0;
    h->lane_head = h->lane_tail = NULL;
    h->lane_n = 0;
    h->next_seq = 0;
}

void corio__timer_heap_destroy(corio__timer_heap *h) {
    while (corio__timer_heap_pop_due(h, INT64_MAX))
        ;
    free(h->v);
    corio__timer_heap_init(h);
}

static inline int before(int64_t when_a, uint64_t seq_a, int64_t when_b, uint64_t seq_b) {
    return when_a < when_b || (when_a == when_b && seq_a < seq_b);
}

static inline int entry_before(const corio__heap_entry *a, const corio__heap_entry *b) {
    return before(a->when, a->seq, b->when, b->seq);
}

static inline void place(corio__timer_heap *h, size_t i, corio__heap_entry e) {
    h->v[i] = e;
    e.t->idx = i;
}

static void sift_up(corio__timer_heap *h, size_t i, corio__heap_entry e) {
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!entry_before(&e, &h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(corio__timer_heap *h, size_t i, corio__heap_entry e) {
    size_t n = h->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && entry_before(&h->v[c + 1], &h->v[c]))
            c++;
        if (!entry_before(&h->v[c], &e))
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, e);
}

static int heap_add(corio__timer_heap *h, corio__timer *t) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        corio__heap_entry *v = corio__realloc(h->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    corio__heap_entry e = {t->when, t->seq, t};
    sift_up(h, h->n++, e);
    return 0;
}

static void heap_remove(corio__timer_heap *h, size_t i) {
    corio__heap_entry last = h->v[--h->n];
    if (i == h->n)
        return;
    if (i > 0 && entry_before(&last, &h->v[(i - 1) / 2]))
        sift_up(h, i, last);
    else
        sift_down(h, i, last);
}

static void lane_unlink(corio__timer_heap *h, corio__timer *t) {
    if (t->prev)
        t->prev->next = t->next;
    else
        h->lane_head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        h->lane_tail = t->prev;
    h->lane_n--;
}

int corio__timer_heap_add(corio__timer_heap *h, corio__timer *t, int64_t when) {
    t->when = when;
    t->seq = h->next_seq++;
    /* Later than everything in the lane (seq is larger, so an equal deadline is too). */
    if (!h->lane_tail || when >= h->lane_tail->when) {
        t->idx = CORIO__TIMER_IN_LANE;
        t->next = NULL;
        t->prev = h->lane_tail;
        if (h->lane_tail)
            h->lane_tail->next = t;
        else
            h->lane_head = t;
        h->lane_tail = t;
        h->lane_n++;
        return 0;
    }
    return heap_add(h, t);
}

void corio__timer_heap_remove(corio__timer_heap *h, corio__timer *t) {
    size_t i = t->idx;
    if (i == CORIO__TIMER_IDLE)
        return;
    t->idx = CORIO__TIMER_IDLE;
    if (i == CORIO__TIMER_IN_LANE)
        lane_unlink(h, t);
    else
        heap_remove(h, i);
}

corio__timer *corio__timer_heap_top(const corio__timer_heap *h) {
    corio__timer *lane = h->lane_head;
    if (!h->n)
        return lane;
    corio__timer *heap = h->v[0].t;
    if (!lane || before(heap->when, heap->seq, lane->when, lane->seq))
        return heap;
    return lane;
}

corio__timer *corio__timer_heap_pop_due(corio__timer_heap *h, int64_t now) {
    corio__timer *t = corio__timer_heap_top(h);
    if (!t || t->when > now)
        return NULL;
    corio__timer_heap_remove(h, t);
    return t;
}
