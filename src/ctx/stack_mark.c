/* Stack high-water marks, for debug mode.
 *
 * A stack is emptied (MADV_DONTNEED: its pages are dropped and read back as zeros) before a fiber
 * first runs on it; later, the lowest word that is no longer zero is as deep as the stack has
 * been used. Zeros rather than a fill pattern: emptying gives memory back instead of making every
 * page of every stack resident, and pages never touched since are skipped by asking mincore()
 * instead of reading them. The price is a word-sized blind spot: a deepest frame that only wrote
 * zeros goes unseen (return addresses and saved registers, at the bottom of every frame, are not
 * zero).
 */
#define _GNU_SOURCE
#include "fiber.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define CORIO__HAVE_MEMCHECK 1
#endif
#endif

int corio__stack_clear(corio__stack *st)
{
    return madvise(st->lo, st->size, MADV_DONTNEED) == 0 ? 0 : -1;
}

/* Whether [p, p + page) is resident; when mincore cannot tell, it is read. */
static int page_resident(const char *p, size_t page)
{
    unsigned char v = 1;
    if (mincore((void *)p, page, &v) < 0)
        return 1;
    return v & 1;
}

/* The stack's dead part below `limit` holds whatever earlier frames left, which the tools see as
 * freed stack: this reads it behind their back (ASan), or tells them it is fine to (memcheck). */
static const char *lowest_written(const char *lo, const char *limit)
    __attribute__((no_sanitize("address", "thread")));

static const char *lowest_written(const char *lo, const char *limit)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
#if defined(CORIO__HAVE_MEMCHECK)
    VALGRIND_MAKE_MEM_DEFINED(lo, (size_t)(limit - lo));
#endif
    for (const char *p = lo; p < limit; p += page) {
        const char *end = p + page < limit ? p + page : limit;
        if (!page_resident(p, page))
            continue;
        for (const volatile uint64_t *w = (const volatile uint64_t *)p; (const char *)w < end; w++)
            if (*w != 0)
                return (const char *)w;
    }
    return limit;
}

size_t corio__stack_high_water(const corio__stack *st, const void *limit)
{
    const char *lo = st->lo, *top = lo + st->size;
    const char *lim = limit && (const char *)limit > lo && (const char *)limit < top ? limit : top;
    return (size_t)(top - lowest_written(lo, lim));
}
