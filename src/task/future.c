/* Futures: three states, an outcome, done callbacks scheduled on the loop, as asyncio's. */
#include "task/future.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *corio__strdup(const char *s) { return s ? corio__strdup_raw(s) : NULL; }

#define CHECK(f) CORIO__CHECK_FUTURE(f)

void corio__future_init(corio_future *f, corio_loop *loop, int kind) {
    f->loop = loop;
    f->kind = (uint8_t)kind;
    f->magic = CORIO__MAGIC_LIVE(kind == CORIO__FUT_TASK ? CORIO__KIND_TASK : CORIO__KIND_FUTURE);
    f->refs = 1;
    f->state = CORIO_FUTURE_PENDING;
    f->flags = 0;
    f->err = 0;
    f->result = NULL;
    f->cbs = NULL;
    f->cancel_msg = NULL;
    corio__loop_ref(loop);
}

int corio_future_new(corio_future **out, corio_loop *loop) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    return corio__future_new(out, loop);
}

int corio__future_new(corio_future **out, corio_loop *loop) {
    *out = NULL;
    /* Not refused while the loop closes: a task being destroyed may still make the future its
     * await then fails on at once. */
    if (corio__loop_closed(loop))
        return CORIO_ECLOSED;
    corio_future *f = corio__pool_alloc(&loop->task.pools[CORIO__POOL_FUTURE]);
    if (!f)
        return -ENOMEM;
    corio__future_init(f, loop, CORIO__FUT_PLAIN);
    *out = f;
    return 0;
}

corio_future *corio_future_ref(corio_future *f) {
    if (f) {
        CHECK(f);
        f->refs++;
    }
    return f;
}

static void free_fcb(corio_loop *loop, corio__fcb_node *cb) {
    corio__pool_free(&loop->task.pools[CORIO__POOL_CBNODE], cb);
}

static void report_unretrieved(corio_future *f) {
    int task = f->kind == CORIO__FUT_TASK;
    corio__loop_report(f->loop,
                       task ? "Task exception was never retrieved"
                            : "Future exception was never retrieved",
                       f->err, f, task ? (corio_task *)f : NULL);
}

/* Debug mode's checks on a future being freed: an error nobody looked at, or callbacks that will
 * never run because nobody will complete the future now. */
__attribute__((cold, noinline)) static void report_on_free(corio_future *f) {
    int unretrieved =
        f->state == CORIO_FUTURE_FINISHED && f->err && !(f->flags & CORIO__F_RETRIEVED);
    int orphaned = f->state == CORIO_FUTURE_PENDING && ((f->flags & CORIO__F_CB0_USED) || f->cbs);
    if (!unretrieved && !orphaned)
        return;
    f->refs = 1; /* the handler may look at it */
    if (unretrieved)
        report_unretrieved(f);
    else
        corio__loop_report(f->loop,
                           "Future was destroyed but it is pending, with done callbacks that will "
                           "never run",
                           0, f, NULL);
    f->refs = 0;
}

void corio__future_unref(corio_future *f) {
    if (--f->refs)
        return;
    corio_loop *loop = f->loop;
    if (corio__loop_debug(loop))
        report_on_free(f); /* while it is live: the handler may look at it */
    corio__obj_kill_live(&f->magic);
    for (corio__fcb_node *cb = f->cbs, *next; cb; cb = next) {
        next = cb->next;
        free_fcb(loop, cb);
    }
    if (__builtin_expect(f->cancel_msg != NULL, 0)) /* spares the call for most futures */
        free(f->cancel_msg);
    const corio__future_ops *ops = corio__future_ops_of(f);
    if (ops)
        ops->destroy(f);
    else
        corio__pool_free(&loop->task.pools[CORIO__POOL_FUTURE], f);
    corio__loop_unref(loop);
}

void corio_future_unref(corio_future *f) {
    if (!f)
        return;
    CHECK(f);
    corio__future_unref(f);
}

/* ---- callbacks ---- */

/* Runs (or drops) a queued registration. The registration is released before the call, since
 * the callback may add another one. */
static void cb0_run(corio__work *w, int drop) {
    corio_future *f = corio__container_of(w, corio_future, cb0.work);
    corio_done_fn fn = f->cb0.fn;
    void *arg = f->cb0.arg;
    f->flags &= ~CORIO__F_CB0_QUEUED;
    if (!drop)
        fn(f, arg);
    corio__future_unref(f);
}

static void node_run(corio__work *w, int drop) {
    corio__fcb_node *node = corio__container_of(w, corio__fcb_node, cb.work);
    corio_future *f = node->fut;
    corio_done_fn fn = node->cb.fn;
    void *arg = node->cb.arg;
    free_fcb(f->loop, node);
    if (!drop)
        fn(f, arg);
    corio__future_unref(f);
}

/* Marks a node registered by corio__future_add_eager_callback: schedule_callbacks runs it in
 * place, so it is never queued (a distinct body, so that no linker folds it into node_run). */
static void node_eager(corio__work *w, int drop) {
    (void)w;
    (void)drop;
    abort();
}

static void run_eager_node(corio_future *f, corio__fcb_node *node) {
    corio_done_fn fn = node->cb.fn;
    void *arg = node->cb.arg;
    free_fcb(f->loop, node);
    f->refs++;
    fn(f, arg);
    corio__future_unref(f);
}

void *corio__work_callback_arg(corio__work *w, corio_done_fn fn) {
    if (w->fn == cb0_run) {
        corio_future *f = corio__container_of(w, corio_future, cb0.work);
        return f->cb0.fn == fn ? f->cb0.arg : NULL;
    }
    if (w->fn == node_run) {
        corio__fcb_node *node = corio__container_of(w, corio__fcb_node, cb.work);
        return node->cb.fn == fn ? node->cb.arg : NULL;
    }
    return NULL;
}

static void schedule(corio_future *f, corio__fcb *cb) {
    f->refs++; /* the queued callback keeps the future alive */
    corio__loop_schedule(f->loop, &cb->work);
}

static void schedule_callbacks(corio_future *f) {
    if (f->flags & CORIO__F_CB0_EAGER) {
        f->flags &= (uint8_t)~(CORIO__F_CB0_USED | CORIO__F_CB0_EAGER);
        f->refs++;
        f->cb0.fn(f, f->cb0.arg);
        corio__future_unref(f);
    }
    if (f->flags & CORIO__F_CB0_USED) {
        f->flags = (uint8_t)((f->flags & ~CORIO__F_CB0_USED) | CORIO__F_CB0_QUEUED);
        schedule(f, &f->cb0);
    }
    corio__fcb_node *node = f->cbs;
    f->cbs = NULL;
    for (corio__fcb_node *next; node; node = next) {
        next = node->next;
        if (node->cb.work.fn == node_eager)
            run_eager_node(f, node);
        else
            schedule(f, &node->cb);
    }
}

/* A registration after the first: a node at the end of the list. NULL on -ENOMEM. */
static __attribute__((noinline)) corio__fcb *add_node(corio_future *f) {
    corio__fcb_node *node = corio__pool_alloc(&f->loop->task.pools[CORIO__POOL_CBNODE]);
    if (!node)
        return NULL;
    node->next = NULL;
    node->fut = f;
    corio__fcb_node **tail = &f->cbs;
    while (*tail)
        tail = &(*tail)->next;
    *tail = node;
    node->cb.work.fn = node_run;
    return &node->cb;
}

/* Appends a registration (cb0 or a node) without scheduling anything; NULL on -ENOMEM. Small, so
 * that it inlines: the first registration is on the path of every await. */
static inline corio__fcb *add_registration(corio_future *f, corio_done_fn fn, void *arg) {
    corio__fcb *cb;
    /* cb0 only while no later registration exists, so that order is kept after a removal. */
    if (__builtin_expect(!(f->flags & (CORIO__F_CB0_USED | CORIO__F_CB0_QUEUED)) && !f->cbs, 1)) {
        cb = &f->cb0;
        cb->work.fn = cb0_run;
        f->flags |= CORIO__F_CB0_USED;
    } else if (!(cb = add_node(f))) {
        return NULL;
    }
    cb->fn = fn;
    cb->arg = arg;
    return cb;
}

int corio__future_add_done_callback(corio_future *f, corio_done_fn fn, void *arg) {
    if (!add_registration(f, fn, arg))
        return -ENOMEM;
    if (f->state != CORIO_FUTURE_PENDING)
        schedule_callbacks(f);
    return 0;
}

int corio_future_add_done_callback(corio_future *f, corio_done_fn fn, void *arg) {
    if (!f || !fn)
        return -EINVAL;
    CHECK(f);
    return corio__future_add_done_callback(f, fn, arg);
}

int corio__future_add_eager_callback(corio_future *f, corio_done_fn fn, void *arg) {
    if (f->state != CORIO_FUTURE_PENDING)
        return corio__future_add_done_callback(f, fn, arg);
    corio__fcb *cb = add_registration(f, fn, arg);
    if (!cb)
        return -ENOMEM;
    if (cb == &f->cb0)
        f->flags |= CORIO__F_CB0_EAGER;
    else
        cb->work.fn = node_eager;
    return 0;
}

int corio_future_remove_done_callback(corio_future *f, corio_done_fn fn, void *arg) {
    if (!f)
        return -EINVAL;
    CHECK(f);
    int removed = 0;
    if ((f->flags & CORIO__F_CB0_USED) && f->cb0.fn == fn && f->cb0.arg == arg) {
        f->flags &= (uint8_t)~(CORIO__F_CB0_USED | CORIO__F_CB0_EAGER);
        removed++;
    }
    for (corio__fcb_node **pp = &f->cbs; *pp;) {
        corio__fcb_node *node = *pp;
        if (node->cb.fn == fn && node->cb.arg == arg) {
            *pp = node->next;
            free_fcb(f->loop, node);
            removed++;
        } else {
            pp = &node->next;
        }
    }
    return removed;
}

/* ---- completion ---- */

void corio__future_finish(corio_future *f, corio_future_state state, int err, void *result,
                          char *msg) {
    f->state = (uint8_t)state;
    f->err = err;
    f->result = result;
    if (msg) {
        free(f->cancel_msg);
        f->cancel_msg = msg;
    }
    schedule_callbacks(f);
}

int corio_future_set_result(corio_future *f, void *value) {
    if (!f)
        return -EINVAL;
    CHECK(f);
    if (f->kind != CORIO__FUT_PLAIN)
        return -EINVAL;
    if (f->state != CORIO_FUTURE_PENDING)
        return CORIO_EINVALSTATE;
    corio__future_finish(f, CORIO_FUTURE_FINISHED, 0, value, NULL);
    return 0;
}

int corio_future_set_error(corio_future *f, int err) {
    if (!f)
        return -EINVAL;
    CHECK(f);
    if (f->kind != CORIO__FUT_PLAIN || err >= 0)
        return -EINVAL;
    if (f->state != CORIO_FUTURE_PENDING)
        return CORIO_EINVALSTATE;
    if (err == -ECANCELED)
        return corio__future_cancel_plain(f, NULL) ? 0 : CORIO_EINVALSTATE;
    corio__future_finish(f, CORIO_FUTURE_FINISHED, err, NULL, NULL);
    return 0;
}

int corio__future_cancel_plain(corio_future *f, const char *msg) {
    if (f->state != CORIO_FUTURE_PENDING)
        return 0;
    corio__future_finish(f, CORIO_FUTURE_CANCELLED, -ECANCELED, NULL, corio__strdup(msg));
    return 1;
}

int corio_future_cancel(corio_future *f, const char *msg) {
    if (!f)
        return -EINVAL;
    CHECK(f);
    return corio__future_cancel(f, msg);
}

int corio__future_cancel(corio_future *f, const char *msg) {
    const corio__future_ops *ops = corio__future_ops_of(f);
    if (ops && ops->cancel)
        return ops->cancel(f, msg);
    return corio__future_cancel_plain(f, msg);
}

/* ---- queries ---- */

corio_future_state corio_future_get_state(const corio_future *f) {
    if (!f)
        return CORIO_FUTURE_PENDING;
    CHECK(f);
    return (corio_future_state)f->state;
}

int corio_future_done(const corio_future *f) {
    if (!f)
        return 0;
    CHECK(f);
    return f->state != CORIO_FUTURE_PENDING;
}

int corio_future_cancelled(const corio_future *f) {
    if (!f)
        return 0;
    CHECK(f);
    return f->state == CORIO_FUTURE_CANCELLED;
}

int corio_future_result(corio_future *f, void **value) {
    if (value)
        *value = NULL;
    if (!f)
        return -EINVAL;
    CHECK(f);
    return corio__future_result(f, value);
}

int corio_future_error(corio_future *f) {
    if (!f)
        return -EINVAL;
    CHECK(f);
    return corio__future_result(f, NULL);
}

const char *corio_future_cancel_message(const corio_future *f) {
    if (!f)
        return NULL;
    CHECK(f);
    return f->cancel_msg;
}

corio_loop *corio_future_get_loop(const corio_future *f) {
    if (!f)
        return NULL;
    CHECK(f);
    return f->loop;
}
