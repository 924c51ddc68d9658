/* The loop's inbox: work posted from other threads (see inbox.h for the protocol). */
#include "loop/inbox.h"

#include "corio.h"

#include <sched.h>

/* An address no corio__work has: the head of a closed inbox. */
static corio__work closed_marker;
#define CLOSED (&closed_marker)

void corio__inbox_init(corio__inbox *ib) {
    atomic_init(&ib->head, NULL);
    atomic_init(&ib->sleeping, 0);
    atomic_init(&ib->posting, 0);
}

int corio__inbox_post(corio__inbox *ib, corio__poller *p, corio__work *newest,
                      corio__work *oldest) {
    /* Counted before the push, so that close (which closes the head first, then waits for the
     * count to drop) never returns, and lets corio_loop_free go on, under a poster that is about
     * to wake the loop. */
    atomic_fetch_add_explicit(&ib->posting, 1, memory_order_seq_cst);
    corio__work *old = atomic_load_explicit(&ib->head, memory_order_relaxed);
    do {
        if (old == CLOSED) {
            atomic_fetch_sub_explicit(&ib->posting, 1, memory_order_release);
            return CORIO_ECLOSED;
        }
        oldest->next = old;
    } while (!atomic_compare_exchange_weak_explicit(&ib->head, &old, newest, memory_order_seq_cst,
                                                    memory_order_relaxed));
    if (atomic_load_explicit(&ib->sleeping, memory_order_seq_cst))
        corio__poller_wake(p);
    atomic_fetch_sub_explicit(&ib->posting, 1, memory_order_release);
    return 0;
}

int corio__inbox_prepare_sleep(corio__inbox *ib) {
    atomic_store_explicit(&ib->sleeping, 1, memory_order_seq_cst);
    return atomic_load_explicit(&ib->head, memory_order_seq_cst) != NULL;
}

/* Appends the stack `w` (newest first) to q, oldest first. */
static void append_reversed(corio__work *w, corio__workq *q) {
    corio__work *fifo = NULL;
    while (w) {
        corio__work *next = w->next;
        w->next = fifo;
        fifo = w;
        w = next;
    }
    while (fifo) {
        corio__work *next = fifo->next;
        corio__workq_push(q, fifo);
        fifo = next;
    }
}

void corio__inbox_drain(corio__inbox *ib, corio__workq *q) {
    atomic_store_explicit(&ib->sleeping, 0, memory_order_relaxed);
    /* A plain load first: an idle inbox costs no atomic exchange per iteration. What it misses
     * is seen by the next iteration's prepare_sleep. */
    if (!atomic_load_explicit(&ib->head, memory_order_relaxed))
        return;
    append_reversed(atomic_exchange_explicit(&ib->head, NULL, memory_order_acquire), q);
}

void corio__inbox_wait(corio__inbox *ib, corio__poller *p, corio__workq *q) {
    if (!corio__inbox_prepare_sleep(ib))
        corio__poller_wait(p, -1);
    corio__inbox_drain(ib, q);
}

void corio__inbox_close(corio__inbox *ib, corio__workq *q) {
    corio__work *w = atomic_exchange_explicit(&ib->head, CLOSED, memory_order_seq_cst);
    if (w == CLOSED)
        return;
    while (atomic_load_explicit(&ib->posting, memory_order_acquire))
        sched_yield();
    append_reversed(w, q);
}
