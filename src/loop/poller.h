/* Internal: the I/O poller the loop sleeps in, and the backends behind it.
 *
 * One backend per loop, chosen when the loop is created (loop option, else CORIO_BACKEND, else
 * io_uring when the kernel allows it, else epoll). The loop only asks the poller to wait for at
 * most a timeout and to be woken from another thread; everything that ready I/O wakes (an awaited
 * operation, an add_reader callback) is scheduled on the loop by the backend. The socket layer
 * (src/io/) hands each awaiting call to the backend as a request. Kept to a handful of
 * functions, in the manner of Redis's ae.c.
 */
#ifndef CORIO_LOOP_POLLER_H
#define CORIO_LOOP_POLLER_H

#include <stdatomic.h>
#include <stdint.h>

struct corio_loop;
struct corio__backend;

typedef struct corio__poller {
    const struct corio__backend *be;
    void *impl;        /* the backend's state */
    unsigned nwatched; /* fds registered or operations in flight: with none, a busy loop need not
                          poll at all */
    atomic_int wake_pending; /* a wake was sent and not yet drained: later wakes skip the send */
} corio__poller;

/* Sets up the backend named `name` ("epoll", "io_uring"; NULL: CORIO_BACKEND, else the best one
 * the kernel allows). -EINVAL for an unknown name, -ENOSYS / -EPERM when the named backend is
 * refused (a name given explicitly never falls back). */
int corio__poller_init(corio__poller *p, struct corio_loop *loop, const char *name);
void corio__poller_close(corio__poller *p);

/* Waits for I/O for at most timeout_ns (< 0: until something happens, 0: just look) and
 * schedules what it wakes. Returns the number of events handled or -errno; EINTR counts as 0. */
int corio__poller_wait(corio__poller *p, int64_t timeout_ns);

/* Makes a sleeping (or the next) corio__poller_wait return soon. Any thread, async-signal-safe
 * (errno is preserved); repeated wakes before the poller drains them cost one backend wake.
 * Returns 0 or -errno. */
int corio__poller_wake(corio__poller *p);

/* For backends: the wake signal was consumed (called from the poller's wait, after reading it).
 * A wake that lands between the read and this skips its send, but the poller is returning
 * anyway, which is all a wake promises. */
static inline void corio__poller_wake_drained(corio__poller *p) {
    atomic_store_explicit(&p->wake_pending, 0, memory_order_release);
}

/* Before a thread runs or closes the loop: a backend bound to one thread (an io_uring ring that
 * only its issuer may enter) takes this thread instead when it has nothing in the kernel or its
 * thread has exited. 0, or -EEXIST when the I/O it has in flight belongs to another live thread,
 * or another -errno. */
int corio__poller_attach(corio__poller *p);

const char *corio__poller_name(const corio__poller *p);

#endif
