/* Internal: the loop core, on which every layer above schedules its work. Its state is its part
 * of the loop (loop/loop_part.h); the layers above reach it through the functions here. */
#ifndef CORIO_LOOP_LOOP_H
#define CORIO_LOOP_LOOP_H

#include "loop/clock.h"
#include "runtime/loop_parts.h"

#include <stdint.h>

#define CORIO__TLS __thread __attribute__((tls_model("initial-exec")))

extern CORIO__TLS corio_loop *corio__running_loop;
extern CORIO__TLS corio_loop *corio__current_loop;

/* The check every public function makes on a loop it is given (base/obj.h), in the name of `fn`. */
#define CORIO__LOOP_CHECK_AS(loop, fn) CORIO__CHECK_AS(&(loop)->core, CORIO__KIND_LOOP, fn, NULL)
#define CORIO__LOOP_CHECK(loop) CORIO__LOOP_CHECK_AS(loop, __func__)

/* The loop a public call means (docs/conventions.md, "NULL loop"): `loop` itself, else the
 * running loop, else the thread's current one; NULL when there is none (the caller then fails
 * with CORIO_ENOLOOP or returns its neutral value). Takes const as strchr does, so that accessors
 * can use it too. The TLS loads happen only for a NULL loop. A loop given is checked to be live
 * (base/obj.h), in the name of `fn`: corio__loop_resolve names the calling function. */
static inline corio_loop *corio__loop_resolve_as(const corio_loop *loop, const char *fn) {
    if (__builtin_expect(loop != NULL, 1)) {
        CORIO__LOOP_CHECK_AS(loop, fn);
        return (corio_loop *)loop;
    }
    return corio__running_loop ? corio__running_loop : corio__current_loop;
}
#define corio__loop_resolve(loop) corio__loop_resolve_as((loop), __func__)

/* ---- the core's part: init and term (called by src/runtime/) ---- */

/* Initialises the core (queues, timers, poller on `backend`, the clock); refs = 1. */
int corio__loop_core_init(corio_loop *loop, const char *backend, int virtual_time);
/* Loop close, before any layer's term: CORIO_ERUNNING while the loop runs, 1 if it is closed or
 * closing already, else marks it closing and returns 0 (or the poller's refusal to close here). */
int corio__loop_close_begin(corio_loop *loop);
/* Loop close, last: drops queued work and armed timers, closes the poller; the loop is closed. */
void corio__loop_core_term(corio_loop *loop);
/* corio_loop_free's part: the loop is dead to its owner, and its reference goes. */
void corio__loop_release(corio_loop *loop);
/* The pool of call_soon / call_later handles (loop/handle.c). */
void corio__handle_pool_init(corio__pool *p);

/* Hands the core a pool of a layer's part: freed with the loop's memory, and keeping what is
 * freed into it while the loop keeps freed objects (debug mode). */
void corio__loop_add_pool(corio_loop *loop, corio__pool *p);

/* ---- hooks the layer above installs ---- */

/* Called with the iteration's batch instead of running it, while watching is on (debug mode, or
 * corio__loop_watch). */
static inline void corio__loop_hook_watched(corio_loop *loop,
                                            void (*fn)(corio_loop *, corio__workq *)) {
    loop->core.run_watched = fn;
}
/* Called when the loop starts running on a thread (corio_loop_run_forever). */
static inline void corio__loop_hook_run(corio_loop *loop, void (*fn)(corio_loop *)) {
    loop->core.on_run = fn;
}
/* Watching on or off for the layer above (debug mode turns it on too). */
void corio__loop_watch(corio_loop *loop, int on);
/* The default error handler's name for a task (process-wide: the handler may be called with any
 * loop, or none). Without it, a task is named by its address. */
void corio__loop_hook_task_name(const char *(*fn)(corio_task *));

/* ---- state the layers above may read ---- */

static inline int corio__loop_closed(const corio_loop *loop) { return loop->core.closed; }
/* Closed, or being closed: no new work is accepted. */
static inline int corio__loop_closing(const corio_loop *loop) {
    return loop->core.closed || loop->core.closing;
}
static inline int corio__loop_debug(const corio_loop *loop) { return loop->core.debug; }
/* Whether objects freed now are kept aside (base/obj.h: corio__obj_free's keep). */
static inline int corio__loop_keeps(const corio_loop *loop) { return loop->core.keep; }
/* Whether the loop runs on virtual time (its clock jumps to the next timer when idle). */
static inline int corio__loop_virtual(const corio_loop *loop) { return loop->core.virtual_time; }
/* The poller the loop sleeps in, for the I/O request layer. Takes const as strchr does. */
static inline corio__poller *corio__loop_poller(const corio_loop *loop) {
    return (corio__poller *)&loop->core.poller;
}

/* Makes `loop` the thread's running one; returns the one that was (loop close lets the unwinding
 * tasks of a loop that is not running find it). */
static inline corio_loop *corio__loop_swap_running(corio_loop *loop) {
    corio_loop *was = corio__running_loop;
    corio__running_loop = loop;
    return was;
}

/* Makes `loop` the thread's current one, as corio_set_event_loop does without its checks; returns
 * the one that was (corio_run). */
static inline corio_loop *corio__loop_swap_current(corio_loop *loop) {
    corio_loop *was = corio__current_loop;
    corio__current_loop = loop;
    return was;
}

/* ---- the clock ---- */

/* The loop's clock in ns: CLOCK_MONOTONIC, or under virtual time the time the loop has jumped to.
 * Every timer deadline and corio_loop_time() come from here. */
static inline int64_t corio__loop_clock(const corio_loop *loop) {
    return loop->core.virtual_time ? loop->core.now : corio__clock_ns();
}

/* The time of the loop's current iteration: taken after the poller returned while timers are
 * armed, else read now. Earlier than the clock by what the iteration has run so far: for coarse
 * deadlines of seconds (the streams' defences) that should not cost a clock read per call. */
static inline int64_t corio__loop_iteration_time(corio_loop *loop) {
    if (!corio__timer_heap_count(&loop->core.timers))
        loop->core.now = corio__loop_clock(loop);
    return loop->core.now;
}

/* The loop time `delay_ns` from now (negative: now). Saturating under virtual time, where the
 * clock may have jumped to a "forever" timer near INT64_MAX / 2 (the real clock is far below). */
static inline int64_t corio__loop_deadline(const corio_loop *loop, int64_t delay_ns) {
    if (delay_ns < 0)
        delay_ns = 0;
    if (!loop->core.virtual_time)
        return corio__clock_ns() + delay_ns;
    return loop->core.now > INT64_MAX - delay_ns ? INT64_MAX : loop->core.now + delay_ns;
}

/* ---- lifetime ---- */

static inline void corio__loop_ref(corio_loop *loop) { loop->core.refs++; }
/* Drops a reference; with the last the loop's memory goes (kept aside if keep was ever on). */
void corio__loop_unref(corio_loop *loop);

/* Turns the keeping of freed objects on or off (debug mode, CORIO_DEBUG): the pools keep what is
 * freed into them, and the loop's other objects ask corio__loop_keeps when they go. */
void corio__loop_set_keep(corio_loop *loop, int keep);

/* ---- running work ---- */

/* Runs one iteration: poll (sleeping until the nearest timer when nothing is ready), move due
 * timers, then run what was ready when the iteration began. */
void corio__loop_run_once(corio_loop *loop);

static inline void corio__loop_schedule(corio_loop *loop, corio__work *w) {
    corio__workq_push(&loop->core.ready, w);
}

/* Takes w out of the ready queue if it is there (its owner is going away). */
void corio__loop_unschedule(corio_loop *loop, corio__work *w);

/* The next item this iteration runs, left in place, or NULL. When this iteration's work is done
 * and the next would only take what is ready (no fd to poll, no timer, no stop pending), the next
 * one starts here: that is what lets a task hand the thread straight to the next one. */
static inline corio__work *corio__loop_next_work(corio_loop *loop) {
    corio__loop_core *c = &loop->core;
    if (corio__workq_empty(&c->batch) && !c->poller.nwatched &&
        !corio__timer_heap_count(&c->timers) && !c->stopping)
        corio__workq_take(&c->ready, &c->batch);
    return c->batch.head;
}
/* Removes the item corio__loop_next_work returned (the caller runs it its own way). */
static inline void corio__loop_take_work(corio_loop *loop) {
    corio__workq_pop(&loop->core.batch);
}

/* Any thread: posts the chain newest -> ... -> oldest to the loop's inbox (loop/inbox.h) and
 * wakes the loop. 0, or CORIO_ECLOSED once the loop's inbox is closed. */
static inline int corio__loop_post(corio_loop *loop, corio__work *newest, corio__work *oldest) {
    return corio__inbox_post(&loop->core.inbox, &loop->core.poller, newest, oldest);
}
/* Loop thread: sleeps until something is posted, and appends it to q (loop close waiting for
 * other threads' completions). */
static inline void corio__loop_wait_posted(corio_loop *loop, corio__workq *q) {
    corio__inbox_wait(&loop->core.inbox, &loop->core.poller, q);
}

/* ---- timers ---- */

/* Arms a timer `delay_ns` from the current clock (not the iteration's cached time, so that no
 * timer fires early for a caller that ran long). */
int corio__loop_timer_after(corio_loop *loop, corio__timer *t, int64_t delay_ns);
/* Arms a timer at `when` on the loop's clock. */
static inline int corio__loop_timer_at(corio_loop *loop, corio__timer *t, int64_t when) {
    return corio__timer_heap_add(&loop->core.timers, t, when);
}
static inline void corio__loop_timer_cancel(corio_loop *loop, corio__timer *t) {
    corio__timer_heap_remove(&loop->core.timers, t);
}

/* Reports through the loop's error handler. */
void corio__loop_report(corio_loop *loop, const char *message, int err, corio_future *fut,
                        corio_task *task);

#endif
