/* The loop core: one iteration, run_forever/stop, the per-thread loop, the error handler. */
#include "loop/loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

CORIO__TLS corio_loop *corio__running_loop;
CORIO__TLS corio_loop *corio__current_loop;

static void call_handler(corio_loop *loop, const corio_error_context *ctx);

/* Misuse reports (base/obj.h) go to the error handler of the object's loop while it lives, else
 * of the thread's running or current loop. */
static int report_misuse(const void *hint, const char *message) {
    const corio_loop *loop = hint;
    if (!loop || loop->magic != CORIO__MAGIC_LIVE(CORIO__KIND_LOOP))
        loop = corio__running_loop ? corio__running_loop : corio__current_loop;
    if (!loop)
        return -1;
    corio_error_context ctx = {.message = message};
    int custom = loop->err_fn != NULL;
    call_handler((corio_loop *)loop, &ctx);
    return custom;
}

int corio__loop_init(corio_loop *loop, const char *backend) {
    corio__misuse_set_reporter(report_misuse);
    loop->refs = 1;
    loop->magic = CORIO__MAGIC_LIVE(CORIO__KIND_LOOP);
    corio__workq_init(&loop->ready);
    corio__workq_init(&loop->batch);
    corio__timer_heap_init(&loop->timers);
    corio__list_init(&loop->tasks);
    corio__inbox_init(&loop->inbox);
    loop->now = corio__clock_ns();
    return corio__poller_init(&loop->poller, backend);
}

void corio__loop_fini(corio_loop *loop) {
    /* A timer still armed here expires into the ready queue (or releases what it holds); the
     * queue is then dropped. Dropping may release the last reference to objects that queue more
     * work (a future's callbacks): drain until nothing is left. */
    for (corio__timer *t; (t = corio__timer_heap_pop_due(&loop->timers, INT64_MAX));)
        t->expire(t);
    corio__timer_heap_destroy(&loop->timers);
    corio__inbox_close(&loop->inbox, &loop->ready);
    while (!corio__workq_empty(&loop->ready)) {
        corio__workq batch;
        corio__workq_take(&loop->ready, &batch);
        for (corio__work *w; (w = corio__workq_pop(&batch));)
            w->fn(w, 1);
    }
    corio__poller_close(&loop->poller);
}

void corio__loop_unref(corio_loop *loop) {
    if (--loop->refs)
        return;
    /* Kept objects go back to the pools they came from before the pools go. */
    corio__keep_drain(&loop->pool_keep, corio__pool_unkeep);
    for (int i = 0; i < CORIO__POOL_COUNT; i++)
        corio__pool_destroy(&loop->pools[i]);
    /* Kept itself if its objects were: theirs may still name it (base/obj.h). */
    corio__obj_free(loop, &loop->magic, loop->kept_any || corio__debug_env());
}

void corio__loop_set_keep(corio_loop *loop, int keep) {
    loop->keep = keep || corio__debug_env();
    loop->kept_any |= loop->keep;
    for (int i = 0; i < CORIO__POOL_COUNT; i++)
        loop->pools[i].keep = loop->keep ? &loop->pool_keep : NULL;
}

int corio__loop_timer_after(corio_loop *loop, corio__timer *t, int64_t delay_ns) {
    return corio__timer_heap_add(&loop->timers, t, corio__loop_deadline(loop, delay_ns));
}

static int64_t poll_timeout(corio_loop *loop) {
    if (!corio__workq_empty(&loop->ready) || loop->stopping)
        return 0;
    corio__timer *t = corio__timer_heap_top(&loop->timers);
    if (!t)
        return -1;
    int64_t d = t->when - corio__loop_clock(loop);
    return d > 0 ? d : 0;
}

void corio__loop_run_once(corio_loop *loop) {
    int64_t timeout = poll_timeout(loop);
    if (timeout > 0 && loop->virtual_time) {
        /* Nothing to do until the nearest timer: jump to it rather than sleep, but still look at
         * the I/O backend (timeout 0) so that ready fds and wake-ups are seen first. */
        loop->now = corio__timer_heap_top(&loop->timers)->when;
        timeout = 0;
    }
    if (timeout != 0 && corio__inbox_prepare_sleep(&loop->inbox))
        timeout = 0;
    /* With ready work and no fd to watch, polling would only cost a system call per iteration. */
    if (timeout != 0 || loop->poller.nwatched)
        corio__poller_wait(&loop->poller, timeout);
    corio__inbox_drain(&loop->inbox, &loop->ready);
    if (corio__timer_heap_count(&loop->timers)) {
        loop->now = corio__loop_clock(loop);
        for (corio__timer *t; (t = corio__timer_heap_pop_due(&loop->timers, loop->now));)
            t->expire(t);
    }
    corio__workq_take(&loop->ready, &loop->batch);
    if (__builtin_expect(loop->watched, 0)) {
        loop->run_watched(loop);
        return;
    }
    for (corio__work *w; (w = corio__workq_pop(&loop->batch));)
        w->fn(w, 0);
}

int corio_loop_run_forever(corio_loop *loop) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (loop->closed || loop->closing)
        return CORIO_ECLOSED;
    if (corio__running_loop)
        return CORIO_ERUNNING;
    int rc = corio__poller_attach(&loop->poller);
    if (rc < 0)
        return rc;
    corio__running_loop = loop;
    loop->running = 1;
    corio__fiber_init_home(&loop->home);
    for (;;) {
        corio__loop_run_once(loop);
        if (loop->stopping)
            break;
    }
    loop->stopping = 0;
    loop->running = 0;
    corio__running_loop = NULL;
    return 0;
}

int corio_loop_stop(corio_loop *loop) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    loop->stopping = 1;
    return 0;
}

int corio_loop_is_running(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return loop && loop->running;
}

int corio_loop_is_closed(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return loop && loop->closed;
}

double corio_loop_time(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return (double)(loop ? corio__loop_clock(loop) : corio__clock_ns()) / 1e9;
}

int corio_loop_set_debug(corio_loop *loop, int enabled) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    loop->debug = enabled != 0;
    loop->watched = loop->debug || loop->dump_signo;
    corio__loop_set_keep(loop, loop->debug);
    return 0;
}

int corio_loop_get_debug(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return loop && loop->debug;
}

/* ---- per-thread loop ---- */

corio_loop *corio_get_running_loop(void) { return corio__running_loop; }

/* asyncio 3.14's: no loop is created behind the caller's back. */
corio_loop *corio_get_event_loop(void) { return corio__loop_resolve(NULL); }

int corio_set_event_loop(corio_loop *loop) {
    if (loop)
        CORIO__CHECK(loop, CORIO__KIND_LOOP, NULL);
    if (corio__running_loop)
        return CORIO_ERUNNING;
    if (loop && (loop->closed || loop->closing))
        return CORIO_ECLOSED;
    corio__current_loop = loop;
    return 0;
}

/* ---- error reporting ---- */

void corio_loop_default_error_handler(corio_loop *loop, const corio_error_context *ctx) {
    (void)loop;
    if (!ctx)
        return;
    char task[160] = "";
    if (ctx->task)
        snprintf(task, sizeof task, " (task '%s')", corio_task_get_name(ctx->task));
    if (ctx->err)
        fprintf(stderr, "corio: %s%s: %s\n", ctx->message ? ctx->message : "error", task,
                corio_strerror(ctx->err));
    else
        fprintf(stderr, "corio: %s%s\n", ctx->message ? ctx->message : "error", task);
}

int corio_loop_set_error_handler(corio_loop *loop, corio_error_handler_fn fn, void *arg) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    loop->err_fn = fn;
    loop->err_arg = arg;
    return 0;
}

static void call_handler(corio_loop *loop, const corio_error_context *ctx) {
    if (loop->err_fn)
        loop->err_fn(loop, ctx, loop->err_arg);
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
