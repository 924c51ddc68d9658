/* Internal to src/ctx: the machine-specific half of a fiber, below fiber.c.
 *
 * Two implementations: the hand-written switch (switch_x86_64.S / switch_aarch64.S with the
 * initial frame built by ctx_make.c) and the portable one (switch_ucontext.c).
 */
#ifndef CORIO_CTX_ARCH_H
#define CORIO_CTX_ARCH_H

#include "fiber.h"

/* What a new context runs first: boot(entry, arg), on the new stack. Never returns. */
typedef void (*corio__ctx_boot_fn)(void (*entry)(void *), void *arg);

/* Prepares `c` so that the next jump into it runs boot(entry, arg) on the stack [lo, lo + size).
 * Writes only the top few dozen bytes of the stack. */
void corio__ctx_make(corio__ctx *c, void *lo, size_t size, corio__ctx_boot_fn boot,
                     void (*entry)(void *), void *arg);

#if defined(CORIO_CTX_UCONTEXT)
void corio__ctx_jump(corio__ctx *from, corio__ctx *to);
#else
void corio__ctx_switch_sp(void **save_sp, void *to_sp); /* switch_<arch>.S */
static inline void corio__ctx_jump(corio__ctx *from, corio__ctx *to)
{
    corio__ctx_switch_sp(&from->sp, to->sp);
}
#endif

#endif
