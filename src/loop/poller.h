/* Internal: the I/O poller interface the loop sleeps in.
 *
 * One backend per loop, chosen when the loop is created. The loop only needs to sleep until I/O
 * is ready or the nearest timer is due; what a ready fd wakes is the backend's business (it
 * schedules work on the loop). Kept as a handful of functions, in the manner of Redis's ae.c.
 */
#ifndef CORIO_LOOP_POLLER_H
#define CORIO_LOOP_POLLER_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct corio__poller {
    int epfd;
    unsigned nwatched; /* fds registered: with none, a busy loop need not poll at all */
    int wakefd;        /* an eventfd in the epoll set (wake_eventfd.c); not counted in nwatched */
    atomic_int wake_pending; /* a wake was written and not yet drained: later wakes skip the write */
} corio__poller;

int corio__poller_init(corio__poller *p);
void corio__poller_close(corio__poller *p);

/* Waits for I/O for at most timeout_ns (< 0: until something happens, 0: just look). Returns the
 * number of events handled or -errno; EINTR counts as 0 events. */
int corio__poller_wait(corio__poller *p, int64_t timeout_ns);

/* Makes a poller_wait that sleeps now, or the next one, return soon. Callable from any thread
 * and from a signal handler; repeated wakes before the poller drains them cost one write. Returns
 * 0 or -errno. */
int corio__poller_wake(corio__poller *p);

/* The eventfd behind corio__poller_wake (wake_eventfd.c): created and registered by
 * poller_init, drained by poller_wait when it fires, closed by poller_close. */
int corio__poller_wake_init(corio__poller *p);
void corio__poller_wake_close(corio__poller *p);
void corio__poller_wake_drain(corio__poller *p);

/* epoll_event.data.u64 of the wake eventfd: no fd the I/O layer registers has it. */
#define CORIO__POLLER_WAKE_TOKEN UINT64_MAX

#endif
