/* The stack pool: LIFO reuse, size classes, statistics, resident memory of fresh stacks, guard
 * pages in each mode, trimming, and a million concurrent stacks under vm.max_map_count. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ctx/fiber.h"
#include "under_valgrind.h"

TestSuite(stack_pool, .timeout = 10);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    long lines = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
}

static long max_map_count(void)
{
    long v = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &v) != 1)
            v = 65530;
        fclose(f);
    }
    return v;
}

static size_t resident_pages(void *lo, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = size / page, res = 0;
    unsigned char *vec = malloc(n);
    cr_assert_eq(mincore(lo, size, vec), 0);
    for (size_t i = 0; i < n; i++)
        res += vec[i] & 1;
    free(vec);
    return res;
}

Test(stack_pool, reuse_is_lifo)
{
    corio__stack_pool *p;
    corio__stack *a, *b, *c, *d;
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    cr_assert_eq(corio__stack_get(p, 0, &a), 0);
    cr_assert_eq(corio__stack_get(p, 0, &b), 0);
    cr_assert_neq(a, b);
    corio__stack_put(p, a);
    corio__stack_put(p, b);
    cr_assert_eq(corio__stack_get(p, 0, &c), 0);
    cr_assert_eq(corio__stack_get(p, 0, &d), 0);
    cr_assert_eq(c, b, "the most recently returned stack comes back first");
    cr_assert_eq(d, a);
    corio__stack_pool_destroy(p);
}

Test(stack_pool, default_size_and_rounding)
{
    corio__stack_pool *p;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    corio__stack_stats st;
    unsetenv("CORIO_STACK_SIZE");
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.default_size, CORIO_DEFAULT_STACK_SIZE);
    corio__stack_pool_destroy(p);

    cr_assert_eq(corio__stack_pool_init(&p, 10000), 0);
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.default_size, (10000 + page - 1) / page * page);
    corio__stack_pool_destroy(p);

    setenv("CORIO_STACK_SIZE", "128k", 1);
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.default_size, 128 * 1024);
    corio__stack_pool_destroy(p);

    setenv("CORIO_STACK_SIZE", "bogus", 1);
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.default_size, CORIO_DEFAULT_STACK_SIZE);
    corio__stack_pool_destroy(p);
}

Test(stack_pool, per_call_sizes)
{
    corio__stack_pool *p;
    corio__stack *a, *b, *c, *d;
    corio__stack_stats st;
    cr_assert_eq(corio__stack_pool_init(&p, 64 * 1024), 0);
    cr_assert_eq(corio__stack_get(p, 0, &a), 0);
    cr_assert_eq(corio__stack_get(p, 1 << 20, &b), 0);
    cr_assert_eq(corio__stack_get(p, 100000, &c), 0);
    cr_assert_eq(corio__stack_get(p, 64 * 1024, &d), 0);
    cr_assert_eq(a->size, 64 * 1024);
    cr_assert_eq(b->size, 1 << 20);
    cr_assert_geq(c->size, 100000);
    cr_assert_eq(d->size, 64 * 1024);
    cr_assert_eq(((uintptr_t)b->lo + b->size) % 16, 0);
    memset(b->lo, 0xab, b->size); /* the whole stack is usable */
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.classes, 3);
    cr_assert_eq(st.in_use, 4);
    corio__stack_put(p, b);
    corio__stack *b2;
    cr_assert_eq(corio__stack_get(p, 1 << 20, &b2), 0);
    cr_assert_eq(b2, b, "stacks of a size are reused for that size");
    corio__stack_put(p, a);
    corio__stack_put(p, b2);
    corio__stack_put(p, c);
    corio__stack_put(p, d);
    corio__stack_pool_destroy(p);
}

Test(stack_pool, stats_count_stacks)
{
    corio__stack_pool *p;
    corio__stack *s[100];
    corio__stack_stats st;
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(corio__stack_get(p, 0, &s[i]), 0);
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.in_use, 100);
    cr_assert_eq(st.pooled, 0);
    cr_assert_geq(st.mapped, 100 * st.default_size);
    cr_assert_geq(st.slabs, 1);
    cr_log_info("guard mode %s, %zu guarded, %zu slabs", st.guard_mode, st.guarded, st.slabs);
    if (strcmp(st.guard_mode, "guard-region") == 0)
        cr_assert_geq(st.guarded, 100);
    for (int i = 0; i < 40; i++)
        corio__stack_put(p, s[i]);
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.in_use, 60);
    cr_assert_eq(st.pooled, 40);
    for (int i = 40; i < 100; i++)
        corio__stack_put(p, s[i]);
    corio__stack_pool_destroy(p);
}

/* The pool keeps its bookkeeping off the stack pages: a fresh stack has no resident page, and a
 * fiber that has been set up on it (without running) exactly one. */
static void never_runs(void *arg)
{
    (void)arg;
}

Test(stack_pool, fresh_stack_touches_nothing)
{
    corio__stack_pool *p;
    corio__stack *s;
    corio__fiber f;
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    cr_assert_eq(corio__stack_get(p, 0, &s), 0);
    cr_assert_eq(resident_pages(s->lo, s->size), 0);
    corio__fiber_init(&f, s, never_runs, NULL);
    cr_assert_eq(resident_pages(s->lo, s->size), 1);
    corio__stack_put(p, s);
    corio__stack_pool_destroy(p);
}

Test(stack_pool, hundred_thousand_quickly, .timeout = 30)
{
    /* Valgrind tracks every mapping change itself: 100k stacks take it minutes. */
    SKIP_UNDER_VALGRIND("100k stacks are a speed test");
    enum { N = 100000 };
    corio__stack_pool *p;
    corio__stack **s = malloc(N * sizeof *s);
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    double t0 = now();
    for (int i = 0; i < N; i++)
        cr_assert_eq(corio__stack_get(p, 0, &s[i]), 0);
    double t1 = now();
    for (int i = 0; i < N; i++)
        corio__stack_put(p, s[i]);
    for (int i = 0; i < N; i++)
        cr_assert_eq(corio__stack_get(p, 0, &s[i]), 0);
    double t2 = now();
    cr_log_info("100k stacks: first get %.1f ms, put+get again %.1f ms", (t1 - t0) * 1e3,
                (t2 - t1) * 1e3);
    /* ~25 ms natively: the limits catch work per stack that grows with the count, and leave room
     * for emulators, sanitizers and a loaded machine */
    cr_assert_lt(t1 - t0, 8.0);
    cr_assert_lt(t2 - t1, 8.0);
    corio__stack_pool_destroy(p);
    free(s);
}

Test(stack_pool, trim_releases_whole_slabs)
{
    enum { N = 5000 };
    corio__stack_pool *p;
    corio__stack **s = malloc(N * sizeof *s);
    corio__stack_stats st;
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(corio__stack_get(p, 0, &s[i]), 0);
    corio__stack_pool_stats(p, &st);
    size_t slabs = st.slabs;
    cr_assert_gt(slabs, 2);
    for (int i = 0; i < N; i++)
        corio__stack_put(p, s[i]);
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.slabs, 1, "slabs that empty out are unmapped, one is kept as a spare");
    cr_assert_eq(st.in_use, 0);
    cr_assert_gt(corio__stack_pool_trim(p), 0);
    corio__stack_pool_stats(p, &st);
    cr_assert_eq(st.slabs, 0);
    cr_assert_eq(st.mapped, 0);
    cr_assert_eq(st.pooled, 0);
    cr_assert_eq(st.guarded, 0);
    /* and the pool still works */
    cr_assert_eq(corio__stack_get(p, 0, &s[0]), 0);
    corio__stack_put(p, s[0]);
    corio__stack_pool_destroy(p);
    free(s);
}

/* Guard pages: writing just below a stack's low end faults, whichever mechanism is in use. */
static void write_below(const char *mode)
{
    corio__stack_pool *p;
    corio__stack *s, *t;
    corio__stack_stats st;
    if (mode != NULL)
        setenv("CORIO_STACK_GUARD", mode, 1);
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    cr_assert_eq(corio__stack_get(p, 0, &t), 0);
    cr_assert_eq(corio__stack_get(p, 0, &s), 0);
    corio__stack_pool_stats(p, &st);
    cr_log_info("mode %s", st.guard_mode);
    cr_assert_eq(st.guarded, strcmp(st.guard_mode, "mprotect") == 0 ? 2 : st.guarded);
    ((volatile char *)s->lo)[0] = 1;
    signal(SIGSEGV, SIG_DFL); /* die by the signal even where a sanitizer installed a handler */
    ((volatile char *)s->lo)[-1] = 1; /* the guard page */
}

Test(stack_pool, guard_region_faults, .signal = SIGSEGV)
{
    write_below(NULL);
}

Test(stack_pool, mprotect_guard_faults, .signal = SIGSEGV)
{
    write_below("mprotect");
}

Test(stack_pool, canary_catches_overwrite_on_put, .signal = SIGABRT)
{
    corio__stack_pool *p;
    corio__stack *s;
    corio__stack_stats st;
    setenv("CORIO_STACK_GUARD", "canary", 1);
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    corio__stack_pool_stats(p, &st);
    cr_assert_str_eq(st.guard_mode, "canary");
    cr_assert_eq(corio__stack_get(p, 0, &s), 0);
    cr_assert_eq(st.guarded, 0);
    ((volatile char *)s->lo)[8] = 1; /* what an overflow leaves behind */
    corio__stack_put(p, s);
}

Test(stack_pool, canary_intact_passes)
{
    corio__stack_pool *p;
    corio__stack *s;
    setenv("CORIO_STACK_GUARD", "canary", 1);
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    cr_assert_eq(corio__stack_get(p, 0, &s), 0);
    ((volatile char *)s->lo)[CORIO__CANARY_BYTES] = 1; /* just above the canary */
    corio__stack_put(p, s);
    corio__stack_pool_destroy(p);
}

/* The hard requirement: a million concurrent stacks under the default vm.max_map_count. Under
 * AddressSanitizer each touched stack page faults in a shadow page too, and the million take a
 * minute there: those builds check the same code with a fifth of the stacks. */
Test(stack_pool, million_concurrent_stacks, .timeout = 120)
{
    SKIP_UNDER_VALGRIND("a million stacks are a scale test");
#if defined(__SANITIZE_ADDRESS__)
    const int N = 200000;
#else
    const int N = 1000000;
#endif
    corio__stack_pool *p;
    corio__stack **s = malloc((size_t)N * sizeof *s);
    corio__stack_stats st;
    long maps_before = count_maps();
    cr_assert_eq(corio__stack_pool_init(&p, 0), 0);
    double t0 = now();
    for (int i = 0; i < N; i++)
        cr_assert_eq(corio__stack_get(p, 0, &s[i]), 0);
    double t1 = now();
    for (int i = 0; i < N; i++)
        ((volatile char *)s[i]->lo)[s[i]->size - 1] = 1; /* one resident page each */
    double t2 = now();
    long maps = count_maps();
    corio__stack_pool_stats(p, &st);
    cr_log_info("%d stacks (%s): get %.3f s, touch tops %.3f s, maps lines %ld (before %ld, "
                "max_map_count %ld), %zu slabs, %zu GiB reserved",
                N, st.guard_mode, t1 - t0, t2 - t1, maps, maps_before, max_map_count(), st.slabs,
                st.mapped >> 30);
    if (strcmp(st.guard_mode, "guard-region") == 0)
        cr_assert_lt(maps - maps_before, max_map_count() / 16);
    else /* mprotect guards until a quarter of the limit, then canaries */
        cr_assert_lt(maps - maps_before, max_map_count() / 4 + 1000);
    cr_assert_eq(st.in_use, N);
    corio__stack_pool_destroy(p);
#if !defined(__SANITIZE_ADDRESS__) /* ASan's shadow of the slabs adds mappings of its own */
    if (strcmp(st.guard_mode, "guard-region") == 0) /* qemu-user's emulated maps do not merge */
        cr_assert_lt(count_maps(), maps_before + 16); /* + what malloc added */
#endif
    free(s);
}
