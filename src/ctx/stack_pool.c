/* The stack pool: stacks carved out of large slabs and reused LIFO.
 *
 * Why slabs: one mmap per stack, plus an mprotect for its guard page, costs two or three VMAs per
 * stack, and vm.max_map_count (65530 by default) caps a process at ~30,000 stacks that way. A slab
 * is one mmap(MAP_NORESERVE) holding up to 1024 stacks laid out as [guard][stack][guard][stack]...;
 * its guards are guard regions (stack_guard.c), which do not split it, and neighbouring slabs
 * merge into one VMA. A million stacks take a handful of VMAs.
 *
 * Why descriptors off the stack: the free list and per-stack fields live in an array malloc'd per
 * slab, so a stack that was never run has no resident page, and one that used under 4 KiB has
 * exactly one (plus its share of page tables: one 4 KiB page-table page per 2 MiB of slab).
 *
 * Stacks are carved lazily: a slab's stacks get descriptors all at once (calloc, untouched until
 * carved) but are handed out in address order, and the next slab is mapped only when the current
 * one is fully carved. Slabs grow geometrically (16, 32, ... 1024 stacks) so a program with a few
 * tasks maps little. Short of address space (RLIMIT_AS), a slab that does not fit is tried at half the size,
 * down to one stack, and growth starts over from there.
 *
 * Trimming: a slab is released whole (one munmap for all its stacks) when its last stack comes back
 * and the same size class already has one entirely free slab kept as a spare (hysteresis against a
 * loop that oscillates around a slab boundary), and by corio__stack_pool_trim(). Because reuse is
 * LIFO across slabs, free stacks are spread over slabs and a slab becomes entirely free only when
 * load really drops; that is the price of reusing the warmest stack first.
 *
 * One pool per loop, used by one thread: no locks.
 */
#define _GNU_SOURCE
#include "fiber.h"
#include "stack_guard.h"
#include "base/alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORIO__HAVE_VALGRIND 1
#endif
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

#define CORIO__SLAB_MIN 16u
#define CORIO__SLAB_MAX 1024u                    /* one process_madvise call guards a slab */
#define CORIO__SLAB_MAX_BYTES ((size_t)1 << 30)  /* address space per slab for huge stacks */

struct corio__stack_class;

struct corio__slab {
    struct corio__slab *next, *prev; /* the class's slabs */
    struct corio__stack_class *cls;
    char *base;
    size_t bytes;
    uint32_t count;      /* stacks in the slab */
    uint32_t carved;     /* stacks handed out at least once (the first `carved`) */
    uint32_t in_use;
    uint32_t mprotected; /* guards taken from the mprotect budget */
    uint32_t spare;      /* counted in its class's empty_slabs */
    corio__stack desc[];
};

struct corio__stack_class {
    struct corio__stack_class *next;
    size_t size;   /* usable bytes of each stack */
    size_t stride; /* size + guard page */
    corio__stack *free_head; /* LIFO free list, doubly linked for trimming */
    struct corio__slab *slabs;
    struct corio__slab *carving; /* the slab with stacks never handed out, if any */
    uint32_t next_count;
    size_t empty_slabs; /* slabs kept with in_use == 0 (spares) */
    size_t in_use, pooled;
};

struct corio__stack_pool {
    size_t page;
    size_t guard; /* bytes of guard below each stack: corio__guard_size */
    struct corio__stack_class *classes; /* the first one holds the default size */
    enum corio__guard_mode guard_mode;
    size_t mapped, guarded, slabs, nclasses;
};

static size_t corio__round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* CORIO_STACK_SIZE: bytes, with an optional k/K or m/M suffix. 0 when absent or invalid. */
static size_t corio__env_stack_size(void)
{
    const char *s = getenv("CORIO_STACK_SIZE");
    if (s == NULL || *s == '\0')
        return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        v <<= 10, end++;
    else if (*end == 'm' || *end == 'M')
        v <<= 20, end++;
    if (*end != '\0' || v == 0 || v > ((size_t)1 << 40))
        return 0;
    return (size_t)v;
}

static struct corio__stack_class *corio__class_new(corio__stack_pool *pool, size_t size)
{
    struct corio__stack_class *c = corio__calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->size = size;
    c->stride = size + pool->guard;
    c->next_count = CORIO__SLAB_MIN;
    pool->nclasses++;
    return c;
}

int corio__stack_pool_init(corio__stack_pool **out, size_t default_size)
{
    corio__stack_pool *pool = corio__calloc(1, sizeof *pool);
    if (pool == NULL)
        return -ENOMEM;
    long pg = sysconf(_SC_PAGESIZE);
    pool->page = pg > 0 ? (size_t)pg : 4096;
    pool->guard = corio__guard_size(pool->page);
    if (default_size == 0)
        default_size = corio__env_stack_size();
    if (default_size == 0)
        default_size = CORIO_DEFAULT_STACK_SIZE;
    default_size = corio__round_up(default_size, pool->page);
    const char *g = getenv("CORIO_STACK_GUARD");
    if (g != NULL && strcmp(g, "mprotect") == 0)
        pool->guard_mode = CORIO__GUARD_MPROTECT;
    else if (g != NULL && strcmp(g, "canary") == 0)
        pool->guard_mode = CORIO__GUARD_CANARY;
#if defined(CORIO__HAVE_VALGRIND)
    if (pool->guard_mode == CORIO__GUARD_UNKNOWN && RUNNING_ON_VALGRIND)
        pool->guard_mode = CORIO__GUARD_REGION; /* Valgrind does not know process_madvise */
#endif
    pool->classes = corio__class_new(pool, default_size);
    if (pool->classes == NULL) {
        free(pool);
        return -ENOMEM;
    }
    *out = pool;
    return 0;
}

/* The class for a request: the default one, else sizes rounded up to a power of two pages so that
 * odd requests share a few classes instead of each making its own. */
static struct corio__stack_class *corio__class_for(corio__stack_pool *pool, size_t size)
{
    struct corio__stack_class *c = pool->classes;
    if (size == 0 || size == c->size)
        return c;
    size = corio__round_up(size, pool->page);
    if (size != c->size) {
        size_t p = pool->page;
        while (p < size)
            p <<= 1;
        size = p;
    }
    for (; c != NULL; c = c->next)
        if (c->size == size)
            return c;
    c = corio__class_new(pool, size);
    if (c == NULL)
        return NULL;
    c->next = pool->classes->next;
    pool->classes->next = c;
    return c;
}

/* A slab of `count` stacks of `stride` bytes: its descriptor in *out, its memory returned, NULL
 * on -ENOMEM (nothing left allocated). */
static void *map_slab(size_t count, size_t stride, struct corio__slab **out)
{
    struct corio__slab *s = corio__calloc(1, sizeof *s + count * sizeof(corio__stack));
    if (s == NULL)
        return NULL;
    s->bytes = count * stride;
    void *p = corio__alloc_fault() ? MAP_FAILED
                                   : mmap(NULL, s->bytes, PROT_READ | PROT_WRITE,
                                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        free(s);
        return NULL;
    }
    *out = s;
    return p;
}

static int corio__slab_new(corio__stack_pool *pool, struct corio__stack_class *c)
{
    size_t count = c->next_count;
    if (count * c->stride > CORIO__SLAB_MAX_BYTES)
        count = CORIO__SLAB_MAX_BYTES / c->stride;
    if (count == 0)
        count = 1;
    struct corio__slab *s;
    void *p;
    /* Short of address space (RLIMIT_AS), a smaller slab may still fit: halve
     * down to one stack before the task that needs it fails. The next slab grows again. */
    for (;; count /= 2) {
        if ((p = map_slab(count, c->stride, &s)) != NULL)
            break;
        if (count == 1)
            return -ENOMEM;
        c->next_count = 1;
    }
#if defined(MADV_NOHUGEPAGE)
    /* With THP "always", one touched byte could fault in 2 MiB: 30 stacks' worth, all resident. */
    madvise(p, s->bytes, MADV_NOHUGEPAGE);
#endif
    s->base = p;
    s->count = (uint32_t)count;
    s->cls = c;
    if (corio__guard_slab(&pool->guard_mode, s->base, c->stride, count, pool->guard) == 0)
        pool->guarded += count;
    for (size_t i = 0; i < count; i++) {
        s->desc[i].lo = s->base + i * c->stride + pool->guard;
        s->desc[i].size = c->size;
        s->desc[i].slab = s;
        s->desc[i].flags = pool->guard_mode == CORIO__GUARD_REGION_BATCH ||
                                   pool->guard_mode == CORIO__GUARD_REGION
                               ? CORIO__STACK_GUARDED
                               : 0;
    }
    s->next = c->slabs;
    if (c->slabs != NULL)
        c->slabs->prev = s;
    c->slabs = s;
    c->carving = s;
    if (c->next_count < CORIO__SLAB_MAX)
        c->next_count *= 2;
    pool->mapped += s->bytes;
    pool->slabs++;
    return 0;
}

static void corio__free_unlink(struct corio__stack_class *c, corio__stack *st)
{
    if (st->prev_free != NULL)
        st->prev_free->next_free = st->next_free;
    else
        c->free_head = st->next_free;
    if (st->next_free != NULL)
        st->next_free->prev_free = st->prev_free;
    st->next_free = st->prev_free = NULL;
    st->flags &= ~CORIO__STACK_FREE;
}

int corio__stack_get(corio__stack_pool *pool, size_t size, corio__stack **out)
{
    struct corio__stack_class *c = corio__class_for(pool, size);
    if (c == NULL)
        return -ENOMEM;
    corio__stack *st = c->free_head;
    if (st != NULL) {
        corio__free_unlink(c, st);
        c->pooled--;
    } else {
        struct corio__slab *s = c->carving;
        if (s == NULL || s->carved == s->count) {
            int r = corio__slab_new(pool, c);
            if (r < 0)
                return r;
            s = c->carving;
        }
        st = &s->desc[s->carved++];
        if (s->carved == s->count)
            c->carving = NULL;
        if (pool->guard_mode == CORIO__GUARD_MPROTECT) {
            if (corio__guard_mprotect((char *)st->lo - pool->guard, pool->guard) == 0) {
                st->flags |= CORIO__STACK_GUARDED;
                s->mprotected++;
                pool->guarded++;
            }
        }
        if (!(st->flags & CORIO__STACK_GUARDED))
            st->flags |= CORIO__STACK_CANARY;
#if defined(CORIO__HAVE_VALGRIND)
        st->valgrind_id = VALGRIND_STACK_REGISTER(st->lo, (char *)st->lo + st->size);
#endif
    }
    if (st->slab->spare) {
        st->slab->spare = 0;
        c->empty_slabs--;
    }
    st->slab->in_use++;
    c->in_use++;
    *out = st;
    return 0;
}

static void corio__slab_release(corio__stack_pool *pool, struct corio__slab *s)
{
    struct corio__stack_class *c = s->cls;
    for (uint32_t i = 0; i < s->carved; i++) {
        corio__stack *st = &s->desc[i];
        if (st->flags & CORIO__STACK_FREE) {
            corio__free_unlink(c, st);
            c->pooled--;
        }
#if defined(CORIO__HAVE_VALGRIND)
        VALGRIND_STACK_DEREGISTER(st->valgrind_id);
#endif
#if defined(__SANITIZE_ADDRESS__)
        /* The range may be mapped again for anything: leave no redzone poison behind. */
        if (st->flags & CORIO__STACK_USED)
            __asan_unpoison_memory_region(st->lo, st->size);
#endif
        if (st->flags & CORIO__STACK_GUARDED)
            pool->guarded--;
    }
    if (pool->guard_mode == CORIO__GUARD_REGION_BATCH || pool->guard_mode == CORIO__GUARD_REGION)
        pool->guarded -= s->count - s->carved; /* never-carved stacks were guarded too */
    if (s->mprotected)
        corio__guard_mprotect_release(s->mprotected);
    munmap(s->base, s->bytes);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        c->slabs = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    if (c->carving == s)
        c->carving = NULL;
    if (s->spare)
        c->empty_slabs--;
    pool->mapped -= s->bytes;
    pool->slabs--;
    free(s);
}

int corio__stack_canary_dead(const corio__stack *st)
__attribute__((no_sanitize("address", "thread")));

int corio__stack_canary_dead(const corio__stack *st)
{
    if (!(st->flags & CORIO__STACK_CANARY))
        return 0;
    /* Never written by the pool; reading an untouched page maps the shared zero page and makes
     * nothing resident. */
    const volatile uint64_t *w = (const volatile uint64_t *)st->lo;
    for (size_t i = 0; i < CORIO__CANARY_BYTES / sizeof *w; i++)
        if (w[i] != 0)
            return 1;
    return 0;
}

static void corio__canary_report(const corio__stack *st)
{
    static const char msg[] = "corio: stack overflow detected when a stack came back to its pool "
                              "(canary at the low end of an unguarded stack overwritten)\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    (void)st;
    abort();
}

void corio__stack_put(corio__stack_pool *pool, corio__stack *st)
{
    if (corio__stack_canary_dead(st))
        corio__canary_report(st);
    struct corio__slab *s = st->slab;
    struct corio__stack_class *c = s->cls;
    st->prev_free = NULL;
    st->next_free = c->free_head;
    if (c->free_head != NULL)
        c->free_head->prev_free = st;
    c->free_head = st;
    st->flags |= CORIO__STACK_FREE;
    c->pooled++;
    c->in_use--;
    if (--s->in_use == 0) {
        if (c->empty_slabs > 0) {
            corio__slab_release(pool, s); /* the class already keeps a spare */
        } else {
            s->spare = 1;
            c->empty_slabs++;
        }
    }
}

size_t corio__stack_pool_trim(corio__stack_pool *pool)
{
    size_t before = pool->mapped;
    for (struct corio__stack_class *c = pool->classes; c != NULL; c = c->next) {
        struct corio__slab *s = c->slabs;
        while (s != NULL) {
            struct corio__slab *next = s->next;
            if (s->in_use == 0)
                corio__slab_release(pool, s);
            s = next;
        }
    }
    return before - pool->mapped;
}

void corio__stack_pool_stats(corio__stack_pool *pool, corio__stack_stats *st)
{
    memset(st, 0, sizeof *st);
    st->default_size = pool->classes->size;
    for (struct corio__stack_class *c = pool->classes; c != NULL; c = c->next) {
        st->in_use += c->in_use;
        st->pooled += c->pooled;
    }
    st->mapped = pool->mapped;
    st->guarded = pool->guarded;
    st->slabs = pool->slabs;
    st->classes = pool->nclasses;
    st->guard_mode = corio__guard_mode_name(pool->guard_mode);
}

void corio__stack_pool_destroy(corio__stack_pool *pool)
{
    if (pool == NULL)
        return;
    struct corio__stack_class *c = pool->classes;
    while (c != NULL) {
        while (c->slabs != NULL)
            corio__slab_release(pool, c->slabs);
        struct corio__stack_class *next = c->next;
        free(c);
        c = next;
    }
    free(pool);
}
