/* The io_uring backend's requests: each awaiting call becomes an SQE whose CQE completes the op
 * the task awaits (see uring.c for the ring itself).
 *
 * Buffers live in the awaiting task's frame, so a task's await never returns while its op is in
 * the kernel: a cancelled or timed-out op is cancelled with IORING_OP_ASYNC_CANCEL and completes
 * only when its CQE arrives, with its real result if it won the race (see include/corio/io.h);
 * a task destroyed by loop close waits for that CQE right there. Compact tasks are the
 * exception: their frames are copied off the shared stack while they wait, so the kernel must not
 * hold pointers into them. They use readiness instead (a POLL_ADD, then the system call), as
 * epoll does.
 */
#ifdef CORIO_HAVE_LIBURING
#define _GNU_SOURCE /* POLLRDHUP */
#include "io/uring.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(addr, len) ((void)(addr), (void)(len))
#endif

/* ---- ops on an fd ---- */

static void op_link(corio__uring *s, corio__io_op *op, corio__uslot *sl) {
    op->next = sl->ops;
    sl->ops = op;
    op->bstate = CORIO__U_KERNEL;
    corio_future_ref(&op->fut); /* the CQE's: the op outlives its awaiter until then */
    corio__uring_track(s, 1);
}

static void op_unlink(corio__uring *s, corio__io_op *op) {
    corio__uslot *sl = corio__uring_slot_find(s, op->fd);
    if (sl)
        for (corio__io_op **pp = &sl->ops; *pp; pp = &(*pp)->next)
            if (*pp == op) {
                *pp = op->next;
                break;
            }
    op->next = NULL;
    op->bstate &= ~(uint32_t)CORIO__U_KERNEL;
    corio__uring_track(s, -1);
}

/* io_uring always reports POLLRDHUP, even to a poll for output: a socket whose peer shut down
 * its side answers a POLLOUT poll at once, full or not. Re-arming one-shot polls on it would
 * spin, so polls for output are multishot (which wake only when the socket's state changes), and
 * a result is readiness only with the bits asked for, or an error or hang-up. */
static int poll_ready(int res, uint32_t dir) {
    uint32_t want = dir | POLLERR | POLLHUP | POLLNVAL | (dir & POLLIN ? POLLRDHUP : 0);
    return ((uint32_t)res & want) != 0;
}

void corio__uring_op_done(corio__uring *s, corio__io_op *op, int res, int more) {
    if (op->fut.state == CORIO_FUTURE_PENDING) {
        if (more && res >= 0 && !poll_ready(res, op->dir))
            return; /* a half-close the op does not wait for: keep waiting */
        if (res == -ECANCELED) {
            /* Cancelled by us: say why, the task's own cancellation first. */
            uint32_t b = op->bstate;
            if (b & CORIO__U_USER_CANCEL)
                res = -ECANCELED;
            else if (b & CORIO__U_FORGOTTEN)
                res = -EBADF;
            else if (b & CORIO__U_TIMEDOUT)
                res = -ETIMEDOUT;
        }
        corio__io_op_complete(op, res);
    }
    if (more) { /* a multishot poll that answered: take it back; its last CQE ends the op */
        corio__uring_cancel_op(s, op);
        return;
    }
    op_unlink(s, op);
    corio_future_unref(&op->fut);
}

void corio__uring_cancel_op(corio__uring *s, corio__io_op *op) {
    if (!(op->bstate & CORIO__U_KERNEL) || (op->bstate & CORIO__U_CANCEL_SENT))
        return;
    struct io_uring_sqe *sqe = corio__uring_sqe(s);
    if (!sqe)
        return; /* the op ends by itself; its deadline or close tries again */
    io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)op, 0);
    io_uring_sqe_set_data64(sqe, CORIO__UD_IGNORE);
    op->bstate |= CORIO__U_CANCEL_SENT;
}

/* The future's cancel hook, and a deadline's (op.c sets res to -ETIMEDOUT before calling it).
 * The kernel has the op: cancelling is asked for, and the op completes when its CQE comes. It
 * returns 0, "not cancelled yet": the awaiting task keeps the request and gets it when it wakes. */
int corio__uring_cancel(corio__io_op *op, const char *msg) {
    corio__uring *s = corio__uring_of(op->fut.loop);
    if (!s || !(op->bstate & CORIO__U_KERNEL))
        return corio__future_cancel_plain(&op->fut, msg);
    if (op->res == -ETIMEDOUT && !(op->bstate & CORIO__U_TIMEDOUT))
        op->bstate |= CORIO__U_TIMEDOUT;
    else
        op->bstate |= CORIO__U_USER_CANCEL;
    corio__uring_cancel_op(s, op);
    return 0;
}

/* An op holds the CQE's reference while in the kernel, so it is never freed there. */
void corio__uring_release(corio__io_op *op) { (void)op; }

/* ---- requests ---- */

static void prep(struct io_uring_sqe *sqe, corio__io_req *r, int poll_first) {
    int flags = r->flags;
    switch (r->kind) {
    case CORIO__IO_RECV:
        io_uring_prep_recv(sqe, r->fd, r->buf, r->len, flags);
        if (poll_first) /* skip the attempt that would fail: arm the poll at once */
            sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
        break;
    case CORIO__IO_SEND: io_uring_prep_send(sqe, r->fd, r->buf, r->len, flags | MSG_NOSIGNAL); break;
    case CORIO__IO_RECVMSG: io_uring_prep_recvmsg(sqe, r->fd, r->msg, (unsigned)flags); break;
    case CORIO__IO_SENDMSG:
        io_uring_prep_sendmsg(sqe, r->fd, r->msg, (unsigned)flags | MSG_NOSIGNAL);
        break;
    case CORIO__IO_READ: io_uring_prep_read(sqe, r->fd, r->buf, (unsigned)r->len, (uint64_t)-1); break;
    case CORIO__IO_WRITE:
        io_uring_prep_write(sqe, r->fd, r->buf, (unsigned)r->len, (uint64_t)-1);
        break;
    case CORIO__IO_ACCEPT:
        io_uring_prep_accept(sqe, r->fd, r->addr, r->alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
    default:
        if (r->events & CORIO__IO_OUT)
            io_uring_prep_poll_multishot(sqe, r->fd, r->events);
        else
            io_uring_prep_poll_add(sqe, r->fd, r->events);
        break;
    }
}

/* Valgrind cannot see the kernel write into buffers after the system call returned. */
static void mark_defined(const corio__io_req *r, ssize_t n) {
    if (n <= 0)
        return;
    if (r->kind == CORIO__IO_RECV || r->kind == CORIO__IO_READ) {
        VALGRIND_MAKE_MEM_DEFINED(r->buf, (size_t)n);
    } else if (r->kind == CORIO__IO_RECVMSG) {
        size_t left = (size_t)n;
        for (size_t i = 0; i < (size_t)r->msg->msg_iovlen && left; i++) {
            size_t k = r->msg->msg_iov[i].iov_len < left ? r->msg->msg_iov[i].iov_len : left;
            VALGRIND_MAKE_MEM_DEFINED(r->msg->msg_iov[i].iov_base, k);
            left -= k;
        }
        if (r->msg->msg_name)
            VALGRIND_MAKE_MEM_DEFINED(r->msg->msg_name, r->msg->msg_namelen);
        if (r->msg->msg_control)
            VALGRIND_MAKE_MEM_DEFINED(r->msg->msg_control, r->msg->msg_controllen);
    } else if (r->kind == CORIO__IO_ACCEPT && r->addr) {
        VALGRIND_MAKE_MEM_DEFINED(r->addr, *r->alen);
    }
}

/* A task destroyed by loop close left its await with the op still in the kernel: the op may
 * point into the frame that is about to go, so wait for it here. */
static void drain(corio__uring *s, corio__io_op *op) {
    corio__uring_cancel_op(s, op);
    while (op->bstate & CORIO__U_KERNEL)
        if (corio__uring_enter(s, 1) < 0)
            break;
}

/* The fd's slot; an fd past the table is checked first, so that a wild number gives -EBADF
 * rather than a table that large. */
static corio__uslot *slot_for(corio__uring *s, int fd, int *err) {
    if ((size_t)fd >= s->nslots && fcntl(fd, F_GETFD) < 0) {
        *err = -errno;
        return NULL;
    }
    corio__uslot *sl = corio__uring_slot(s, fd);
    *err = sl ? 0 : -ENOMEM;
    return sl;
}

/* Submits the request as one op and awaits its CQE. */
static ssize_t run_op(corio__uring *s, corio_task *t, corio__io_req *r) {
    int err;
    corio__uslot *sl = slot_for(s, r->fd, &err);
    if (!sl)
        return err;
    uint32_t dir = corio__io_dir(r);
    corio__io_op **waiter = NULL;
    if (r->kind == CORIO__IO_POLL) {
        waiter = dir & CORIO__IO_IN ? &sl->prd : &sl->pwr;
        if (*waiter)
            return -EBUSY;
    }
    corio__io_op *op = corio__io_op_new(s->loop, r->fd, dir, r->timeout_ns);
    if (!op)
        return -ENOMEM;
    struct io_uring_sqe *sqe = corio__uring_sqe(s);
    if (!sqe) {
        corio_future_unref(&op->fut);
        return -ENOBUFS;
    }
    sl = corio__uring_slot_find(s, r->fd); /* submitting may have handled CQEs */
    prep(sqe, r, s->poll_first && sl->drained);
    io_uring_sqe_set_data(sqe, op);
    op_link(s, op, sl);
    if (waiter)
        *(dir & CORIO__IO_IN ? &sl->prd : &sl->pwr) = op;
    ssize_t rc = (ssize_t)corio__io_op_await(op);
    if (op->fut.state == CORIO_FUTURE_PENDING) {
        drain(s, op); /* rc is -ECANCELED: the task is being destroyed */
    } else if (rc == -ECANCELED && op->fut.state == CORIO_FUTURE_FINISHED) {
        /* Cancelled too late: the kernel had done the work. Keep its result and deliver the
         * cancellation at the task's next await. */
        rc = (ssize_t)op->res;
        t->must_cancel = 1;
    }
    if (waiter && (sl = corio__uring_slot_find(s, r->fd))) {
        if (sl->prd == op)
            sl->prd = NULL;
        if (sl->pwr == op)
            sl->pwr = NULL;
    }
    corio_future_unref(&op->fut);
    if (r->kind == CORIO__IO_RECV && rc >= 0 && (sl = corio__uring_slot_find(s, r->fd)))
        sl->drained = (size_t)rc < r->len;
    mark_defined(r, rc);
    return rc;
}

/* Readiness, as epoll does it: try the call, and while it would block await a POLL_ADD. For
 * compact tasks, connect (whose address the kernel would read late) and files that answer
 * io_uring with EAGAIN. */
static ssize_t run_ready(corio__uring *s, corio_task *t, corio__io_req *r) {
    int user_poll = r->kind == CORIO__IO_POLL;
    for (;;) {
        ssize_t n = corio__io_try(r);
        if (n != -EAGAIN)
            return n;
        corio__io_req p = {.kind = CORIO__IO_POLL, .fd = r->fd, .events = corio__io_dir(r),
                           .timeout_ns = r->timeout_ns};
        n = run_op(s, t, &p);
        if (n < 0 || user_poll || r->kind == CORIO__IO_POLL) /* a connect becomes a POLL */
            return n;
    }
}

ssize_t corio__uring_submit(corio_loop *loop, corio__io_req *r) {
    corio__uring *s = corio__uring_of(loop);
    corio_task *t = corio__current_task();
    if (t->must_cancel) {
        /* A cancellation already requested is delivered here, before the kernel gets the
         * request: an op that completes at once would otherwise keep winning over it. */
        t->must_cancel = 0;
        return -ECANCELED;
    }
    int sock = r->kind >= CORIO__IO_RECV && r->kind <= CORIO__IO_SENDMSG;
    if (sock && (r->flags & MSG_DONTWAIT)) /* asked not to wait: one try, -EAGAIN included */
        return corio__io_try(r);
    if (t->compact || r->kind == CORIO__IO_CONNECT)
        return run_ready(s, t, r);
    if ((r->kind == CORIO__IO_SEND || r->kind == CORIO__IO_SENDMSG) && !s->send_sqe) {
        /* A socket has room far more often than not: one send(2) now costs less than an SQE, its
         * CQE and waking the task for it one iteration later. */
        ssize_t n = corio__io_try(r);
        if (n != -EAGAIN)
            return n;
    }
    int rw = r->kind == CORIO__IO_READ || r->kind == CORIO__IO_WRITE;
    corio__uslot *sl = corio__uring_slot_find(s, r->fd);
    uint32_t dir = corio__io_dir(r);
    if (rw && sl && (sl->nowait & dir))
        return run_ready(s, t, r);
    ssize_t n = run_op(s, t, r);
    if (n == -EINVAL && r->kind == CORIO__IO_RECV && s->poll_first) {
        s->poll_first = 0; /* perhaps a kernel without IORING_RECVSEND_POLL_FIRST: once more */
        n = run_op(s, t, r);
    }
    if (n == -EAGAIN) {
        /* An O_NONBLOCK file (pipe, eventfd, tty) whose read or write io_uring does not poll:
         * readiness from now on, until corio_close forgets the fd. */
        if ((sl = corio__uring_slot_find(s, r->fd)))
            sl->nowait |= (uint8_t)dir;
        n = run_ready(s, t, r);
    }
    return n;
}

/* ---- add_reader / add_writer ---- */

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
        corio__io_watch_fire(uw->w);
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

corio__io_watch *corio__uring_watch(corio_loop *loop, int fd, uint32_t dir, corio__io_watch *w,
                                    int *err) {
    corio__uring *s = corio__uring_of(loop);
    corio__uslot *sl = slot_for(s, fd, err);
    if (!sl)
        return NULL;
    corio__uwatch **slot = dir & CORIO__IO_IN ? &sl->rcb : &sl->wcb;
    corio__uwatch *uw = *slot;
    if (uw) {
        corio__io_watch *old = uw->w;
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

/* ---- close ---- */

/* Cancels every op on the slot. Queueing a cancel may submit a full queue and handle CQEs, which
 * unlinks ops from the list: start again from its head each time. */
static void cancel_slot_ops(corio__uring *s, corio__uslot *sl) {
    for (;;) {
        corio__io_op *op = sl->ops;
        while (op && (op->bstate & CORIO__U_CANCEL_SENT))
            op = op->next;
        if (!op)
            return;
        corio__uring_cancel_op(s, op);
        if (!(op->bstate & CORIO__U_CANCEL_SENT) && (op->bstate & CORIO__U_KERNEL))
            return; /* no SQE to be had: the ops end by themselves */
    }
}

/* Cancels what the kernel holds on fd and lets the ring act on it now, so that the file is
 * really closed by the close(2) that follows (an op in the kernel holds a reference to it). */
void corio__uring_forget(corio_loop *loop, int fd) {
    corio__uring *s = corio__uring_of(loop);
    corio__uslot *sl = corio__uring_slot_find(s, fd);
    if (!sl)
        return;
    int any = sl->ops != NULL;
    for (corio__io_op *op = sl->ops; op; op = op->next)
        op->bstate |= CORIO__U_FORGOTTEN;
    cancel_slot_ops(s, sl);
    corio__uwatch *uw[2] = {sl->rcb, sl->wcb};
    for (int i = 0; i < 2; i++) {
        if (!uw[i])
            continue;
        corio__io_watch_release(uw[i]->w);
        any |= uw[i]->armed;
        watch_remove(s, uw[i]);
    }
    sl->rcb = sl->wcb = NULL;
    sl->prd = sl->pwr = NULL;
    sl->nowait = sl->drained = 0;
    if (any)
        corio__uring_enter(s, 0);
}

void corio__uring_cancel_all(corio__uring *s) {
    for (size_t fd = 0; fd < s->nslots; fd++) {
        corio__uslot *sl = &s->slots[fd];
        cancel_slot_ops(s, sl);
        corio__uwatch **uw[2] = {&sl->rcb, &sl->wcb};
        for (int i = 0; i < 2; i++) {
            if (!*uw[i])
                continue;
            corio__io_watch_release((*uw[i])->w);
            watch_remove(s, *uw[i]);
            *uw[i] = NULL;
        }
    }
}

#endif /* CORIO_HAVE_LIBURING */
