/* corio_signal_watcher: signals a task awaits. Each distinct signal is a public subscription
 * whose call records it in the watcher's pending mask and sets the watcher's event; a wait takes
 * the lowest pending signal, and clears the event when none is left, so that waiters woken for a
 * delivery another one took go back to waiting. */
#include "signal/signal.h"

#include <errno.h>
#include <stdlib.h>

struct corio_signal_watcher {
    uint32_t magic;
    corio_loop *loop; /* held */
    corio_event *ev;
    unsigned long long pending;
    unsigned waiting;
    size_t nsubs;
    corio__sig_sub *subs[];
};

#define CHECK(w) CORIO__CHECK(w, CORIO__KIND_SIGNAL_WATCHER, (w)->loop)

static void on_delivery(corio__sig_sub *sub, int signo, void *arg) {
    (void)sub;
    corio_signal_watcher *w = arg;
    w->pending |= 1ull << (signo - 1);
    corio_event_set(w->ev);
}

static void release(corio_signal_watcher *w) {
    for (size_t i = 0; i < w->nsubs; i++)
        corio__signal_unsubscribe(w->subs[i]);
    corio_event_free(w->ev);
    corio_loop *loop = w->loop;
    corio__obj_free(w, &w->magic, corio__loop_keeps(loop));
    corio__loop_unref(loop);
}

static int subscribe_all(corio_signal_watcher *w, const int *signos, size_t n) {
    unsigned long long seen = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long long bit = 1ull << (signos[i] - 1);
        if (seen & bit)
            continue;
        seen |= bit;
        int rc = corio__signal_subscribe(&w->subs[w->nsubs], w->loop, signos[i], on_delivery, w,
                                         CORIO__SIG_PUBLIC);
        if (rc < 0)
            return rc;
        w->nsubs++;
    }
    return 0;
}

int corio_signal_watcher_new(corio_signal_watcher **out, corio_loop *loop, const int *signos,
                             size_t n) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!signos || n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!corio__sig_valid(signos[i]))
            return -EINVAL;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    /* At most 64 distinct signals (corio__sig_valid): repeats are skipped. */
    corio_signal_watcher *w = corio__calloc(1, sizeof *w + 64 * sizeof w->subs[0]);
    if (!w)
        return -ENOMEM;
    w->magic = CORIO__MAGIC_LIVE(CORIO__KIND_SIGNAL_WATCHER);
    w->loop = loop;
    corio__loop_ref(loop);
    int rc = corio_event_new(&w->ev, loop);
    if (rc == 0)
        rc = subscribe_all(w, signos, n);
    if (rc < 0) {
        release(w);
        return rc;
    }
    *out = w;
    return 0;
}

static int closed(const corio_signal_watcher *w) {
    return corio__loop_closing(w->loop) || corio__signal_sub_closed(w->subs[0]);
}

/* The lowest pending signal, taken. */
static int take(corio_signal_watcher *w) {
    int signo = __builtin_ctzll(w->pending) + 1;
    w->pending &= w->pending - 1;
    if (!w->pending)
        corio_event_clear(w->ev);
    return signo;
}

int corio_signal_watcher_wait(corio_signal_watcher *w) {
    if (!w)
        return -EINVAL;
    CHECK(w);
    corio_task *self = corio__current_task();
    if (!self)
        return CORIO_ENOTASK;
    if (corio__task_loop_of(self) != w->loop)
        return -EINVAL;
    int rc = 0;
    w->waiting++;
    while (!w->pending && rc == 0) {
        if (closed(w))
            rc = CORIO_ECLOSED;
        else if ((rc = corio_event_wait(w->ev)) == 0 && !w->pending)
            corio_event_clear(w->ev); /* another waiter took it */
    }
    w->waiting--;
    return rc < 0 ? rc : take(w);
}

unsigned long long corio_signal_watcher_pending(const corio_signal_watcher *w) {
    if (!w)
        return 0;
    CHECK(w);
    return w->pending;
}

int corio_signal_watcher_free(corio_signal_watcher *w) {
    if (!w)
        return 0;
    CHECK(w);
    if (w->waiting)
        return -EBUSY;
    release(w);
    return 0;
}
