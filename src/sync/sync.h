/* Internal: what the synchronisation primitives share.
 *
 * Every wait is asyncio's: the waiting task creates a future, queues it, and awaits it; a waker
 * completes the future (set_result), which schedules the task. Cancellation needs nothing more:
 * a cancelled task's await cancels the future it waits on (see task.c), and each primitive then
 * looks at the future's state to decide whether a wake-up it received must pass to another
 * waiter. Futures come from the loop's pool, so a wait allocates nothing once the pool is warm,
 * and a call that does not wait creates no future at all.
 */
#ifndef CORIO_SYNC_SYNC_H
#define CORIO_SYNC_SYNC_H

#include "task/task.h"

#include <errno.h>
#include <stdint.h>

/* A FIFO of waiter futures: a ring buffer of pointers. It holds no references: each waiter's task
 * owns its future and removes it (or a waker pops it) before dropping it. `inside` counts the
 * tasks suspended in a wait on this queue, popped or not, so that freeing the primitive under
 * them can be refused. */
typedef struct corio__waitq {
    corio_future **buf;
    uint32_t head, len, cap;
    uint32_t inside;
} corio__waitq;

static inline void corio__waitq_init(corio__waitq *q) { *q = (corio__waitq){0}; }
void corio__waitq_fini(corio__waitq *q);
static inline corio_future *corio__waitq_at(const corio__waitq *q, uint32_t i) {
    return q->buf[(q->head + i) & (q->cap - 1)];
}
corio_future *corio__waitq_pop(corio__waitq *q);
/* Removes f if it is queued; returns 1 if it was. */
int corio__waitq_remove(corio__waitq *q, corio_future *f);
/* Wakes the first waiter unless it is done already, leaving it queued (the lock: the woken task
 * removes itself). Returns 1 if it was woken. */
int corio__waitq_wake_first(corio__waitq *q);
/* Pops waiters until one is not done and wakes it (queues: popped by the waker). */
int corio__waitq_wake_pop(corio__waitq *q);
/* 1 if every queued waiter is cancelled (or none is queued). */
int corio__waitq_all_cancelled(const corio__waitq *q);

/* A waiter future is the primitive's own and live while queued: these skip the checks of the
 * public calls (base/obj.h). */
static inline int corio__waiter_done(const corio_future *f) {
    return !corio__future_pending(f);
}
static inline void corio__waiter_wake(corio_future *f) {
    corio__future_finish(f, CORIO_FUTURE_FINISHED, 0, NULL, NULL);
}

/* 0 if the caller is a task of `loop` that may wait; CORIO_ENOTASK outside a task, -EINVAL for a
 * task of another loop, -ECANCELED while the loop closes under it (every await fails then). */
static inline int corio__sync_can_wait(corio_loop *loop) {
    corio_task *t = corio__current_task();
    if (__builtin_expect(!t, 0))
        return CORIO_ENOTASK;
    if (__builtin_expect(corio__task_destroying(t), 0))
        return -ECANCELED;
    if (__builtin_expect(corio__task_loop_of(t) != loop, 0))
        return -EINVAL;
    return 0;
}

/* Queues a new waiter future on q and awaits it. Returns corio_await's code. *fut is the waiter,
 * which the caller inspects, removes from q if it may still be there, and unrefs; NULL if none
 * could be made (corio_future_new's error, or -ENOMEM). */
int corio__sync_wait(corio_loop *loop, corio__waitq *q, corio_future **fut);

/* A constructor's start: resolves *loop (NULL: the running loop, else the current one; checked
 * in the name of `fn`), takes a reference on it, and returns a zeroed object of `size` bytes.
 * NULL with *rc = CORIO_ENOLOOP, CORIO_ECLOSED or -ENOMEM (nothing held). */
void *corio__sync_new(corio_loop **loop, size_t size, int *rc, const char *fn);

/* A destructor's end: the object's memory goes (kept in debug mode, base/obj.h), then its
 * reference on the loop (in that order: a kept object's loop must outlive it in the keep). */
void corio__sync_free(void *obj, uint32_t *magic, corio_loop *loop);

/* The check of a primitive's functions on their subject (base/obj.h). */
#define CORIO__SYNC_CHECK(obj, kind) CORIO__CHECK(obj, kind, (obj)->loop)

/* asyncio.Event, embedded in a queue for join. */
struct corio_event {
    corio_loop *loop;
    corio__waitq waiters;
    uint8_t set;
    uint32_t magic;
};
void corio__event_init(corio_event *ev, corio_loop *loop);
void corio__event_set(corio_event *ev);
int corio__event_wait(corio_event *ev);

struct corio_lock {
    corio_loop *loop;
    corio__waitq waiters;
    uint8_t locked;
    uint32_t magic;
};
void corio__lock_init(corio_lock *lock, corio_loop *loop);

/* Condition.wait as asyncio's; *held tells whether the lock is held on return (it is not only
 * when the loop closed under the task, or on -ENOMEM). */
int corio__condition_wait(corio_condition *cond, int *held);
/* Wakes up to n waiters; no check of the lock. */
void corio__condition_notify(corio_condition *cond, size_t n);
/* The condition's loop. */
corio_loop *corio__condition_loop(const corio_condition *cond);

#endif
