/* The entry points that run a loop: run_until_complete, and corio_run, which also makes the loop
 * and closes it (asyncio.run). */
#include "task/task.h"

#include <errno.h>
#include <stdlib.h>

static void stop_loop(corio_future *f, void *arg) {
    (void)f;
    corio_loop_stop(arg);
}

int corio_loop_run_until_complete(corio_loop *loop, corio_future *fut, void **result) {
    if (result)
        *result = NULL;
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!fut)
        return -EINVAL;
    CORIO__CHECK_FUTURE(fut);
    if (corio__future_loop(fut) != loop)
        return -EINVAL;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    if (corio__running_loop)
        return CORIO_ERUNNING;
    if (corio__future_pending(fut)) {
        int rc = corio_future_add_done_callback(fut, stop_loop, loop);
        if (rc < 0)
            return rc;
        rc = corio_loop_run_forever(loop);
        corio_future_remove_done_callback(fut, stop_loop, loop);
        if (rc < 0)
            return rc;
        if (corio__future_pending(fut))
            return CORIO_ESTOPPED;
    }
    return corio_future_result(fut, result);
}

/* asyncio.run's _cancel_all_tasks: cancel what is left and let it finish. */
static void cancel_all(corio_loop *loop) {
    int count = corio_all_tasks(loop, NULL, 0);
    if (count <= 0)
        return;
    size_t n = (size_t)count;
    corio_task **v = corio__malloc(n * sizeof *v);
    if (!v)
        return; /* close will destroy them instead */
    corio_all_tasks(loop, v, n);
    for (size_t i = 0; i < n; i++)
        corio_task_ref(v[i]);
    for (size_t i = 0; i < n; i++)
        corio_task_cancel(v[i], NULL);
    corio_future *g;
    if (corio_gather_new(&g, (corio_future *const *)v, n, CORIO_GATHER_RETURN_ERRORS) == 0) {
        corio_loop_run_until_complete(loop, g, NULL);
        corio_future_unref(g);
    }
    for (size_t i = 0; i < n; i++) {
        int err = corio_future_error(corio_task_future(v[i]));
        if (err < 0 && err != -ECANCELED && corio_future_done(corio_task_future(v[i])))
            corio__loop_report(loop, "unhandled error during corio_run() shutdown", err, NULL,
                               v[i]);
        corio_task_unref(v[i]);
    }
    free(v);
}

int corio_run(corio_coro_fn fn, void *arg, void **result) {
    if (result)
        *result = NULL;
    if (!fn)
        return -EINVAL;
    if (corio__running_loop)
        return CORIO_ERUNNING;
    corio_loop *loop;
    int rc = corio_loop_new(&loop, NULL);
    if (rc < 0)
        return rc;
    corio_loop *saved = corio__loop_swap_current(loop);
    corio_task *main_task;
    rc = corio_create_task(&main_task, loop, fn, arg, &(corio_task_opts){.name = "main"});
    if (rc == 0) {
        rc = corio_loop_run_until_complete(loop, corio_task_future(main_task), result);
        cancel_all(loop);
        corio_task_unref(main_task);
    }
    corio_loop_free(loop);
    corio__loop_swap_current(saved);
    return rc;
}
