/* Compact tasks: many tasks share one run stack; a suspended one keeps only its used bytes.
 *
 * A compact task's frames stay on the shared stack after it suspends, and are copied out only
 * when another compact task needs the stack (so a task that is resumed before anyone else ran
 * there pays no copy). They are copied back to the same addresses, which keeps every pointer
 * within the task's own frames valid; pointers from outside into them are what the mode forbids.
 */
#include "task/compact.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_UNDEFINED
#define VALGRIND_MAKE_MEM_UNDEFINED(addr, len) ((void)(addr), (void)(len))
#endif

#if CORIO__COMPACT_SUPPORTED

/* Bytes below the reserving frame down to the switch's saved registers: about 30 at -O2 with
 * link-time optimisation, more in unoptimised builds. A million sleeping tasks pay it each, so it
 * is not generous; a task that goes deeper is still saved (evict grows its buffer), at the cost
 * of a realloc. */
#if defined(__aarch64__)
#define SWITCH_SAVE 176 /* switch_aarch64.S saves x19-x30 and d8-d15 on the stack */
#else
#define SWITCH_SAVE 0   /* switch_x86_64.S's six pushes fit in the slack below */
#endif
#ifdef NDEBUG
#define SWITCH_SLACK (96 + SWITCH_SAVE)
#else /* checked builds (-O1 with asserts, the Valgrind run's) went past 96 (272 bytes for 264) */
#define SWITCH_SLACK (160 + SWITCH_SAVE)
#endif

static char *shared_top(corio_loop *loop) {
    return (char *)loop->task.shared_stack->lo + loop->task.shared_stack->size;
}

int corio__task_compact_reserve(corio_task *t) {
    if (!t->compact)
        return 0;
    char *here = __builtin_frame_address(0);
    size_t need = (size_t)(shared_top(t->fut.loop) - here) + SWITCH_SLACK;
    if (t->saved && need <= malloc_usable_size(t->saved))
        return 0;
    need = (need + 31) & ~(size_t)31;
    void *p = corio__realloc(t->saved, need);
    if (!p)
        return -ENOMEM;
    t->saved = p;
    return 0;
}

/* Copies the frames of the task now on the shared stack out of the way. Returns -ENOMEM, with
 * nothing moved, when they outgrow what corio__task_compact_reserve made room for (its slack is
 * an estimate, which a less optimised build can exceed) and the buffer cannot grow. */
static int evict(corio_loop *loop) {
    corio_task *o = loop->task.shared_owner;
    if (!o)
        return 0;
    char *sp = o->fiber.ctx.sp;
    size_t len = (size_t)(shared_top(loop) - sp);
    if (len > malloc_usable_size(o->saved)) {
        void *p = corio__realloc(o->saved, len);
        if (!p)
            return -ENOMEM;
        o->saved = p;
    }
    memcpy(o->saved, sp, len);
    loop->task.shared_owner = NULL;
    return 0;
}

int corio__compact_start(corio_loop *loop, corio_task *t, corio__stack **stack) {
    if (!loop->task.shared_stack) {
        size_t size = loop->task.stack_size > CORIO__SHARED_STACK_MIN ? loop->task.stack_size
                                                                 : CORIO__SHARED_STACK_MIN;
        int rc = corio__stack_get(loop->task.stacks, size, &loop->task.shared_stack);
        if (rc < 0)
            return rc;
    }
    if (evict(loop) < 0) /* the new task fails to start; the suspended one is intact */
        return -ENOMEM;
    loop->task.shared_owner = t;
    *stack = loop->task.shared_stack;
    return 0;
}

void corio__compact_resume(corio_loop *loop, corio_task *t) {
    if (loop->task.shared_owner == t)
        return;
    /* A task being resumed cannot be refused: if the other's frames cannot be kept, nothing
     * sane is left to do. */
    if (evict(loop) < 0) {
        static const char msg[] = "corio: out of memory saving a compact task's frames\n";
        (void)!write(2, msg, sizeof msg - 1);
        abort();
    }
    char *sp = t->fiber.ctx.sp;
    size_t len = (size_t)(shared_top(loop) - sp);
    /* Memcheck holds the stack below the last task's stack pointer unaddressable. */
    VALGRIND_MAKE_MEM_UNDEFINED(sp, len);
    memcpy(sp, t->saved, len);
    loop->task.shared_owner = t;
}

#else /* compact tasks get their own stacks in this build (see compact.h) */

int corio__task_compact_reserve(corio_task *t) {
    (void)t;
    return 0;
}
int corio__compact_start(corio_loop *loop, corio_task *t, corio__stack **stack) {
    (void)loop;
    (void)t;
    (void)stack;
    return -ENOTSUP;
}
void corio__compact_resume(corio_loop *loop, corio_task *t) {
    (void)loop;
    (void)t;
}

#endif

void corio__compact_finish(corio_loop *loop, corio_task *t) {
    if (loop->task.shared_owner == t)
        loop->task.shared_owner = NULL;
    free(t->saved);
    t->saved = NULL;
}

void corio__compact_close(corio_loop *loop) {
    if (loop->task.shared_stack)
        corio__stack_put(loop->task.stacks, loop->task.shared_stack);
    loop->task.shared_stack = NULL;
    loop->task.shared_owner = NULL;
}
