/* Context switch for AArch64 (AAPCS64).
 *
 * corio__ctx_switch_sp(void **save_sp, void *to_sp)
 *   Saves x19-x28, the frame pointer x29, the link register x30, the low halves d8-d15 of v8-v15
 *   (the only callee-saved FP state under AAPCS64) and FPCR (rounding mode, flush-to-zero) on the
 *   running stack, stores sp in *save_sp, loads to_sp and restores the same frame from there.
 *
 * Frame layout, from the saved sp upwards (176 bytes, a multiple of 16 as sp requires; ctx_make.c
 * builds the same frame for a fiber that has never run):
 *   +0 x19 x20  +16 x21 x22  +32 x23 x24  +48 x25 x26  +64 x27 x28  +80 x29 x30
 *   +96 d8 d9  +112 d10 d11  +128 d12 d13  +144 d14 d15  +160 FPCR  +168 padding
 *
 * FPCR is written only when it differs: an msr to FPCR can be slow (it may serialise the FP
 * pipeline on some cores) and fibers almost always share one FP environment.
 */
#if defined(__aarch64__) && !defined(CORIO_CTX_UCONTEXT)

#if defined(__APPLE__)
#define SYM(x) _##x
#else
#define SYM(x) x
#endif

    .text
    .globl SYM(corio__ctx_switch_sp)
#if !defined(__APPLE__)
    .hidden corio__ctx_switch_sp
    .type corio__ctx_switch_sp, %function
#endif
    .p2align 4
SYM(corio__ctx_switch_sp):
    .cfi_startproc
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x10, sp
    str x10, [x0]
    mov sp, x1
    ldr x10, [sp, #160]
    cmp x9, x10
    b.eq 1f
    msr fpcr, x10
1:
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #176
    ret
    .cfi_endproc
#if !defined(__APPLE__)
    .size corio__ctx_switch_sp, .-corio__ctx_switch_sp
#endif

/* First code a new fiber runs, reached by the `ret` above (x30 = this address).
 * x19 = boot function, x20 = entry, x21 = arg (placed by ctx_make.c); calls boot(entry, arg),
 * which never returns; brk makes a bug loud. x30 is undefined for the unwinder so backtraces end
 * here. */
    .globl SYM(corio__ctx_trampoline)
#if !defined(__APPLE__)
    .hidden corio__ctx_trampoline
    .type corio__ctx_trampoline, %function
#endif
    .p2align 4
SYM(corio__ctx_trampoline):
    .cfi_startproc
    .cfi_undefined x30
    mov x0, x20
    mov x1, x21
    blr x19
    brk #0
    .cfi_endproc
#if !defined(__APPLE__)
    .size corio__ctx_trampoline, .-corio__ctx_trampoline
#endif

#endif /* __aarch64__ && !CORIO_CTX_UCONTEXT */

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack,"",%progbits
#endif
