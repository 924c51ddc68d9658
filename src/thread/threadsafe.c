/* call_soon_threadsafe: a callback posted to the loop's inbox from any thread. */
#include "loop/loop.h"

#include <errno.h>
#include <stdlib.h>

typedef struct ts_call {
    corio__work work;
    corio_callback_fn fn;
    void *arg;
} ts_call;

static void ts_call_run(corio__work *w, int drop) {
    ts_call *c = corio__container_of(w, ts_call, work);
    corio_callback_fn fn = c->fn;
    void *arg = c->arg;
    free(c);
    if (!drop)
        fn(arg);
}

int corio_loop_call_soon_threadsafe(corio_loop *loop, corio_callback_fn fn, void *arg) {
    if (!(loop = corio__loop_resolve(loop))) /* the calling thread's own: name it from others */
        return CORIO_ENOLOOP;
    if (!fn)
        return -EINVAL;
    ts_call *c = corio__malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    c->work.fn = ts_call_run;
    c->fn = fn;
    c->arg = arg;
    /* From a callback of the loop itself: straight into the ready queue, which keeps FIFO order
     * with corio_loop_call_soon as asyncio's single queue does. */
    if (loop == corio__running_loop) {
        if (corio__loop_closing(loop)) {
            free(c);
            return CORIO_ECLOSED;
        }
        corio__loop_schedule(loop, &c->work);
        return 0;
    }
    int rc = corio__loop_post(loop, &c->work, &c->work);
    if (rc < 0)
        free(c);
    return rc;
}
