#include "base/pool.h"

#include <stdint.h>
#include <sys/mman.h>

/* Chunks start small (a loop with a few tasks stays small) and double up to BIG_CHUNK bytes.
 * Chunks of that size are mapped 2 MiB-aligned and offered to transparent huge pages: a million
 * tasks touch a few hundred MiB of fresh memory, and on a virtual machine each 4 KiB page fault
 * costs about a microsecond, more than the rest of creating a task. Objects fill a chunk
 * densely, so a huge page wastes nothing but the tail of the last chunk. */
#define FIRST_CHUNK (4 * 1024)
#define BIG_CHUNK (2 * 1024 * 1024)

/* Every chunk starts with this header, padded to a whole number of objects. */
typedef struct chunk {
    struct chunk *next;
    size_t bytes;
    int mapped;
} chunk;

void corio__pool_init(corio__pool *p, size_t size, ptrdiff_t magic_off) {
    size_t align = sizeof(void *); /* what every pooled struct needs; 16 would pad tasks */
    if (size < sizeof(void *))
        size = sizeof(void *);
    p->size = (size + align - 1) & ~(align - 1);
    p->free = NULL;
    p->chunks = NULL;
    p->keep = NULL;
    p->magic_off = magic_off;
}

void corio__pool_unkeep(void *o, void *pool) {
    corio__pool *p = pool;
    if (p->magic_off >= 0)
        corio__obj_unkeep((uint32_t *)(void *)((char *)o + p->magic_off));
    corio__pool_put(p, o);
}

void corio__pool_keep(corio__pool *p, void *o) {
    if (p->magic_off >= 0)
        corio__obj_keep_mark((uint32_t *)(void *)((char *)o + p->magic_off));
    corio__kept out = corio__keep_push(p->keep, o, p);
    if (out.obj)
        corio__pool_unkeep(out.obj, out.ctx);
}

void corio__pool_destroy(corio__pool *p) {
    for (chunk *c = p->chunks, *next; c; c = next) {
        next = c->next;
        if (c->mapped)
            munmap(c, c->bytes);
        else
            free(c);
    }
    p->free = p->chunks = NULL;
}

static chunk *map_big_chunk(void) {
    /* Over-map by 2 MiB and trim, to get an aligned range a huge page can back. */
    size_t span = 2 * BIG_CHUNK;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *aligned = (char *)(((uintptr_t)raw + BIG_CHUNK - 1) & ~(uintptr_t)(BIG_CHUNK - 1));
    if (aligned > raw)
        munmap(raw, (size_t)(aligned - raw));
    if (raw + span > aligned + BIG_CHUNK)
        munmap(aligned + BIG_CHUNK, (size_t)(raw + span - (aligned + BIG_CHUNK)));
#ifdef MADV_HUGEPAGE
    madvise(aligned, BIG_CHUNK, MADV_HUGEPAGE); /* advice only: without THP, small pages */
#endif
    chunk *c = (chunk *)aligned;
    c->mapped = 1;
    return c;
}

void *corio__pool_refill(corio__pool *p) {
    chunk *last = p->chunks;
    size_t bytes = last ? last->bytes * 2 : FIRST_CHUNK;
    if (bytes > BIG_CHUNK)
        bytes = BIG_CHUNK;
    size_t hdr = (sizeof(chunk) + p->size - 1) / p->size * p->size;
    if (bytes < hdr + 4 * p->size)
        bytes = hdr + 4 * p->size;
    chunk *c;
    if (bytes == BIG_CHUNK) {
        c = map_big_chunk();
    } else {
        c = corio__malloc(bytes);
        if (c)
            c->mapped = 0;
    }
    if (!c)
        return NULL;
    c->bytes = bytes;
    c->next = p->chunks;
    p->chunks = c;
    char *first = (char *)c + hdr;
    size_t n = (bytes - hdr) / p->size;
    /* Hand objects out in address order: the ones made together are used together. */
    for (size_t i = n - 1; i >= 1; i--) {
        void *o = first + i * p->size;
        *(void **)o = p->free;
        p->free = o;
    }
    return first;
}
