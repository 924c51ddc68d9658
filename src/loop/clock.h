/* Internal: the loop's monotonic clock, in nanoseconds. */
#ifndef CORIO_LOOP_CLOCK_H
#define CORIO_LOOP_CLOCK_H

#include <math.h>
#include <stdint.h>
#include <time.h>

static inline int64_t corio__clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Seconds to ns, saturating so that a huge delay means "far future" rather than overflow. */
static inline int64_t corio__sec_to_ns(double s) {
    if (s >= 9.0e9)
        return INT64_MAX / 2;
    if (s <= -9.0e9)
        return -(INT64_MAX / 2);
    return (int64_t)(s * 1e9 + (s >= 0 ? 0.5 : -0.5));
}

#endif
