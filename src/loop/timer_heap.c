#include "loop/timer_heap.h"

#include <errno.h>
#include <stdlib.h>

void corio__timer_heap_init(corio__timer_heap *h) {
    h->v = NULL;
    h->n = h->cap = 0;
    h->next_seq = 0;
}

void corio__timer_heap_destroy(corio__timer_heap *h) {
    for (size_t i = 0; i < h->n; i++)
        h->v[i].t->idx = CORIO__TIMER_IDLE;
    free(h->v);
    corio__timer_heap_init(h);
}

static inline int before(const corio__heap_entry *a, const corio__heap_entry *b) {
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static inline void place(corio__timer_heap *h, size_t i, corio__heap_entry e) {
    h->v[i] = e;
    e.t->idx = i;
}

static void sift_up(corio__timer_heap *h, size_t i, corio__heap_entry e) {
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &h->v[parent]))
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
        if (c + 1 < n && before(&h->v[c + 1], &h->v[c]))
            c++;
        if (!before(&h->v[c], &e))
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, e);
}

int corio__timer_heap_add(corio__timer_heap *h, corio__timer *t, int64_t when) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        corio__heap_entry *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    t->when = when;
    t->seq = h->next_seq++;
    corio__heap_entry e = {when, t->seq, t};
    sift_up(h, h->n++, e);
    return 0;
}

void corio__timer_heap_remove(corio__timer_heap *h, corio__timer *t) {
    size_t i = t->idx;
    if (i == CORIO__TIMER_IDLE)
        return;
    t->idx = CORIO__TIMER_IDLE;
    corio__heap_entry last = h->v[--h->n];
    if (i == h->n)
        return;
    if (i > 0 && before(&last, &h->v[(i - 1) / 2]))
        sift_up(h, i, last);
    else
        sift_down(h, i, last);
}

corio__timer *corio__timer_heap_pop_due(corio__timer_heap *h, int64_t now) {
    if (h->n == 0 || h->v[0].when > now)
        return NULL;
    corio__timer *t = h->v[0].t;
    t->idx = CORIO__TIMER_IDLE;
    corio__heap_entry last = h->v[--h->n];
    if (h->n > 0)
        sift_down(h, 0, last);
    return t;
}
