/* Internal: the shared run stack of compact tasks (see CORIO_TASK_COMPACT). */
#ifndef CORIO_TASK_COMPACT_H
#define CORIO_TASK_COMPACT_H

#include "task/task.h"

/* Compact tasks need the stack pointer the asm switch saves, and a stack whose shadow state no
 * tool tracks per frame: without those, the flag quietly gives the task its own stack. */
#if defined(CORIO_CTX_UCONTEXT) || defined(CORIO__FIBER_ASAN)
#define CORIO__COMPACT_SUPPORTED 0
#else
#define CORIO__COMPACT_SUPPORTED 1
#endif

/* The shared stack's least size: a compact task may use this much, with or without support. */
#define CORIO__SHARED_STACK_MIN (256 * 1024)

/* Gives a compact task that starts now the shared stack (copying out the one there). */
int corio__compact_start(corio_loop *loop, corio_task *t, corio__stack **stack);
/* Puts a suspended compact task's frames back on the shared stack before it is resumed. */
void corio__compact_resume(corio_loop *loop, corio_task *t);
/* Forgets a compact task that returned. */
void corio__compact_finish(corio_loop *loop, corio_task *t);
/* Returns the shared stack to the pool (loop close). */
void corio__compact_close(corio_loop *loop);

#endif
