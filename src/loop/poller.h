/* Internal: the I/O poller interface the loop sleeps in.
 *
 * One backend per loop, chosen when the loop is created. The loop only needs to sleep until I/O
 * is ready or the nearest timer is due; what a ready fd wakes is the backend's business (it
 * schedules work on the loop). Kept as a handful of functions, in the manner of Redis's ae.c.
 */
#ifndef CORIO_LOOP_POLLER_H
#define CORIO_LOOP_POLLER_H

#include <stdint.h>

typedef struct corio__poller {
    int epfd;
    unsigned nwatched; /* fds registered: with none, a busy loop need not poll at all */
} corio__poller;

int corio__poller_init(corio__poller *p);
void corio__poller_close(corio__poller *p);

/* Waits for I/O for at most timeout_ns (< 0: until something happens, 0: just look). Returns the
 * number of events handled or -errno; EINTR counts as 0 events. */
int corio__poller_wait(corio__poller *p, int64_t timeout_ns);

#endif
