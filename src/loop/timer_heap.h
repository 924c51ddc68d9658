/* Internal: the loop's timers, a binary min-heap ordered by (deadline, creation order).
 *
 * Insert and cancel are O(log n), the nearest deadline O(1). Entries carry their keys inline so
 * that sifting compares without touching the timers themselves; only the moved timer's index is
 * written back, which is what makes an O(log n) cancel possible. Timers created one after another
 * with the same delay arrive in deadline order and so insert in O(1), the common case of many
 * tasks sleeping.
 */
#ifndef CORIO_LOOP_TIMER_HEAP_H
#define CORIO_LOOP_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define CORIO__TIMER_IDLE SIZE_MAX

typedef struct corio__timer corio__timer;

struct corio__timer {
    int64_t when;   /* loop clock, ns */
    uint64_t seq;   /* ties broken by creation order */
    size_t idx;     /* position in the heap, CORIO__TIMER_IDLE when not armed */
    /* Called by the loop when the timer is due, after it left the heap. */
    void (*expire)(corio__timer *t);
};

typedef struct corio__heap_entry {
    int64_t when;
    uint64_t seq;
    corio__timer *t;
} corio__heap_entry;

typedef struct corio__timer_heap {
    corio__heap_entry *v;
    size_t n, cap;
    uint64_t next_seq;
} corio__timer_heap;

void corio__timer_heap_init(corio__timer_heap *h);
void corio__timer_heap_destroy(corio__timer_heap *h);

/* Arms t for `when` (ns). Returns 0 or -ENOMEM (t is then not armed). t must not be armed. */
int corio__timer_heap_add(corio__timer_heap *h, corio__timer *t, int64_t when);

/* Disarms t if it is armed. */
void corio__timer_heap_remove(corio__timer_heap *h, corio__timer *t);

/* The armed timer with the nearest deadline, or NULL. */
static inline corio__timer *corio__timer_heap_top(const corio__timer_heap *h) {
    return h->n ? h->v[0].t : NULL;
}

/* Removes and returns the nearest timer if it is due at `now`, else NULL. */
corio__timer *corio__timer_heap_pop_due(corio__timer_heap *h, int64_t now);

static inline int corio__timer_armed(const corio__timer *t) { return t->idx != CORIO__TIMER_IDLE; }

#endif
