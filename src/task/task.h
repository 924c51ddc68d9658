/* Internal: tasks, futures that run a coroutine on their own stack. */
#ifndef CORIO_TASK_TASK_H
#define CORIO_TASK_TASK_H

#include "task/future.h"

struct corio_task {
    corio_future fut;   /* first: a task is a future */
    corio__work step;   /* schedules a step: the first one, or the one after a yield */
    corio__link link;   /* in loop->task.pending while pending */
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

/* The task running on this thread, or NULL. */
static inline corio_task *corio__current_task(void) {
    corio_loop *loop = corio__running_loop;
    return loop ? loop->task.current : NULL;
}

/* Suspends the current task until its step is scheduled again by a callback (the primitive
 * under await and yield). Returns 0, or -ECANCELED when a cancellation is delivered. */
int corio__task_suspend(corio_task *t);

/* Reschedules t at the end of the ready queue and suspends it (sleep 0). */
int corio__task_yield(corio_task *t);

/* The cooperative budget (Tokio's coop): an awaiting call that may complete without suspending
 * (a receive whose bytes are there, a read from a stream's buffer) spends one unit of the running
 * task's budget on entry, and once the budget is spent it yields first. Without it, a peer that
 * always has bytes ready keeps its handler running and every other task waiting: a flood of
 * pipelined requests held a normal client for a second (stress/stress_hostile.c). The budget is
 * given back whenever a task resumes. corio__task_spend returns 0, or what the yield returns
 * (-ECANCELED: the call must return it having done nothing). */
#define CORIO__TASK_BUDGET 128
/* Spends one unit: 1 when the budget is spent, and the caller must yield (corio__task_yield)
 * before it goes on; a caller with something to hold across the yield uses this. */
static inline int corio__task_budget_spent(corio_task *t) { return --t->fut.loop->task.budget <= 0; }
static inline int corio__task_spend(corio_task *t) {
    return corio__task_budget_spent(t) ? corio__task_yield(t) : 0;
}

/* ---- the task layer's part of the loop (task/loop_part.c) ---- */

/* Stacks (of stack_size bytes by default; 0: the pool's default), pools, the future kinds of this
 * layer, the hooks it installs in the loop core. Returns 0 or an error, with nothing left to
 * term. */
int corio__task_loop_init(corio_loop *loop, size_t stack_size);
/* Loop close, first of all the terms: destroys the pending tasks (their coroutines unwind
 * through every layer), then gives the stacks back. */
void corio__task_loop_term(corio_loop *loop);
/* Destroys every pending task of a closing loop. */
void corio__tasks_destroy_all(corio_loop *loop);

/* ---- what the layers above may know of a task, and change ---- */

/* The task's future (corio_task_future without the check). */
static inline corio_future *corio__task_fut(corio_task *t) { return &t->fut; }
static inline corio_loop *corio__task_loop_of(const corio_task *t) { return t->fut.loop; }
/* Whether t's coroutine has started: one cancelled before its first step never runs. */
static inline int corio__task_started(const corio_task *t) { return t->started; }
/* Whether t is being destroyed by loop close: a call must not start anything (it returns
 * -ECANCELED at once). */
static inline int corio__task_destroying(const corio_task *t) { return t->destroying; }
/* Whether t is compact: its frames move while it waits, so the kernel must hold no pointer into
 * them. */
static inline int corio__task_is_compact(const corio_task *t) { return t->compact; }
/* Its pending cancellation requests (corio_task_cancelling without the check). */
static inline unsigned corio__task_cancelling(const corio_task *t) { return t->ncancel; }
/* Takes a cancellation that is waiting for t's next await (requested while t was not awaiting):
 * 1, and the caller returns -ECANCELED instead of starting a call; 0 if there is none. */
static inline int corio__task_take_cancel(corio_task *t) {
    if (!t->must_cancel)
        return 0;
    t->must_cancel = 0;
    return 1;
}
/* The call t was awaiting returns a result the kernel produced before the cancel reached it: the
 * cancellation is delivered at t's next await instead. */
static inline void corio__task_defer_cancel(corio_task *t) { t->must_cancel = 1; }

#endif
