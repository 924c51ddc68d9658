/* Internal: tasks, futures that run a coroutine on their own stack. */
#ifndef CORIO_TASK_TASK_H
#define CORIO_TASK_TASK_H

#include "task/future.h"

struct corio_task {
    corio_future fut;   /* first: a task is a future */
    corio__work step;   /* schedules a step: the first one, or the one after a yield */
    corio__link link;   /* in loop->tasks while pending */
    corio_coro_fn fn;
    void *arg;            /* fn's return value goes to fut.result, corio_raise's error to fut.err */
    corio_future *waiter; /* the future the task is suspended on (asyncio's _fut_waiter) */
    corio__fiber fiber;
    char *name;           /* NULL: "Task-<id>", made on demand */
    union {
        void *saved;      /* a compact task's frames while another one uses the shared stack;
                             their length is the shared stack's top minus fiber.ctx.sp */
        size_t stack_hwm; /* a stack_marked task's high-water mark, once it is done */
    };
    uint64_t id;
    uint32_t stack_size;
    uint16_t ncancel;     /* pending cancellation requests; the latest message is fut.cancel_msg */
    uint8_t started : 1, must_cancel : 1, resume_cancel : 1, returned : 1, destroying : 1,
        raised : 1, compact : 1,
        stack_marked : 1; /* its stack was cleared for a high-water mark (debug mode) */
};

/* Makes sure a compact task can be copied out once it suspends (called in the task, before it
 * registers the wake-up), so that evicting it later cannot fail. Returns 0 or -ENOMEM. */
int corio__task_compact_reserve(corio_task *t);

extern const size_t corio__task_size;

/* The task running on this thread, or NULL. */
static inline corio_task *corio__current_task(void) {
    corio_loop *loop = corio__running_loop;
    return loop ? loop->current : NULL;
}

/* Suspends the current task until its step is scheduled again by a callback (the primitive
 * under await and yield). Returns 0, or -ECANCELED when a cancellation is delivered. */
int corio__task_suspend(corio_task *t);

/* Reschedules t at the end of the ready queue and suspends it (sleep 0). */
int corio__task_yield(corio_task *t);

/* Returns the loop's spare stack to its pool (loop close). */
void corio__task_release_spare_stack(corio_loop *loop);

/* Destroys every pending task of a closing loop (see corio_loop_close). */
void corio__tasks_destroy_all(corio_loop *loop);

/* ---- for the I/O request layer (src/io) ---- */

/* Whether t is being destroyed by loop close: a call must not start anything (it returns
 * -ECANCELED at once). */
int corio__task_destroying(const corio_task *t);
/* Whether t is compact: its frames move while it waits, so the kernel must hold no pointer into
 * them. */
int corio__task_is_compact(const corio_task *t);
/* Takes a cancellation that is waiting for t's next await (requested while t was not awaiting):
 * 1, and the caller returns -ECANCELED instead of starting a call; 0 if there is none. */
int corio__task_take_cancel(corio_task *t);
/* The call t was awaiting returns a result the kernel produced before the cancel reached it: the
 * cancellation is delivered at t's next await instead. */
void corio__task_defer_cancel(corio_task *t);

#endif
