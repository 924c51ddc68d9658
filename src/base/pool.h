/* Internal: per-loop free lists for the loop's small fixed-size objects (futures, tasks,
 * handles, callback nodes).
 *
 * Creating a task or a future is on the hot path of every await; glibc's malloc costs several
 * times what a free-list pop does. Objects are carved from chunks that live until the loop itself
 * is freed, which is safe because every pooled object holds a reference to its loop. Built with
 * CORIO_NO_POOL (the sanitizer builds), every object is its own malloc so that AddressSanitizer
 * and Valgrind see each use-after-free and leak. In debug mode a freed object waits in the loop's
 * keep before it goes back (base/obj.h), so that a use after free reads its dead magic.
 */
#ifndef CORIO_BASE_POOL_H
#define CORIO_BASE_POOL_H

#include <stddef.h>
#include <stdlib.h>

#include "base/obj.h"
#include "base/alloc.h"

typedef struct corio__pool {
    void *free;   /* singly linked through the first word of each free object */
    void *chunks; /* singly linked through the first word of each chunk */
    size_t size;  /* object size, at least a pointer, pointer-aligned */
    corio__keep *keep; /* debug mode: freed objects wait here before they go back */
    ptrdiff_t magic_off; /* where the objects keep their magic (base/obj.h), or -1 */
} corio__pool;

/* Objects of `size` bytes with their magic at `magic_off` (-1: none). */
void corio__pool_init(corio__pool *p, size_t size, ptrdiff_t magic_off);
void corio__pool_destroy(corio__pool *p);
void *corio__pool_refill(corio__pool *p);

/* Debug mode's pool_free: o waits in p->keep, and the oldest object there goes back instead. */
void corio__pool_keep(corio__pool *p, void *o) __attribute__((cold, noinline));
/* Gives back an object that was kept (a corio__keep_drain release; ctx is its pool). */
void corio__pool_unkeep(void *o, void *pool);

static inline void *corio__pool_alloc(corio__pool *p) {
    if (corio__alloc_fault())
        return NULL;
#ifdef CORIO_NO_POOL
    return malloc(p->size);
#else
    void *o = p->free;
    if (__builtin_expect(o == NULL, 0))
        return corio__pool_refill(p);
    p->free = *(void **)o;
    return o;
#endif
}

/* Back to the pool at once, also in debug mode. */
static inline void corio__pool_put(corio__pool *p, void *o) {
#ifdef CORIO_NO_POOL
    (void)p;
    free(o);
#else
    *(void **)o = p->free;
    p->free = o;
#endif
}

static inline void corio__pool_free(corio__pool *p, void *o) {
    if (__builtin_expect(p->keep != NULL, 0)) {
        corio__pool_keep(p, o);
        return;
    }
    corio__pool_put(p, o);
}

#endif
