/* Per-task stack high-water marks (debug mode); the measuring is in ctx/stack_mark.c. */
#include "task/debug.h"

#include <errno.h>

corio__stack *corio__task_stack_mark(corio_task *t, corio__stack *stack) {
    t->stack_marked = corio__stack_clear(stack) == 0;
    return stack;
}

/* Only below the task's stack pointer is there anything to look for: a suspended task's is saved
 * in its fiber; the running task asking about itself is somewhere below this frame. */
ssize_t corio__task_stack_scan(corio_task *t) {
    const void *limit = t == t->fut.loop->task.current ? __builtin_frame_address(0)
                                                  : corio__fiber_saved_sp(&t->fiber);
    return (ssize_t)corio__stack_high_water(t->fiber.stack, limit);
}

void corio__task_stack_keep_mark(corio_task *t) {
    t->stack_hwm = (size_t)corio__task_stack_scan(t);
}

ssize_t corio_task_stack_high_water(corio_task *t) {
    if (!t)
        return -EINVAL;
    CORIO__CHECK(&t->fut, CORIO__KIND_TASK, t->fut.loop);
    if (t->compact)
        return -ENOTSUP;
    if (!t->stack_marked)
        return CORIO_EINVALSTATE;
    if (t->fut.state != CORIO_FUTURE_PENDING)
        return (ssize_t)t->stack_hwm;
    return corio__task_stack_scan(t);
}
