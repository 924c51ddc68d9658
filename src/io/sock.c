/* The public awaiting socket and fd calls: each builds a request for the strategy of the loop's
 * poller. */
#include "io/io.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

int corio__io_enter(int fd, corio_loop **loop) {
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (fd < 0)
        return -EBADF;
    if (corio__task_destroying(t))
        return -ECANCELED;
    *loop = corio__task_loop_of(t);
    return 0;
}

static int64_t timeout_ns(double seconds) {
    if (isnan(seconds) || seconds < 0)
        return -1;
    return corio__sec_to_ns(seconds);
}

static ssize_t submit(corio__io_req *r) {
    corio_loop *loop;
    int rc = corio__io_enter(r->fd, &loop);
    if (rc < 0)
        return rc;
    /* MSG_DONTWAIT asks for one try, not an await (a strategy would wait on its -EAGAIN). */
    if (r->flags & MSG_DONTWAIT)
        return corio__io_try(r);
    rc = corio__task_spend(corio__current_task());
    if (rc < 0)
        return rc;
    return corio__io_strategy_of(loop)->submit(loop, r);
}

int corio_socket(int domain, int type, int protocol) {
    int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    return fd < 0 ? -errno : fd;
}

int corio_sock_accept(int fd, struct sockaddr *addr, socklen_t *addrlen) {
    corio__io_req r = {.kind = CORIO__IO_ACCEPT, .fd = fd, .addr = addr, .alen = addrlen,
                       .timeout_ns = -1};
    if (addr && !addrlen)
        return -EFAULT; /* as accept(2) and corio_sock_recvfrom */
    int c = (int)submit(&r);
    if (c >= 0)
        corio__io_fd_new(corio__task_loop_of(corio__current_task()), c, CORIO__FD_OTHER);
    return c;
}

int corio_sock_connect(int fd, const struct sockaddr *addr, socklen_t addrlen, double timeout) {
    if (!addr || isnan(timeout))
        return -EINVAL;
    corio__io_req r = {.kind = CORIO__IO_CONNECT, .fd = fd, .caddr = addr, .calen = addrlen,
                       .timeout_ns = timeout_ns(timeout)};
    ssize_t rc = submit(&r);
    if (rc < 0)
        return (int)rc;
    return corio__io_connect_result(fd);
}

static ssize_t buf_call(int kind, int fd, void *buf, size_t len, int flags) {
    if (!buf && len)
        return -EFAULT;
    corio__io_req r = {.kind = kind, .fd = fd, .buf = buf, .len = len, .flags = flags,
                       .timeout_ns = -1};
    return submit(&r);
}

ssize_t corio_sock_recv(int fd, void *buf, size_t len, int flags) {
    return buf_call(CORIO__IO_RECV, fd, buf, len, flags);
}

ssize_t corio_sock_send(int fd, const void *buf, size_t len, int flags) {
    return buf_call(CORIO__IO_SEND, fd, (void *)buf, len, flags);
}

ssize_t corio_sock_sendall(int fd, const void *buf, size_t len, int flags) {
    if (!buf && len)
        return -EFAULT; /* as corio_sock_send */
    size_t done = 0;
    do {
        /* NULL + 0 is undefined: buf moves only once bytes went, so it is not NULL then. */
        const void *rest = done ? (const char *)buf + done : buf;
        ssize_t n = corio_sock_send(fd, rest, len - done, flags);
        if (n < 0)
            return n;
        done += (size_t)n;
    } while (done < len);
    return (ssize_t)len;
}

ssize_t corio__io_read(int fd, void *buf, size_t len) {
    return buf_call(CORIO__IO_READ, fd, buf, len, 0);
}

ssize_t corio__io_write(int fd, const void *buf, size_t len) {
    return buf_call(CORIO__IO_WRITE, fd, (void *)buf, len, 0);
}

ssize_t corio_sock_recvmsg(int fd, struct msghdr *msg, int flags) {
    if (!msg)
        return -EFAULT;
    corio__io_req r = {.kind = CORIO__IO_RECVMSG, .fd = fd, .msg = msg, .flags = flags,
                       .timeout_ns = -1};
    return submit(&r);
}

ssize_t corio_sock_sendmsg(int fd, const struct msghdr *msg, int flags) {
    if (!msg)
        return -EFAULT;
    corio__io_req r = {.kind = CORIO__IO_SENDMSG, .fd = fd, .msg = (struct msghdr *)msg,
                       .flags = flags, .timeout_ns = -1};
    return submit(&r);
}

ssize_t corio_sock_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                            socklen_t *addrlen) {
    if ((!buf && len) || (addr && !addrlen))
        return -EFAULT;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {.msg_name = addr, .msg_namelen = addr ? *addrlen : 0, .msg_iov = &iov,
                         .msg_iovlen = 1};
    ssize_t n = corio_sock_recvmsg(fd, &msg, flags);
    if (n >= 0 && addr)
        *addrlen = msg.msg_namelen;
    return n;
}

ssize_t corio_sock_sendto(int fd, const void *buf, size_t len, int flags,
                          const struct sockaddr *addr, socklen_t addrlen) {
    if (!buf && len)
        return -EFAULT;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {.msg_name = (void *)addr, .msg_namelen = addr ? addrlen : 0,
                         .msg_iov = &iov, .msg_iovlen = 1};
    return corio_sock_sendmsg(fd, &msg, flags);
}

int corio_sock_shutdown(int fd, int how) { return shutdown(fd, how) < 0 ? -errno : 0; }

static int wait_fd(int fd, uint32_t events, double timeout) {
    if (isnan(timeout))
        return -EINVAL;
    corio__io_req r = {.kind = CORIO__IO_POLL, .fd = fd, .events = events,
                       .timeout_ns = timeout_ns(timeout)};
    ssize_t rc = submit(&r);
    return rc < 0 ? (int)rc : 0;
}

int corio_wait_readable(int fd, double timeout) { return wait_fd(fd, CORIO__IO_IN, timeout); }
int corio_wait_writable(int fd, double timeout) { return wait_fd(fd, CORIO__IO_OUT, timeout); }

int corio_close(int fd) {
    if (fd < 0)
        return -EBADF;
    corio_loop *loop = corio__loop_resolve(NULL);
    if (loop && !corio__loop_closed(loop))
        corio__poller_forget(corio__loop_poller(loop), fd);
    return close(fd) < 0 ? -errno : 0;
}

const char *corio_loop_get_backend(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return loop ? corio__poller_name(corio__loop_poller(loop)) : NULL;
}

const corio__io_strategy *const corio__io_strategies[] = {
    [CORIO__POLLER_EPOLL] = &corio__io_epoll,
#ifdef CORIO_HAVE_LIBURING
    [CORIO__POLLER_URING] = &corio__io_uring,
#endif
};
