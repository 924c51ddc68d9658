/* Initial frame of a fiber that has never run, for the hand-written switches: the same layout
 * corio__ctx_switch_sp pops (see the comment at the top of switch_<arch>.S), arranged so that it
 * ends in corio__ctx_trampoline with the registers the trampoline expects. */
#include "ctx_arch.h"

#if !defined(CORIO_CTX_UCONTEXT)

#include <stdint.h>
#include <string.h>

void corio__ctx_trampoline(void); /* switch_<arch>.S */

#if defined(__x86_64__)

void corio__ctx_make(corio__ctx *c, void *lo, size_t size, corio__ctx_boot_fn boot,
                     void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    /* 64-byte frame + 16 bytes above it: after the switch rsp = top - 16, 16-aligned as the
     * trampoline's `call` needs; the 16 bytes hold a zero return address for unwinders. */
    uint64_t *f = (uint64_t *)(top - 80);
    uint32_t mxcsr;
    uint16_t fpucw;
    /* A new fiber inherits the FP environment of the thread creating it, as a new thread does. */
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    f[0] = (uint64_t)mxcsr | ((uint64_t)fpucw << 32);
    f[1] = 0;                     /* r15 */
    f[2] = (uint64_t)(uintptr_t)arg;   /* r14 */
    f[3] = (uint64_t)(uintptr_t)entry; /* r13 */
    f[4] = (uint64_t)(uintptr_t)boot;  /* r12 */
    f[5] = 0;                     /* rbx */
    f[6] = 0;                     /* rbp: ends frame-pointer chains */
    f[7] = (uint64_t)(uintptr_t)corio__ctx_trampoline;
    f[8] = 0;
    f[9] = 0;
    c->sp = f;
}

#elif defined(__aarch64__)

void corio__ctx_make(corio__ctx *c, void *lo, size_t size, corio__ctx_boot_fn boot,
                     void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    /* 176-byte frame and 16 zero bytes above it; after the switch sp = top - 16. */
    uint64_t *f = (uint64_t *)(top - 192);
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    memset(f, 0, 192);
    f[0] = (uint64_t)(uintptr_t)boot;  /* x19 */
    f[1] = (uint64_t)(uintptr_t)entry; /* x20 */
    f[2] = (uint64_t)(uintptr_t)arg;   /* x21 */
    f[10] = 0;                         /* x29: ends frame-pointer chains */
    f[11] = (uint64_t)(uintptr_t)corio__ctx_trampoline; /* x30 */
    f[20] = fpcr;
    c->sp = f;
}

#else
#error "no hand-written context switch for this architecture: define CORIO_CTX_UCONTEXT"
#endif

#else
typedef int corio__unused_in_this_configuration; /* ISO C: no empty translation unit */
#endif /* !CORIO_CTX_UCONTEXT */
