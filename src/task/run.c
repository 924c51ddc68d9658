/* Loop lifetime and the entry points that run a loop: new, close, run_until_complete, run.
 * They live here, above the loop core, because they deal with futures and tasks. */
#include "task/debug.h"
#include "thread/executor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const size_t corio__handle_size;
extern const ptrdiff_t corio__handle_magic_off;
extern const size_t corio__sleep_future_size;
extern const size_t corio__io_op_size;

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
    int rc = corio__loop_init(loop, opts ? opts->backend : NULL);
    if (rc == 0)
        rc = corio__stack_pool_init(&loop->stacks, opts ? opts->stack_size : 0);
    if (rc == 0)
        rc = corio__overflow_handler_install();
    if (rc == 0) {
        corio__stack_stats st;
        corio__stack_pool_stats(loop->stacks, &st);
        loop->stack_size = st.default_size;
    }
    if (rc < 0) {
        corio__loop_fini(loop);
        if (loop->stacks)
            corio__stack_pool_destroy(loop->stacks);
        free(loop);
        return rc;
    }
    /* Every pooled future kind starts with a corio_future. */
    ptrdiff_t fmagic = offsetof(corio_future, magic);
    corio__pool_init(&loop->pools[CORIO__POOL_FUTURE], corio__future_size, fmagic);
    corio__pool_init(&loop->pools[CORIO__POOL_TASK], corio__task_size, fmagic);
    corio__pool_init(&loop->pools[CORIO__POOL_HANDLE], corio__handle_size,
                     corio__handle_magic_off);
    corio__pool_init(&loop->pools[CORIO__POOL_CBNODE], sizeof(corio__fcb_node), -1);
    corio__pool_init(&loop->pools[CORIO__POOL_SLEEP], corio__sleep_future_size, fmagic);
    corio__pool_init(&loop->pools[CORIO__POOL_IO], corio__io_op_size, fmagic);
    loop->run_watched = corio__debug_run_batch;
    loop->slow_ns = CORIO__SLOW_DEFAULT_NS;
    corio_loop_set_debug(loop, opt_flag(opts ? opts->debug : 0, "CORIO_DEBUG"));
    loop->virtual_time = opt_flag(opts ? opts->virtual_time : 0, "CORIO_VIRTUAL_TIME");
    *out = loop;
    return 0;
}

/* asyncio's close: everything goes but the object itself, which stays valid, closed, until
 * corio_loop_free drops the owner's reference. */
int corio_loop_close(corio_loop *loop) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (loop->running)
        return CORIO_ERUNNING;
    if (loop->closed || loop->closing)
        return 0;
    int rc = corio__poller_attach(&loop->poller);
    if (rc < 0)
        return rc; /* the kernel still holds I/O into its tasks' frames: they cannot go */
    loop->closing = 1;
    if (loop->dump_signo)
        corio_loop_dump_on_signal(loop, 0, -1);
    corio__tasks_destroy_all(loop);
    corio__exec_loop_close(loop);
    corio__loop_fini(loop);
    corio__stack_pool_destroy(loop->stacks);
    loop->stacks = NULL;
    loop->closed = 1;
    if (corio__current_loop == loop)
        corio__current_loop = NULL;
    return 0;
}

int corio_loop_free(corio_loop *loop) {
    if (!loop)
        return 0; /* as free(NULL): the one call where NULL is not the thread's loop */
    CORIO__CHECK(loop, CORIO__KIND_LOOP, NULL);
    int rc = corio_loop_close(loop);
    if (rc < 0)
        return rc;
    /* Dead to the caller from now on, though its memory stays while its futures do. */
    corio__obj_kill(&loop->magic, loop->kept_any || corio__debug_env());
    corio__loop_unref(loop);
    return 0;
}

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
    if (fut->loop != loop)
        return -EINVAL;
    if (loop->closed || loop->closing)
        return CORIO_ECLOSED;
    if (corio__running_loop)
        return CORIO_ERUNNING;
    if (fut->state == CORIO_FUTURE_PENDING) {
        int rc = corio_future_add_done_callback(fut, stop_loop, loop);
        if (rc < 0)
            return rc;
        rc = corio_loop_run_forever(loop);
        corio_future_remove_done_callback(fut, stop_loop, loop);
        if (rc < 0)
            return rc;
        if (fut->state == CORIO_FUTURE_PENDING)
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
    corio_loop *saved = corio__current_loop;
    corio__current_loop = loop;
    corio_task *main_task;
    rc = corio_create_task(&main_task, loop, fn, arg, &(corio_task_opts){.name = "main"});
    if (rc == 0) {
        rc = corio_loop_run_until_complete(loop, corio_task_future(main_task), result);
        cancel_all(loop);
        corio_task_unref(main_task);
    }
    corio_loop_free(loop);
    corio__current_loop = saved;
    return rc;
}
