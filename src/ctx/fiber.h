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

/* Hand-written switches exist for x86-64 and AArch64; anything else uses the portable
 * makecontext/swapcontext fallback (switch_ucontext.c), which the build may also force with
 * CORIO_CONTEXT=ucontext. */
#if !defined(CORIO_CTX_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#define CORIO_CTX_UCONTEXT 1
#endif

#if defined(CORIO_CTX_UCONTEXT)
#include <ucontext.h>
#endif

/* Default stack size when neither the caller nor CORIO_STACK_SIZE says otherwise. */
#ifndef CORIO_DEFAULT_STACK_SIZE
#define CORIO_DEFAULT_STACK_SIZE (64u * 1024u)
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

/* The sanitizers' bookkeeping exists only in builds that use it: every task carries a fiber, and
 * a million tasks make each of its bytes count. */
#if defined(__SANITIZE_ADDRESS__)
#define CORIO__FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO__FIBER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CORIO__FIBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORIO__FIBER_TSAN 1
#endif
#endif

struct corio__fiber {
    corio__ctx ctx;
    corio__stack *stack;  /* NULL for a home fiber (the thread's own stack) */
#if defined(CORIO__FIBER_ASAN)
    void *asan_fake;      /* AddressSanitizer fake stack of this fiber while suspended */
    const void *asan_lo;  /* bounds ASan reported for a home fiber's stack */
    size_t asan_size;
#endif
#if defined(CORIO__FIBER_TSAN)
    void *tsan_fiber;     /* ThreadSanitizer's fiber handle */
#endif
};


/* Prepares `f` to run entry(arg) on `stack` at the next switch into it. entry must never return:
 * it ends by corio__fiber_exit(). Only the top page of the stack is written. */
void corio__fiber_init(corio__fiber *f, corio__stack *stack, void (*entry)(void *), void *arg);

/* Prepares `f` as the home fiber of the calling thread (no stack of its own). */
void corio__fiber_init_home(corio__fiber *f);

/* Saves the running fiber into `from` and resumes `to`. Returns when something switches back to
 * `from`. */
void corio__fiber_switch(corio__fiber *from, corio__fiber *to);

/* Like corio__fiber_switch, but `from` is finished and will never be resumed (its sanitizer state
 * is dropped). On an unguarded stack it first checks the stack's canary and, if it was overwritten,
 * reports the overflow by name and aborts. Does not return. */
void corio__fiber_exit(corio__fiber *from, corio__fiber *to) __attribute__((noreturn));

/* The fiber running on this thread right now (NULL before the first switch): used by the
 * stack-overflow handler. */
corio__fiber *corio__fiber_current(void);

/* ---- stacks ---- */

/* Bytes of guard below every stack. One page is skipped by any frame bigger than a page (a local
 * array, or a few recursion levels merged by the optimiser), landing in the neighbouring stack;
 * 32 KiB catch frames up to that size at no memory cost (guard regions are page-table markers).
 * -fstack-clash-protection closes the rest of the gap by probing a large frame's pages in order,
 * but gcc's aarch64 code probes only every 64 KiB (its stack-clash-protection-guard-size), so a
 * 32 KiB guard could still be jumped there: aarch64 gets 64 KiB. */
#if defined(__aarch64__)
#define CORIO__GUARD_BYTES (64 * 1024)
#else
#define CORIO__GUARD_BYTES (32 * 1024)
#endif

/* The guard below each stack for a page size: CORIO__GUARD_BYTES, at least one page. */
static inline size_t corio__guard_size(size_t page) {
    return CORIO__GUARD_BYTES > page ? (CORIO__GUARD_BYTES + page - 1) / page * page : page;
}

/* One stack. Descriptors live in arrays owned by the pool, never on the stack's own pages, so a
 * stack that was handed out but not run has no resident page at all. */
struct corio__stack {
    void *lo;    /* lowest usable byte; the guard page (if any) is the page just below */
    size_t size; /* usable bytes; lo + size is the initial stack pointer (16-aligned) */
    /* Names the owner of the fiber running on this stack in the stack-overflow report, or
     * returns NULL; set by whoever takes the stack (it is per stack, not per fiber, so that it
     * costs a task nothing). Called from a SIGSEGV handler: it must be async-signal-safe (return
     * a pointer to a string it already has). */
    const char *(*describe)(corio__fiber *f);
    /* private to the pool (stack_pool.c) */
    corio__stack *next_free, *prev_free;
    struct corio__slab *slab;
    uint32_t flags;       /* CORIO__STACK_* */
    unsigned valgrind_id; /* from VALGRIND_STACK_REGISTER, 0 when not under Valgrind */
};
/* The name of a fiber's owner for the stack-overflow report (see corio__stack.describe), or
 * NULL. Async-signal-safe. */
static inline const char *corio__fiber_describe(corio__fiber *f) {
    return f && f->stack && f->stack->describe ? f->stack->describe(f) : NULL;
}

#define CORIO__STACK_FREE 1u      /* on its pool's free list */
#define CORIO__STACK_GUARDED 2u   /* a guard page below lo faults on access */
#define CORIO__STACK_CANARY 4u    /* unguarded: the lowest CORIO__CANARY_BYTES must stay zero */
#define CORIO__STACK_USED 8u      /* ASan: a fiber ran here since the slab was mapped (stale poison) */
#define CORIO__CANARY_BYTES 64u

/* Returns nonzero when `stack` has no guard page and its canary (the lowest bytes, which are never
 * written on a fresh stack and read as zero) shows that something wrote there. */
int corio__stack_canary_dead(const corio__stack *stack);

/* High-water marks (stack_mark.c, debug mode): corio__stack_clear() empties a stack before a fiber
 * first runs on it (its pages read back as zeros; returns 0, or -1 if the kernel refused);
 * corio__stack_high_water() then returns how many bytes from its top have been written, looking
 * only below `limit` (the suspended fiber's stack pointer: everything above is in use; NULL: the
 * whole stack). */
int corio__stack_clear(corio__stack *stack);
size_t corio__stack_high_water(const corio__stack *stack, const void *limit);

/* The stack pointer a suspended fiber will resume at, or NULL where the switch does not keep one
 * (ucontext). */
static inline void *corio__fiber_saved_sp(const corio__fiber *f)
{
#if defined(CORIO_CTX_UCONTEXT)
    (void)f;
    return NULL;
#else
    return f->ctx.sp;
#endif
}

/* Creates a pool handing out stacks of `default_size` bytes (rounded up to pages; 0 picks
 * CORIO_DEFAULT_STACK_SIZE or the CORIO_STACK_SIZE environment variable). Returns 0 or -errno. */
int corio__stack_pool_init(corio__stack_pool **out, size_t default_size);
void corio__stack_pool_destroy(corio__stack_pool *pool);

/* Takes a stack of at least `size` bytes (0: the pool's default). O(1) and syscall-free when a
 * pooled stack of that size is free. Returns 0 or -ENOMEM. */
int corio__stack_get(corio__stack_pool *pool, size_t size, corio__stack **out);

/* Gives a stack back to its pool for reuse (LIFO: the next get returns it, its pages still warm).
 * Checks the canary of an unguarded stack (abort with a message if it was overwritten). When a slab
 * becomes entirely free and the pool already keeps one entirely free slab of that size, the slab
 * is unmapped (one munmap for all its stacks). */
void corio__stack_put(corio__stack_pool *pool, corio__stack *stack);

/* Unmaps every slab none of whose stacks is in use (e.g. when the loop goes idle). Returns the
 * number of bytes of address space released. */
size_t corio__stack_pool_trim(corio__stack_pool *pool);

/* Statistics for tests and debugging. */
typedef struct corio__stack_stats {
    size_t default_size;
    size_t in_use;     /* stacks handed out */
    size_t pooled;     /* free stacks kept for reuse */
    size_t mapped;     /* bytes of address space reserved */
    size_t guarded;    /* stacks protected by a guard page */
    size_t slabs;      /* mappings (slabs) held */
    size_t classes;    /* distinct stack sizes seen */
    const char *guard_mode; /* "guard-region" (madvise), "mprotect", "canary" (last resort) */
} corio__stack_stats;
void corio__stack_pool_stats(corio__stack_pool *pool, corio__stack_stats *st);

/* Installs (once per thread) the alternate signal stack and the SIGSEGV/SIGBUS handler that turns a
 * guard-page hit into "corio: stack overflow in task 'NAME' (stack of N bytes)" and abort(). Faults
 * that are not guard hits go to the handler that was installed before (or the default action).
 * The alternate stack is freed when the thread exits. Returns 0 or -errno. */
int corio__overflow_handler_install(void);

#endif
