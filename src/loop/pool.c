#include "loop/pool.h"

#include <stdint.h>

/* Chunks grow geometrically up to this many objects, so a loop that makes a million tasks pays
 * a few hundred mallocs, and a small loop stays small. */
#define POOL_MAX_CHUNK_OBJS 4096

void corio__pool_init(corio__pool *p, size_t size) {
    size_t align = sizeof(void *) * 2;
    if (size < sizeof(void *))
        size = sizeof(void *);
    p->size = (size + align - 1) & ~(align - 1);
    p->free = NULL;
    p->chunks = NULL;
}

void corio__pool_destroy(corio__pool *p) {
    void *c = p->chunks;
    while (c) {
        void *next = *(void **)c;
        free(c);
        c = next;
    }
    p->free = p->chunks = NULL;
}

void *corio__pool_refill(corio__pool *p) {
    /* The chunk header is one object slot, keeping the objects aligned. */
    size_t n = 16;
    for (void *c = p->chunks; c && n < POOL_MAX_CHUNK_OBJS; c = *(void **)c)
        n *= 2;
    char *chunk = malloc(p->size * (n + 1));
    if (!chunk)
        return NULL;
    *(void **)chunk = p->chunks;
    p->chunks = chunk;
    char *first = chunk + p->size;
    for (size_t i = n - 1; i >= 1; i--) {
        void *o = first + i * p->size;
        *(void **)o = p->free;
        p->free = o;
    }
    return first;
}
