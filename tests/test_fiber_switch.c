/* Fibers: switching back and forth, many fibers, per-fiber FP control state, callee-saved
 * registers, and the stack alignment a new fiber starts with. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "ctx/fiber.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

static corio__stack_pool *pool;
static corio__fiber home;

static void setup(void)
{
    cr_assert_eq(corio__stack_pool_init(&pool, 0), 0);
    corio__fiber_init_home(&home);
}

static void teardown(void)
{
    corio__stack_pool_destroy(pool);
}

TestSuite(fiber_switch, .init = setup, .fini = teardown, .timeout = 10);

/* ---- ping-pong ---- */

static corio__fiber ping;
static int counter;

static void ping_main(void *arg)
{
    int rounds = *(int *)arg;
    for (int i = 0; i < rounds; i++) {
        counter++;
        corio__fiber_switch(&ping, &home);
    }
    counter = -counter;
    corio__fiber_exit(&ping, &home);
}

Test(fiber_switch, ping_pong)
{
    corio__stack *st;
    int rounds = 100000;
    cr_assert_eq(corio__stack_get(pool, 0, &st), 0);
    counter = 0;
    corio__fiber_init(&ping, st, ping_main, &rounds);
    cr_assert_null(corio__fiber_current());
    for (int i = 0; i < rounds; i++) {
        corio__fiber_switch(&home, &ping);
        cr_assert_eq(counter, i + 1);
        cr_assert_eq(corio__fiber_current(), &home);
    }
    corio__fiber_switch(&home, &ping); /* runs to the exit */
    cr_assert_eq(counter, -rounds);
    corio__stack_put(pool, st);
}

/* ---- many fibers, round robin, each with its own locals ---- */

#define MANY 1000
static corio__fiber many[MANY];
static corio__stack *many_st[MANY];
static long many_sum[MANY];

static void many_main(void *arg)
{
    intptr_t id = (intptr_t)arg;
    long local = id * 1000; /* lives on this fiber's stack across switches */
    for (int round = 0; round < 10; round++) {
        local += round;
        corio__fiber_switch(&many[id], &home);
    }
    many_sum[id] = local;
    corio__fiber_exit(&many[id], &home);
}

Test(fiber_switch, many_fibers)
{
    for (intptr_t i = 0; i < MANY; i++) {
        cr_assert_eq(corio__stack_get(pool, 0, &many_st[i]), 0);
        corio__fiber_init(&many[i], many_st[i], many_main, (void *)i);
    }
    for (int round = 0; round <= 10; round++)
        for (int i = 0; i < MANY; i++)
            corio__fiber_switch(&home, &many[i]);
    for (intptr_t i = 0; i < MANY; i++) {
        cr_assert_eq(many_sum[i], i * 1000 + 45);
        corio__stack_put(pool, many_st[i]);
    }
}

/* ---- fiber to fiber, and the argument reaching entry ---- */

static corio__fiber fa, fb;
static char trace[64];
static size_t ntrace;

static void fb_main(void *arg)
{
    trace[ntrace++] = *(const char *)arg;
    corio__fiber_switch(&fb, &fa);
    trace[ntrace++] = 'd';
    corio__fiber_exit(&fb, &home);
}

static void fa_main(void *arg)
{
    trace[ntrace++] = *(const char *)arg;
    corio__fiber_switch(&fa, &fb);
    trace[ntrace++] = 'c';
    corio__fiber_switch(&fa, &fb);
    cr_assert_fail("fa resumed after fb exited");
}

Test(fiber_switch, fiber_to_fiber)
{
    corio__stack *sa, *sb;
    cr_assert_eq(corio__stack_get(pool, 0, &sa), 0);
    cr_assert_eq(corio__stack_get(pool, 0, &sb), 0);
    ntrace = 0;
    corio__fiber_init(&fa, sa, fa_main, "a");
    corio__fiber_init(&fb, sb, fb_main, "b");
    corio__fiber_switch(&home, &fa);
    trace[ntrace] = '\0';
    cr_assert_str_eq(trace, "abcd");
    corio__stack_put(pool, sa);
    corio__stack_put(pool, sb);
}

/* ---- alignment at entry ---- */

static corio__fiber al;
static uintptr_t entry_frame;
static int aligned_ok;

#if defined(__x86_64__)
__attribute__((noinline)) static int use_aligned_sse(void)
{
    /* A 16-aligned local spilled with movaps: misalignment would fault. */
    __m128 v[2];
    volatile float seed = 1.0f;
    v[0] = _mm_set1_ps(seed);
    v[1] = _mm_add_ps(v[0], v[0]);
    __asm__ volatile("" : : "m"(v));
    _mm_store_ps((float *)&v[0], v[1]);
    return ((uintptr_t)&v[0] & 15) == 0 && ((float *)&v[0])[0] == 2.0f;
}
#else
__attribute__((noinline)) static int use_aligned_sse(void)
{
    _Alignas(16) char buf[16];
    __asm__ volatile("" : : "r"(buf) : "memory");
    return ((uintptr_t)buf & 15) == 0;
}
#endif

__attribute__((noinline)) static void al_main(void *arg)
{
    (void)arg;
    entry_frame = (uintptr_t)__builtin_frame_address(0);
    aligned_ok = use_aligned_sse();
    corio__fiber_exit(&al, &home);
}

Test(fiber_switch, stack_aligned_at_entry)
{
    corio__stack *st;
    cr_assert_eq(corio__stack_get(pool, 0, &st), 0);
    corio__fiber_init(&al, st, al_main, NULL);
    corio__fiber_switch(&home, &al);
    /* With a frame pointer the frame address is the saved-rbp slot: 16-aligned when the ABI's
     * alignment held at the call (x86-64: rsp+8 aligned at entry; AArch64: sp always aligned). */
    cr_assert_eq(entry_frame & 15, 0, "frame %#lx", (unsigned long)entry_frame);
    cr_assert(entry_frame > (uintptr_t)st->lo && entry_frame < (uintptr_t)st->lo + st->size);
    cr_assert(aligned_ok);
    corio__stack_put(pool, st);
}

/* ---- FP control state is per fiber ---- */

static corio__fiber fp1, fp2;
static unsigned fp_seen_in_2, fp_after_1;

static unsigned get_round(void)
{
#if defined(__x86_64__)
    return _mm_getcsr() & 0x6000; /* MXCSR.RC */
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (unsigned)(fpcr >> 22) & 3; /* FPCR.RMode */
#else
    return 0;
#endif
}

static void set_round_toward_zero(void)
{
#if defined(__x86_64__)
    _mm_setcsr((_mm_getcsr() & ~0x6000u) | 0x6000u);
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    cw |= 0x0c00; /* x87 RC: toward zero */
    __asm__ volatile("fldcw %0" : : "m"(cw));
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= (uint64_t)3 << 22;
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#endif
}

static void fp1_main(void *arg)
{
    (void)arg;
    set_round_toward_zero();
    corio__fiber_switch(&fp1, &fp2);
    fp_after_1 = get_round();
    corio__fiber_exit(&fp1, &home);
}

static void fp2_main(void *arg)
{
    (void)arg;
    fp_seen_in_2 = get_round();
    corio__fiber_switch(&fp2, &fp1);
    cr_assert_fail("not reached");
}

Test(fiber_switch, fp_control_per_fiber)
{
#if defined(CORIO_CTX_UCONTEXT) || !(defined(__x86_64__) || defined(__aarch64__))
    cr_skip_test("the ucontext fallback keeps glibc's FP-environment behaviour");
#endif
    corio__stack *s1, *s2;
    unsigned home_round = get_round();
    cr_assert_eq(corio__stack_get(pool, 0, &s1), 0);
    cr_assert_eq(corio__stack_get(pool, 0, &s2), 0);
    corio__fiber_init(&fp1, s1, fp1_main, NULL);
    corio__fiber_init(&fp2, s2, fp2_main, NULL);
    corio__fiber_switch(&home, &fp1);
    cr_assert_eq(fp_seen_in_2, home_round, "fiber 2 saw fiber 1's rounding mode");
    cr_assert_neq(fp_after_1, home_round, "fiber 1 lost its rounding mode");
    cr_assert_eq(get_round(), home_round, "home fiber's rounding mode changed");
    corio__stack_put(pool, s1);
    corio__stack_put(pool, s2);
}

/* ---- callee-saved registers survive a switch ---- */

static corio__fiber clob;
uint64_t regs_out[5]; /* written by the asm below: global so its symbol name is exact */

static void clob_main(void *arg)
{
    (void)arg;
    for (;;) {
#if defined(__x86_64__)
        __asm__ volatile("xor %%ebx, %%ebx; xor %%r12d, %%r12d; xor %%r13d, %%r13d;"
                         "xor %%r14d, %%r14d; xor %%r15d, %%r15d"
                         :
                         :
                         : "rbx", "r12", "r13", "r14", "r15");
#elif defined(__aarch64__)
        __asm__ volatile("mov x19, #0; mov x20, #0; mov x21, #0; mov x22, #0; mov x23, #0;"
                         "mov x24, #0; mov x25, #0; mov x26, #0; mov x27, #0; mov x28, #0;"
                         "fmov d8, xzr; fmov d9, xzr; fmov d10, xzr; fmov d11, xzr;"
                         "fmov d12, xzr; fmov d13, xzr; fmov d14, xzr; fmov d15, xzr"
                         :
                         :
                         : "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
                           "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15");
#endif
        corio__fiber_switch(&clob, &home);
    }
}

Test(fiber_switch, callee_saved_registers_survive)
{
    corio__stack *st;
    cr_assert_eq(corio__stack_get(pool, 0, &st), 0);
    corio__fiber_init(&clob, st, clob_main, NULL);
#if defined(__x86_64__)
    /* Put known values in the callee-saved registers, switch (through a call: the compiler may
     * assume only callee-saved registers survive it), read them back. */
    __asm__ volatile("mov $0x1111, %%rbx; mov $0x2222, %%r12; mov $0x3333, %%r13;"
                     "mov $0x4444, %%r14; mov $0x5555, %%r15;"
                     "sub $128, %%rsp;" /* step over the red zone */
                     "lea home(%%rip), %%rdi; lea clob(%%rip), %%rsi; call corio__fiber_switch;"
                     "add $128, %%rsp;"
                     "mov %%rbx, regs_out(%%rip); mov %%r12, regs_out+8(%%rip);"
                     "mov %%r13, regs_out+16(%%rip); mov %%r14, regs_out+24(%%rip);"
                     "mov %%r15, regs_out+32(%%rip)"
                     :
                     :
                     : "rbx", "r12", "r13", "r14", "r15", "rax", "rcx", "rdx", "rsi", "rdi", "r8",
                       "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                       "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                       "xmm14", "xmm15");
    uint64_t *out = regs_out;
    cr_assert_eq(out[0], 0x1111);
    cr_assert_eq(out[1], 0x2222);
    cr_assert_eq(out[2], 0x3333);
    cr_assert_eq(out[3], 0x4444);
    cr_assert_eq(out[4], 0x5555);
#elif defined(__aarch64__)
    __asm__ volatile("mov x19, #0x1111; mov x20, #0x2020; mov x28, #0x2828; fmov d8, #1.0;"
                     "fmov d15, #2.0;"
                     "adrp x0, home; add x0, x0, :lo12:home; adrp x1, clob; add x1, x1, :lo12:clob;"
                     "bl corio__fiber_switch;"
                     "adrp x9, regs_out; add x9, x9, :lo12:regs_out;"
                     "str x19, [x9]; str x20, [x9, #8]; str x28, [x9, #16]; str d8, [x9, #24];"
                     "str d15, [x9, #32]"
                     :
                     :
                     : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
                       "x12", "x13", "x14", "x15", "x16", "x17", "x19", "x20", "x28", "x30",
                       "d8", "d15", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17",
                       "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28",
                       "v29", "v30", "v31", "memory", "cc");
    double d8, d15;
    memcpy(&d8, &regs_out[3], sizeof d8);
    memcpy(&d15, &regs_out[4], sizeof d15);
    cr_assert_eq(regs_out[0], 0x1111);
    cr_assert_eq(regs_out[1], 0x2020);
    cr_assert_eq(regs_out[2], 0x2828);
    cr_assert_eq(d8, 1.0);
    cr_assert_eq(d15, 2.0);
#else
    cr_skip_test("no register-level check for this architecture");
#endif
    corio__stack_put(pool, st);
}
