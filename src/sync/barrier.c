/* asyncio.Barrier: a condition and a state machine. FILLING: tasks arrive and wait; the last one
 * switches to DRAINING and lets them all out; newcomers wait until the last one has left.
 * RESETTING (reset while tasks are inside) and BROKEN (abort) send the tasks inside away with
 * CORIO_EBROKEN. */
#include "sync/sync.h"

#include <limits.h>
#include <stdlib.h>

enum { FILLING, DRAINING, RESETTING, BROKEN };

struct corio_barrier {
    corio_condition *cond;
    corio_loop *loop; /* the condition's, for a misuse report once the condition is gone */
    size_t parties;
    size_t count; /* tasks inside wait, past the entry check */
    int state;
    uint32_t magic;
};

#define CHECK(b) CORIO__SYNC_CHECK(b, CORIO__KIND_BARRIER)

int corio_barrier_new(corio_barrier **out, corio_loop *loop, size_t parties) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (parties < 1 || parties > INT_MAX) /* an arrival index is returned as an int */
        return -EINVAL;
    corio_barrier *b = corio__malloc(sizeof *b);
    if (!b)
        return -ENOMEM;
    int rc = corio_condition_new(&b->cond, loop, NULL);
    if (rc < 0) {
        free(b);
        return rc;
    }
    b->loop = corio__condition_loop(b->cond);
    b->parties = parties;
    b->count = 0;
    b->state = FILLING;
    b->magic = CORIO__MAGIC_LIVE(CORIO__KIND_BARRIER);
    *out = b;
    return 0;
}

int corio_barrier_free(corio_barrier *b) {
    if (!b)
        return 0;
    CHECK(b);
    /* The barrier holds no loop reference of its own: one is taken across the two frees, so
     * that the loop a kept barrier names outlives it in the keep (base/obj.h). */
    corio_loop *loop = b->loop;
    corio__loop_ref(loop);
    int rc = corio_condition_free(b->cond);
    if (rc == 0)
        corio__obj_free(b, &b->magic, corio__loop_keeps(loop));
    corio__loop_unref(loop);
    return rc;
}

static int not_draining(void *arg) {
    corio_barrier *b = arg;
    return b->state != DRAINING && b->state != RESETTING;
}

static int not_filling(void *arg) { return ((corio_barrier *)arg)->state != FILLING; }

/* Condition.wait_for, keeping track of whether the lock is held. */
static int wait_until(corio_barrier *b, int (*pred)(void *), int *held) {
    while (!pred(b)) {
        int rc = corio__condition_wait(b->cond, held);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The last task out signals those waiting for the pass to drain. */
static void leave(corio_barrier *b) {
    if (--b->count == 0) {
        if (b->state == RESETTING || b->state == DRAINING)
            b->state = FILLING;
        corio__condition_notify(b->cond, SIZE_MAX);
    }
}

/* Inside the condition's lock: wait for the pass in progress to drain, then take part. */
static int pass(corio_barrier *b, int *held) {
    int rc = wait_until(b, not_draining, held);
    if (rc < 0)
        return rc;
    if (b->state == BROKEN)
        return CORIO_EBROKEN;
    size_t index = b->count++;
    if (index + 1 == b->parties) {
        b->state = DRAINING;
        corio__condition_notify(b->cond, SIZE_MAX);
    } else {
        rc = wait_until(b, not_filling, held);
        if (rc == 0 && (b->state == BROKEN || b->state == RESETTING))
            rc = CORIO_EBROKEN;
    }
    leave(b);
    return rc < 0 ? rc : (int)index;
}

int corio_barrier_wait(corio_barrier *b) {
    if (!b)
        return -EINVAL;
    CHECK(b);
    int rc = corio_condition_acquire(b->cond);
    if (rc < 0)
        return rc;
    int held = 1;
    int r = pass(b, &held);
    if (held)
        corio_condition_release(b->cond);
    return r;
}

/* asyncio's reset and abort take the condition's lock first; no task holds it across a
 * suspension here (waiting in the condition releases it), so doing without it changes
 * nothing and lets them be called from any code on the loop's thread. */
int corio_barrier_reset(corio_barrier *b) {
    if (!b)
        return -EINVAL;
    CHECK(b);
    if (b->count > 0)
        b->state = RESETTING;
    else
        b->state = FILLING;
    corio__condition_notify(b->cond, SIZE_MAX);
    return 0;
}

int corio_barrier_abort(corio_barrier *b) {
    if (!b)
        return -EINVAL;
    CHECK(b);
    b->state = BROKEN;
    corio__condition_notify(b->cond, SIZE_MAX);
    return 0;
}

size_t corio_barrier_parties(const corio_barrier *b) {
    if (!b)
        return 0;
    CHECK(b);
    return b->parties;
}

size_t corio_barrier_n_waiting(const corio_barrier *b) {
    if (!b)
        return 0;
    CHECK(b);
    return b->state == FILLING ? b->count : 0;
}

int corio_barrier_broken(const corio_barrier *b) {
    if (!b)
        return 0;
    CHECK(b);
    return b->state == BROKEN;
}
