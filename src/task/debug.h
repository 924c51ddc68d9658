/* Internal: debug mode and introspection (include/corio/debug.h), over the task layer. */
#ifndef CORIO_TASK_DEBUG_H
#define CORIO_TASK_DEBUG_H

#include "task/task.h"

#include <stdio.h>

#define CORIO__SLOW_DEFAULT_NS 100000000 /* asyncio's slow_callback_duration, 0.1 s */

/* The loop core's run_watched hook: runs the iteration's batch timing each item (debug mode)
 * after a pending signalled dump. */
void corio__debug_run_batch(corio_loop *loop, corio__workq *batch);

/* The task a queued work item resumes (its step, or the wake-up from the future it awaits), or
 * NULL for any other work. */
corio_task *corio__work_task(corio__work *w);

/* Writes what t awaits ("awaits sleep (1.500 s left)") into buf; "" when it awaits nothing. */
void corio__task_describe_wait(corio_task *t, char *buf, size_t len);

/* Writes the loop's task tree to out (corio_loop_dump_tasks without the checks). */
int corio__dump_tasks(corio_loop *loop, FILE *out);

/* Called each watched iteration: dumps if the dump signal came since the last dump. */
void corio__dump_if_signalled(corio_loop *loop);

/* Stack high-water marks: clearing the stack a task takes in debug mode (returns `stack`) and the
 * scan. */
corio__stack *corio__task_stack_mark(corio_task *t, corio__stack *stack)
    __attribute__((cold, noinline));
ssize_t corio__task_stack_scan(corio_task *t) __attribute__((noinline));
/* Keeps the mark of a task that is done, before its stack goes back to the pool. */
void corio__task_stack_keep_mark(corio_task *t) __attribute__((cold, noinline));

/* Sleep futures: their size (for their pool), and their deadline, for describing a wait. */
extern const size_t corio__sleep_future_size;
int64_t corio__sleep_deadline(corio_future *f);
/* Gather futures' children, for describing a wait. */
size_t corio__gather_count(corio_future *f, size_t *done);
corio_future *corio__gather_child(corio_future *f, size_t i);

#endif
