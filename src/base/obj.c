/* Misuse reports and the keep of freed objects (base/obj.h). */
#include "base/obj.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[CORIO__KIND_COUNT] = {
    [CORIO__KIND_LOOP] = "loop",
    [CORIO__KIND_FUTURE] = "future",
    [CORIO__KIND_TASK] = "task",
    [CORIO__KIND_HANDLE] = "handle",
    [CORIO__KIND_STREAM] = "stream connection",
    [CORIO__KIND_SERVER] = "server",
    [CORIO__KIND_LOCK] = "lock",
    [CORIO__KIND_EVENT] = "event",
    [CORIO__KIND_CONDITION] = "condition",
    [CORIO__KIND_SEMAPHORE] = "semaphore",
    [CORIO__KIND_BARRIER] = "barrier",
    [CORIO__KIND_QUEUE] = "queue",
    [CORIO__KIND_TASKGROUP] = "task group",
    [CORIO__KIND_TIMEOUT] = "timeout scope",
    [CORIO__KIND_AS_COMPLETED] = "as_completed iterator",
    [CORIO__KIND_EXECUTOR] = "executor",
    [CORIO__KIND_CONCURRENT] = "concurrent handle",
    [CORIO__KIND_SIGNAL_WATCHER] = "signal watcher",
    [CORIO__KIND_PROCESS] = "process",
};

static const char *kind_name(corio__kind kind) {
    return kind > 0 && kind < CORIO__KIND_COUNT ? kind_names[kind] : "object";
}

/* ---- reports ---- */

static _Atomic(corio__misuse_reporter_fn) reporter;
static __thread int reporting; /* a handler that misuses an object too must not loop */

void corio__misuse_set_reporter(corio__misuse_reporter_fn fn) {
    atomic_store_explicit(&reporter, fn, memory_order_relaxed);
}

/* The dead value of `expected` (a future's functions also name a dead task as one). */
static int freed_as(uint32_t magic, corio__kind expected) {
    if ((magic & 0xffff0000u) != CORIO__MAGIC_DEAD(0))
        return 0;
    corio__kind k = corio__magic_kind(magic);
    return k == expected || (expected == CORIO__KIND_FUTURE && k == CORIO__KIND_TASK);
}

void corio__misuse(const void *obj, uint32_t magic, corio__kind kind, const char *fn,
                   const void *loop) {
    char msg[256];
    if (freed_as(magic, kind))
        snprintf(msg, sizeof msg,
                 "%s: %s %p used after it was freed (a second free, or a call on a freed object)",
                 fn, kind_name(corio__magic_kind(magic)), obj);
    else
        snprintf(msg, sizeof msg, "%s: %p is not a live %s", fn, obj, kind_name(kind));
    corio__misuse_reporter_fn report = atomic_load_explicit(&reporter, memory_order_relaxed);
    int where = -1;
    if (report && !reporting) {
        reporting = 1;
        where = report(loop, msg);
    }
    /* The abort explains itself whatever a handler of the user's did with the message (the
     * default handler has written it already). */
    if (where != 0)
        fprintf(stderr, "corio: %s\n", msg);
    abort();
}

int corio__debug_env(void) {
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        const char *s = getenv("CORIO_DEBUG");
        v = s && *s && strcmp(s, "0") != 0;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/* ---- the keep ---- */

corio__kept corio__keep_push(corio__keep *k, void *obj, void *ctx) {
    if (!k->ring) {
        k->ring = calloc(CORIO__KEEP_CAP, sizeof *k->ring);
        if (!k->ring)
            return (corio__kept){obj, ctx};
        k->cap = CORIO__KEEP_CAP;
        k->next = 0;
    }
    corio__kept *slot = &k->ring[k->next];
    corio__kept out = *slot;
    *slot = (corio__kept){obj, ctx};
    k->next = (k->next + 1) % k->cap;
    return out;
}

void corio__keep_drain(corio__keep *k, void (*release)(void *obj, void *ctx)) {
    if (!k->ring)
        return;
    for (uint32_t i = 0; i < k->cap; i++) {
        corio__kept *slot = &k->ring[(k->next + i) % k->cap];
        if (slot->obj)
            release(slot->obj, slot->ctx);
    }
    free(k->ring);
    *k = (corio__keep){0};
}

/* The process's keep, for malloc'd objects: static, so that what it holds stays reachable for
 * leak checkers, and shared by every thread (executors and concurrent handles are freed from
 * any). */
static corio__kept process_ring[CORIO__KEEP_CAP];
static corio__keep process_keep = {process_ring, CORIO__KEEP_CAP, 0};
static pthread_mutex_t process_mu = PTHREAD_MUTEX_INITIALIZER;

void corio__obj_free(void *obj, uint32_t *magic, int keep) {
    corio__obj_kill(magic, keep);
    if (!keep) {
        free(obj);
        return;
    }
    pthread_mutex_lock(&process_mu);
    corio__kept out = corio__keep_push(&process_keep, obj, magic);
    pthread_mutex_unlock(&process_mu);
    if (out.obj) {
        corio__obj_unkeep(out.ctx);
        free(out.obj);
    }
}
