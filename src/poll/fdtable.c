/* The per-fd tables of the backends: indexed by fd, grown by doubling, new entries zeroed. */
#include "poll/poller.h"

#include "base/alloc.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

int corio__fdtable_grow(void **table, size_t *n, size_t elem, int fd) {
    size_t cap = *n ? *n : 64;
    while (cap <= (size_t)fd)
        cap *= 2;
    char *v = corio__realloc(*table, cap * elem);
    if (!v)
        return -ENOMEM;
    memset(v + *n * elem, 0, (cap - *n) * elem);
    *table = v;
    *n = cap;
    return 0;
}
