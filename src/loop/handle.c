/* call_soon, call_later, call_at and their cancellable handles. */
#include "loop/loop.h"

#include <errno.h>
#include <math.h>

struct corio_handle {
    corio__work work;
    corio__timer timer;
    corio_loop *loop;
    corio_callback_fn fn;
    void *arg;
    /* The loop's reference while scheduled, plus the caller's if it asked for the handle. The
     * flags share its word so that the magic fits in the handle's 96 bytes. */
    uint32_t refs : 29, cancelled : 1, ran : 1, is_timer : 1;
    uint32_t magic; /* base/obj.h */
};

void corio__handle_pool_init(corio__pool *p) {
    corio__pool_init(p, sizeof(struct corio_handle), offsetof(struct corio_handle, magic));
}

#define CHECK(h) CORIO__CHECK(h, CORIO__KIND_HANDLE, (h)->loop)

static void handle_unref(corio_handle *h) {
    if (--h->refs)
        return;
    corio_loop *loop = h->loop;
    corio__obj_kill_live(&h->magic);
    corio__pool_free(&loop->core.handles, h);
    corio__loop_unref(loop);
}

static void handle_run(corio__work *w, int drop) {
    corio_handle *h = corio__container_of(w, corio_handle, work);
    if (!drop && !h->cancelled) {
        h->ran = 1;
        h->fn(h->arg);
    }
    handle_unref(h);
}

static void handle_expire(corio__timer *t) {
    corio_handle *h = corio__container_of(t, corio_handle, timer);
    corio__loop_schedule(h->loop, &h->work);
}

static corio_handle *handle_new(corio_loop *loop, corio_callback_fn fn, void *arg,
                                corio_handle **out) {
    corio_handle *h = corio__pool_alloc(&loop->core.handles);
    if (!h)
        return NULL;
    h->work.fn = handle_run;
    h->timer.idx = CORIO__TIMER_IDLE;
    h->timer.expire = handle_expire;
    h->loop = loop;
    h->fn = fn;
    h->arg = arg;
    h->refs = out ? 2 : 1;
    h->magic = CORIO__MAGIC_LIVE(CORIO__KIND_HANDLE);
    h->cancelled = h->ran = h->is_timer = 0;
    corio__loop_ref(loop);
    if (out)
        *out = h;
    return h;
}

/* Resolves *loop (the NULL-loop rule) and checks what every scheduling call takes, in the name
 * of the public function `name`. */
static inline int check_args(corio_handle **out, corio_loop **loop, corio_callback_fn fn,
                             const char *name) {
    if (out)
        *out = NULL;
    if (!(*loop = corio__loop_resolve_as(*loop, name)))
        return CORIO_ENOLOOP;
    if (!fn)
        return -EINVAL;
    if (corio__loop_closing(*loop))
        return CORIO_ECLOSED;
    return 0;
}

int corio_loop_call_soon(corio_handle **out, corio_loop *loop, corio_callback_fn fn, void *arg) {
    int rc = check_args(out, &loop, fn, __func__);
    if (rc < 0)
        return rc;
    corio_handle *h = handle_new(loop, fn, arg, out);
    if (!h)
        return -ENOMEM;
    corio__loop_schedule(loop, &h->work);
    return 0;
}

static int call_at_ns(corio_handle **out, corio_loop *loop, int64_t when, corio_callback_fn fn,
                      void *arg) {
    corio_handle *h = handle_new(loop, fn, arg, out);
    if (!h)
        return -ENOMEM;
    h->is_timer = 1;
    if (corio__loop_timer_at(loop, &h->timer, when) < 0) {
        if (out)
            *out = NULL;
        h->refs = 1;
        handle_unref(h);
        return -ENOMEM;
    }
    return 0;
}

int corio_loop_call_later(corio_handle **out, corio_loop *loop, double delay,
                          corio_callback_fn fn, void *arg) {
    int rc = check_args(out, &loop, fn, __func__);
    if (rc < 0)
        return rc;
    if (isnan(delay))
        return -EINVAL;
    return call_at_ns(out, loop, corio__loop_deadline(loop, corio__sec_to_ns(delay)), fn, arg);
}

int corio_loop_call_at(corio_handle **out, corio_loop *loop, double when, corio_callback_fn fn,
                       void *arg) {
    int rc = check_args(out, &loop, fn, __func__);
    if (rc < 0)
        return rc;
    if (isnan(when))
        return -EINVAL;
    return call_at_ns(out, loop, corio__sec_to_ns(when), fn, arg);
}

corio_handle *corio_handle_ref(corio_handle *h) {
    if (h) {
        CHECK(h);
        h->refs++;
    }
    return h;
}

void corio_handle_cancel(corio_handle *h) {
    if (!h)
        return;
    CHECK(h);
    if (h->cancelled || h->ran)
        return;
    h->cancelled = 1;
    /* An armed timer leaves the heap now, so a million cancelled timers cost no memory; a queued
     * callback is skipped when its turn comes. */
    if (corio__timer_armed(&h->timer)) {
        corio__loop_timer_cancel(h->loop, &h->timer);
        handle_unref(h);
    }
}

int corio_handle_cancelled(const corio_handle *h) {
    if (!h)
        return 0;
    CHECK(h);
    return h->cancelled;
}

double corio_handle_when(const corio_handle *h) {
    if (!h)
        return NAN;
    CHECK(h);
    if (!h->is_timer)
        return -1.0;
    return (double)h->timer.when / 1e9;
}

void corio_handle_unref(corio_handle *h) {
    if (!h)
        return;
    CHECK(h);
    handle_unref(h);
}
