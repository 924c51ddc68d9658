/* asyncio.Event. */
#include "sync/sync.h"

#include <stdlib.h>

void corio__event_init(corio_event *ev, corio_loop *loop) {
    ev->loop = loop;
    corio__waitq_init(&ev->waiters);
    ev->set = 0;
}

int corio_event_new(corio_event **out, corio_loop *loop) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    int rc;
    corio_event *ev = corio__sync_new(&loop, sizeof *ev, &rc);
    if (!ev)
        return rc;
    corio__event_init(ev, loop);
    *out = ev;
    return 0;
}

int corio_event_free(corio_event *ev) {
    if (!ev)
        return 0;
    if (ev->waiters.inside)
        return -EBUSY;
    corio__waitq_fini(&ev->waiters);
    corio__loop_unref(ev->loop);
    free(ev);
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
        corio_future_unref(fut);
    }
    return rc;
}

int corio_event_wait(corio_event *ev) { return ev ? corio__event_wait(ev) : -EINVAL; }

void corio__event_set(corio_event *ev) {
    if (ev->set)
        return;
    ev->set = 1;
    /* The woken waiters remove themselves when they run. */
    for (uint32_t i = 0; i < ev->waiters.len; i++) {
        corio_future *f = corio__waitq_at(&ev->waiters, i);
        if (!corio_future_done(f))
            corio_future_set_result(f, NULL);
    }
}

int corio_event_set(corio_event *ev) {
    if (!ev)
        return -EINVAL;
    corio__event_set(ev);
    return 0;
}

int corio_event_clear(corio_event *ev) {
    if (!ev)
        return -EINVAL;
    ev->set = 0;
    return 0;
}

int corio_event_is_set(const corio_event *ev) { return ev && ev->set; }
