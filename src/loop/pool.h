/* Internal: per-loop free lists for the loop's small fixed-size objects (futures, tasks,
 * handles, callback nodes).
 *
 * Creating a task or a future is on the hot path of every await; glibc's malloc costs several
 * times what a free-list pop does. Objects are carved from chunks that live until the loop itself
 * is freed, which is safe because every pooled object holds a reference to its loop. Built with
 * CORIO_NO_POOL (the sanitizer builds), every object is its own malloc so that AddressSanitizer
 * and Valgrind see each use-after-free and leak.
 */
#ifndef CORIO_LOOP_POOL_H
#define CORIO_LOOP_POOL_H

#include <stddef.h>
#include <stdlib.h>

#include "loop/alloc.h"

typedef struct corio__pool {
    void *free;   /* singly linked through the first word of each free object */
    void *chunks; /* singly linked through the first word of each chunk */
    size_t size;  /* object size, at least a pointer, pointer-aligned */
} corio__pool;

void corio__pool_init(corio__pool *p, size_t size);
void corio__pool_destroy(corio__pool *p);
void *corio__pool_refill(corio__pool *p);

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

static inline void corio__pool_free(corio__pool *p, void *o) {
#ifdef CORIO_NO_POOL
    (void)p;
    free(o);
#else
    *(void **)o = p->free;
    p->free = o;
#endif
}

#endif
