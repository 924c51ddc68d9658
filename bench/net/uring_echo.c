/* The ceiling of the completion model for the echo rows: a minimal single-threaded io_uring echo
 * server on liburing, with no library and no tasks in between. One multishot accept; per
 * connection one multishot recv into a ring of provided buffers (one SQE serves every message);
 * each message is written straight back with send(2) from the buffer it arrived in, and the buffer
 * goes back to the ring at once. Output the socket cannot take at once waits in a per-connection
 * queue sent by IORING_OP_SEND, in order. The ring is SINGLE_ISSUER | DEFER_TASKRUN where the
 * kernel has it (6.1+), else COOP_TASKRUN, else plain.
 *
 * With URING_ECHO_RING_SEND=1 in the environment, each echo goes out by IORING_OP_SEND straight
 * from the provided buffer instead of send(2), so no message costs a system call of its own: the
 * ring is entered once per batch of completions (about 12 round trips per io_uring_enter at
 * 100 connections x 64 B, by strace -c).
 *
 * With URING_ECHO_ONESHOT=1 instead, each connection has its own buffer and each recv is a
 * one-shot IORING_OP_RECV that arms its poll first (IORING_RECVSEND_POLL_FIRST), echoed by send(2):
 * the way corio's io_uring backend receives, so the difference to the multishot mode is what
 * arming a poll for every message costs the kernel.
 *
 * It answers one question for corio's io_uring backend: how far above the epoll floor can a
 * completion-based server get on this kernel at all?
 *
 * Usage: uring_echo [port]   (prints "port <n>" once listening; runs until killed) */
#define _GNU_SOURCE
#include "net_util.h"

#include <liburing.h>

/* The low two bits of user_data; the fd above them, and for BSEND the buffer and length higher. */
enum { NBUFS = 1024, ACCEPT = 0, RECV = 1, SEND = 2, BSEND = 3 };
static int ring_send; /* URING_ECHO_RING_SEND: echo by IORING_OP_SEND, not send(2) */
static int oneshot;   /* URING_ECHO_ONESHOT: a one-shot recv per message into the conn's in[] */

struct conn {
    char *out; /* bytes send(2) could not take yet, sent through the ring in order */
    size_t outlen, outcap;
    int sending; /* an IORING_OP_SEND of out[] is in flight */
    int closing; /* the peer is gone: close once that send completes */
    char *in;    /* URING_ECHO_ONESHOT only */
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static struct conn **conns;
static size_t nconns;

static struct io_uring_sqe *sqe_get(void)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (!sqe) { /* the submission queue is full: hand it to the kernel and go on */
        io_uring_submit(&ring);
        sqe = io_uring_get_sqe(&ring);
    }
    if (!sqe)
        NET_DIE("no SQE");
    return sqe;
}

static struct conn *conn_of(int fd);

static void arm(int fd, int what)
{
    struct io_uring_sqe *sqe = sqe_get();
    if (what == ACCEPT) {
        io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
    } else if (oneshot) {
        struct conn *c = conn_of(fd);
        if (!c->in && !(c->in = malloc(NET_BUF_SIZE)))
            NET_DIE("out of memory");
        io_uring_prep_recv(sqe, fd, c->in, NET_BUF_SIZE, 0);
        sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
    } else {
        io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = 0;
    }
    io_uring_sqe_set_data64(sqe, (uint64_t)fd << 2 | (uint64_t)what);
}

static void give_back(unsigned bid)
{
    io_uring_buf_ring_add(br, bufs + (size_t)bid * NET_BUF_SIZE, NET_BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(NBUFS), 0);
    io_uring_buf_ring_advance(br, 1);
}

static struct conn *conn_of(int fd)
{
    if ((size_t)fd >= nconns) {
        size_t n = nconns ? nconns : 1024;
        while (n <= (size_t)fd)
            n *= 2;
        conns = realloc(conns, n * sizeof *conns);
        if (!conns)
            NET_DIE("out of memory");
        memset(conns + nconns, 0, (n - nconns) * sizeof *conns);
        nconns = n;
    }
    if (!conns[fd] && !(conns[fd] = calloc(1, sizeof **conns)))
        NET_DIE("out of memory");
    return conns[fd];
}

static void conn_close(int fd)
{
    struct conn *c = conn_of(fd);
    if (c->sending) {
        c->closing = 1; /* the send's completion closes it */
        return;
    }
    free(c->out);
    free(c->in);
    free(c);
    conns[fd] = NULL;
    close(fd);
}

static void flush(int fd, struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_send(sqe, fd, c->out, c->outlen, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, (uint64_t)fd << 2 | SEND);
    c->sending = 1;
}

static void queue(int fd, struct conn *c, const char *p, size_t len)
{
    if (c->outlen + len > c->outcap) {
        c->outcap = (c->outlen + len) * 2;
        if (!(c->out = realloc(c->out, c->outcap)))
            NET_DIE("out of memory");
    }
    memcpy(c->out + c->outlen, p, len);
    c->outlen += len;
    if (!c->sending)
        flush(fd, c);
}

static void on_recv(int fd, struct io_uring_cqe *cqe)
{
    struct conn *c = conn_of(fd);
    if (cqe->res > 0) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        const char *p = oneshot ? c->in : bufs + (size_t)bid * NET_BUF_SIZE;
        size_t len = (size_t)cqe->res, done = 0;
        if (ring_send && !oneshot && c->outlen == 0 && !c->sending) {
            struct io_uring_sqe *sqe = sqe_get(); /* the buffer goes back when the send ends */
            io_uring_prep_send(sqe, fd, p, len, MSG_NOSIGNAL);
            io_uring_sqe_set_data64(sqe, (uint64_t)bid << 36 | (uint64_t)len << 20 |
                                             (uint64_t)fd << 2 | BSEND);
            c->sending = 1;
            if (!(cqe->flags & IORING_CQE_F_MORE))
                arm(fd, RECV);
            return;
        }
        if (c->outlen == 0 && !c->sending) {
            ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            done = n > 0 ? (size_t)n : 0;
            if (n < 0 && errno != EAGAIN) {
                if (!oneshot)
                    give_back(bid);
                return; /* the recv's end (EOF or an error) closes it */
            }
        }
        if (done < len)
            queue(fd, c, p + done, len - done);
        if (!oneshot)
            give_back(bid);
        if (!(cqe->flags & IORING_CQE_F_MORE))
            arm(fd, RECV); /* the kernel ended the multishot (e.g. it ran out of buffers) */
    } else if (cqe->res == -ENOBUFS) {
        arm(fd, RECV);
    } else if (!(cqe->flags & IORING_CQE_F_MORE)) {
        conn_close(fd); /* EOF or an error */
    }
}

static void on_send(int fd, struct io_uring_cqe *cqe)
{
    struct conn *c = conn_of(fd);
    c->sending = 0;
    if (cqe->res < 0 || c->closing) {
        c->outlen = 0;
        conn_close(fd);
        return;
    }
    memmove(c->out, c->out + cqe->res, c->outlen - (size_t)cqe->res);
    c->outlen -= (size_t)cqe->res;
    if (c->outlen)
        flush(fd, c);
}

/* An echo sent through the ring straight from its provided buffer has ended: the buffer goes back
 * to the ring, and what the socket did not take goes ahead of anything queued since. */
static void on_buf_send(int fd, uint64_t ud, struct io_uring_cqe *cqe)
{
    struct conn *c = conn_of(fd);
    const char *p = bufs + (size_t)(ud >> 36) * NET_BUF_SIZE;
    size_t len = (size_t)((ud >> 20) & 0xffff);
    if (cqe->res < 0 || (size_t)cqe->res == len) {
        give_back((unsigned)(ud >> 36));
        on_send(fd, &(struct io_uring_cqe){.res = cqe->res < 0 ? cqe->res : 0});
        return;
    }
    size_t rest = len - (size_t)cqe->res, old = c->outlen;
    if (old + rest > c->outcap) {
        c->outcap = (old + rest) * 2;
        if (!(c->out = realloc(c->out, c->outcap)))
            NET_DIE("out of memory");
    }
    memmove(c->out + rest, c->out, old);
    memcpy(c->out, p + cqe->res, rest);
    c->outlen = old + rest;
    give_back((unsigned)(ud >> 36));
    flush(fd, c);
}

static void setup(void)
{
    struct io_uring_params p = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
    if (io_uring_queue_init_params(4096, &ring, &p) < 0) {
        struct io_uring_params q = {.flags = IORING_SETUP_COOP_TASKRUN};
        if (io_uring_queue_init_params(4096, &ring, &q) < 0 &&
            io_uring_queue_init(4096, &ring, 0) < 0)
            NET_DIE("io_uring_queue_init failed");
    }
    if (posix_memalign((void **)&br, 4096, NBUFS * sizeof(struct io_uring_buf)) ||
        !(bufs = malloc((size_t)NBUFS * NET_BUF_SIZE)))
        NET_DIE("out of memory");
    io_uring_buf_ring_init(br);
    struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)br, .ring_entries = NBUFS, .bgid = 0};
    int rc = io_uring_register_buf_ring(&ring, &reg, 0);
    if (rc < 0)
        NET_DIE("io_uring_register_buf_ring: %s", strerror(-rc));
    for (unsigned i = 0; i < NBUFS; i++)
        give_back(i);
}

int main(int argc, char **argv)
{
    int lfd = net_listen(argc, argv);
    ring_send = getenv("URING_ECHO_RING_SEND") != NULL;
    oneshot = getenv("URING_ECHO_ONESHOT") != NULL;
    setup();
    arm(lfd, ACCEPT);
    for (;;) {
        int rc = io_uring_submit_and_wait(&ring, 1);
        if (rc < 0 && rc != -EINTR)
            NET_DIE("io_uring_submit_and_wait: %s", strerror(-rc));
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            uint64_t ud = io_uring_cqe_get_data64(cqe);
            int fd = (int)((ud >> 2) & 0x3ffff);
            seen++;
            if ((ud & 3) == ACCEPT) {
                if (cqe->res >= 0) {
                    net_nodelay(cqe->res);
                    arm(cqe->res, RECV);
                }
                if (!(cqe->flags & IORING_CQE_F_MORE))
                    arm(lfd, ACCEPT);
            } else if ((ud & 3) == RECV) {
                on_recv(fd, cqe);
            } else if ((ud & 3) == BSEND) {
                on_buf_send(fd, ud, cqe);
            } else {
                on_send(fd, cqe);
            }
        }
        io_uring_cq_advance(&ring, seen);
    }
}
