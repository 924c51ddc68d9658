/* The loop core: one iteration, run_forever/stop, the per-thread loop, the error handler. */
#include "loop/loop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

CORIO__TLS corio_loop *corio__running_loop;
CORIO__TLS corio_loop *corio__current_loop;

static void call_handler(corio_loop *loop, const corio_error_context *ctx);

/* Misuse reports (base/obj.h) go to the error handler of the object's loop while it lives, else
 * of the thread's running or current loop. */
static int report_misuse(const void *hint, const char *message) {
    const corio_loop *loop = hint;
    if (!loop || loop->core.magic != CORIO__MAGIC_LIVE(CORIO__KIND_LOOP))
        loop = corio__running_loop ? corio__running_loop : corio__current_loop;
    if (!loop)
        return -1;
    corio_error_context ctx = {.message = message};
    int custom = loop->core.err_fn != NULL;
    call_handler((corio_loop *)loop, &ctx);
    return custom;
}

int corio__loop_core_init(corio_loop *loop, const char *backend, int virtual_time) {
    corio__misuse_set_reporter(report_misuse);
    corio__loop_core *c = &loop->core;
    c->refs = 1;
    c->magic = CORIO__MAGIC_LIVE(CORIO__KIND_LOOP);
    c->virtual_time = virtual_time != 0;
    corio__workq_init(&c->ready);
    corio__workq_init(&c->batch);
    corio__timer_heap_init(&c->timers);
    corio__inbox_init(&c->inbox);
    c->now = corio__clock_ns();
    corio__handle_pool_init(&c->handles);
    corio__loop_add_pool(loop, &c->handles);
    return corio__poller_init(&c->poller, backend);
}

int corio__loop_close_begin(corio_loop *loop) {
    corio__loop_core *c = &loop->core;
    if (c->running)
        return CORIO_ERUNNING;
    if (c->closed || c->closing)
        return 1;
    int rc = corio__poller_attach(&c->poller);
    if (rc < 0)
        return rc; /* the kernel still holds I/O into its tasks' frames: they cannot go */
    c->closing = 1;
    return 0;
}

void corio__loop_core_term(corio_loop *loop) {
    corio__loop_core *c = &loop->core;
    /* A timer still armed here expires into the ready queue (or releases what it holds); the
     * queue is then dropped. Dropping may release the last reference to objects that queue more
     * work (a future's callbacks): drain until nothing is left. */
    for (corio__timer *t; (t = corio__timer_heap_pop_due(&c->timers, INT64_MAX));)
        t->expire(t);
    corio__timer_heap_destroy(&c->timers);
    corio__inbox_close(&c->inbox, &c->ready);
    while (!corio__workq_empty(&c->ready)) {
        corio__workq batch;
        corio__workq_take(&c->ready, &batch);
        for (corio__work *w; (w = corio__workq_pop(&batch));)
            w->fn(w, 1);
    }
    corio__poller_close(&c->poller);
    c->closed = 1;
    if (corio__current_loop == loop)
        corio__current_loop = NULL;
}

void corio__loop_release(corio_loop *loop) {
    /* Dead to the caller from now on, though its memory stays while its futures do. */
    corio__obj_kill(&loop->core.magic, loop->core.kept_any || corio__debug_env());
    corio__loop_unref(loop);
}

void corio__loop_add_pool(corio_loop *loop, corio__pool *p) {
    corio__loop_core *c = &loop->core;
    if (c->npools == CORIO__LOOP_MAX_POOLS)
        abort(); /* a layer added a pool: raise CORIO__LOOP_MAX_POOLS */
    c->pools[c->npools++] = p;
    p->keep = c->keep ? &c->pool_keep : NULL;
}

void corio__loop_unref(corio_loop *loop) {
    corio__loop_core *c = &loop->core;
    if (--c->refs)
        return;
    /* Kept objects go back to the pools they came from before the pools go. */
    corio__keep_drain(&c->pool_keep, corio__pool_unkeep);
    for (unsigned i = 0; i < c->npools; i++)
        corio__pool_destroy(c->pools[i]);
    /* Kept itself if its objects were: theirs may still name it (base/obj.h). */
    corio__obj_free(loop, &c->magic, c->kept_any || corio__debug_env());
}

void corio__loop_set_keep(corio_loop *loop, int keep) {
    corio__loop_core *c = &loop->core;
    c->keep = keep || corio__debug_env();
    c->kept_any |= c->keep;
    for (unsigned i = 0; i < c->npools; i++)
        c->pools[i]->keep = c->keep ? &c->pool_keep : NULL;
}

void corio__loop_watch(corio_loop *loop, int on) {
    loop->core.watch = on != 0;
    loop->core.watched = loop->core.debug || loop->core.watch;
}

void corio__loop_unschedule(corio_loop *loop, corio__work *w) {
    corio__workq *q = &loop->core.ready;
    corio__work **pp = &q->head;
    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (!*pp)
        return;
    *pp = w->next;
    if (q->tailp == &w->next)
        q->tailp = pp;
}

int corio__loop_timer_after(corio_loop *loop, corio__timer *t, int64_t delay_ns) {
    return corio__timer_heap_add(&loop->core.timers, t, corio__loop_deadline(loop, delay_ns));
}

static int64_t poll_timeout(corio_loop *loop) {
    corio__loop_core *c = &loop->core;
    if (!corio__workq_empty(&c->ready) || c->stopping)
        return 0;
    corio__timer *t = corio__timer_heap_top(&c->timers);
    if (!t)
        return -1;
    int64_t d = t->when - corio__loop_clock(loop);
    return d > 0 ? d : 0;
}

void corio__loop_run_once(corio_loop *loop) {
    corio__loop_core *c = &loop->core;
    int64_t timeout = poll_timeout(loop);
    if (timeout > 0 && c->virtual_time) {
        /* Nothing to do until the nearest timer: jump to it rather than sleep, but still look at
         * the I/O backend (timeout 0) so that ready fds and wake-ups are seen first. */
        c->now = corio__timer_heap_top(&c->timers)->when;
        timeout = 0;
    }
    if (timeout != 0 && corio__inbox_prepare_sleep(&c->inbox))
        timeout = 0;
    /* With ready work and no fd to watch, polling would only cost a system call per iteration. */
    if (timeout != 0 || c->poller.nwatched)
        corio__poller_wait(&c->poller, timeout);
    corio__inbox_drain(&c->inbox, &c->ready);
    if (corio__timer_heap_count(&c->timers)) {
        c->now = corio__loop_clock(loop);
        for (corio__timer *t; (t = corio__timer_heap_pop_due(&c->timers, c->now));)
            t->expire(t);
    }
    corio__workq_take(&c->ready, &c->batch);
    if (__builtin_expect(c->watched, 0)) {
        c->run_watched(loop, &c->batch);
        return;
    }
    for (corio__work *w; (w = corio__workq_pop(&c->batch));)
        w->fn(w, 0);
}

int corio_loop_run_forever(corio_loop *loop) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    corio__loop_core *c = &loop->core;
    if (c->closed || c->closing)
        return CORIO_ECLOSED;
    if (corio__running_loop)
        return CORIO_ERUNNING;
    int rc = corio__poller_attach(&c->poller);
    if (rc < 0)
        return rc;
    corio__running_loop = loop;
    c->running = 1;
    if (c->on_run)
        c->on_run(loop);
    for (;;) {
        corio__loop_run_once(loop);
        if (c->stopping)
            break;
    }
    c->stopping = 0;
    c->running = 0;
    corio__running_loop = NULL;
    return 0;
}

int corio_loop_stop(corio_loop *loop) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    loop->core.stopping = 1;
    return 0;
}

int corio_loop_is_running(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return loop && loop->core.running;
}

int corio_loop_is_closed(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return loop && loop->core.closed;
}

double corio_loop_time(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return (double)(loop ? corio__loop_clock(loop) : corio__clock_ns()) / 1e9;
}

int corio_loop_set_debug(corio_loop *loop, int enabled) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    loop->core.debug = enabled != 0;
    corio__loop_watch(loop, loop->core.watch);
    corio__loop_set_keep(loop, loop->core.debug);
    return 0;
}

int corio_loop_get_debug(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return loop && loop->core.debug;
}

/* ---- per-thread loop ---- */

corio_loop *corio_get_running_loop(void) { return corio__running_loop; }

/* asyncio 3.14's: no loop is created behind the caller's back. */
corio_loop *corio_get_event_loop(void) { return corio__loop_resolve(NULL); }

int corio_set_event_loop(corio_loop *loop) {
    if (loop)
        CORIO__LOOP_CHECK(loop);
    if (corio__running_loop)
        return CORIO_ERUNNING;
    if (loop && corio__loop_closing(loop))
        return CORIO_ECLOSED;
    corio__current_loop = loop;
    return 0;
}

/* ---- error reporting ---- */

static _Atomic(const char *(*)(corio_task *)) task_name;

void corio__loop_hook_task_name(const char *(*fn)(corio_task *)) {
    atomic_store_explicit(&task_name, fn, memory_order_relaxed);
}

void corio_loop_default_error_handler(corio_loop *loop, const corio_error_context *ctx) {
    (void)loop;
    if (!ctx)
        return;
    char task[160] = "";
    const char *(*name)(corio_task *) = atomic_load_explicit(&task_name, memory_order_relaxed);
    if (ctx->task && name)
        snprintf(task, sizeof task, " (task '%s')", name(ctx->task));
    else if (ctx->task)
        snprintf(task, sizeof task, " (task %p)", (void *)ctx->task);
    if (ctx->err)
        fprintf(stderr, "corio: %s%s: %s\n", ctx->message ? ctx->message : "error", task,
                corio_strerror(ctx->err));
    else
        fprintf(stderr, "corio: %s%s\n", ctx->message ? ctx->message : "error", task);
}

int corio_loop_set_error_handler(corio_loop *loop, corio_error_handler_fn fn, void *arg) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    loop->core.err_fn = fn;
    loop->core.err_arg = arg;
    return 0;
}

static void call_handler(corio_loop *loop, const corio_error_context *ctx) {
    if (loop->core.err_fn)
        loop->core.err_fn(loop, ctx, loop->core.err_arg);
    else
        corio_loop_default_error_handler(loop, ctx);
}

int corio_loop_call_error_handler(corio_loop *loop, const corio_error_context *ctx) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!ctx)
        return -EINVAL;
    call_handler(loop, ctx);
    return 0;
}

/* Also for a loop its owner has freed: its futures still report when they go. */
void corio__loop_report(corio_loop *loop, const char *message, int err, corio_future *fut,
                        corio_task *task) {
    corio_error_context ctx = {message, err, fut, task};
    call_handler(loop, &ctx);
}
