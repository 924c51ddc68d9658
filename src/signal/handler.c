/* asyncio's loop.add_signal_handler / remove_signal_handler: a public subscriber that the loop
 * holds (corio_loop_remove_signal_handler finds it by its call). */
#include "signal/signal.h"

#include <errno.h>
#include <stdlib.h>

typedef struct user_handler {
    corio_signal_handler_fn fn;
    void *arg;
} user_handler;

static void call_user(corio__sig_sub *sub, int signo, void *arg) {
    (void)sub;
    user_handler *h = arg;
    h->fn(signo, h->arg);
}

int corio_loop_add_signal_handler(corio_loop *loop, int signo, corio_signal_handler_fn fn,
                                  void *arg) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!fn || !corio__sig_valid(signo))
        return -EINVAL;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    if (corio__signal_find(loop, signo, call_user))
        return -EEXIST;
    user_handler *h = corio__malloc(sizeof *h);
    if (!h)
        return -ENOMEM;
    *h = (user_handler){fn, arg};
    corio__sig_sub *sub;
    int rc = corio__signal_subscribe(&sub, loop, signo, call_user, h,
                                     CORIO__SIG_PUBLIC | CORIO__SIG_OWNED_BY_LOOP);
    if (rc < 0)
        free(h);
    return rc;
}

int corio_loop_remove_signal_handler(corio_loop *loop, int signo) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!corio__sig_valid(signo))
        return -EINVAL;
    corio__sig_sub *sub = corio__signal_find(loop, signo, call_user);
    if (!sub)
        return 0;
    free(corio__signal_sub_arg(sub));
    corio__signal_unsubscribe(sub);
    return 1;
}
