/* ns per context switch: corio's fiber switch against glibc's swapcontext, in the same run.
 *
 *   cc -O2 -Isrc bench/ctx_switch.c src/ctx/{*.c,*.S} -o ctx_switch && ./ctx_switch [N]
 *
 * Each round trip is two switches (home -> fiber -> home); the figure is per switch. The build of
 * corio it links decides which switch "corio" means (assembly, or ucontext with
 * CORIO_CTX_UCONTEXT); swapcontext is always measured directly.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

#include "ctx/fiber.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static corio__fiber home, fib;
static long rounds;

static void fiber_main(void *arg)
{
    (void)arg;
    for (;;)
        corio__fiber_switch(&fib, &home);
}

static double bench_corio(long n)
{
    corio__stack_pool *pool;
    corio__stack *st;
    if (corio__stack_pool_init(&pool, 0) != 0 || corio__stack_get(pool, 0, &st) != 0)
        abort();
    corio__fiber_init_home(&home);
    corio__fiber_init(&fib, st, fiber_main, NULL);
    for (long i = 0; i < 1000; i++) /* warm up */
        corio__fiber_switch(&home, &fib);
    double t0 = now();
    for (long i = 0; i < n; i++)
        corio__fiber_switch(&home, &fib);
    double t = now() - t0;
    corio__stack_put(pool, st);
    corio__stack_pool_destroy(pool);
    return t * 1e9 / (double)(2 * n);
}

static ucontext_t uc_home, uc_fib;

static void uc_main(void)
{
    for (;;)
        swapcontext(&uc_fib, &uc_home);
}

static double bench_swapcontext(long n)
{
    static char stack[64 * 1024] __attribute__((aligned(16)));
    getcontext(&uc_fib);
    uc_fib.uc_stack.ss_sp = stack;
    uc_fib.uc_stack.ss_size = sizeof stack;
    uc_fib.uc_link = NULL;
    makecontext(&uc_fib, uc_main, 0);
    for (long i = 0; i < 1000; i++)
        swapcontext(&uc_home, &uc_fib);
    double t0 = now();
    for (long i = 0; i < n; i++)
        swapcontext(&uc_home, &uc_fib);
    double t = now() - t0;
    return t * 1e9 / (double)(2 * n);
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 10000000;
    long uc_rounds = rounds / 10 > 0 ? rounds / 10 : 1;
    double best_c = 1e9, best_u = 1e9;
    for (int rep = 0; rep < 5; rep++) { /* best of 5: the machine's noise is one-sided */
        double c = bench_corio(rounds), u = bench_swapcontext(uc_rounds);
        best_c = c < best_c ? c : best_c;
        best_u = u < best_u ? u : best_u;
    }
#if defined(CORIO_CTX_UCONTEXT)
    const char *kind = "ucontext fallback";
#elif defined(__x86_64__)
    const char *kind = "x86-64 assembly";
#else
    const char *kind = "aarch64 assembly";
#endif
    printf("corio fiber switch (%s): %6.2f ns/switch\n", kind, best_c);
    printf("glibc swapcontext:          %6.2f ns/switch\n", best_u);
    printf("ratio swapcontext / corio:  %6.1fx\n", best_u / best_c);
    return 0;
}
