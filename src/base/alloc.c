/* Fault injection state for src/base/alloc.h. */
#include "base/alloc.h"

__thread long corio__alloc_fail_after __attribute__((tls_model("initial-exec"))) = -1;
__thread long corio__alloc_failures __attribute__((tls_model("initial-exec")));

long corio__alloc_fail_arm(long n) {
    corio__alloc_fail_after = n;
    return corio__alloc_failures;
}

__attribute__((noinline, used)) void corio__alloc_fault_hit(void) { __asm__ volatile(""); }
