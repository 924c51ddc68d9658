/* The io_uring poller, completion-based: an operation is an SQE, its record is called with the
 * CQE.
 *
 * SQEs are only queued while tasks run; the loop submits them all and waits for completions in
 * one io_uring_enter per iteration, however many connections are busy. The ring is made
 * SINGLE_ISSUER | DEFER_TASKRUN where the kernel has it, else COOP_TASKRUN, else plain (see
 * ring_setup). A kernel that refuses io_uring (seccomp, the io_uring_disabled sysctl, an old
 * kernel) makes init fail, and backend.c falls back to epoll.
 *
 * This file holds the ring: setup, the thread it belongs to, waiting, waking, and the dispatch
 * of each CQE; uring_fd.c what the kernel holds per fd.
 */
#ifdef CORIO_HAVE_LIBURING
#define _GNU_SOURCE /* gettid */
#include "poll/uring.h"

#include "base/alloc.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Queued SQEs per enter (a thousand connections each submitting two fit in two enters) and CQEs
 * the kernel can post before it has to keep them aside (IORING_FEAT_NODROP keeps, never drops). */
#define SQ_ENTRIES 1024u
#define CQ_ENTRIES 8192u

/* The kernel features the backend relies on (all there since Linux 5.11): without them, epoll. */
#define NEEDED_FEATURES                                                                            \
    (IORING_FEAT_NODROP | IORING_FEAT_RW_CUR_POS | IORING_FEAT_FAST_POLL | IORING_FEAT_EXT_ARG)

/* The opcodes this kernel has (Linux 5.6 can tell): the file operations use the ring only for
 * those, and the executor for the others. */
static void probe_ops(corio__uring *s) {
    struct io_uring_probe *probe = io_uring_get_probe_ring(&s->ring);
    if (!probe)
        return;
    for (unsigned op = 0; op < 64 && op <= probe->last_op; op++)
        if (io_uring_opcode_supported(probe, (int)op))
            s->ops |= 1ull << op;
    io_uring_free_probe(probe);
}

static int ring_setup(corio__uring *s) {
    /* Newest first; EINVAL means "flag unknown to this kernel": try fewer. DEFER_TASKRUN (6.1):
     * the kernel finishes completions only when the loop asks for them, in one batch; at a
     * thousand connections that cost 14-19% less CPU per echo than COOP_TASKRUN (README, "The
     * io_uring backend"). It needs SINGLE_ISSUER, which ties the ring to one thread: the ring
     * starts disabled so that the thread that first runs the loop becomes the issuer, and
     * ring_enable remakes it for another thread when nothing is in the kernel or the issuer has
     * exited.
     * CORIO_URING_SETUP=coop asks for COOP_TASKRUN, for comparing. */
    static const unsigned tries[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
            IORING_SETUP_R_DISABLED,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
        0,
    };
    const char *want = getenv("CORIO_URING_SETUP");
    size_t first = want && strcmp(want, "coop") == 0 ? 1 : 0;
    int rc = -EINVAL;
    for (size_t i = first; i < sizeof tries / sizeof tries[0]; i++) {
        struct io_uring_params prm;
        memset(&prm, 0, sizeof prm);
        prm.flags = tries[i] | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
        prm.cq_entries = CQ_ENTRIES;
        rc = io_uring_queue_init_params(SQ_ENTRIES, &s->ring, &prm);
        if (rc == 0) {
            if ((prm.features & NEEDED_FEATURES) != NEEDED_FEATURES) {
                io_uring_queue_exit(&s->ring);
                return -ENOSYS;
            }
            s->disabled = (tries[i] & IORING_SETUP_R_DISABLED) != 0;
            s->poll_first = 1; /* until a kernel before 5.19 says EINVAL to it */
            probe_ops(s);
            return 0;
        }
        if (rc != -EINVAL)
            return rc;
    }
    return rc;
}

static int ur_init(corio__poller *p) {
    corio__uring *s = corio__calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->p = p;
    s->wakefd = -1;
    int rc = ring_setup(s);
    if (rc < 0) {
        free(s);
        return rc;
    }
    /* What wakes the loop from other threads: the loop keeps a read of it in the kernel while
     * it sleeps. Made blocking on purpose: io_uring polls a blocking eventfd for its read, where
     * an O_NONBLOCK one would fail with EAGAIN. Made now rather than before the first sleep: an
     * fd the program just closed must not come back as this eventfd under a call that expects
     * EBADF (or a new socket of that number). */
    s->wakefd = eventfd(0, EFD_CLOEXEC);
    if (s->wakefd < 0) {
        rc = -errno;
        io_uring_queue_exit(&s->ring);
        free(s);
        return rc;
    }
    p->impl = s;
    return 0;
}

/* ---- entering the kernel ---- */

/* Whether the kernel holds anything of ours besides the wake-up read: an operation, or a watcher's
 * poll. Walks every slot: only asked when the loop changes threads. */
static int ring_busy(corio__uring *s) {
    for (size_t fd = 0; fd < s->nslots; fd++) {
        const corio__uslot *sl = &s->slots[fd];
        if (sl->ops || (sl->rcb && sl->rcb->armed) || (sl->wcb && sl->wcb->armed))
            return 1;
    }
    return s->nofd.ops != NULL;
}

/* Whether the issuer thread has exited. The kernel then never carries out its operations again
 * (one that fires fails with -ECANCELED, in a kernel thread), so nothing will write into their
 * buffers. */
static int issuer_gone(const corio__uring *s) {
    return syscall(SYS_tgkill, getpid(), s->issuer, 0) < 0 && errno == ESRCH;
}

/* The ring of a dead issuer is gone: its operations end as the kernel would have ended them, and
 * the watchers' polls are armed again on the new ring. */
static void abandon(corio__uring *s) {
    for (size_t fd = 0; fd < s->nslots; fd++) {
        corio__uslot *sl = &s->slots[fd];
        while (sl->ops)
            corio__uring_op_done(s, sl->ops, -ECANCELED, 0);
        if (sl->rcb && sl->rcb->armed)
            corio__uring_watch_done(s, sl->rcb, -ECANCELED, 0);
        if (sl->wcb && sl->wcb->armed)
            corio__uring_watch_done(s, sl->wcb, -ECANCELED, 0);
    }
}

static int reap(corio__uring *s);

/* A single-issuer ring and a thread that is not its issuer: a new ring for this thread, if the
 * old one holds nothing, or if its issuer has exited. Completions already posted are read first
 * (reading the CQ needs no system call, so any thread may). */
static int ring_move(corio__uring *s) {
    reap(s);
    int gone = issuer_gone(s);
    if (!gone && ring_busy(s))
        return -EEXIST;
    struct io_uring old = s->ring;
    int rc = ring_setup(s); /* into s->ring; on failure the old ring stays */
    if (rc < 0) {
        s->ring = old;
        return rc;
    }
    io_uring_queue_exit(&old); /* which cancels the wake-up read */
    s->wake_armed = 0;
    s->issuer = 0;
    if (gone)
        abandon(s);
    return 0;
}

static int ring_enable(corio__uring *s) {
    if (!s->disabled) {
        if (!s->issuer || s->issuer == gettid())
            return 0;
        int rc = ring_move(s);
        if (rc < 0)
            return rc;
        if (!s->disabled)
            return 0; /* the new ring is not single-issuer (CORIO_URING_SETUP) */
    }
    /* io_uring_enable_rings() is declared by liburing 2.3 but missing from its library. */
    if (syscall(__NR_io_uring_register, s->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
        return -errno;
    s->disabled = 0;
    s->issuer = gettid();
    return 0;
}

static void dispatch(corio__uring *s, uint64_t ud, int res, int more) {
    if (ud == CORIO__UD_IGNORE)
        return;
    if (ud == CORIO__UD_WAKE) {
        s->wake_armed = 0;
        corio__poller_wake_drained(s->p);
        return;
    }
    if (ud & CORIO__UD_WATCH)
        corio__uring_watch_done(s, (corio__uwatch *)(uintptr_t)(ud & ~CORIO__UD_WATCH), res,
                                more);
    else
        corio__uring_op_done(s, (corio__poll_rec *)(uintptr_t)ud, res, more);
}

/* Each CQE is consumed before it is dispatched: a dispatch may queue an SQE, and a full queue
 * is submitted and its completions reaped right there (see corio__uring_sqe), which must not
 * see this CQE again. */
static int reap(corio__uring *s) {
    struct io_uring_cqe *cqe;
    int n = 0;
    /* liburing's inner peek: io_uring_peek_cqe would enter the kernel when the CQ is empty. */
    while (__io_uring_peek_cqe(&s->ring, &cqe, NULL) == 0 && cqe) {
        uint64_t ud = cqe->user_data;
        int res = cqe->res, more = (cqe->flags & IORING_CQE_F_MORE) != 0;
        io_uring_cqe_seen(&s->ring, cqe);
        dispatch(s, ud, res, more);
        n++;
    }
    return n;
}

int corio__uring_enter(corio__uring *s, unsigned wait_nr) {
    int rc = ring_enable(s);
    if (rc < 0)
        return rc;
    rc = wait_nr ? io_uring_submit_and_wait(&s->ring, wait_nr)
                 : io_uring_submit_and_get_events(&s->ring);
    if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
        return rc;
    return reap(s);
}

struct io_uring_sqe *corio__uring_sqe(corio__uring *s) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    /* A full SQ: submit it (and take the completions, which may be what holds the kernel back). */
    for (int i = 0; !sqe && i < 3; i++) {
        if (corio__uring_enter(s, 0) < 0)
            return NULL;
        sqe = io_uring_get_sqe(&s->ring);
    }
    return sqe;
}

struct io_uring_sqe *corio__uring_get_sqe(corio__poller *p) { return corio__uring_sqe(p->impl); }

int corio__uring_poll_first(const corio__poller *p) {
    return ((const corio__uring *)p->impl)->poll_first;
}

void corio__uring_poll_first_off(corio__poller *p) { ((corio__uring *)p->impl)->poll_first = 0; }

int corio__uring_op_supported(const corio__poller *p, int opcode) {
    return opcode >= 0 && opcode < 64 && (((const corio__uring *)p->impl)->ops >> opcode & 1);
}

/* ---- waking ---- */

/* Before the loop sleeps: a read of the eventfd in the kernel, which a wake completes. */
static void wake_arm(corio__uring *s) {
    if (s->wake_armed)
        return;
    struct io_uring_sqe *sqe = corio__uring_sqe(s);
    if (!sqe)
        return;
    io_uring_prep_read(sqe, s->wakefd, &s->wakebuf, sizeof s->wakebuf, 0);
    io_uring_sqe_set_data64(sqe, CORIO__UD_WAKE);
    s->wake_armed = 1;
}

/* Any thread; only a system call, so a signal handler may wake the loop too. */
static int ur_wake(corio__poller *p) {
    corio__uring *s = p->impl;
    uint64_t one = 1;
    if (write(s->wakefd, &one, sizeof one) < 0 && errno != EAGAIN)
        return -errno;
    return 0;
}

/* ---- the loop's poll ---- */

static int ur_wait(corio__poller *p, int64_t timeout_ns) {
    corio__uring *s = p->impl;
    int rc = ring_enable(s);
    if (rc < 0)
        return rc;
    corio__uring_watch_flush(s);
    /* Valgrind 3.19 runs no other thread while one is inside io_uring_enter, so a loop asleep
     * there would never see another thread's wake-up: under it, sleep in short slices. */
    if (RUNNING_ON_VALGRIND && (timeout_ns < 0 || timeout_ns > 10 * 1000 * 1000))
        timeout_ns = 10 * 1000 * 1000;
    if (timeout_ns == 0) {
        rc = io_uring_submit_and_get_events(&s->ring);
    } else {
        wake_arm(s);
        if (timeout_ns < 0) {
            rc = io_uring_submit_and_wait(&s->ring, 1);
        } else {
            struct __kernel_timespec ts = {.tv_sec = timeout_ns / 1000000000,
                                           .tv_nsec = timeout_ns % 1000000000};
            struct io_uring_cqe *cqe;
            rc = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, &ts, NULL);
        }
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
        return rc;
    return reap(s);
}

static int ur_attach(corio__poller *p) { return ring_enable(p->impl); }

/* ---- loop close ---- */

static void ur_fini(corio__poller *p) {
    corio__uring *s = p->impl;
    if (!s)
        return;
    /* Every operation and poll must be out of the kernel before the memory it points into goes.
     * Only
     * the ring's own thread may enter a single-issuer ring: elsewhere, closing the ring makes
     * the kernel cancel what is left. */
    corio__uring_cancel_all(s);
    corio__uring_watch_flush(s); /* frees the removed watchers that were not armed */
    if (s->wake_armed) {
        struct io_uring_sqe *sqe = corio__uring_sqe(s);
        if (sqe) {
            io_uring_prep_cancel64(sqe, CORIO__UD_WAKE, 0);
            io_uring_sqe_set_data64(sqe, CORIO__UD_IGNORE);
        }
    }
    while (s->inflight || s->wake_armed)
        if (corio__uring_enter(s, 1) < 0)
            break;
    io_uring_queue_exit(&s->ring);
    /* Operations the kernel never answered (the drain failed) are let go of here. */
    for (size_t fd = 0; fd < s->nslots; fd++)
        while (s->slots[fd].ops)
            corio__uring_op_done(s, s->slots[fd].ops, -ECANCELED, 0);
    if (s->wakefd >= 0)
        close(s->wakefd);
    free(s->slots);
    free(s);
    p->impl = NULL;
}

const corio__poll_backend corio__poll_uring = {
    .name = "io_uring",
    .kind = CORIO__POLLER_URING,
    .init = ur_init,
    .fini = ur_fini,
    .wait = ur_wait,
    .wake = ur_wake,
    .attach = ur_attach,
    .forget = corio__uring_forget,
    .watch = corio__uring_watch,
};

#endif /* CORIO_HAVE_LIBURING */
