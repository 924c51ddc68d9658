/* Internal: the task layer's part of the loop (runtime/loop_parts.h puts the parts together).
 * Only src/task/ reads or writes these fields. */
#ifndef CORIO_TASK_LOOP_PART_H
#define CORIO_TASK_LOOP_PART_H

#include "corio.h"
#include "base/list.h"
#include "base/pool.h"
#include "ctx/fiber.h"

#include <stdint.h>

struct corio__future_ops;

/* The kinds of future (corio_future.kind): the task layer's, then slots for the layers above,
 * which register theirs at their loop init (corio__future_kind_register). */
enum {
    CORIO__FUT_PLAIN, CORIO__FUT_TASK, CORIO__FUT_GATHER, CORIO__FUT_SLEEP,
    CORIO__FUT_UPPER, /* the first kind of a layer above: io/io.h's, then thread/executor.h's */
    CORIO__FUT_KINDS = 8
};

enum { CORIO__POOL_FUTURE, CORIO__POOL_TASK, CORIO__POOL_CBNODE, CORIO__POOL_SLEEP,
       CORIO__TASK_POOLS };

typedef struct corio__loop_task {
    struct corio_task *current;    /* the task whose fiber runs now */
    int budget;                    /* what the current task may still do before it yields (task.h) */
    corio__fiber home;             /* the thread's stack, on which the loop itself runs */
    corio__stack_pool *stacks;
    size_t stack_size;             /* the default */
    corio__stack *shared_stack;    /* where compact tasks run */
    struct corio_task *shared_owner; /* the compact task whose frames are on it */
    corio__stack *spare_stack;     /* the last default-size stack a task gave back (see task.c) */
    corio__link pending;           /* pending tasks */
    size_t npending;
    uint64_t task_counter;
    corio__pool pools[CORIO__TASK_POOLS];
    /* What each kind of future does differently: a byte in every future instead of a pointer. */
    const struct corio__future_ops *kinds[CORIO__FUT_KINDS];
    int64_t slow_ns;               /* debug mode reports a step that runs this long */
    int dump_signo;                /* corio_loop_dump_on_signal's signal, or 0 */
    unsigned dump_seen;            /* the dump-signal count at the last dump (task/dump.c) */
    int dump_fd;                   /* where a signalled dump goes */
} corio__loop_task;

#endif
