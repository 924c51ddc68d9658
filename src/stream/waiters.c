/* Tasks awaiting a stream condition (drain, wait_closed, a server's close). */
#include "stream/stream.h"

#include <errno.h>
#include <stdlib.h>

static void forget(corio__waiters *ws, corio_future *f) {
    for (size_t i = 0; i < ws->n; i++) {
        if (ws->v[i] == f) {
            ws->v[i] = ws->v[--ws->n];
            return;
        }
    }
}

int corio__waiters_wait(corio__waiters *ws, corio_loop *loop) {
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 4;
        corio_future **v = corio__realloc(ws->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        ws->v = v;
        ws->cap = cap;
    }
    corio_future *f;
    int rc = corio__future_new(&f, loop);
    if (rc < 0)
        return rc;
    ws->v[ws->n++] = f;
    rc = corio_await(f, NULL);
    forget(ws, f); /* still listed when this task was cancelled */
    corio__future_unref(f);
    return rc;
}

void corio__waiters_wake(corio__waiters *ws, int err) {
    for (size_t i = 0; i < ws->n; i++) {
        if (err < 0)
            corio_future_set_error(ws->v[i], err);
        else
            corio_future_set_result(ws->v[i], NULL);
    }
    ws->n = 0;
}

void corio__waiters_fini(corio__waiters *ws) {
    free(ws->v);
    ws->v = NULL;
    ws->n = ws->cap = 0;
}
