/* The task layer's part of a loop: what it sets up when a loop is made, and what it takes down
 * first when the loop closes. */
#include "task/debug.h"

#include <stddef.h>

/* The loop core's on_run hook: the thread that runs the loop is where tasks come back to. */
static void on_run(corio_loop *loop) { corio__fiber_init_home(&loop->task.home); }

int corio__task_loop_init(corio_loop *loop, size_t stack_size) {
    corio__loop_task *part = &loop->task;
    int rc = corio__stack_pool_init(&part->stacks, stack_size);
    if (rc == 0)
        rc = corio__overflow_handler_install();
    if (rc < 0) {
        if (part->stacks)
            corio__stack_pool_destroy(part->stacks);
        part->stacks = NULL;
        return rc;
    }
    corio__stack_stats st;
    corio__stack_pool_stats(part->stacks, &st);
    part->stack_size = st.default_size;
    corio__list_init(&part->pending);
    /* Every pooled future kind starts with a corio_future. */
    ptrdiff_t fmagic = offsetof(corio_future, magic);
    corio__pool_init(&part->pools[CORIO__POOL_FUTURE], sizeof(corio_future), fmagic);
    corio__pool_init(&part->pools[CORIO__POOL_TASK], sizeof(corio_task), fmagic);
    corio__pool_init(&part->pools[CORIO__POOL_CBNODE], sizeof(corio__fcb_node), -1);
    corio__pool_init(&part->pools[CORIO__POOL_SLEEP], corio__sleep_future_size, fmagic);
    for (int i = 0; i < CORIO__TASK_POOLS; i++)
        corio__loop_add_pool(loop, &part->pools[i]);
    corio__future_kind_register(loop, CORIO__FUT_TASK, &corio__task_ops);
    corio__future_kind_register(loop, CORIO__FUT_GATHER, &corio__gather_ops);
    corio__future_kind_register(loop, CORIO__FUT_SLEEP, &corio__sleep_ops);
    part->slow_ns = CORIO__SLOW_DEFAULT_NS;
    corio__loop_hook_watched(loop, corio__debug_run_batch);
    corio__loop_hook_run(loop, on_run);
    corio__loop_hook_task_name(corio_task_get_name);
    return 0;
}

void corio__task_loop_term(corio_loop *loop) {
    if (loop->task.dump_signo)
        corio_loop_dump_on_signal(loop, 0, -1);
    corio__tasks_destroy_all(loop);
    corio__stack_pool_destroy(loop->task.stacks);
    loop->task.stacks = NULL;
}
