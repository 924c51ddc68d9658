/* One non-blocking attempt at each request's system call: what the readiness backend retries
 * after each wake-up, and what io_uring falls back to. */
#define _GNU_SOURCE /* accept4 */
#include "io/io.h"

#include <errno.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

void corio__io_fd_new(corio_loop *loop, int fd, int kind) {
    corio__poller_set_fd_kind(corio__loop_poller(loop), fd, kind);
}

int corio__io_is_file(corio_loop *loop, int fd) {
    corio__poller *p = corio__loop_poller(loop);
    int kind = corio__poller_fd_kind(p, fd);
    if (kind == CORIO__FD_UNKNOWN) {
        struct stat st;
        if (fstat(fd, &st) != 0)
            return 0; /* not remembered: the call itself reports the bad fd */
        kind = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ? CORIO__FD_FILE : CORIO__FD_OTHER;
        corio__poller_set_fd_kind(p, fd, kind);
    }
    return kind == CORIO__FD_FILE;
}

static ssize_t attempt(corio__io_req *r) {
    switch (r->kind) {
    case CORIO__IO_RECV: return recv(r->fd, r->buf, r->len, r->flags | MSG_DONTWAIT);
    case CORIO__IO_SEND: return send(r->fd, r->buf, r->len, r->flags | MSG_DONTWAIT | MSG_NOSIGNAL);
    case CORIO__IO_RECVMSG: return recvmsg(r->fd, r->msg, r->flags | MSG_DONTWAIT);
    case CORIO__IO_SENDMSG:
        return sendmsg(r->fd, r->msg, r->flags | MSG_DONTWAIT | MSG_NOSIGNAL);
    case CORIO__IO_READ: return read(r->fd, r->buf, r->len);
    case CORIO__IO_WRITE: return write(r->fd, r->buf, r->len);
    case CORIO__IO_ACCEPT:
        return accept4(r->fd, r->addr, r->alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    case CORIO__IO_CONNECT:
        if (connect(r->fd, r->caddr, r->calen) == 0)
            return 0;
        /* In progress: the outcome is read from SO_ERROR once the socket is writable. An
         * interrupted connect goes on in the background too (retrying it would say EALREADY). */
        if (errno == EINPROGRESS || errno == EINTR) {
            r->kind = CORIO__IO_POLL;
            r->events = CORIO__IO_OUT;
            errno = EAGAIN;
        }
        return -1;
    default: { /* POLL: ask the kernel, so that an fd that is ready needs no registration */
        struct pollfd p = {.fd = r->fd, .events = (short)r->events};
        int n = poll(&p, 1, 0);
        if (n < 0)
            return -1;
        if (n == 0 || !(p.revents & (r->events | POLLERR | POLLHUP | POLLNVAL))) {
            errno = EAGAIN;
            return -1;
        }
        if (p.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        return p.revents;
    }
    }
}

ssize_t corio__io_try(corio__io_req *r) {
    for (;;) {
        ssize_t n = attempt(r);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

int corio__io_connect_result(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -errno;
    return -err;
}
