/* asyncio.Event. */
#include "sync/sync.h"

#include <stdlib.h>

void corio__event_init(corio_event *ev, corio_loop *loop) {
    ev->loop = loop;
    corio__waitq_init(&ev->waiters);
    ev->set = 0;
    ev->magic = CORIO__MAGIC_LIVE(CORIO__KIND_EVENT);
}

#define CHECK(ev) CORIO__SYNC_CHECK(ev, CORIO__KIND_EVENT)

int corio_event_new(corio_event **out, corio_loop *loop) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    int rc;
    corio_event *ev = corio__sync_new(&loop, sizeof *ev, &rc, __func__);
    if (!ev)
        return rc;
    corio__event_init(ev, loop);
    *out = ev;
    return 0;
}

int corio_event_free(corio_event *ev) {
    if (!ev)
        return 0;
    CHECK(ev);
    if (ev->waiters.inside)
        return -EBUSY;
    corio__waitq_fini(&ev->waiters);
    corio__sync_free(ev, &ev->magic, ev->loop);
    return 0;
}

int corio__event_wait(corio_event *ev) {
    int rc = corio__sync_can_wait(ev->loop);
    if (rc < 0 || ev->set)
        return rc;
    corio_future *fut;
    rc = corio__sync_wait(ev->loop, &ev->waiters, &fut);
    if (fut) {
        corio__waitq_remove(&ev->waiters, fut);
        corio__future_unref(fut);
    }
    return rc;
}

int corio_event_wait(corio_event *ev) {
    if (!ev)
        return -EINVAL;
    CHECK(ev);
    return corio__event_wait(ev);
}

void corio__event_set(corio_event *ev) {
    if (ev->set)
        return;
    ev->set = 1;
    /* The woken waiters remove themselves when they run. */
    for (uint32_t i = 0; i < ev->waiters.len; i++) {
        corio_future *f = corio__waitq_at(&ev->waiters, i);
        if (!corio__waiter_done(f))
            corio__waiter_wake(f);
    }
}

int corio_event_set(corio_event *ev) {
    if (!ev)
        return -EINVAL;
    CHECK(ev);
    corio__event_set(ev);
    return 0;
}

int corio_event_clear(corio_event *ev) {
    if (!ev)
        return -EINVAL;
    CHECK(ev);
    ev->set = 0;
    return 0;
}

int corio_event_is_set(const corio_event *ev) {
    if (!ev)
        return 0;
    CHECK(ev);
    return ev->set;
}
