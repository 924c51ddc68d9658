/* The epoll backend of the poller. */
#include "loop/poller.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int corio__poller_init(corio__poller *p) {
    p->nwatched = 0;
    p->wakefd = -1;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0)
        return -errno;
    return corio__poller_wake_init(p);
}

void corio__poller_close(corio__poller *p) {
    corio__poller_wake_close(p);
    if (p->epfd >= 0)
        close(p->epfd);
    p->epfd = -1;
}

/* epoll_wait counts milliseconds; round up so that the loop never wakes before the timer it
 * sleeps for and spins. */
static int timeout_ms(int64_t ns) {
    if (ns < 0)
        return -1;
    int64_t ms = (ns + 999999) / 1000000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

int corio__poller_wait(corio__poller *p, int64_t timeout_ns) {
    struct epoll_event ev[64];
    int n = epoll_wait(p->epfd, ev, 64, timeout_ms(timeout_ns));
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    /* The I/O layer dispatches its events here; the core registers only the wake eventfd. */
    for (int i = 0; i < n; i++)
        if (ev[i].data.u64 == CORIO__POLLER_WAKE_TOKEN)
            corio__poller_wake_drain(p);
    return n;
}
