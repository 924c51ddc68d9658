/* Internal: the event loop's state and the core every layer above schedules on. */
#ifndef CORIO_LOOP_LOOP_H
#define CORIO_LOOP_LOOP_H

#include "corio.h"
#include "base/obj.h"
#include "ctx/fiber.h"
#include "loop/clock.h"
#include "loop/inbox.h"
#include "poll/poller.h"
#include "loop/pool.h"
#include "loop/timer_heap.h"
#include "loop/work.h"

#include <stdint.h>

#define CORIO__TLS __thread __attribute__((tls_model("initial-exec")))

/* Intrusive doubly linked list (the loop's pending tasks). */
typedef struct corio__link {
    struct corio__link *prev, *next;
} corio__link;

static inline void corio__list_init(corio__link *head) { head->prev = head->next = head; }
static inline void corio__list_insert_tail(corio__link *head, corio__link *l) {
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}
static inline void corio__list_remove(corio__link *l) {
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

enum { CORIO__POOL_FUTURE, CORIO__POOL_TASK, CORIO__POOL_HANDLE, CORIO__POOL_CBNODE,
       CORIO__POOL_SLEEP, CORIO__POOL_IO, CORIO__POOL_COUNT };

struct corio_loop {
    uint32_t refs;      /* the creator's, plus one per future, task and handle bound to it */
    uint32_t magic;     /* base/obj.h: dead once corio_loop_free has run, memory or not */
    uint8_t keep;       /* objects freed now are kept aside (base/obj.h): debug or CORIO_DEBUG */
    uint8_t kept_any;   /* keep was on at some point: the loop's own memory is kept too */
    uint8_t running, stopping, closing, closed, debug;
    uint8_t virtual_time; /* the clock moves only when the loop jumps it to the next timer */
    uint8_t watched;      /* each iteration goes through run_watched: debug || dump_signo */
    int dump_signo;       /* corio_loop_dump_on_signal's signal, or 0 */
    int64_t now;        /* clock read at the start of the iteration, ns; the clock itself under
                           virtual time */
    corio__workq ready; /* what the next iteration runs, FIFO */
    corio__workq batch; /* what this iteration still runs (a suspending task may take from it) */
    corio__timer_heap timers;
    corio__poller poller;
    corio__inbox inbox;            /* work posted by other threads (loop/inbox.c) */
    struct corio__loop_exec *exec; /* executor state (thread/), made on first use */
    corio__pool pools[CORIO__POOL_COUNT];
    corio__keep pool_keep;         /* pooled objects freed in debug mode (loop/pool.c) */
    corio__stack_pool *stacks;
    size_t stack_size;
    corio__fiber home;             /* the thread's stack, on which the loop itself runs */
    struct corio_task *current;    /* the task whose fiber runs now */
    corio__stack *shared_stack;    /* where compact tasks run */
    struct corio_task *shared_owner; /* the compact task whose frames are on it */
    corio__stack *spare_stack;     /* the last default-size stack a task gave back (see task.c) */
    corio__link tasks;             /* pending tasks */
    size_t ntasks;
    uint64_t task_counter;
    corio_error_handler_fn err_fn;
    void *err_arg;
    /* Runs loop->batch in place of the plain loop when `watched` is set (set by the task layer,
     * which knows what a work item belongs to). */
    void (*run_watched)(corio_loop *loop);
    int64_t slow_ns;               /* debug mode reports a step that runs this long */
    unsigned dump_seen;            /* the dump-signal count at the last dump (task/dump.c) */
    int dump_fd;                   /* where a signalled dump goes */
};

extern CORIO__TLS corio_loop *corio__running_loop;
extern CORIO__TLS corio_loop *corio__current_loop;

/* The loop a public call means (docs/conventions.md, "NULL loop"): `loop` itself, else the
 * running loop, else the thread's current one; NULL when there is none (the caller then fails
 * with CORIO_ENOLOOP or returns its neutral value). Takes const as strchr does, so that accessors
 * can use it too. The TLS loads happen only for a NULL loop. A loop given is checked to be live
 * (base/obj.h), in the name of `fn`: corio__loop_resolve names the calling function. */
static inline corio_loop *corio__loop_resolve_as(const corio_loop *loop, const char *fn) {
    if (__builtin_expect(loop != NULL, 1)) {
        CORIO__CHECK_AS(loop, CORIO__KIND_LOOP, fn, NULL);
        return (corio_loop *)loop;
    }
    return corio__running_loop ? corio__running_loop : corio__current_loop;
}
#define corio__loop_resolve(loop) corio__loop_resolve_as((loop), __func__)

/* Initialises the core (queues, timers, poller); the caller sets up pools and stacks. */
int corio__loop_init(corio_loop *loop, const char *backend);
/* Drops queued work and armed timers and closes the poller. */
void corio__loop_fini(corio_loop *loop);

/* The loop's clock in ns: CLOCK_MONOTONIC, or under virtual time the time the loop has jumped to.
 * Every timer deadline and corio_loop_time() come from here. */
static inline int64_t corio__loop_clock(const corio_loop *loop) {
    return loop->virtual_time ? loop->now : corio__clock_ns();
}

/* The loop time `delay_ns` from now (negative: now). Saturating under virtual time, where the
 * clock may have jumped to a "forever" timer near INT64_MAX / 2 (the real clock is far below). */
static inline int64_t corio__loop_deadline(const corio_loop *loop, int64_t delay_ns) {
    if (delay_ns < 0)
        delay_ns = 0;
    if (!loop->virtual_time)
        return corio__clock_ns() + delay_ns;
    return loop->now > INT64_MAX - delay_ns ? INT64_MAX : loop->now + delay_ns;
}

static inline void corio__loop_ref(corio_loop *loop) { loop->refs++; }
/* Drops a reference; with the last the loop's memory goes (kept aside if keep was ever on). */
void corio__loop_unref(corio_loop *loop);

/* Turns the keeping of freed objects on or off (debug mode, CORIO_DEBUG): the pools keep what is
 * freed into them, and the loop's other objects ask loop->keep when they go. */
void corio__loop_set_keep(corio_loop *loop, int keep);

/* Runs one iteration: poll (sleeping until the nearest timer when nothing is ready), move due
 * timers, then run what was ready when the iteration began. */
void corio__loop_run_once(corio_loop *loop);

static inline void corio__loop_schedule(corio_loop *loop, corio__work *w) {
    corio__workq_push(&loop->ready, w);
}

/* Arms a timer `delay_ns` from the current clock (not the iteration's cached time, so that no
 * timer fires early for a caller that ran long). */
int corio__loop_timer_after(corio_loop *loop, corio__timer *t, int64_t delay_ns);
static inline void corio__loop_timer_cancel(corio_loop *loop, corio__timer *t) {
    corio__timer_heap_remove(&loop->timers, t);
}

/* Reports through the loop's error handler. */
void corio__loop_report(corio_loop *loop, const char *message, int err, corio_future *fut,
                        corio_task *task);

#endif
