/* asyncio.gather: one future over many, results in argument order. */
#include "task/debug.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

typedef struct gather gather;

typedef struct gather_slot {
    gather *g; /* lets a child's done callback find its gather and its index */
    corio_future *child;
} gather_slot;

struct gather {
    corio_future fut;
    size_t n, nfinished;
    unsigned flags;
    int cancel_requested;
    void **values; /* the result: children's values in argument order */
    int *errors;
    gather_slot slots[];
};

static int gather_cancel(corio_future *f, const char *msg);
static void gather_destroy(corio_future *f);

const corio__future_ops corio__gather_ops = {
    .cancel = gather_cancel,
    .destroy = gather_destroy,
};

static void gather_destroy(corio_future *f) {
    gather *g = (gather *)f;
    for (size_t i = 0; i < g->n; i++)
        corio__future_unref(g->slots[i].child);
    free(g->values);
    free(g->errors);
    corio__obj_free(g, &g->fut.magic, corio__loop_keeps(f->loop)); /* not pooled: its size varies */
}

/* The first failed child fails the gather; the other children keep running, and until each is
 * done its slot in corio_gather_errors says so. */
static void fail_fast(gather *g, int err) {
    for (size_t i = 0; i < g->n; i++)
        if (g->slots[i].child->state == CORIO_FUTURE_PENDING)
            g->errors[i] = CORIO_EINVALSTATE;
    corio__future_finish(&g->fut, err == -ECANCELED ? CORIO_FUTURE_CANCELLED
                                                    : CORIO_FUTURE_FINISHED,
                         err, NULL, NULL);
}

/* Records a child's outcome while the child is hot in cache, so that finishing the gather is not
 * another pass over every child. */
static void child_done(corio_future *child, void *arg) {
    gather_slot *slot = arg;
    gather *g = slot->g;
    size_t i = (size_t)(slot - g->slots);
    int err = g->errors[i] = corio__future_result(child, &g->values[i]);
    g->nfinished++;
    if (g->fut.state == CORIO_FUTURE_PENDING) {
        if (!(g->flags & CORIO_GATHER_RETURN_ERRORS) && err < 0)
            fail_fast(g, err);
        else if (g->nfinished == g->n && g->cancel_requested)
            corio__future_finish(&g->fut, CORIO_FUTURE_CANCELLED, -ECANCELED, NULL, NULL);
        else if (g->nfinished == g->n)
            corio__future_finish(&g->fut, CORIO_FUTURE_FINISHED, 0, g->values, NULL);
    }
    if (g->nfinished == g->n)
        corio_future_unref(&g->fut); /* the reference held while children ran */
}

static int gather_cancel(corio_future *f, const char *msg) {
    gather *g = (gather *)f;
    if (f->state != CORIO_FUTURE_PENDING)
        return 0;
    int any = 0;
    for (size_t i = 0; i < g->n; i++)
        if (corio_future_cancel(g->slots[i].child, msg) == 1)
            any = 1;
    if (any)
        g->cancel_requested = 1;
    return any;
}

static gather *gather_alloc(corio_loop *loop, size_t n, unsigned flags) {
    gather *g = corio__calloc(1, sizeof *g + n * sizeof(gather_slot));
    if (!g)
        return NULL;
    g->values = corio__calloc(n ? n : 1, sizeof *g->values);
    g->errors = corio__calloc(n ? n : 1, sizeof *g->errors);
    if (!g->values || !g->errors) {
        free(g->values);
        free(g->errors);
        free(g);
        return NULL;
    }
    g->n = n;
    g->flags = flags;
    corio__future_init(&g->fut, loop, CORIO__FUT_GATHER);
    return g;
}

/* corio_gather_new in the name of `fn`; one pass over the children checks each (not NULL, live,
 * of one loop: `loop`, or the first child's when it is NULL). */
static int gather_new(corio_future **out, corio_future *const *futs, size_t n, unsigned flags,
                      corio_loop *loop, const char *fn) {
    if (n && !futs)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        corio_future *f = futs[i];
        if (!f)
            return -EINVAL;
        CORIO__CHECK_FUTURE_AS(f, fn);
        if (!loop)
            loop = f->loop;
        if (f->loop != loop)
            return -EINVAL;
    }
    /* With no children, the thread's loop (the gather is done at once). */
    if (!loop && !(loop = corio__loop_resolve(NULL)))
        return CORIO_ENOLOOP;
    gather *g = gather_alloc(loop, n, flags);
    if (!g)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        g->slots[i].g = g;
        g->slots[i].child = corio__future_ref(futs[i]);
    }
    for (size_t i = 0; i < n; i++) {
        if (corio__future_add_eager_callback(futs[i], child_done, &g->slots[i]) < 0) {
            for (size_t j = 0; j < i; j++)
                corio_future_remove_done_callback(futs[j], child_done, &g->slots[j]);
            corio__future_unref(&g->fut);
            return -ENOMEM;
        }
    }
    if (n == 0)
        corio__future_finish(&g->fut, CORIO_FUTURE_FINISHED, 0, g->values, NULL);
    else
        g->fut.refs++; /* children's callbacks point into g: keep it until the last has run */
    *out = &g->fut;
    return 0;
}

int corio_gather_new(corio_future **out, corio_future *const *futs, size_t n, unsigned flags) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    return gather_new(out, futs, n, flags, NULL, __func__);
}

int corio_gather_errors(corio_future *f, const int **errors) {
    if (errors)
        *errors = NULL;
    if (!f)
        return -EINVAL;
    CORIO__CHECK_FUTURE(f);
    if (f->kind != CORIO__FUT_GATHER)
        return -EINVAL;
    gather *g = (gather *)f;
    if (f->state == CORIO_FUTURE_PENDING)
        return CORIO_EINVALSTATE;
    if (errors)
        *errors = g->errors;
    return g->n > INT_MAX ? INT_MAX : (int)g->n;
}

int corio_gather(corio_future *const *futs, size_t n, unsigned flags, void **values, int *errors) {
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    corio_future *g = NULL;
    int rc = gather_new(&g, futs, n, flags, t->fut.loop, __func__);
    if (rc < 0)
        return rc;
    rc = corio_await(g, NULL);
    gather *gg = (gather *)g;
    int all_done = gg->nfinished == n;
    for (size_t i = 0; i < n; i++) {
        int pending = !all_done && futs[i]->state == CORIO_FUTURE_PENDING;
        if (values)
            values[i] = pending ? NULL : gg->values[i];
        if (errors)
            errors[i] = pending ? CORIO_EINVALSTATE : gg->errors[i];
    }
    corio__future_unref(g);
    return rc;
}

size_t corio__gather_count(corio_future *f, size_t *done) {
    gather *g = (gather *)f;
    *done = g->nfinished;
    return g->n;
}

corio_future *corio__gather_child(corio_future *f, size_t i) {
    return ((gather *)f)->slots[i].child;
}
