/* Internal: the I/O layer. Awaiting socket calls become requests that the loop's backend
 * carries out: epoll tries the system call and, when it would block, awaits readiness of the fd;
 * io_uring submits the operation and awaits its completion. */
#ifndef CORIO_IO_IO_H
#define CORIO_IO_IO_H

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
    CORIO__IO_CONNECT  /* connect(caddr, calen), then the outcome in SO_ERROR */
};

/* Readiness bits (the poll(2) values, so that they pass through unchanged). */
#define CORIO__IO_IN 0x001u
#define CORIO__IO_OUT 0x004u

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
} corio__io_req;

static inline uint32_t corio__io_dir(const corio__io_req *r) {
    switch (r->kind) {
    case CORIO__IO_POLL: return r->events;
    case CORIO__IO_SEND: case CORIO__IO_SENDMSG: case CORIO__IO_WRITE: case CORIO__IO_CONNECT:
        return CORIO__IO_OUT;
    default: return CORIO__IO_IN;
    }
}

/* Tries the request's system call once without blocking: the result, or -errno (-EAGAIN when it
 * would block; a connect in progress also gives -EAGAIN, see corio__io_connect_result). */
ssize_t corio__io_try(corio__io_req *r);
/* After a connect in progress became writable: 0 or the connection's error. */
int corio__io_connect_result(int fd);

/* An awaited I/O operation: a future bound to the loop, living in the loop's pool rather than in
 * the awaiting task's frame (a compact task's frame moves while it waits). It completes with a
 * result (revents, bytes, an fd) stored in `res`, or with an error. */
typedef struct corio__io_op {
    corio_future fut;
    corio__timer timer;        /* the request's deadline, when it has one */
    struct corio__io_op *next; /* backend's use (a list of ops on one fd) */
    int fd;
    uint32_t dir;
    uint32_t bstate;           /* backend's use (io_uring: where the op stands in the kernel) */
    int64_t res;
} corio__io_op;

extern const size_t corio__io_op_size;

/* A new pending op on fd, with a deadline timeout_ns from now (< 0: none). NULL on -ENOMEM. */
corio__io_op *corio__io_op_new(corio_loop *loop, int fd, uint32_t dir, int64_t timeout_ns);
/* Completes a pending op with res (>= 0) or an error (< 0; -ECANCELED cancels it). */
void corio__io_op_complete(corio__io_op *op, int64_t res);
/* Awaits the op (the caller's reference is kept): its result, or the error. */
int64_t corio__io_op_await(corio__io_op *op);

/* An add_reader / add_writer registration. */
typedef struct corio__io_watch {
    corio__work work;
    corio_loop *loop;
    corio_fd_callback_fn fn;
    void *arg;
    int fd;
    uint8_t queued, removed;
} corio__io_watch;

/* Schedules a watcher's callback (once per iteration at most). */
void corio__io_watch_fire(corio__io_watch *w);
/* Forgets a watcher: freed now, or when its queued call runs or is dropped. */
void corio__io_watch_release(corio__io_watch *w);

/* Grows a backend's per-fd table (*n entries of elem bytes) so that it holds index fd; the new
 * entries are zero. 0 or -ENOMEM (the table is unchanged). */
int corio__fdtable_grow(void **table, size_t *n, size_t elem, int fd);

/* A backend: what corio__poller and the socket calls need. */
typedef struct corio__backend {
    const char *name;
    int (*init)(corio__poller *p, corio_loop *loop);
    void (*fini)(corio__poller *p);
    int (*wait)(corio__poller *p, int64_t timeout_ns);
    int (*wake)(corio__poller *p);
    /* Carries out a request from a task: awaits and returns the call's result or -errno. */
    ssize_t (*submit)(corio_loop *loop, corio__io_req *r);
    /* An op's future is being cancelled (NULL: the plain cancel). Returns as future cancel. */
    int (*cancel)(corio__io_op *op, const char *msg);
    /* The op's last reference is going: unlink it from the backend. */
    void (*release)(corio__io_op *op);
    /* Wakes every task waiting on fd with -EBADF and forgets the fd (before it is closed). */
    void (*forget)(corio_loop *loop, int fd);
    /* add_reader / add_writer: installs (w != NULL) or removes (w == NULL) the watcher of one
     * direction; returns the watcher it replaced (or NULL), or sets *err. */
    corio__io_watch *(*watch)(corio_loop *loop, int fd, uint32_t dir, corio__io_watch *w,
                              int *err);
    /* Optional: makes the calling thread the one that may poll (see corio__poller_attach). */
    int (*attach)(corio__poller *p);
} corio__backend;

extern const corio__backend corio__backend_epoll;
#ifdef CORIO_HAVE_LIBURING
extern const corio__backend corio__backend_uring;
#endif

/* The running loop for an awaiting I/O call on fd: CORIO_ENOTASK outside a task, -EBADF for a
 * negative fd, -ECANCELED in a task being destroyed. */
int corio__io_enter(int fd, corio_loop **loop);

#endif
