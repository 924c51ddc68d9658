/* asyncio.Semaphore and BoundedSemaphore (3.12+): FIFO even when the counter is above 0, and a
 * woken waiter that is cancelled gives its unit back. */
#include "sync/sync.h"

#include <stdlib.h>

struct corio_semaphore {
    corio_loop *loop;
    corio__waitq waiters;
    int64_t value;
    int64_t bound; /* -1: not bounded */
    uint32_t magic; /* one kind for both: a bounded semaphore is a semaphore with a bound */
};

#define CHECK(sem) CORIO__SYNC_CHECK(sem, CORIO__KIND_SEMAPHORE)

static int sem_new(corio_semaphore **out, corio_loop *loop, int64_t value, int bounded,
                   const char *fn) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (value < 0)
        return -EINVAL;
    int rc;
    corio_semaphore *sem = corio__sync_new(&loop, sizeof *sem, &rc, fn);
    if (!sem)
        return rc;
    sem->loop = loop;
    corio__waitq_init(&sem->waiters);
    sem->value = value;
    sem->bound = bounded ? value : -1;
    sem->magic = CORIO__MAGIC_LIVE(CORIO__KIND_SEMAPHORE);
    *out = sem;
    return 0;
}

int corio_semaphore_new(corio_semaphore **out, corio_loop *loop, int64_t value) {
    return sem_new(out, loop, value, 0, __func__);
}

int corio_bounded_semaphore_new(corio_semaphore **out, corio_loop *loop, int64_t value) {
    return sem_new(out, loop, value, 1, __func__);
}

int corio_semaphore_free(corio_semaphore *sem) {
    if (!sem)
        return 0;
    CHECK(sem);
    if (sem->waiters.inside)
        return -EBUSY;
    corio__waitq_fini(&sem->waiters);
    corio__sync_free(sem, &sem->magic, sem->loop);
    return 0;
}

static int locked(const corio_semaphore *sem) {
    return sem->value == 0 || !corio__waitq_all_cancelled(&sem->waiters);
}

int corio_semaphore_locked(const corio_semaphore *sem) {
    if (!sem)
        return 0;
    CHECK(sem);
    return locked(sem);
}

int64_t corio_semaphore_value(const corio_semaphore *sem) {
    if (!sem)
        return 0;
    CHECK(sem);
    return sem->value;
}

/* Hands a unit to the first waiter not yet woken. */
static int wake_next(corio_semaphore *sem) {
    for (uint32_t i = 0; i < sem->waiters.len; i++) {
        corio_future *f = corio__waitq_at(&sem->waiters, i);
        if (!corio__waiter_done(f)) {
            sem->value--;
            corio__waiter_wake(f);
            return 1;
        }
    }
    return 0;
}

int corio_semaphore_acquire(corio_semaphore *sem) {
    if (!sem)
        return -EINVAL;
    CHECK(sem);
    int rc = corio__sync_can_wait(sem->loop);
    if (rc < 0)
        return rc;
    if (!locked(sem)) {
        sem->value--;
        return 0;
    }
    corio_future *fut;
    rc = corio__sync_wait(sem->loop, &sem->waiters, &fut);
    if (fut) {
        corio__waitq_remove(&sem->waiters, fut);
        /* Woken (a unit was handed over) but not returning 0: give the unit back. */
        if (rc < 0 && corio__future_state(fut) == CORIO_FUTURE_FINISHED)
            sem->value++;
        corio__future_unref(fut);
    }
    /* Waiters that came while others were queued had to wait: wake as many as there are
     * units. */
    while (sem->value > 0 && wake_next(sem))
        ;
    return rc;
}

int corio_semaphore_acquire_nowait(corio_semaphore *sem) {
    if (!sem)
        return -EINVAL;
    CHECK(sem);
    if (locked(sem))
        return -EAGAIN;
    sem->value--;
    return 0;
}

int corio_semaphore_release(corio_semaphore *sem) {
    if (!sem)
        return -EINVAL;
    CHECK(sem);
    if ((sem->bound >= 0 && sem->value >= sem->bound) || sem->value == INT64_MAX)
        return -EOVERFLOW;
    sem->value++;
    wake_next(sem);
    return 0;
}
