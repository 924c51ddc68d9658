/* The io_uring poller's per-fd side: the operations the kernel holds on each fd, the poll of
 * each direction, the watchers' polls, and letting go of them all when the fd is forgotten or
 * the ring closed (see uring.c for the ring itself).
 *
 * The kernel may write into an operation's buffers until its last CQE, so a record stays linked
 * to its fd until then, whatever its owner has decided meanwhile: forgetting an fd cancels its
 * operations and lets the ring act on them at once, and the records end with their CQEs.
 */
#ifdef CORIO_HAVE_LIBURING
#define _GNU_SOURCE /* POLLRDHUP */
#include "poll/uring.h"

#include "base/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>

static corio__uslot *slot_get(corio__uring *s, int fd) {
    if ((size_t)fd >= s->nslots &&
        corio__fdtable_grow((void **)&s->slots, &s->nslots, sizeof *s->slots, fd) < 0)
        return NULL;
    return &s->slots[fd];
}

/* The fd's slot; an fd past the table is checked first, so that a wild number gives -EBADF
 * rather than a table that large. */
static corio__uslot *slot_for(corio__uring *s, int fd, int *err) {
    if ((size_t)fd >= s->nslots && fcntl(fd, F_GETFD) < 0) {
        *err = -errno;
        return NULL;
    }
    corio__uslot *sl = slot_get(s, fd);
    *err = sl ? 0 : -ENOMEM;
    return sl;
}

int corio__uring_fd_prepare(corio__poller *p, int fd) {
    int err;
    slot_for(p->impl, fd, &err);
    return err;
}

uint8_t *corio__uring_fd_bits(corio__poller *p, int fd) {
    corio__uslot *sl = corio__uring_slot_find(p->impl, fd);
    return sl ? &sl->user : NULL;
}

/* ---- operations ---- */

void corio__uring_op_start(corio__poller *p, struct io_uring_sqe *sqe, corio__poll_rec *rec) {
    corio__uring *s = p->impl;
    corio__uslot *sl = corio__uring_ops_slot(s, rec->fd); /* prepared */
    io_uring_sqe_set_data(sqe, rec);
    rec->next = sl->ops;
    sl->ops = rec;
    rec->state = CORIO__UREC_KERNEL;
    corio__uring_track(s, 1);
}

static void op_unlink(corio__uring *s, corio__poll_rec *rec) {
    corio__uslot *sl = corio__uring_ops_slot(s, rec->fd);
    if (sl)
        for (corio__poll_rec **pp = &sl->ops; *pp; pp = &(*pp)->next)
            if (*pp == rec) {
                *pp = rec->next;
                break;
            }
    rec->next = NULL;
    rec->state &= ~(uint32_t)CORIO__UREC_KERNEL;
    corio__uring_track(s, -1);
}

/* A poll that answered frees its direction for the next one. */
static void poll_answered(corio__uring *s, corio__poll_rec *rec) {
    corio__uslot *sl = corio__uring_slot_find(s, rec->fd);
    rec->state &= ~(uint32_t)CORIO__UREC_POLL;
    if (!sl)
        return;
    if (sl->prd == rec)
        sl->prd = NULL;
    if (sl->pwr == rec)
        sl->pwr = NULL;
}

/* io_uring always reports POLLRDHUP, even to a poll for output: a socket whose peer shut down
 * its side answers a POLLOUT poll at once, full or not. Re-arming one-shot polls on it would
 * spin, so polls for output are multishot (which wake only when the socket's state changes), and
 * a result is readiness only with the bits asked for, or an error or hang-up. */
static int poll_ready(int res, uint32_t dir) {
    uint32_t want = dir | POLLERR | POLLHUP | POLLNVAL | (dir & POLLIN ? POLLRDHUP : 0);
    return ((uint32_t)res & want) != 0;
}

void corio__uring_op_done(corio__uring *s, corio__poll_rec *rec, int res, int more) {
    if (more && res >= 0 && !poll_ready(res, rec->dir))
        return; /* a half-close the poll does not wait for: keep waiting */
    if (rec->state & CORIO__UREC_POLL)
        poll_answered(s, rec);
    if (more) { /* a multishot poll that answered: take it back; its last CQE ends it */
        rec->fn(rec, res, 0);
        corio__uring_cancel(s->p, rec);
        return;
    }
    op_unlink(s, rec);
    rec->fn(rec, res, 1);
}

void corio__uring_cancel(corio__poller *p, corio__poll_rec *rec) {
    if (!(rec->state & CORIO__UREC_KERNEL) || (rec->state & CORIO__UREC_CANCEL_SENT))
        return;
    struct io_uring_sqe *sqe = corio__uring_sqe(p->impl);
    if (!sqe)
        return; /* the operation ends by itself; its owner's deadline or close tries again */
    io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)rec, 0);
    io_uring_sqe_set_data64(sqe, CORIO__UD_IGNORE);
    rec->state |= CORIO__UREC_CANCEL_SENT;
}

void corio__uring_drain(corio__poller *p, corio__poll_rec *rec) {
    corio__uring_cancel(p, rec);
    while (rec->state & CORIO__UREC_KERNEL)
        if (corio__uring_enter(p->impl, 1) < 0)
            break;
}

int corio__uring_poll(corio__poller *p, corio__poll_rec *rec) {
    corio__uring *s = p->impl;
    corio__uslot *sl = &s->slots[rec->fd]; /* prepared */
    corio__poll_rec **waiter = rec->dir & CORIO__POLL_IN ? &sl->prd : &sl->pwr;
    if (*waiter)
        return -EBUSY;
    struct io_uring_sqe *sqe = corio__uring_sqe(s);
    if (!sqe)
        return -ENOBUFS;
    if (rec->dir & CORIO__POLL_OUT)
        io_uring_prep_poll_multishot(sqe, rec->fd, rec->dir);
    else
        io_uring_prep_poll_add(sqe, rec->fd, rec->dir);
    corio__uring_op_start(p, sqe, rec);
    rec->state |= CORIO__UREC_POLL;
    *waiter = rec; /* handling CQEs for the SQE never moves the table */
    return 0;
}

/* ---- watchers ---- */

static void watch_queue(corio__uring *s, corio__uwatch *uw) {
    if (uw->queued)
        return;
    uw->queued = 1;
    uw->next = s->to_arm;
    s->to_arm = uw;
}

static void watch_free(corio__uring *s, corio__uwatch *uw) {
    free(uw);
    corio__uring_track(s, -1);
}

/* Polls are armed here rather than as their CQEs are handled: the polls of a thousand ready fds
 * would otherwise complete at once each time a full queue is submitted, and fill it again. */
void corio__uring_watch_flush(corio__uring *s) {
    corio__uwatch *list = s->to_arm;
    s->to_arm = NULL;
    while (list) {
        corio__uwatch *uw = list;
        list = uw->next;
        uw->queued = 0;
        if (!uw->w) {
            watch_free(s, uw);
            continue;
        }
        struct io_uring_sqe *sqe = corio__uring_sqe(s);
        if (!sqe) {
            watch_queue(s, uw); /* the next poll tries again */
            continue;
        }
        if (uw->multi)
            io_uring_prep_poll_multishot(sqe, uw->fd, uw->dir);
        else
            io_uring_prep_poll_add(sqe, uw->fd, uw->dir);
        io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)uw | CORIO__UD_WATCH);
        uw->armed = 1;
    }
}

static void watch_remove(corio__uring *s, corio__uwatch *uw) {
    uw->w = NULL;
    if (uw->armed) {
        struct io_uring_sqe *sqe = corio__uring_sqe(s);
        if (sqe) {
            io_uring_prep_poll_remove(sqe, (uint64_t)(uintptr_t)uw | CORIO__UD_WATCH);
            io_uring_sqe_set_data64(sqe, CORIO__UD_IGNORE);
        }
    } else if (!uw->queued) {
        watch_free(s, uw);
    }
}

/* Removes the watcher and tells its client that the poller let go of its record. */
static void watch_let_go(corio__uring *s, corio__uwatch **slot, int res) {
    corio__uwatch *uw = *slot;
    corio__poll_rec *w = uw->w;
    *slot = NULL;
    watch_remove(s, uw);
    w->fn(w, res, 1);
}

/* A watcher polls one-shot, re-armed each iteration (level-triggered). A one-shot answer with
 * none of the bits it watches (POLLRDHUP alone, see poll_ready) would come back at once each
 * time: the watcher then waits with a multishot poll until the socket's state changes, and goes
 * back to one-shot polls once it fires. */
void corio__uring_watch_done(corio__uring *s, corio__uwatch *uw, int res, int more) {
    if (!more)
        uw->armed = 0;
    if (!uw->w) {
        if (!uw->armed && !uw->queued)
            watch_free(s, uw);
        return;
    }
    int ready = res > 0 && poll_ready(res, uw->dir);
    if (ready)
        uw->w->fn(uw->w, res, 0);
    if (more) {
        if (ready) {
            struct io_uring_sqe *sqe = corio__uring_sqe(s);
            if (sqe) {
                io_uring_prep_poll_remove(sqe, (uint64_t)(uintptr_t)uw | CORIO__UD_WATCH);
                io_uring_sqe_set_data64(sqe, CORIO__UD_IGNORE);
            }
        }
        return;
    }
    if (res < 0 && res != -ECANCELED) /* the fd was closed behind our back: stop watching */
        return;
    uw->multi = res > 0 && !ready;
    watch_queue(s, uw);
}

corio__poll_rec *corio__uring_watch(corio__poller *p, int fd, uint32_t dir, corio__poll_rec *w,
                                    int *err) {
    corio__uring *s = p->impl;
    corio__uslot *sl = slot_for(s, fd, err);
    if (!sl)
        return NULL;
    corio__uwatch **slot = dir & CORIO__POLL_IN ? &sl->rcb : &sl->wcb;
    corio__uwatch *uw = *slot;
    if (uw) {
        corio__poll_rec *old = uw->w;
        if (w) {
            uw->w = w; /* its poll stays as it is */
        } else {
            *slot = NULL;
            watch_remove(s, uw);
        }
        return old;
    }
    if (!w)
        return NULL;
    /* As epoll_ctl would: a closed fd, or a file that is always ready, cannot be watched. */
    struct stat st;
    if (fstat(fd, &st) < 0) {
        *err = -errno;
        return NULL;
    }
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        *err = -EPERM;
        return NULL;
    }
    uw = corio__calloc(1, sizeof *uw);
    if (!uw) {
        *err = -ENOMEM;
        return NULL;
    }
    *uw = (corio__uwatch){.w = w, .fd = fd, .dir = dir};
    corio__uring_track(s, 1); /* the loop must poll while it is registered */
    watch_queue(s, uw);
    *slot = uw;
    return NULL;
}

/* ---- letting go ---- */

/* Cancels every operation on the slot. Queueing a cancel may submit a full queue and handle
 * CQEs, which unlinks operations from the list: start again from its head each time. */
static void cancel_slot_ops(corio__uring *s, corio__uslot *sl) {
    for (;;) {
        corio__poll_rec *rec = sl->ops;
        while (rec && (rec->state & CORIO__UREC_CANCEL_SENT))
            rec = rec->next;
        if (!rec)
            return;
        corio__uring_cancel(s->p, rec);
        if (!(rec->state & CORIO__UREC_CANCEL_SENT) && (rec->state & CORIO__UREC_KERNEL))
            return; /* no SQE to be had: the operations end by themselves */
    }
}

/* Cancels what the kernel holds on fd and lets the ring act on it now, so that the file is
 * really closed by the close(2) that follows (an operation in the kernel holds a reference to
 * it). */
void corio__uring_forget(corio__poller *p, int fd) {
    corio__uring *s = p->impl;
    corio__uslot *sl = corio__uring_slot_find(s, fd);
    if (!sl)
        return;
    int any = sl->ops != NULL;
    for (corio__poll_rec *rec = sl->ops; rec; rec = rec->next)
        rec->state |= CORIO__UREC_FORGOTTEN;
    cancel_slot_ops(s, sl);
    corio__uwatch **uw[2] = {&sl->rcb, &sl->wcb};
    for (int i = 0; i < 2; i++) {
        if (!*uw[i])
            continue;
        any |= (*uw[i])->armed;
        watch_let_go(s, uw[i], -EBADF);
    }
    sl->prd = sl->pwr = NULL;
    sl->user = 0;
    if (any)
        corio__uring_enter(s, 0);
}

void corio__uring_cancel_all(corio__uring *s) {
    for (size_t fd = 0; fd < s->nslots; fd++) {
        corio__uslot *sl = &s->slots[fd];
        cancel_slot_ops(s, sl);
        if (sl->rcb)
            watch_let_go(s, &sl->rcb, -ECANCELED);
        if (sl->wcb)
            watch_let_go(s, &sl->wcb, -ECANCELED);
    }
    cancel_slot_ops(s, &s->nofd);
}

#endif /* CORIO_HAVE_LIBURING */
