/* Portable context switch on makecontext/swapcontext, for architectures without a hand-written
 * switch or when the build asks for it (CORIO_CONTEXT=ucontext). About two orders of magnitude
 * slower than the assembly: swapcontext saves and restores the signal mask with a system call on
 * every switch, and corio reads the mask first with another (see corio__ctx_jump). Kept simple on purpose: it is the reference the assembly is tested against. */
#include "ctx_arch.h"

#if defined(CORIO_CTX_UCONTEXT)

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

/* makecontext passes only int arguments: the three pointers travel in a struct on the new stack,
 * whose address is split in two ints. */
struct corio__ucontext_start {
    corio__ctx_boot_fn boot;
    void (*entry)(void *);
    void *arg;
};

static void corio__ucontext_entry(unsigned hi, unsigned lo)
{
    uintptr_t p = ((uintptr_t)hi << 16 << 16) | (uintptr_t)lo;
    struct corio__ucontext_start *s = (struct corio__ucontext_start *)p;
    s->boot(s->entry, s->arg);
    abort(); /* boot never returns */
}

void corio__ctx_make(corio__ctx *c, void *lo, size_t size, corio__ctx_boot_fn boot,
                     void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    struct corio__ucontext_start *s = (struct corio__ucontext_start *)(top - 32);
    s->boot = boot;
    s->entry = entry;
    s->arg = arg;
    if (getcontext(&c->uc) != 0)
        abort();
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = (size_t)((uintptr_t)s - (uintptr_t)lo);
    c->uc.uc_link = NULL;
    uintptr_t p = (uintptr_t)s;
    makecontext(&c->uc, (void (*)(void))corio__ucontext_entry, 2, (unsigned)(p >> 16 >> 16),
                (unsigned)(p & 0xffffffffu));
}

void corio__ctx_jump(corio__ctx *from, corio__ctx *to)
{
    /* The signal mask is the thread's, not a task's: swapcontext would put back the mask `to`
     * was saved with, undoing what ran since (a signal a task unblocked when it registered it,
     * corio/signal.h). Saved into `to` first, the restore keeps the thread's mask as it is. */
    if (pthread_sigmask(SIG_BLOCK, NULL, &to->uc.uc_sigmask) != 0 ||
        swapcontext(&from->uc, &to->uc) != 0)
        abort();
}

#else
typedef int corio__unused_in_this_configuration; /* ISO C: no empty translation unit */
#endif /* CORIO_CTX_UCONTEXT */
