/* asyncio.Lock: fair, and a woken waiter that is cancelled passes the wake-up on. */
#include "sync/sync.h"

#include <stdlib.h>

void corio__lock_init(corio_lock *lock, corio_loop *loop) {
    lock->loop = loop;
    corio__waitq_init(&lock->waiters);
    lock->locked = 0;
    lock->magic = CORIO__MAGIC_LIVE(CORIO__KIND_LOCK);
}

#define CHECK(lock) CORIO__SYNC_CHECK(lock, CORIO__KIND_LOCK)

int corio_lock_new(corio_lock **out, corio_loop *loop) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    int rc;
    corio_lock *lock = corio__sync_new(&loop, sizeof *lock, &rc, __func__);
    if (!lock)
        return rc;
    corio__lock_init(lock, loop);
    *out = lock;
    return 0;
}

int corio_lock_free(corio_lock *lock) {
    if (!lock)
        return 0;
    CHECK(lock);
    if (lock->waiters.inside)
        return -EBUSY;
    corio__waitq_fini(&lock->waiters);
    corio__sync_free(lock, &lock->magic, lock->loop);
    return 0;
}

/* Free, and nobody queued ahead (a queued waiter that was cancelled does not count). */
static int can_take(const corio_lock *lock) {
    return !lock->locked && corio__waitq_all_cancelled(&lock->waiters);
}

int corio_lock_acquire(corio_lock *lock) {
    if (!lock)
        return -EINVAL;
    CHECK(lock);
    int rc = corio__sync_can_wait(lock->loop);
    if (rc < 0)
        return rc;
    if (can_take(lock)) {
        lock->locked = 1;
        return 0;
    }
    corio_future *fut;
    rc = corio__sync_wait(lock->loop, &lock->waiters, &fut);
    if (fut) {
        corio__waitq_remove(&lock->waiters, fut);
        corio__future_unref(fut);
    }
    if (rc == 0) {
        lock->locked = 1;
        return 0;
    }
    /* Cancelled, possibly after release woke us: the next waiter must not be left asleep on a
     * free lock. */
    if (!lock->locked)
        corio__waitq_wake_first(&lock->waiters);
    return rc;
}

int corio_lock_acquire_nowait(corio_lock *lock) {
    if (!lock)
        return -EINVAL;
    CHECK(lock);
    if (!can_take(lock))
        return -EAGAIN;
    lock->locked = 1;
    return 0;
}

int corio_lock_release(corio_lock *lock) {
    if (!lock)
        return -EINVAL;
    CHECK(lock);
    if (!lock->locked)
        return CORIO_EINVALSTATE;
    lock->locked = 0;
    corio__waitq_wake_first(&lock->waiters);
    return 0;
}

int corio_lock_locked(const corio_lock *lock) {
    if (!lock)
        return 0;
    CHECK(lock);
    return lock->locked;
}
