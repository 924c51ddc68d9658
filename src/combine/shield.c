/* asyncio.shield: an outer future that mirrors an inner one; cancelling the outer leaves the
 * inner alone.
 *
 * Two eager callbacks tie them: the inner's copies its outcome to the outer (and holds a
 * reference to the outer), the outer's detaches from the inner when the outer ends first (and
 * holds a reference to the inner). Whichever side ends first removes or runs the other's
 * registration, so neither outlives the pair and nothing is left queued at loop close.
 */
#include "combine/combine.h"

#include <errno.h>

static void inner_done(corio_future *inner, void *arg) {
    corio_future *outer = arg;
    if (corio__future_pending(outer)) {
        void *value;
        int err = corio_future_result(inner, &value);
        if (err == 0)
            corio_future_set_result(outer, value);
        else if (err == -ECANCELED)
            corio_future_cancel(outer, corio_future_cancel_message(inner));
        else
            corio_future_set_error(outer, err);
    }
    corio_future_unref(outer);
}

static void outer_done(corio_future *outer, void *arg) {
    corio_future *inner = arg;
    /* Cancelled (or completed by hand) while the inner still runs: stop mirroring it. */
    if (corio_future_remove_done_callback(inner, inner_done, outer) > 0)
        corio_future_unref(outer);
    corio_future_unref(inner);
}

int corio_shield(corio_future **out, corio_future *f) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!f)
        return -EINVAL;
    CORIO__CHECK_FUTURE(f);
    if (!corio__future_pending(f)) {
        *out = corio_future_ref(f);
        return 0;
    }
    corio_future *outer;
    int rc = corio__future_new(&outer, corio__future_loop(f));
    if (rc < 0)
        return rc;
    if (corio__future_add_eager_callback(f, inner_done, outer) < 0) {
        corio_future_unref(outer);
        return -ENOMEM;
    }
    if (corio__future_add_eager_callback(outer, outer_done, f) < 0) {
        corio_future_remove_done_callback(f, inner_done, outer);
        corio_future_unref(outer);
        return -ENOMEM;
    }
    corio_future_ref(outer); /* inner_done's */
    corio_future_ref(f);     /* outer_done's */
    *out = outer;
    return 0;
}
