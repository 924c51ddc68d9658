/* Internal: the I/O request layer, above tasks and on the loop's poller (src/poll). Awaiting
 * socket calls become requests that a strategy for the poller's backend carries out: on epoll,
 * try the system call and, when it would block, await the fd's readiness (io/epoll.c); on
 * io_uring, submit the operation and await its completion (io/uring.c). Everything that suspends
 * a task or decides what a cancelled call returns is here, not in the poller. */
#ifndef CORIO_IO_IO_H
#define CORIO_IO_IO_H

#include "poll/poller.h"
#include "task/task.h"

#include <sys/socket.h>
#include <sys/types.h>

/* What a request does; its direction (in or out) decides which readiness it waits for. */
enum {
    CORIO__IO_POLL,    /* wait for `events` only */
    CORIO__IO_RECV,    /* recv(buf, len, flags) */
    CORIO__IO_SEND,    /* send(buf, len, flags | MSG_NOSIGNAL) */
    CORIO__IO_RECVMSG, /* recvmsg(msg, flags) */
    CORIO__IO_SENDMSG, /* sendmsg(msg, flags | MSG_NOSIGNAL) */
    CORIO__IO_READ,    /* read(buf, len) */
    CORIO__IO_WRITE,   /* write(buf, len) */
    CORIO__IO_ACCEPT,  /* accept4(addr, alen, SOCK_NONBLOCK | SOCK_CLOEXEC) */
    CORIO__IO_CONNECT, /* connect(caddr, calen), then the outcome in SO_ERROR */
    CORIO__IO_FILE     /* a file operation (`file`), on io_uring only: corio__io_file_submit */
};

/* File operations the io_uring backend carries out itself (the fs layer runs the others, and
 * all of them on epoll, on the executor). */
enum {
    CORIO__FOP_READ,      /* read(fd, buf, len) at off (-1: the file position) */
    CORIO__FOP_WRITE,     /* write(fd, buf, len) at off */
    CORIO__FOP_READV,     /* readv(fd, iov, iovcnt) at off */
    CORIO__FOP_WRITEV,    /* writev(fd, iov, iovcnt) at off */
    CORIO__FOP_FSYNC,     /* fsync(fd); flags IORING_FSYNC_DATASYNC: fdatasync */
    CORIO__FOP_OPENAT,    /* openat(fd, path, flags, mode) */
    CORIO__FOP_STATX,     /* statx(fd, path, flags, mode as the mask, out) */
    CORIO__FOP_FALLOCATE, /* fallocate(fd, mode, off, len) */
    CORIO__FOP_RENAMEAT,  /* renameat2(fd, path, fd2, path2, flags) */
    CORIO__FOP_UNLINKAT,  /* unlinkat(fd, path, flags) */
    CORIO__FOP_MKDIRAT,   /* mkdirat(fd, path, mode) */
    CORIO__FOP_SYMLINKAT, /* symlinkat(path, fd, path2) */
    CORIO__FOP_COUNT
};

typedef struct corio__io_file {
    int op;                  /* CORIO__FOP_* */
    int fd;                  /* the file, or the directory of a path (AT_FDCWD) */
    int fd2;                 /* renameat's new directory */
    int flags;
    unsigned mode;           /* a new file's or directory's mode, fallocate's mode, statx's mask */
    int iovcnt;
    void *buf;               /* read, write; statx's struct statx */
    size_t len;
    const struct iovec *iov;
    int64_t off;
    const char *path, *path2;
} corio__io_file;

/* Readiness bits: the poller's (the poll(2) values). */
#define CORIO__IO_IN CORIO__POLL_IN
#define CORIO__IO_OUT CORIO__POLL_OUT

typedef struct corio__io_req {
    int kind;
    int fd;
    void *buf;
    size_t len;
    int flags;
    uint32_t events;          /* CORIO__IO_POLL */
    struct msghdr *msg;
    struct sockaddr *addr;    /* accept */
    socklen_t *alen;
    const struct sockaddr *caddr; /* connect */
    socklen_t calen;
    int64_t timeout_ns;       /* < 0: none */
    const struct corio__io_file *file; /* CORIO__IO_FILE */
} corio__io_req;

static inline uint32_t corio__io_dir(const corio__io_req *r) {
    switch (r->kind) {
    case CORIO__IO_POLL: return r->events;
    case CORIO__IO_SEND: case CORIO__IO_SENDMSG: case CORIO__IO_WRITE: case CORIO__IO_CONNECT:
        return CORIO__IO_OUT;
    case CORIO__IO_FILE:
        return r->file->op == CORIO__FOP_WRITE || r->file->op == CORIO__FOP_WRITEV
                   ? CORIO__IO_OUT : CORIO__IO_IN;
    default: return CORIO__IO_IN;
    }
}

/* Tries the request's system call once without blocking: the result, or -errno (-EAGAIN when it
 * would block; a connect in progress also gives -EAGAIN, see corio__io_connect_result). */
ssize_t corio__io_try(corio__io_req *r);
/* After a connect in progress became writable: 0 or the connection's error. */
int corio__io_connect_result(int fd);

/* An awaited I/O operation: a future bound to the loop, living in the loop's pool rather than in
 * the awaiting task's frame (a compact task's frame moves while it waits), and the record the
 * poller calls. It completes with a result (revents, bytes, an fd) stored in `res`, or with an
 * error. */
typedef struct corio__io_op {
    corio_future fut;
    corio__timer timer;  /* the request's deadline, when it has one */
    corio__poll_rec rec; /* fd, direction; fn: the strategy's completion */
    uint32_t why;        /* the strategy's (io_uring: why it asked the kernel to cancel) */
    int64_t res;
} corio__io_op;

/* Ops are futures of the I/O layer's own kind. */
#define CORIO__FUT_IO CORIO__FUT_UPPER
extern const corio__future_ops corio__io_ops;

/* ---- the I/O layer's part of the loop (io/op.c) ---- */

/* The op pool and the op future kind. */
void corio__io_loop_init(corio_loop *loop);
/* Nothing to take down at close: ops are futures, gone with the tasks that awaited them, and
 * their pool goes with the loop's memory. */
static inline void corio__io_loop_term(corio_loop *loop) { (void)loop; }

/* A new pending op on fd that the poller completes through fn, with a deadline timeout_ns from
 * now (< 0: none). NULL on -ENOMEM. */
corio__io_op *corio__io_op_new(corio_loop *loop, int fd, uint32_t dir, int64_t timeout_ns,
                               corio__poll_fn fn);
/* Completes a pending op with res (>= 0) or an error (< 0; -ECANCELED cancels it). */
void corio__io_op_complete(corio__io_op *op, int64_t res);
/* Awaits the op (the caller's reference is kept): its result, or the error. */
int64_t corio__io_op_await(corio__io_op *op);

/* How requests are carried out on one kind of poller. */
typedef struct corio__io_strategy {
    /* Carries out a request from a task: awaits and returns the call's result or -errno. */
    ssize_t (*submit)(corio_loop *loop, corio__io_req *r);
    /* An op's future is being cancelled, or its deadline passed (then op->res is -ETIMEDOUT;
     * msg NULL). NULL: the plain cancel, and a deadline completes the op with -ETIMEDOUT.
     * Returns as a future's cancel does. */
    int (*cancel)(corio__io_op *op, const char *msg);
} corio__io_strategy;

extern const corio__io_strategy corio__io_epoll;
#ifdef CORIO_HAVE_LIBURING
extern const corio__io_strategy corio__io_uring;
#endif

/* The strategy for the loop's poller, indexed by its kind (CORIO__POLLER_*). */
extern const corio__io_strategy *const corio__io_strategies[];
static inline const corio__io_strategy *corio__io_strategy_of(const corio_loop *loop) {
    return corio__io_strategies[corio__loop_poller(loop)->kind];
}

/* corio_read / corio_write on an fd that can be polled (the fs layer's calls of that name use
 * them). A regular file or block device, which readiness cannot wait for, is never read or written
 * here where that could block the loop: CORIO__IO_EFILE says so, nothing done, and the caller
 * takes it to a thread. (On io_uring the kernel reads and writes files itself, except for compact
 * tasks.) Telling a file costs an fstat, made only for an fd the poller has not registered yet. */
ssize_t corio__io_read(int fd, void *buf, size_t len);
ssize_t corio__io_write(int fd, const void *buf, size_t len);
#define CORIO__IO_EFILE ((ssize_t)-0x10000000)
/* Whether fd is a regular file or a block device (which readiness cannot wait for, and which
 * has positions): asked with fstat once, then remembered until the fd is forgotten
 * (corio_close). */
int corio__io_is_file(corio_loop *loop, int fd);
/* fd was just made (accept, open): what it is, CORIO__FD_*, or CORIO__FD_UNKNOWN to be asked. */
void corio__io_fd_new(corio_loop *loop, int fd, int kind);

/* Whether the loop's backend carries out file operation `op` itself (io_uring, when the kernel
 * has the opcode). */
int corio__io_file_native(corio_loop *loop, int op);
/* Awaits the file operation on the loop's backend, which must carry it out itself (see above):
 * its result (bytes, an fd, 0) or -errno. Cancellation as for the socket calls: an operation the
 * kernel finished first gives its result, and the cancellation comes at the task's next await.
 * Not for compact tasks (the kernel would hold pointers into a frame that moves). */
ssize_t corio__io_file_submit(corio_loop *loop, const corio__io_file *f);

#ifdef CORIO_HAVE_LIBURING
struct io_uring_sqe;
/* Fills in the SQE of a file operation (io/uring_file.c) / its opcode. */
void corio__uring_prep_file(struct io_uring_sqe *sqe, const corio__io_file *f);
int corio__uring_file_opcode(int op);
#endif

/* The running loop for an awaiting I/O call on fd: CORIO_ENOTASK outside a task, -EBADF for a
 * negative fd, -ECANCELED in a task being destroyed. */
int corio__io_enter(int fd, corio_loop **loop);

#endif
