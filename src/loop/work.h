/* Internal: the ready queue's unit of work.
 *
 * Everything the loop runs (a call_soon callback, a future's done callback, a task's step) is a
 * corio__work embedded in the object that owns it, so scheduling never allocates and so never
 * fails: a future can always complete. The queue is FIFO and singly linked.
 */
#ifndef CORIO_LOOP_WORK_H
#define CORIO_LOOP_WORK_H

#include "base/list.h"

#include <stddef.h>

typedef struct corio__work corio__work;

/* Runs the work, or with `drop` set releases what it holds without running it (loop close). */
typedef void (*corio__work_fn)(corio__work *w, int drop);

struct corio__work {
    corio__work *next;
    corio__work_fn fn;
};

typedef struct corio__workq {
    corio__work *head;
    corio__work **tailp;
} corio__workq;

static inline void corio__workq_init(corio__workq *q) {
    q->head = NULL;
    q->tailp = &q->head;
}

static inline int corio__workq_empty(const corio__workq *q) { return q->head == NULL; }

static inline void corio__workq_push(corio__workq *q, corio__work *w) {
    w->next = NULL;
    *q->tailp = w;
    q->tailp = &w->next;
}

/* Moves every queued item to `out` (emptying q): one loop iteration runs what was ready when it
 * began, as asyncio does, and what those callbacks schedule waits for the next iteration. */
static inline void corio__workq_take(corio__workq *q, corio__workq *out) {
    *out = *q;
    if (out->head == NULL)
        out->tailp = &out->head;
    corio__workq_init(q);
}

static inline corio__work *corio__workq_pop(corio__workq *q) {
    corio__work *w = q->head;
    if (w) {
        q->head = w->next;
        if (q->head == NULL)
            q->tailp = &q->head;
    }
    return w;
}

#endif
