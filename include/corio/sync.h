/* corio synchronisation primitives: asyncio's Lock, Event, Condition, Semaphore,
 * BoundedSemaphore, Barrier and Queue (FIFO, LIFO, priority), with asyncio's semantics
 * (CPython 3.13 Lib/asyncio/locks.py and queues.py).
 *
 * Included by <corio.h>; docs/conventions.md holds. For everything below:
 *  - Each object is bound to one loop, given to its constructor (NULL: the running loop, else the
 *    thread's current loop; CORIO_ENOLOOP if there is none). It may be used only on that loop's
 *    thread, and awaited only from tasks of that loop (-EINVAL from another loop's task).
 *  - Constructors return 0 and the new object in *out, or -EINVAL (bad argument), -ENOMEM,
 *    CORIO_ENOLOOP, CORIO_ECLOSED. The caller owns the object and frees it with the matching
 *    *_free function. Freeing NULL does nothing and returns 0. Freeing an object that tasks are
 *    waiting on is refused with -EBUSY (nothing is freed; the waiters keep waiting): cancel them
 *    first, or let them finish. An object holds a reference on its loop, so it may outlive
 *    corio_loop_close() and be freed afterwards (before corio_loop_free or after it).
 *  - Functions documented "awaits" suspend the calling task until they can complete. They return
 *    0 (or a non-negative value) on success, -ECANCELED when the task is cancelled while it waits
 *    (the primitive is left consistent: no wake-up, item or lock is lost, see each function),
 *    CORIO_ENOTASK outside a task, -EINVAL for NULL. A cancellation requested before the call is
 *    delivered only if the call has to wait, as in asyncio. For a time limit, await from a task of
 *    your own and use corio_wait_for() on it.
 *  - Accessors (locked, is_set, value, qsize, ...) return 0 for NULL.
 *  - Waiters are served in FIFO order. Waking a waiter schedules it on the loop (as asyncio's
 *    future.set_result does); it runs on a later iteration, never inside the waking call.
 *  - Nothing here is safe to call from another thread.
 */
#ifndef CORIO_SYNC_H
#define CORIO_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors of the primitives (corio/errors.h): CORIO_EBROKEN, the barrier is broken (asyncio's
 * BrokenBarrierError: aborted, or reset while the task waited in it); CORIO_ESHUTDOWN, the queue
 * was shut down (asyncio's QueueShutDown). */

typedef struct corio_lock corio_lock;
typedef struct corio_event corio_event;
typedef struct corio_condition corio_condition;
typedef struct corio_semaphore corio_semaphore;
typedef struct corio_barrier corio_barrier;
typedef struct corio_queue corio_queue;

/* ------------------------------------------------------------------------------------------------
 * Lock (asyncio.Lock): not reentrant, not owned by a task (any task may release it), fair.
 * --------------------------------------------------------------------------------------------- */

int corio_lock_new(corio_lock **out, corio_loop *loop);
int corio_lock_free(corio_lock *lock);

/* Awaits: takes the lock. It is taken at once only if it is free and no task is queued for it
 * (fairness: a task released before others queued waits its turn). A waiter woken by a release
 * but cancelled before it runs passes the wake-up on to the next waiter. Returns 0, -ECANCELED
 * (the lock is not held), CORIO_ENOTASK, -EINVAL. */
int corio_lock_acquire(corio_lock *lock);
/* Takes the lock if that needs no wait: 0, or -EAGAIN if it is held or tasks are queued. */
int corio_lock_acquire_nowait(corio_lock *lock);
/* Frees the lock and wakes the first waiter. Any code may call it (not only the task that took
 * it). Returns 0, CORIO_EINVALSTATE if the lock is not held, -EINVAL for NULL. */
int corio_lock_release(corio_lock *lock);
/* 1 if the lock is held, 0 if not (or NULL). */
int corio_lock_locked(const corio_lock *lock);

/* ------------------------------------------------------------------------------------------------
 * Event (asyncio.Event)
 * --------------------------------------------------------------------------------------------- */

int corio_event_new(corio_event **out, corio_loop *loop);
int corio_event_free(corio_event *ev);

/* Awaits until the flag is set (returns at once if it is). Returns 0, -ECANCELED,
 * CORIO_ENOTASK, -EINVAL. */
int corio_event_wait(corio_event *ev);
/* Sets the flag and wakes every waiter. 0 or -EINVAL. */
int corio_event_set(corio_event *ev);
/* Clears the flag. Waiters woken by an earlier set still return 0. 0 or -EINVAL. */
int corio_event_clear(corio_event *ev);
int corio_event_is_set(const corio_event *ev);

/* ------------------------------------------------------------------------------------------------
 * Condition (asyncio.Condition)
 * --------------------------------------------------------------------------------------------- */

/* `lock` is the condition's lock, borrowed (it must outlive the condition and be bound to the
 * same loop, else -EINVAL); NULL: the condition makes and owns one. */
int corio_condition_new(corio_condition **out, corio_loop *loop, corio_lock *lock);
int corio_condition_free(corio_condition *cond);

/* The condition's lock: acquire, release and locked as corio_lock_*. */
int corio_condition_acquire(corio_condition *cond);
int corio_condition_release(corio_condition *cond);
int corio_condition_locked(const corio_condition *cond);

/* Awaits: releases the lock, waits until notified, and takes the lock again before it returns,
 * also when cancelled (it then keeps waiting for the lock, ignoring further cancellations, and
 * returns -ECANCELED holding it). A waiter cancelled after it was notified passes a notification
 * on to another waiter (a spurious wake-up, which the condition-variable protocol allows).
 * Returns 0, -ECANCELED (lock held), CORIO_EINVALSTATE if the caller does not hold the lock,
 * -ENOMEM (lock held, unless taking it back failed too), CORIO_ENOTASK, -EINVAL. When the loop
 * is closed under it, returns -ECANCELED without the lock. */
int corio_condition_wait(corio_condition *cond);
/* Awaits: corio_condition_wait until pred(arg) returns nonzero (checked first, with the lock
 * held). Returns 0, or corio_condition_wait's error. */
int corio_condition_wait_for(corio_condition *cond, int (*pred)(void *arg), void *arg);
/* Wakes up to n waiters (notify) or all of them. The caller must hold the lock:
 * CORIO_EINVALSTATE otherwise, -EINVAL for NULL. */
int corio_condition_notify(corio_condition *cond, size_t n);
int corio_condition_notify_all(corio_condition *cond);

/* ------------------------------------------------------------------------------------------------
 * Semaphore and BoundedSemaphore (asyncio.Semaphore, asyncio.BoundedSemaphore)
 * --------------------------------------------------------------------------------------------- */

/* A semaphore with counter `value` (-EINVAL if negative). */
int corio_semaphore_new(corio_semaphore **out, corio_loop *loop, int64_t value);
/* A bounded semaphore: release past the initial value fails with -EOVERFLOW. */
int corio_bounded_semaphore_new(corio_semaphore **out, corio_loop *loop, int64_t value);
int corio_semaphore_free(corio_semaphore *sem);

/* Awaits: decrements the counter, waiting while it is 0 or earlier waiters are queued (FIFO).
 * A waiter woken but cancelled before it runs gives its unit back and wakes the next. Returns
 * 0, -ECANCELED (nothing taken), CORIO_ENOTASK, -EINVAL. */
int corio_semaphore_acquire(corio_semaphore *sem);
/* Decrements without waiting: 0, or -EAGAIN when corio_semaphore_locked() is 1. */
int corio_semaphore_acquire_nowait(corio_semaphore *sem);
/* Increments the counter and wakes the first waiter. 0, -EOVERFLOW (bounded semaphore released
 * more than acquired, or the counter at INT64_MAX), -EINVAL. */
int corio_semaphore_release(corio_semaphore *sem);
/* 1 if an acquire would wait now: the counter is 0, or tasks are queued. */
int corio_semaphore_locked(const corio_semaphore *sem);
/* The counter (units handed to woken waiters that have not run yet are already taken). */
int64_t corio_semaphore_value(const corio_semaphore *sem);

/* ------------------------------------------------------------------------------------------------
 * Barrier (asyncio.Barrier)
 * --------------------------------------------------------------------------------------------- */

/* A barrier for `parties` tasks (-EINVAL if < 1 or > INT_MAX). */
int corio_barrier_new(corio_barrier **out, corio_loop *loop, size_t parties);
int corio_barrier_free(corio_barrier *b);

/* Awaits until `parties` tasks are waiting, then lets all of them through. Returns the task's
 * arrival index, 0 to parties-1 (each index once per pass); CORIO_EBROKEN if the barrier is
 * broken (abort) or is reset while the task waits; -ECANCELED (the task leaves the barrier,
 * which stays usable: the others keep waiting for a full count); CORIO_ENOTASK, -EINVAL. Tasks
 * arriving while the previous pass drains wait for it to finish. */
int corio_barrier_wait(corio_barrier *b);
/* Returns the barrier to its empty state; tasks waiting in it get CORIO_EBROKEN. A broken
 * barrier becomes usable again once they have left. 0 or -EINVAL. */
int corio_barrier_reset(corio_barrier *b);
/* Breaks the barrier: waiting and later corio_barrier_wait calls get CORIO_EBROKEN until reset.
 * 0 or -EINVAL. */
int corio_barrier_abort(corio_barrier *b);
size_t corio_barrier_parties(const corio_barrier *b);
/* Tasks waiting in the barrier while it fills (0 while it drains). */
size_t corio_barrier_n_waiting(const corio_barrier *b);
int corio_barrier_broken(const corio_barrier *b);

/* ------------------------------------------------------------------------------------------------
 * Queue (asyncio.Queue, LifoQueue, PriorityQueue, with 3.13's shutdown)
 * --------------------------------------------------------------------------------------------- */

typedef enum corio_queue_kind {
    CORIO_QUEUE_FIFO = 0,
    CORIO_QUEUE_LIFO = 1,
    CORIO_QUEUE_PRIORITY = 2 /* lowest priority value first; equal values in FIFO order */
} corio_queue_kind;

typedef struct corio_queue_opts {
    corio_queue_kind kind;
    size_t maxsize;            /* 0: unbounded */
    void (*drop)(void *item);  /* called for each item discarded by corio_queue_shutdown(q, 1)
                                  and corio_queue_free; NULL: items are just forgotten */
} corio_queue_opts;

/* A queue of `void *` items (NULL is a valid item). opts NULL: unbounded FIFO. Storage is a
 * ring buffer (a binary heap for PRIORITY) that grows as needed; putting and getting allocate
 * nothing once it has grown, and take no future unless they have to wait. */
int corio_queue_new(corio_queue **out, corio_loop *loop, const corio_queue_opts *opts);
/* Refused with -EBUSY while tasks wait in put, get or join. Remaining items go to opts.drop. */
int corio_queue_free(corio_queue *q);

/* Awaits: adds item, waiting while the queue is full. For a PRIORITY queue, priority 0.
 * Returns 0, CORIO_ESHUTDOWN (shut down: before or while waiting; the item was not added),
 * -ECANCELED (not added; a free slot it was woken for passes to the next putter), -ENOMEM,
 * CORIO_ENOTASK, -EINVAL. */
int corio_queue_put(corio_queue *q, void *item);
/* As corio_queue_put with a priority (PRIORITY queues only, -EINVAL otherwise). */
int corio_queue_put_prio(corio_queue *q, void *item, int64_t prio);
/* Adds without waiting: 0, -EAGAIN (full), CORIO_ESHUTDOWN, -ENOMEM, -EINVAL. */
int corio_queue_put_nowait(corio_queue *q, void *item);
int corio_queue_put_prio_nowait(corio_queue *q, void *item, int64_t prio);

/* Awaits: removes and stores in *item the next item (FIFO: oldest; LIFO: newest; PRIORITY:
 * lowest value), waiting while the queue is empty. Returns 0; CORIO_ESHUTDOWN once the queue is
 * shut down and empty; -ECANCELED (nothing removed; an item it was woken for passes to the next
 * getter); CORIO_ENOTASK; -EINVAL. *item is NULL on error. */
int corio_queue_get(corio_queue *q, void **item);
/* Removes without waiting: 0, -EAGAIN (empty), CORIO_ESHUTDOWN (shut down and empty). */
int corio_queue_get_nowait(corio_queue *q, void **item);

/* Marks one item taken with get as processed (asyncio's task_done). 0, CORIO_EINVALSTATE if
 * called more times than items were put, -EINVAL. */
int corio_queue_task_done(corio_queue *q);
/* Awaits until every item put has been marked done with corio_queue_task_done. Returns 0,
 * -ECANCELED, CORIO_ENOTASK, -EINVAL. */
int corio_queue_join(corio_queue *q);

/* Shuts the queue down: put fails with CORIO_ESHUTDOWN from now on, and so does get once the
 * queue is empty; every task waiting in put or get is woken to see it. With `immediate`, the
 * items still queued are discarded (to opts.drop), counted as done, and join returns. 0 or
 * -EINVAL. */
int corio_queue_shutdown(corio_queue *q, int immediate);

size_t corio_queue_qsize(const corio_queue *q);
size_t corio_queue_maxsize(const corio_queue *q);
int corio_queue_empty(const corio_queue *q);
/* 1 if bounded and holding maxsize items. */
int corio_queue_full(const corio_queue *q);
int corio_queue_is_shutdown(const corio_queue *q);

#ifdef __cplusplus
}
#endif
#endif
