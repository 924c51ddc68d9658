/* The epoll poller: readiness, edge-triggered.
 *
 * An fd is registered once, the first time a call on it would block, for input and output with
 * EPOLLET, and stays registered until it is forgotten (corio_close): no epoll_ctl per operation.
 * Each fd's slot remembers whether it is known to be drained ("not ready") so that, after a short
 * read of a stream, the next read awaits the edge instead of paying for a system call that would
 * fail with EAGAIN: the kernel reports an edge for every arrival after the drain, so nothing is
 * missed. End of stream and errors come with no later edge, so once they have been reported (or
 * a read returned 0) the shortcut is off for that fd.
 * An fd with a watcher (add_reader/add_writer) is switched to level-triggered, since asyncio
 * calls those while the fd stays ready.
 */
#include "poll/epoll.h"

#include "base/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fd_slot {
    corio__poll_rec *rd, *wr;   /* the waiter in each direction */
    corio__poll_rec *rcb, *wcb; /* the watchers (add_reader / add_writer) */
    uint32_t mask;              /* registered events; 0: not registered */
    uint8_t drained;            /* CORIO__POLL_IN / _OUT: known to be not ready */
    uint8_t stream;             /* 1 stream, 2 other (a short read drains only a stream) */
    uint8_t ended;              /* hang-up or error reported: reads never wait for an edge */
} fd_slot;

typedef struct epoll_state {
    corio__poller *p;
    int epfd;
    int wakefd;
    fd_slot *slots;
    size_t nslots;
} epoll_state;

static int ep_init(corio__poller *p) {
    epoll_state *s = corio__calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->p = p;
    s->wakefd = -1;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        int err = -errno;
        free(s);
        return err;
    }
    p->impl = s;
    return 0;
}

static void ep_fini(corio__poller *p) {
    epoll_state *s = p->impl;
    if (!s)
        return;
    /* Watchers still registered are let go of (each may hold its owner's loop). */
    for (size_t fd = 0; fd < s->nslots; fd++) {
        corio__poll_rec *w[2] = {s->slots[fd].rcb, s->slots[fd].wcb};
        s->slots[fd].rcb = s->slots[fd].wcb = NULL;
        for (int i = 0; i < 2; i++)
            if (w[i])
                w[i]->fn(w[i], -ECANCELED, 1);
    }
    close(s->epfd);
    if (s->wakefd >= 0)
        close(s->wakefd);
    free(s->slots);
    free(s);
    p->impl = NULL;
}

static fd_slot *slot_get(epoll_state *s, int fd) {
    if ((size_t)fd >= s->nslots &&
        corio__fdtable_grow((void **)&s->slots, &s->nslots, sizeof *s->slots, fd) < 0)
        return NULL;
    return &s->slots[fd];
}

static fd_slot *slot_find(epoll_state *s, int fd) {
    return fd >= 0 && (size_t)fd < s->nslots ? &s->slots[fd] : NULL;
}

/* The events fd should be registered for: everything, edge-triggered, unless a watcher wants
 * level-triggered readiness. */
static uint32_t wanted_mask(const fd_slot *sl) {
    if (!sl->rcb && !sl->wcb)
        return EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    uint32_t m = 0;
    if (sl->rcb || sl->rd) /* a half-close stays reported while level-triggered: readers only */
        m |= EPOLLIN | EPOLLRDHUP;
    if (sl->wcb || sl->wr)
        m |= EPOLLOUT;
    return m;
}

static int slot_sync(epoll_state *s, int fd, fd_slot *sl) {
    uint32_t want = wanted_mask(sl);
    if (want == sl->mask)
        return 0;
    struct epoll_event ev = {.events = want, .data.fd = fd};
    int op = sl->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(s->epfd, op, fd, &ev) < 0) {
        if (op == EPOLL_CTL_ADD && errno == EEXIST) { /* a previous fd of that number leaked */
            op = EPOLL_CTL_MOD;
        } else if (op == EPOLL_CTL_MOD && errno == ENOENT) {
            /* The fd was closed with close(2), which dropped the registration, and this is a
             * new fd with its number: what the slot knew about the old one no longer holds. */
            op = EPOLL_CTL_ADD;
            sl->drained = sl->stream = sl->ended = 0;
        } else {
            return -errno;
        }
        if (epoll_ctl(s->epfd, op, fd, &ev) < 0)
            return -errno;
    }
    if (!sl->mask)
        s->p->nwatched++;
    sl->mask = want;
    return 0;
}

static void slot_unregister(epoll_state *s, int fd, fd_slot *sl) {
    if (!sl->mask)
        return;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
    sl->mask = 0;
    s->p->nwatched--;
}

/* ---- events ---- */

static void wake_dir(corio__poll_rec **waiter, int res) {
    corio__poll_rec *w = *waiter;
    if (w) {
        *waiter = NULL;
        w->fn(w, res, 1);
    }
}

static void dispatch(epoll_state *s, int fd, uint32_t ev) {
    fd_slot *sl = slot_find(s, fd);
    if (!sl)
        return;
    uint32_t in = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
    uint32_t out = EPOLLOUT | EPOLLHUP | EPOLLERR;
    int revents = (int)(ev & 0xffff);
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        sl->ended = 1;
    if (ev & in) {
        sl->drained &= (uint8_t)~CORIO__POLL_IN;
        wake_dir(&sl->rd, revents);
        if (sl->rcb)
            sl->rcb->fn(sl->rcb, revents, 0);
    }
    if (ev & out) {
        sl->drained &= (uint8_t)~CORIO__POLL_OUT;
        wake_dir(&sl->wr, revents);
        if (sl->wcb)
            sl->wcb->fn(sl->wcb, revents, 0);
    }
}

static void drain_wakefd(epoll_state *s) {
    uint64_t v;
    while (read(s->wakefd, &v, sizeof v) < 0 && errno == EINTR) {
    }
    corio__poller_wake_drained(s->p);
}

static int ep_wait(corio__poller *p, int64_t timeout_ns) {
    epoll_state *s = p->impl;
    struct epoll_event ev[128];
    int ms = -1;
    if (timeout_ns >= 0) {
        /* Round up: waking before the timer it sleeps for would make the loop spin. */
        int64_t v = (timeout_ns + 999999) / 1000000;
        ms = v > 0x7fffffff ? 0x7fffffff : (int)v;
    }
    int n = epoll_wait(s->epfd, ev, 128, ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.fd == s->wakefd && s->wakefd >= 0)
            drain_wakefd(s);
        else
            dispatch(s, ev[i].data.fd, ev[i].events);
    }
    return n;
}

/* The eventfd is made on the first wake, so that a loop nobody wakes from outside never pays for
 * it; only system calls and atomics are used, so a signal handler may wake the loop too. */
static int ep_wake(corio__poller *p) {
    epoll_state *s = p->impl;
    int fd = __atomic_load_n(&s->wakefd, __ATOMIC_ACQUIRE);
    if (fd < 0) {
        fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return -errno;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        int expected = -1;
        if (!__atomic_compare_exchange_n(&s->wakefd, &expected, fd, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            close(fd);
            fd = expected;
        } else if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            return -errno;
        }
    }
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) < 0 && errno != EAGAIN)
        return -errno;
    return 0;
}

/* ---- waiters (poll/epoll.h) ---- */

int corio__epoll_drained(corio__poller *p, int fd, uint32_t dir) {
    fd_slot *sl = slot_find(p->impl, fd);
    return sl && sl->mask && (sl->drained & dir);
}

int corio__epoll_registered(corio__poller *p, int fd) {
    fd_slot *sl = slot_find(p->impl, fd);
    return sl && sl->mask;
}

int corio__epoll_wait_start(corio__poller *p, corio__poll_rec *w) {
    epoll_state *s = p->impl;
    fd_slot *sl = slot_get(s, w->fd);
    if (!sl)
        return -ENOMEM;
    corio__poll_rec **slot = w->dir & CORIO__POLL_IN ? &sl->rd : &sl->wr;
    if (*slot)
        return -EBUSY;
    *slot = w;
    int rc = slot_sync(s, w->fd, sl);
    if (rc < 0)
        *slot = NULL;
    return rc;
}

void corio__epoll_wait_stop(corio__poller *p, corio__poll_rec *w) {
    epoll_state *s = p->impl;
    fd_slot *sl = slot_find(s, w->fd); /* the fd may have been forgotten meanwhile */
    if (!sl)
        return;
    if (sl->rd == w)
        sl->rd = NULL;
    if (sl->wr == w)
        sl->wr = NULL;
    if (sl->mask && (sl->rcb || sl->wcb)) /* level-triggered: stop watching for the waiter */
        slot_sync(s, w->fd, sl);
}

static int is_stream(fd_slot *sl, int fd) {
    if (!sl->stream) {
        int type = 0;
        socklen_t len = sizeof type;
        /* Pipes and FIFOs drain like streams too, but telling them apart costs an fstat; only
         * stream sockets get the shortcut. */
        sl->stream = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM
                         ? 1 : 2;
    }
    return sl->stream == 1;
}

void corio__epoll_read_short(corio__poller *p, int fd) {
    fd_slot *sl = slot_find(p->impl, fd);
    if (sl && sl->mask && !sl->ended && is_stream(sl, fd))
        sl->drained |= CORIO__POLL_IN;
}

/* Calls the fd's waiters with -EBADF, lets go of its watchers and drops its registration: the fd
 * is being closed, or it was closed with close(2) behind the poller's back and its number is in
 * use again. */
static void slot_forget(epoll_state *s, int fd, fd_slot *sl) {
    wake_dir(&sl->rd, -EBADF);
    wake_dir(&sl->wr, -EBADF);
    wake_dir(&sl->rcb, -EBADF);
    wake_dir(&sl->wcb, -EBADF);
    slot_unregister(s, fd, sl);
    memset(sl, 0, sizeof *sl);
}

void corio__epoll_fd_new(corio__poller *p, int fd) {
    epoll_state *s = p->impl;
    fd_slot *sl = slot_find(s, fd);
    if (sl && (sl->mask || sl->rcb || sl->wcb))
        slot_forget(s, fd, sl);
}

static void ep_forget(corio__poller *p, int fd) {
    epoll_state *s = p->impl;
    fd_slot *sl = slot_find(s, fd);
    if (sl)
        slot_forget(s, fd, sl);
}

/* ---- watchers ---- */

static corio__poll_rec *ep_watch(corio__poller *p, int fd, uint32_t dir, corio__poll_rec *w,
                                 int *err) {
    epoll_state *s = p->impl;
    fd_slot *sl = slot_get(s, fd);
    if (!sl) {
        *err = -ENOMEM;
        return NULL;
    }
    corio__poll_rec **slot = dir & CORIO__POLL_IN ? &sl->rcb : &sl->wcb;
    corio__poll_rec *old = *slot;
    *slot = w;
    *err = slot_sync(s, fd, sl);
    if (*err < 0) {
        *slot = old;
        return NULL;
    }
    if (!sl->rcb && !sl->wcb && !sl->rd && !sl->wr && sl->mask == wanted_mask(sl) && !w) {
        /* Back to edge-triggered: an edge may have been consumed while level-triggered. */
        sl->drained = 0;
    }
    return old;
}

const corio__poll_backend corio__poll_epoll = {
    .name = "epoll",
    .kind = CORIO__POLLER_EPOLL,
    .init = ep_init,
    .fini = ep_fini,
    .wait = ep_wait,
    .wake = ep_wake,
    .forget = ep_forget,
    .watch = ep_watch,
};
