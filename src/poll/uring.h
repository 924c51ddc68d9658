/* Internal: the io_uring poller. uring.c holds the ring (setup, the thread it belongs to,
 * entering, waiting, waking, the dispatch of each CQE); uring_fd.c what the kernel holds per fd
 * (operations, polls, watchers) and letting go of it. The first part of this file is what the
 * request layer (io/uring.c) uses; the rest is shared by the two files.
 *
 * An operation is a record (corio__poll_rec) that goes with an SQE the caller fills in; it stays
 * in the kernel until its last CQE. The poller keeps the records of each fd, so that closing
 * the fd or the loop can cancel them, and knows nothing of what they complete.
 */
#ifndef CORIO_POLL_URING_H
#define CORIO_POLL_URING_H

#include "poll/poller.h"

#include <liburing.h>
#include <sys/types.h>

/* rec->state of an operation */
enum {
    CORIO__UREC_KERNEL = 1,      /* its SQE is queued or in the kernel: a CQE will come */
    CORIO__UREC_CANCEL_SENT = 2, /* an ASYNC_CANCEL for it is queued */
    CORIO__UREC_FORGOTTEN = 4,   /* its fd was forgotten (corio__poller_forget) */
    CORIO__UREC_POLL = 8         /* the poll of its direction (corio__uring_poll) */
};

/* Makes fd's slot ready for operations: 0, -ENOMEM, or -errno for an fd past the table that is
 * not open (so that a wild number gives -EBADF rather than a table that large). An operation on
 * no fd (a path relative to the working directory) has rec->fd -1 and needs no slot. */
int corio__uring_fd_prepare(corio__poller *p, int fd);

/* A free SQE, submitting what is queued first when the ring is full (which handles the CQEs
 * there are: records are called meanwhile); NULL if even that fails. */
struct io_uring_sqe *corio__uring_get_sqe(corio__poller *p);
/* rec (fn, fd, dir set) goes with the SQE the caller just filled in, on a prepared fd. It is in
 * the kernel until its last CQE, which calls rec->fn(rec, res, 1); earlier answers of a
 * multishot poll that has the bits of rec->dir call rec->fn(rec, res, 0), and the poll is then
 * cancelled. */
void corio__uring_op_start(corio__poller *p, struct io_uring_sqe *sqe, corio__poll_rec *rec);

/* A poll of rec->fd for rec->dir, as an operation (one-shot for input; multishot for output,
 * see uring_fd.c), on a prepared fd. One at a time per fd and direction: -EBUSY while another
 * has not answered; -ENOBUFS with no SQE to be had. */
int corio__uring_poll(corio__poller *p, corio__poll_rec *rec);

static inline int corio__uring_in_kernel(const corio__poll_rec *rec) {
    return (rec->state & CORIO__UREC_KERNEL) != 0;
}
/* Asks the kernel to cancel the operation (once); it ends with its CQE, -ECANCELED or the
 * result it had already produced. */
void corio__uring_cancel(corio__poller *p, corio__poll_rec *rec);
/* Cancels the operation and waits here until the kernel lets go of it. */
void corio__uring_drain(corio__poller *p, corio__poll_rec *rec);

/* Whether a recv may ask for IORING_RECVSEND_POLL_FIRST (Linux 5.19): yes until the caller
 * sees the kernel refuse it and says so. */
int corio__uring_poll_first(const corio__poller *p);
void corio__uring_poll_first_off(corio__poller *p);

/* Whether the kernel has the opcode (IORING_OP_*). */
int corio__uring_op_supported(const corio__poller *p, int opcode);

/* The client's byte for fd: its own per-fd bits, zeroed when the fd is forgotten. NULL for an fd
 * never prepared. */
uint8_t *corio__uring_fd_bits(corio__poller *p, int fd);

/* ---- shared by uring.c and uring_fd.c ---- */

/* A watcher (add_reader / add_writer): a one-shot POLL_ADD, queued again after each completion
 * and submitted at the next poll, after the callback ran, which gives asyncio's level-triggered
 * calls. It outlives its client's record until the kernel lets go of its poll. */
typedef struct corio__uwatch {
    corio__poll_rec *w;          /* the client's; NULL: removed, freed once neither armed nor
                                    queued */
    struct corio__uwatch *next;  /* in the list of polls to arm */
    int fd;
    uint32_t dir;
    uint8_t armed;               /* its poll is in the kernel */
    uint8_t queued;              /* in the list of polls to arm */
    uint8_t multi;               /* armed multishot: waiting out a half-close (see uring_fd.c) */
} corio__uwatch;

typedef struct corio__uslot {
    corio__poll_rec *ops;         /* operations in the kernel on this fd, linked through next */
    corio__poll_rec *prd, *pwr;   /* the poll of each direction that has not answered yet */
    corio__uwatch *rcb, *wcb;
    uint8_t user;                 /* the client's bits (corio__uring_fd_bits) */
} corio__uslot;

typedef struct corio__uring {
    struct io_uring ring;
    corio__poller *p;
    corio__uslot *slots;
    size_t nslots;
    corio__uslot nofd;      /* operations on no fd (rec->fd < 0): only `ops` is used */
    uint64_t ops;           /* the opcodes the kernel has, bit IORING_OP_* */
    unsigned inflight;      /* operations in the kernel, and watchers */
    corio__uwatch *to_arm;  /* watchers whose poll the next wait submits */
    int wakefd;             /* an eventfd: any thread wakes the loop by writing to it */
    uint8_t wake_armed;     /* a read of wakefd is in the kernel */
    uint8_t disabled;       /* created IORING_SETUP_R_DISABLED: enabled by the first enter */
    uint8_t poll_first;     /* the kernel takes IORING_RECVSEND_POLL_FIRST (5.19) */
    pid_t issuer;           /* the thread that enabled a single-issuer ring; 0: any */
    uint64_t wakebuf;
} corio__uring;

/* user_data of SQEs that are not operations: their CQE is ignored, or wakes the loop.
 * Operations use their record's address; watcher polls their address with the low bit set. */
#define CORIO__UD_IGNORE 0ull
#define CORIO__UD_WAKE 2ull
#define CORIO__UD_WATCH 1ull

/* A free SQE (see corio__uring_get_sqe). */
struct io_uring_sqe *corio__uring_sqe(corio__uring *s);
/* Submits what is queued and, with wait_nr, waits for that many CQEs, then handles every CQE
 * there is. Returns the CQEs handled or -errno (-EEXIST: not the ring's thread). */
int corio__uring_enter(corio__uring *s, unsigned wait_nr);

static inline corio__uslot *corio__uring_slot_find(corio__uring *s, int fd) {
    return fd >= 0 && (size_t)fd < s->nslots ? &s->slots[fd] : NULL;
}
/* Where an operation on fd is linked: its slot (prepared), or for no fd the ring's own. */
static inline corio__uslot *corio__uring_ops_slot(corio__uring *s, int fd) {
    return fd >= 0 ? corio__uring_slot_find(s, fd) : &s->nofd;
}

/* Counts an operation or a watcher in the kernel, and the poller's nwatched with it. */
static inline void corio__uring_track(corio__uring *s, int delta) {
    s->inflight += (unsigned)delta;
    s->p->nwatched = s->inflight;
}

/* A CQE of an operation / a watcher poll; more: a multishot poll stays armed. */
void corio__uring_op_done(corio__uring *s, corio__poll_rec *rec, int res, int more);
void corio__uring_watch_done(corio__uring *s, corio__uwatch *uw, int res, int more);
/* Before the loop polls: arms the watchers' polls (and frees removed ones waiting for that). */
void corio__uring_watch_flush(corio__uring *s);
/* Close: lets go of every watcher and cancels every operation in the kernel. */
void corio__uring_cancel_all(corio__uring *s);
/* The poller's forget and watch (corio__poller_forget / _watch). */
void corio__uring_forget(corio__poller *p, int fd);
corio__poll_rec *corio__uring_watch(corio__poller *p, int fd, uint32_t dir, corio__poll_rec *w,
                                    int *err);

#endif
