/* Internal: the io_uring backend's state, shared by uring.c (the ring: setup, waiting, waking,
 * completions) and uring_ops.c (requests, cancellation, close, add_reader). */
#ifndef CORIO_IO_URING_H
#define CORIO_IO_URING_H

#include "io/io.h"

#include <liburing.h>
#include <sys/types.h>

/* An add_reader / add_writer registration: a one-shot POLL_ADD, queued again after each
 * completion and submitted at the next poll, after the callback ran, which gives asyncio's
 * level-triggered calls. It outlives its watcher until the kernel lets go of its poll. */
typedef struct corio__uwatch {
    corio__io_watch *w;          /* NULL: removed, freed once neither armed nor queued */
    struct corio__uwatch *next;  /* in the list of polls to arm */
    int fd;
    uint32_t dir;
    uint8_t armed;               /* its poll is in the kernel */
    uint8_t queued;              /* in the list of polls to arm */
    uint8_t multi;               /* armed multishot: waiting out a half-close (see uring_ops.c) */
} corio__uwatch;

typedef struct corio__uslot {
    corio__io_op *ops;             /* ops in the kernel on this fd, linked through op->next */
    corio__io_op *prd, *pwr;       /* the corio_wait_readable / _writable waiter (-EBUSY) */
    corio__uwatch *rcb, *wcb;
    uint8_t nowait;                /* directions whose read/write came back -EAGAIN (an
                                      O_NONBLOCK file io_uring does not poll for us) */
    uint8_t drained;               /* the last recv was short: the next one will likely wait */
} corio__uslot;

typedef struct corio__uring {
    struct io_uring ring;
    corio_loop *loop;
    corio__uslot *slots;
    size_t nslots;
    unsigned inflight;      /* ops in the kernel, and watchers */
    corio__uwatch *to_arm;  /* watchers whose poll the next wait submits */
    int wakefd;             /* an eventfd: any thread wakes the loop by writing to it */
    uint8_t wake_armed;     /* a read of wakefd is in the kernel */
    uint8_t disabled;       /* created IORING_SETUP_R_DISABLED: enabled by the first enter */
    uint8_t poll_first;     /* the kernel takes IORING_RECVSEND_POLL_FIRST (5.19) */
    uint8_t send_sqe;       /* sends go through the ring even when the socket has room */
    pid_t issuer;           /* the thread that enabled a single-issuer ring; 0: any */
    uint64_t wakebuf;
} corio__uring;

/* user_data of SQEs that are not ops: their CQE is ignored, or wakes the loop. Ops use their
 * address; watch polls their address with the low bit set. */
#define CORIO__UD_IGNORE 0ull
#define CORIO__UD_WAKE 2ull
#define CORIO__UD_WATCH 1ull

/* op->bstate */
enum {
    CORIO__U_KERNEL = 1,      /* its SQE is queued or in the kernel: the CQE holds a reference */
    CORIO__U_CANCEL_SENT = 2, /* an ASYNC_CANCEL for it is queued */
    CORIO__U_USER_CANCEL = 4, /* the awaiting task was cancelled */
    CORIO__U_TIMEDOUT = 8,    /* its deadline passed */
    CORIO__U_FORGOTTEN = 16   /* its fd went through corio_close */
};

static inline corio__uring *corio__uring_of(corio_loop *loop) { return loop->poller.impl; }

/* A free SQE, submitting what is queued first when the ring is full; NULL if even that fails. */
struct io_uring_sqe *corio__uring_sqe(corio__uring *s);
/* Submits what is queued and, with wait_nr, waits for that many CQEs, then handles every CQE
 * there is. Returns the CQEs handled or -errno (-EEXIST: not the ring's thread). */
int corio__uring_enter(corio__uring *s, unsigned wait_nr);

corio__uslot *corio__uring_slot(corio__uring *s, int fd);
static inline corio__uslot *corio__uring_slot_find(corio__uring *s, int fd) {
    return fd >= 0 && (size_t)fd < s->nslots ? &s->slots[fd] : NULL;
}

/* Counts an op or a poll in the kernel, and the loop's poller with it. */
static inline void corio__uring_track(corio__uring *s, int delta) {
    s->inflight += (unsigned)delta;
    s->loop->poller.nwatched = s->inflight;
}

/* Completion of an op / a watch poll (uring_ops.c); more: a multishot poll stays armed. */
void corio__uring_op_done(corio__uring *s, corio__io_op *op, int res, int more);
void corio__uring_watch_done(corio__uring *s, corio__uwatch *uw, int res, int more);
/* Before the loop polls: arms the watchers' polls (and frees removed ones waiting for that). */
void corio__uring_watch_flush(corio__uring *s);
/* Queues the ASYNC_CANCEL of an op in the kernel (once). */
void corio__uring_cancel_op(corio__uring *s, corio__io_op *op);
/* Loop close: lets go of every watcher and cancels everything in the kernel. */
void corio__uring_cancel_all(corio__uring *s);

#endif
