/* Internal to src/ctx: how stacks get their guard pages (stack_guard.c).
 *
 * Three mechanisms, best first:
 *  - guard regions, madvise(MADV_GUARD_INSTALL) (Linux 6.13+): page-table markers that fault on
 *    access without splitting the mapping, so a slab of 1024 stacks stays one VMA. Installed for a
 *    whole slab in one process_madvise() call when the kernel allows it, else one madvise per stack.
 *  - mprotect(PROT_NONE): splits the slab's VMA twice per guard, so used only while the process
 *    stays under a VMA budget of a quarter of vm.max_map_count (shared by all pools).
 *  - a canary: the lowest CORIO__CANARY_BYTES of the stack must still read as zero when the fiber
 *    exits or the stack is returned. Catches overflows after the fact, costs nothing up front.
 */
#ifndef CORIO_CTX_STACK_GUARD_H
#define CORIO_CTX_STACK_GUARD_H

#include <stddef.h>

#include "fiber.h"

enum corio__guard_mode {
    CORIO__GUARD_UNKNOWN = 0,    /* not probed yet */
    CORIO__GUARD_REGION_BATCH,   /* process_madvise(MADV_GUARD_INSTALL), one call per slab */
    CORIO__GUARD_REGION,         /* madvise(MADV_GUARD_INSTALL), one call per stack */
    CORIO__GUARD_MPROTECT,       /* mprotect while under budget, then canary */
    CORIO__GUARD_CANARY,         /* canary only (CORIO_STACK_GUARD=canary, for tests) */
};

const char *corio__guard_mode_name(enum corio__guard_mode mode);

/* Installs guard regions below each of the `count` stacks of a new slab (the guard of stack i is
 * the page at base + i * stride). Probes and updates *mode. Returns 0 when every stack is
 * guarded, -1 when guard regions are unsupported (*mode becomes CORIO__GUARD_MPROTECT). */
int corio__guard_slab(enum corio__guard_mode *mode, char *base, size_t stride, size_t count,
                      size_t page);

/* mprotect fallback for one stack whose guard page starts at `guard`: returns 0 and takes two
 * VMAs of the budget, or -1 when the budget is spent or mprotect fails. */
int corio__guard_mprotect(void *guard, size_t page);

/* Gives back the budget of `count` mprotect guards whose mapping was unmapped. */
void corio__guard_mprotect_release(size_t count);

#endif
