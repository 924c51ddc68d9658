/* Tasks: create, step, await, cancel, as asyncio's Task over a stack switch.
 *
 * A task's coroutine runs on its own fiber. The loop resumes it from a ready-queue callback (its
 * step, or the done callback of the future it awaits); the task gives control back by switching
 * to the loop's home fiber when it awaits something pending, and for good when fn returns.
 */
#include "task/compact.h"
#include "task/debug.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int task_cancel(corio_future *f, const char *msg);
static void task_destroy(corio_future *f);

const corio__future_ops corio__task_ops = {
    .cancel = task_cancel,
    .destroy = task_destroy,
};

static inline corio_task *as_task(corio_future *f) { return (corio_task *)f; }

/* A task is checked as a future, with a task's live value (base/obj.h). */
#define CHECK(t) CORIO__CHECK(&(t)->fut, CORIO__KIND_TASK, (t)->fut.loop)

corio_task *corio_task_ref(corio_task *t) {
    if (t) {
        CHECK(t);
        corio__future_ref(&t->fut);
    }
    return t;
}

void corio_task_unref(corio_task *t) {
    if (t) {
        CHECK(t);
        corio__future_unref(&t->fut);
    }
}

static void task_destroy(corio_future *f) {
    corio_task *t = as_task(f);
    if (t->name) /* spares the call for most tasks */
        free(t->name);
    corio__pool_free(&f->loop->task.pools[CORIO__POOL_TASK], t);
}

/* ---- running ---- */

/* The loop keeps the last default-size stack a task gave back, so that a stream of short tasks
 * (each done before the next starts) reuses one hot stack without going through the pool. */
static void give_back_stack(corio_loop *loop, corio_task *t) {
    if (t->stack_size == 0 && !loop->task.spare_stack)
        loop->task.spare_stack = t->fiber.stack;
    else
        corio__stack_put(loop->task.stacks, t->fiber.stack);
}

static int take_stack(corio_loop *loop, corio_task *t, corio__stack **stack) {
    if (t->compact)
        return corio__compact_start(loop, t, stack);
    if (t->stack_size == 0 && loop->task.spare_stack) {
        *stack = loop->task.spare_stack;
        loop->task.spare_stack = NULL;
        return 0;
    }
    return corio__stack_get(loop->task.stacks, t->stack_size, stack);
}

static void release_spare_stack(corio_loop *loop) {
    if (loop->task.spare_stack)
        corio__stack_put(loop->task.stacks, loop->task.spare_stack);
    loop->task.spare_stack = NULL;
}

static void task_complete(corio_task *t) {
    corio_loop *loop = t->fut.loop;
    if (__builtin_expect(t->stack_marked, 0))
        corio__task_stack_keep_mark(t);
    if (t->compact)
        corio__compact_finish(loop, t);
    else if (t->fiber.stack)
        give_back_stack(loop, t);
    t->fiber.stack = NULL;
    corio__list_remove(&t->link);
    loop->task.npending--;
    corio_future *f = &t->fut;
    if (t->raised && f->err != -ECANCELED) {
        corio__future_finish(f, CORIO_FUTURE_FINISHED, f->err, NULL, NULL);
    } else if (t->raised || t->ncancel > 0 || t->must_cancel) {
        corio__future_finish(f, CORIO_FUTURE_CANCELLED, -ECANCELED, NULL, NULL);
    } else {
        free(f->cancel_msg); /* a cancellation that was withdrawn */
        f->cancel_msg = NULL;
        corio__future_finish(f, CORIO_FUTURE_FINISHED, 0, f->result, NULL);
    }
    corio__future_unref(f); /* the loop's reference */
}

static void task_main(void *arg) {
    corio_task *t = arg;
    t->fut.loop->task.budget = CORIO__TASK_BUDGET;
    t->fut.result = t->fn(t->arg);
    t->returned = 1;
    corio__fiber_exit(&t->fiber, &t->fut.loop->task.home);
}

/* The stack-overflow report's name for a task's fiber (corio__stack.describe). Called from the
 * signal handler: no allocation, no stdio. */
static const char *task_describe(corio__fiber *fiber) {
    static __thread char buf[32];
    corio_task *t = corio__container_of(fiber, corio_task, fiber);
    if (t->name)
        return t->name;
    char digits[24];
    int n = 0;
    uint64_t id = t->id;
    do
        digits[n++] = (char)('0' + id % 10);
    while ((id /= 10) && n < (int)sizeof digits);
    memcpy(buf, "Task-", 5);
    for (int i = 0; i < n; i++)
        buf[5 + i] = digits[n - 1 - i];
    buf[5 + n] = 0;
    return buf;
}

/* One step: resume the coroutine until it suspends or returns. Runs on the loop's fiber. */
static void task_step(corio_task *t) {
    corio_loop *loop = t->fut.loop;
    if (t->must_cancel) {
        t->must_cancel = 0;
        t->resume_cancel = 1;
    }
    if (!t->started) {
        if (t->resume_cancel) { /* cancelled before it ever ran: fn never runs */
            task_complete(t);
            return;
        }
        corio__stack *stack;
        int rc = take_stack(loop, t, &stack);
        if (rc < 0) {
            t->raised = 1;
            t->fut.err = rc;
            task_complete(t);
            return;
        }
        stack->describe = task_describe;
        if (__builtin_expect(corio__loop_debug(loop), 0) && !t->compact)
            stack = corio__task_stack_mark(t, stack); /* returned: nothing held across the call */
        corio__fiber_init(&t->fiber, stack, task_main, t);
        t->started = 1;
    } else if (t->compact) {
        corio__compact_resume(loop, t);
    }
    loop->task.current = t;
    corio__fiber_switch(&loop->task.home, &t->fiber);
    /* Not necessarily t: a task that suspends may hand the fiber straight to the next one (see
     * next_in_batch), and whichever comes back here is the one that suspended or returned. */
    corio_task *back = loop->task.current;
    loop->task.current = NULL;
    if (back->returned)
        task_complete(back);
}

static void step_run(corio__work *w, int drop) {
    corio_task *t = corio__container_of(w, corio_task, step);
    if (!drop && t->fut.state == CORIO_FUTURE_PENDING)
        task_step(t);
    corio__future_unref(&t->fut);
}

static void schedule_step(corio_task *t) {
    corio__future_ref(&t->fut);
    corio__loop_schedule(t->fut.loop, &t->step);
}

/* The done callback of the future a task awaits (asyncio's __wakeup). */
static void task_wakeup(corio_future *f, void *arg) {
    (void)f;
    corio_task *t = arg;
    if (t->fut.state == CORIO_FUTURE_PENDING)
        task_step(t);
}

corio_task *corio__work_task(corio__work *w) {
    return w->fn == step_run ? corio__container_of(w, corio_task, step)
                             : corio__work_callback_arg(w, task_wakeup);
}

/* When the next thing this iteration runs is resuming another task, a suspending task can switch
 * to it directly: the same order as going through the loop, one stack switch instead of two.
 * Returns that task, its queue entry released, or NULL. Only tasks that are already running and
 * keep their own stack qualify; first steps and compact tasks need the loop's bookkeeping. */
static corio_task *next_in_batch(corio_loop *loop) {
    /* The next iteration's work counts too when nothing could come before it: that is what lets
     * two tasks handing values back and forth run at the cost of one switch per hand-off. */
    corio__work *w = corio__loop_next_work(loop);
    if (!w)
        return NULL;
    corio_task *next = corio__work_task(w);
    if (!next || !next->started || next->compact || next->fut.state != CORIO_FUTURE_PENDING ||
        next->destroying)
        return NULL; /* also what debug mode's plug (task/debug.c) gets here */
    corio__loop_take_work(loop);
    /* Releasing the entry drops its reference: the task is alive (the loop holds every pending
     * task) and so is the future it awaits (its awaiting frame holds one). */
    w->fn(w, 1);
    if (next->must_cancel) {
        next->must_cancel = 0;
        next->resume_cancel = 1;
    }
    return next;
}

int corio__task_suspend(corio_task *t) {
    corio_loop *loop = t->fut.loop;
    corio_task *next = next_in_batch(loop);
    if (next == t) {
        /* A yield with nothing else ready: the loop would resume t at once. */
    } else if (next) {
        loop->task.current = next;
        corio__fiber_switch(&t->fiber, &next->fiber);
    } else {
        corio__fiber_switch(&t->fiber, &loop->task.home);
    }
    loop->task.budget = CORIO__TASK_BUDGET; /* t runs again: a new step */
    if (t->resume_cancel) {
        t->resume_cancel = 0;
        return -ECANCELED;
    }
    return 0;
}

int corio__task_yield(corio_task *t) {
    if (t->destroying)
        return -ECANCELED;
    int rc = corio__task_compact_reserve(t);
    if (rc < 0)
        return rc;
    schedule_step(t);
    return corio__task_suspend(t);
}

/* ---- creation ---- */

int corio_create_task(corio_task **out, corio_loop *loop, corio_coro_fn fn, void *arg,
                      const corio_task_opts *opts) {
    if (out)
        *out = NULL;
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!fn)
        return -EINVAL;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    corio_task *t = corio__pool_alloc(&loop->task.pools[CORIO__POOL_TASK]);
    if (!t)
        return -ENOMEM;
    t->name = NULL;
    if (opts && opts->name && !(t->name = corio__strdup(opts->name))) {
        corio__pool_free(&loop->task.pools[CORIO__POOL_TASK], t);
        return -ENOMEM;
    }
    corio__future_init(&t->fut, loop, CORIO__FUT_TASK);
    t->fut.refs = out ? 2 : 1; /* the loop's until it is done, and the caller's if it asked */
    t->step.fn = step_run;
    t->fn = fn;
    t->arg = arg;
    t->waiter = NULL;
    t->fiber.stack = NULL;
    t->id = ++loop->task.task_counter;
    t->stack_size = opts && opts->stack_size <= UINT32_MAX ? (uint32_t)opts->stack_size : 0;
    t->ncancel = 0;
    t->compact = CORIO__COMPACT_SUPPORTED && opts && (opts->flags & CORIO_TASK_COMPACT);
    if (!CORIO__COMPACT_SUPPORTED && opts && (opts->flags & CORIO_TASK_COMPACT) &&
        t->stack_size < CORIO__SHARED_STACK_MIN)
        t->stack_size = CORIO__SHARED_STACK_MIN; /* as deep as the shared stack would be */
    t->saved = NULL;
    t->started = t->must_cancel = t->resume_cancel = t->returned = t->destroying = t->raised = 0;
    t->stack_marked = 0;
    corio__list_insert_tail(&loop->task.pending, &t->link);
    loop->task.npending++;
    schedule_step(t);
    if (out)
        *out = t;
    return 0;
}

/* ---- await ---- */

int corio_await(corio_future *f, void **value) {
    if (value)
        *value = NULL;
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (!f)
        return -EINVAL;
    CORIO__CHECK_FUTURE(f);
    if (f == &t->fut)
        return -EDEADLK;
    if (f->loop != t->fut.loop)
        return -EINVAL;
    if (t->destroying)
        return -ECANCELED;
    if (f->state == CORIO_FUTURE_PENDING) {
        int rc = corio__task_compact_reserve(t);
        if (rc == 0)
            rc = corio__future_add_done_callback(f, task_wakeup, t);
        if (rc < 0)
            return rc;
        t->waiter = f;
        if (t->must_cancel && corio__future_cancel(f, t->fut.cancel_msg) == 1)
            t->must_cancel = 0;
        rc = corio__task_suspend(t);
        t->waiter = NULL;
        if (rc < 0)
            return rc;
    }
    return corio__future_result(f, value);
}

/* ---- cancellation ---- */

static int task_cancel(corio_future *f, const char *msg) {
    corio_task *t = as_task(f);
    if (f->state != CORIO_FUTURE_PENDING)
        return 0;
    if (t->ncancel < UINT16_MAX) /* saturates rather than wraps to "not cancelled" */
        t->ncancel++;
    free(f->cancel_msg);
    f->cancel_msg = corio__strdup(msg);
    /* If the waiter could not be cancelled (it is done, and the wake-up is on its way), the
     * cancellation is delivered at the next step. */
    if (t->waiter && corio__future_cancel(t->waiter, msg) == 1)
        return 1;
    t->must_cancel = 1;
    return 1;
}

int corio_task_cancel(corio_task *t, const char *msg) {
    if (!t)
        return -EINVAL;
    CHECK(t);
    return task_cancel(&t->fut, msg);
}

int corio_task_cancelling(const corio_task *t) {
    if (!t)
        return 0;
    CHECK(t);
    return t->ncancel;
}

int corio_task_uncancel(corio_task *t) {
    if (!t)
        return -EINVAL;
    CHECK(t);
    if (t->ncancel > 0 && --t->ncancel == 0)
        t->must_cancel = 0;
    return t->ncancel;
}

void *corio_raise(int err) {
    corio_task *t = corio__current_task();
    if (t && err < 0) {
        t->raised = 1;
        t->fut.err = err;
    }
    return NULL;
}

/* ---- introspection ---- */

corio_task *corio_current_task(void) { return corio__current_task(); }

int corio_all_tasks(corio_loop *loop, corio_task **out, size_t cap) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!out && cap)
        return -EINVAL;
    size_t n = 0;
    for (corio__link *l = loop->task.pending.next; l != &loop->task.pending; l = l->next, n++)
        if (n < cap)
            out[n] = corio__container_of(l, corio_task, link);
    return n > INT_MAX ? INT_MAX : (int)n;
}

const char *corio_task_get_name(corio_task *t) {
    if (!t)
        return "";
    CHECK(t);
    if (!t->name) {
        char buf[32];
        snprintf(buf, sizeof buf, "Task-%llu", (unsigned long long)t->id);
        t->name = corio__strdup(buf);
        if (!t->name)
            return "Task-?";
    }
    return t->name;
}

int corio_task_set_name(corio_task *t, const char *name) {
    if (!t)
        return -EINVAL;
    CHECK(t);
    if (!name)
        return -EINVAL;
    char *copy = corio__strdup(name);
    if (!copy)
        return -ENOMEM;
    free(t->name);
    t->name = copy;
    return 0;
}

/* ---- loop close ---- */

static void destroy_pending(corio_loop *loop, corio_task *t) {
    char msg[224] = "Task was destroyed but it is pending!";
    if (corio__loop_debug(loop) && t->waiter) {
        char wait[160];
        corio__task_describe_wait(t, wait, sizeof wait);
        snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " (it %s)", wait);
    }
    corio__loop_report(loop, msg, 0, NULL, t);
    if (t->started) {
        /* Let the coroutine unwind: its await fails with -ECANCELED, and so does every later
         * one, without suspending, until fn returns. */
        if (t->waiter)
            corio_future_remove_done_callback(t->waiter, task_wakeup, t);
        t->destroying = 1;
        t->resume_cancel = 1;
        if (t->compact)
            corio__compact_resume(loop, t);
        loop->task.current = t;
        corio__fiber_switch(&loop->task.home, &t->fiber);
        loop->task.current = NULL;
    } else {
        t->must_cancel = 1;
    }
    if (t->ncancel < UINT16_MAX) /* saturates rather than wraps to "not cancelled" */
        t->ncancel++;
    task_complete(t);
}

void corio__tasks_destroy_all(corio_loop *loop) {
    corio_loop *saved = corio__loop_swap_running(loop); /* where unwinding coroutines look */
    corio__fiber_init_home(&loop->task.home);
    while (loop->task.pending.next != &loop->task.pending) {
        corio_task *t = corio__container_of(loop->task.pending.next, corio_task, link);
        corio__future_ref(&t->fut);
        destroy_pending(loop, t);
        corio__future_unref(&t->fut);
    }
    corio__compact_close(loop);
    release_spare_stack(loop);
    corio__loop_swap_running(saved);
}
