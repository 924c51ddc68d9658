/* Internal: execution contexts ("fibers") and their stacks.
 *
 * The lowest layer of corio. It knows nothing about loops, futures or tasks: it switches between
 * stacks and hands stacks out of a pool. The task layer above owns one fiber per started task and
 * one "home" fiber per loop (the thread's own stack, on which the loop runs).
 */
#ifndef CORIO_CTX_FIBER_H
#define CORIO_CTX_FIBER_H

#include <stddef.h>
#include <stdint.h>

#if defined(CORIO_CTX_UCONTEXT)
#include <ucontext.h>
#endif

typedef struct corio__stack corio__stack;
typedef struct corio__stack_pool corio__stack_pool;
typedef struct corio__fiber corio__fiber;

/* Saved machine state of a suspended fiber. */
typedef struct corio__ctx {
#if defined(CORIO_CTX_UCONTEXT)
    ucontext_t uc;
#else
    void *sp; /* callee-saved registers and FP control words live on the stack below sp */
#endif
} corio__ctx;

struct corio__fiber {
    corio__ctx ctx;
    corio__stack *stack;  /* NULL for a home fiber (the thread's own stack) */
    void *asan_fake;      /* AddressSanitizer fake stack of this fiber while suspended */
    const void *asan_lo;  /* bounds ASan reported for a home fiber's stack */
    size_t asan_size;
    /* Names the fiber's owner in the stack-overflow report; may be NULL. */
    const char *(*describe)(corio__fiber *self);
};

/* Prepares `f` to run entry(arg) on `stack` at the next switch into it. entry must never return:
 * it ends by corio__fiber_exit(). */
void corio__fiber_init(corio__fiber *f, corio__stack *stack, void (*entry)(void *), void *arg);

/* Prepares `f` as the home fiber of the calling thread (no stack of its own). */
void corio__fiber_init_home(corio__fiber *f);

/* Saves the running fiber into `from` and resumes `to`. Returns when something switches back to
 * `from`. */
void corio__fiber_switch(corio__fiber *from, corio__fiber *to);

/* Like corio__fiber_switch, but `from` is finished and will never be resumed (its sanitizer state
 * is dropped). Does not return. */
void corio__fiber_exit(corio__fiber *from, corio__fiber *to) __attribute__((noreturn));

/* The fiber running on this thread right now (NULL before the first switch): used by the
 * stack-overflow handler. */
corio__fiber *corio__fiber_current(void);

/* ---- stacks ---- */

struct corio__stack {
    void *lo;    /* lowest usable byte */
    size_t size; /* usable bytes; lo + size is the initial stack pointer (16-aligned) */
    /* private to the pool below */
    corio__stack *next_free;
    void *slab;
    uint32_t flags;
    unsigned valgrind_id;
};

/* Creates a pool handing out stacks of `default_size` bytes (rounded up to pages; 0 picks
 * CORIO_DEFAULT_STACK_SIZE or the CORIO_STACK_SIZE environment variable). Returns 0 or -errno. */
int corio__stack_pool_init(corio__stack_pool **out, size_t default_size);
void corio__stack_pool_destroy(corio__stack_pool *pool);

/* Takes a stack of at least `size` bytes (0: the pool's default). O(1) and syscall-free when a
 * pooled stack of that size is free. Returns 0 or -ENOMEM. */
int corio__stack_get(corio__stack_pool *pool, size_t size, corio__stack **out);

/* Gives a stack back to its pool for reuse. */
void corio__stack_put(corio__stack_pool *pool, corio__stack *stack);

/* Statistics for tests and debugging. */
typedef struct corio__stack_stats {
    size_t default_size;
    size_t in_use;     /* stacks handed out */
    size_t pooled;     /* free stacks kept for reuse */
    size_t mapped;     /* bytes of address space reserved */
    size_t guarded;    /* stacks protected by a guard page */
} corio__stack_stats;
void corio__stack_pool_stats(corio__stack_pool *pool, corio__stack_stats *st);

/* Installs (once per thread) the alternate signal stack and the SIGSEGV/SIGBUS handler that turns a
 * guard-page hit into "corio: stack overflow in task 'NAME'" and abort(). Returns 0 or -errno. */
int corio__overflow_handler_install(void);

#endif
