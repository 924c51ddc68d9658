/* Loop lifetime: new, close, free. They live here, above every layer, because a loop is made of
 * every layer's part (runtime/loop_parts.h): each part is set up in order, lowest first, and taken
 * down at close. */
#include "io/io.h"
#include "proc/proc.h"
#include "thread/executor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* A tri-state option: > 0 on, < 0 off, 0 (a zeroed struct, or no opts) from the environment. */
static uint8_t opt_flag(int value, const char *env) {
    return (uint8_t)(value ? value > 0 : env_flag(env));
}

int corio_loop_new(corio_loop **out, const corio_loop_opts *opts) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    corio_loop *loop = corio__calloc(1, sizeof *loop);
    if (!loop)
        return -ENOMEM;
    /* base, ctx and poll keep no part of their own: the poller is the core's, the stacks are the
     * task layer's. */
    int rc = corio__loop_core_init(loop, opts ? opts->backend : NULL,
                                   opt_flag(opts ? opts->virtual_time : 0, "CORIO_VIRTUAL_TIME"));
    if (rc == 0)
        rc = corio__task_loop_init(loop, opts ? opts->stack_size : 0);
    if (rc < 0) {
        corio__loop_core_term(loop);
        free(loop);
        return rc;
    }
    corio__io_loop_init(loop);
    corio__thread_loop_init(loop);
    corio_loop_set_debug(loop, opt_flag(opts ? opts->debug : 0, "CORIO_DEBUG"));
    *out = loop;
    return 0;
}

/* asyncio's close: everything goes but the object itself, which stays valid, closed, until
 * corio_loop_free drops the owner's reference. The task layer goes first: destroying the pending
 * tasks lets their coroutines unwind, through every layer above it; then the others, the reverse
 * of their init. */
int corio_loop_close(corio_loop *loop) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    int rc = corio__loop_close_begin(loop);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    corio__task_loop_term(loop);
    corio__proc_loop_term(loop);
    corio__signal_loop_term(loop);
    corio__thread_loop_term(loop);
    corio__io_loop_term(loop);
    corio__loop_core_term(loop);
    return 0;
}

int corio_loop_free(corio_loop *loop) {
    if (!loop)
        return 0; /* as free(NULL): the one call where NULL is not the thread's loop */
    CORIO__LOOP_CHECK(loop);
    int rc = corio_loop_close(loop);
    if (rc < 0)
        return rc;
    corio__loop_release(loop);
    return 0;
}

