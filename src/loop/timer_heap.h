/* Internal: the loop's timers, ordered by (deadline, creation order).
 *
 * Two structures share the work. Most timers are set in deadline order (a million tasks each
 * calling sleep(1.0), one after another): those go to the back of a sorted list, the "lane", in
 * O(1), and leave from its front in O(1). A timer that would break the lane's order goes to a
 * binary min-heap instead (O(log n) insert and cancel). The nearest timer is the earlier of the
 * lane's front and the heap's top. Heap entries carry their keys inline, so that sifting compares
 * without touching the timers; only a moved timer's index is written back, which is what makes an
 * O(log n) cancel possible.
 */
#ifndef CORIO_LOOP_TIMER_HEAP_H
#define CORIO_LOOP_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define CORIO__TIMER_IDLE SIZE_MAX         /* not armed */
#define CORIO__TIMER_IN_LANE (SIZE_MAX - 1) /* armed, in the lane */

typedef struct corio__timer corio__timer;

struct corio__timer {
    int64_t when;   /* loop clock, ns */
    uint64_t seq;   /* ties broken by creation order */
    size_t idx;     /* position in the heap, or CORIO__TIMER_IDLE / CORIO__TIMER_IN_LANE */
    corio__timer *prev, *next; /* lane links */
    /* Called by the loop when the timer is due, after it was disarmed. */
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
    corio__timer *lane_head, *lane_tail;
    size_t lane_n;
    uint64_t next_seq;
} corio__timer_heap;

void corio__timer_heap_init(corio__timer_heap *h);
void corio__timer_heap_destroy(corio__timer_heap *h);

/* Arms t for `when` (ns). Returns 0 or -ENOMEM (t is then not armed). t must not be armed. */
int corio__timer_heap_add(corio__timer_heap *h, corio__timer *t, int64_t when);

/* Disarms t if it is armed. */
void corio__timer_heap_remove(corio__timer_heap *h, corio__timer *t);

/* The armed timer with the nearest deadline, or NULL. */
corio__timer *corio__timer_heap_top(const corio__timer_heap *h);

/* Disarms and returns the nearest timer if it is due at `now` (now = INT64_MAX: any), else NULL. */
corio__timer *corio__timer_heap_pop_due(corio__timer_heap *h, int64_t now);

static inline size_t corio__timer_heap_count(const corio__timer_heap *h) { return h->n + h->lane_n; }

static inline int corio__timer_armed(const corio__timer *t) { return t->idx != CORIO__TIMER_IDLE; }

#endif
