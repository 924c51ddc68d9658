/* Fibers: the machine switch (ctx_arch.h) plus what the tools must be told about it.
 *
 * AddressSanitizer keeps a shadow of every stack and, with detect_stack_use_after_return, a "fake
 * stack" per thread of execution; it must be told before and after each switch (fiber API in
 * <sanitizer/common_interface_defs.h>). ThreadSanitizer needs a fiber handle per context. Valgrind
 * only needs stack registration, done in stack_pool.c. Without sanitizers a switch is: store the
 * current-fiber pointer, jump.
 */
#include "ctx_arch.h"

#include <stdlib.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#if __has_feature(thread_sanitizer) && !defined(__SANITIZE_THREAD__)
#define __SANITIZE_THREAD__ 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

/* initial-exec: one instruction to reach, and safe to read in the SIGSEGV handler (a dynamic TLS
 * block could be allocated lazily there). */
#define CORIO__TLS __thread __attribute__((tls_model("initial-exec")))

static CORIO__TLS corio__fiber *corio__cur;
#if defined(__SANITIZE_ADDRESS__)
static CORIO__TLS corio__fiber *corio__prev; /* the fiber that switched to the one now running */
#endif
#if defined(__SANITIZE_THREAD__)
static CORIO__TLS void *corio__tsan_dead; /* exited fiber whose TSan handle is destroyed next */
#endif

corio__fiber *corio__fiber_current(void)
{
    return corio__cur;
}

/* Runs first thing on a context that has just been entered (a resumed switch or a new fiber).
 * `self_fake` is the fake stack ASan saved for it, NULL for a new fiber. */
static inline void corio__fiber_arrived(void *self_fake)
{
#if defined(__SANITIZE_ADDRESS__)
    corio__fiber *prev = corio__prev;
    const void *lo;
    size_t size;
    __sanitizer_finish_switch_fiber(self_fake, &lo, &size);
    /* The only way to learn the bounds of a thread's own stack (the home fiber's): ASan reports
     * the stack we left. Needed when switching back to it. */
    if (prev != NULL && prev->stack == NULL) {
        prev->asan_lo = lo;
        prev->asan_size = size;
    }
#else
    (void)self_fake;
#endif
#if defined(__SANITIZE_THREAD__)
    if (corio__tsan_dead != NULL) {
        __tsan_destroy_fiber(corio__tsan_dead);
        corio__tsan_dead = NULL;
    }
#endif
}

static void corio__fiber_boot(void (*entry)(void *), void *arg)
{
    corio__fiber_arrived(NULL);
    entry(arg);
    /* entry must end with corio__fiber_exit(). */
    static const char msg[] = "corio: a fiber's entry function returned\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    abort();
}

void corio__fiber_init(corio__fiber *f, corio__stack *stack, void (*entry)(void *), void *arg)
{
    f->stack = stack;
#if defined(__SANITIZE_ADDRESS__)
    f->asan_fake = NULL;
    f->asan_lo = stack->lo;
    f->asan_size = stack->size;
#endif
#if defined(__SANITIZE_THREAD__)
    f->tsan_fiber = __tsan_create_fiber(0);
#endif
#if defined(__SANITIZE_ADDRESS__)
    /* A pooled stack may still carry the poisoned redzones of the frames of its previous fiber.
     * A fresh one cannot, and skipping it matters: the call writes the shadow of the whole
     * stack, faulting in 32 KiB of it per 256 KiB stack (100k new tasks: 3 GiB of faults). */
    if (stack->flags & CORIO__STACK_USED)
        __asan_unpoison_memory_region(stack->lo, stack->size);
    stack->flags |= CORIO__STACK_USED;
#endif
    corio__ctx_make(&f->ctx, stack->lo, stack->size, corio__fiber_boot, entry, arg);
}

void corio__fiber_init_home(corio__fiber *f)
{
    f->stack = NULL;
#if defined(__SANITIZE_ADDRESS__)
    f->asan_fake = NULL;
    f->asan_lo = NULL;
    f->asan_size = 0;
#endif
#if defined(__SANITIZE_THREAD__)
    f->tsan_fiber = __tsan_get_current_fiber();
#endif
}

void corio__fiber_switch(corio__fiber *from, corio__fiber *to)
{
    corio__cur = to;
#if defined(__SANITIZE_ADDRESS__)
    corio__prev = from;
    __sanitizer_start_switch_fiber(&from->asan_fake, to->asan_lo, to->asan_size);
#endif
#if defined(__SANITIZE_THREAD__)
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    corio__ctx_jump(&from->ctx, &to->ctx);
#if defined(__SANITIZE_ADDRESS__)
    corio__fiber_arrived(from->asan_fake);
#else
    corio__fiber_arrived(NULL);
#endif
}

static void corio__overflow_report_canary(corio__fiber *f)
{
    static const char a[] = "corio: stack overflow in task '";
    static const char b[] = "' (canary overwritten at the low end of its unguarded stack)\n";
    const char *name = corio__fiber_describe(f);
    size_t n = 0;
    if (name == NULL)
        name = "?";
    while (name[n] != '\0')
        n++;
    ssize_t r = write(2, a, sizeof a - 1);
    r = write(2, name, n);
    r = write(2, b, sizeof b - 1);
    (void)r;
    abort();
}

void corio__fiber_exit(corio__fiber *from, corio__fiber *to)
{
    if (from->stack != NULL && corio__stack_canary_dead(from->stack))
        corio__overflow_report_canary(from);
    corio__cur = to;
#if defined(__SANITIZE_ADDRESS__)
    corio__prev = from;
    /* NULL: this fiber never comes back, so ASan frees its fake stack. */
    __sanitizer_start_switch_fiber(NULL, to->asan_lo, to->asan_size);
#endif
#if defined(__SANITIZE_THREAD__)
    corio__tsan_dead = from->tsan_fiber;
    from->tsan_fiber = NULL;
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    corio__ctx_jump(&from->ctx, &to->ctx);
    abort(); /* nothing switches back to an exited fiber */
}
