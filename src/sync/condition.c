/* asyncio.Condition (3.13): wait re-acquires the lock even when cancelled, and a waiter that
 * fails after it may have been notified passes a notification on. */
#include "sync/sync.h"

#include <stdlib.h>

struct corio_condition {
    corio_loop *loop;
    corio_lock *lock;
    corio__waitq waiters;
    corio_lock own; /* the lock when none was given */
    uint32_t magic;
};

#define CHECK(cond) CORIO__SYNC_CHECK(cond, CORIO__KIND_CONDITION)

int corio_condition_new(corio_condition **out, corio_loop *loop, corio_lock *lock) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    int rc;
    if (lock)
        CORIO__SYNC_CHECK(lock, CORIO__KIND_LOCK);
    corio_condition *cond = corio__sync_new(&loop, sizeof *cond, &rc, __func__);
    if (!cond)
        return rc;
    if (lock && lock->loop != loop) {
        free(cond);
        corio__loop_unref(loop);
        return -EINVAL;
    }
    cond->loop = loop;
    corio__waitq_init(&cond->waiters);
    corio__lock_init(&cond->own, loop);
    cond->lock = lock ? lock : &cond->own;
    cond->magic = CORIO__MAGIC_LIVE(CORIO__KIND_CONDITION);
    *out = cond;
    return 0;
}

int corio_condition_free(corio_condition *cond) {
    if (!cond)
        return 0;
    CHECK(cond);
    if (cond->waiters.inside || cond->own.waiters.inside)
        return -EBUSY;
    corio__waitq_fini(&cond->waiters);
    corio__waitq_fini(&cond->own.waiters);
    corio__sync_free(cond, &cond->magic, cond->loop);
    return 0;
}

corio_loop *corio__condition_loop(const corio_condition *cond) { return cond->loop; }

int corio_condition_acquire(corio_condition *cond) {
    if (!cond)
        return -EINVAL;
    CHECK(cond);
    return corio_lock_acquire(cond->lock);
}

int corio_condition_release(corio_condition *cond) {
    if (!cond)
        return -EINVAL;
    CHECK(cond);
    return corio_lock_release(cond->lock);
}

int corio_condition_locked(const corio_condition *cond) {
    if (!cond)
        return 0;
    CHECK(cond);
    return corio_lock_locked(cond->lock);
}

/* Takes the lock back after a wait, whatever happens meanwhile: a cancellation only changes
 * what the wait returns. Gives up only when the loop closes under the task (every await fails
 * then) or memory runs out. */
static int reacquire(corio_condition *cond, int rc, int *held) {
    for (;;) {
        int r = corio_lock_acquire(cond->lock);
        if (r == 0) {
            *held = 1;
            return rc;
        }
        if (r != -ECANCELED || corio__task_destroying(corio__current_task()))
            return r;
        rc = r;
    }
}

int corio__condition_wait(corio_condition *cond, int *held) {
    *held = corio_lock_locked(cond->lock);
    int rc = corio__sync_can_wait(cond->loop);
    if (rc < 0)
        return rc;
    if (!*held)
        return CORIO_EINVALSTATE;
    corio_lock_release(cond->lock);
    *held = 0;
    corio_future *fut;
    rc = corio__sync_wait(cond->loop, &cond->waiters, &fut);
    if (fut) {
        corio__waitq_remove(&cond->waiters, fut);
        corio__future_unref(fut);
    }
    rc = reacquire(cond, rc, held);
    if (rc < 0)
        corio__condition_notify(cond, 1);
    return rc;
}

int corio_condition_wait(corio_condition *cond) {
    if (!cond)
        return -EINVAL;
    CHECK(cond);
    int held;
    return corio__condition_wait(cond, &held);
}

int corio_condition_wait_for(corio_condition *cond, int (*pred)(void *arg), void *arg) {
    if (!cond)
        return -EINVAL;
    CHECK(cond);
    if (!pred)
        return -EINVAL;
    while (!pred(arg)) {
        int rc = corio_condition_wait(cond);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void corio__condition_notify(corio_condition *cond, size_t n) {
    /* The woken waiters remove themselves when they run. */
    for (uint32_t i = 0; i < cond->waiters.len && n > 0; i++) {
        corio_future *f = corio__waitq_at(&cond->waiters, i);
        if (!corio__waiter_done(f)) {
            corio__waiter_wake(f);
            n--;
        }
    }
}

int corio_condition_notify(corio_condition *cond, size_t n) {
    if (!cond)
        return -EINVAL;
    CHECK(cond);
    if (!corio_lock_locked(cond->lock))
        return CORIO_EINVALSTATE;
    corio__condition_notify(cond, n);
    return 0;
}

int corio_condition_notify_all(corio_condition *cond) { return corio_condition_notify(cond, SIZE_MAX); }
