/* Waking a loop that sleeps in epoll_wait, from another thread or a signal handler: an eventfd in
 * the epoll set. wake_pending coalesces a burst of wakes into one write (and one read). */
#include "loop/poller.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int corio__poller_wake_init(corio__poller *p) {
    atomic_init(&p->wake_pending, 0);
    p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->wakefd < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = CORIO__POLLER_WAKE_TOKEN};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &ev) < 0) {
        int err = -errno;
        close(p->wakefd);
        p->wakefd = -1;
        return err;
    }
    return 0;
}

void corio__poller_wake_close(corio__poller *p) {
    if (p->wakefd >= 0)
        close(p->wakefd);
    p->wakefd = -1;
}

int corio__poller_wake(corio__poller *p) {
    if (atomic_exchange_explicit(&p->wake_pending, 1, memory_order_acq_rel))
        return 0;
    uint64_t one = 1;
    int saved = errno; /* async-signal-safe: leave the interrupted code's errno alone */
    ssize_t n = write(p->wakefd, &one, sizeof one);
    int rc = n < 0 && errno != EAGAIN ? -errno : 0; /* EAGAIN: the counter is full, so readable */
    errno = saved;
    return rc;
}

/* Reads before clearing the flag: a wake that lands in between skips its write, but the caller
 * is about to return from poller_wait anyway, which is all a wake promises. */
void corio__poller_wake_drain(corio__poller *p) {
    uint64_t v;
    while (read(p->wakefd, &v, sizeof v) < 0 && errno == EINTR)
        ;
    atomic_store_explicit(&p->wake_pending, 0, memory_order_release);
}
