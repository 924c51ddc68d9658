/* The minimal epoll server under epoll_echo.c and epoll_http.c: the floor of the readiness model,
 * what a loop of corio's epoll backend cannot beat. One thread, level-triggered epoll, one
 * epoll_wait per turn; a readable connection is read once and answered at once with one write.
 * Only a write the kernel does not take whole is queued (the connection then waits for EPOLLOUT
 * and reads nothing until it is sent), so the usual turn is epoll_wait, read, write. Header only:
 * each .c in bench/net/ is its own program. */
#ifndef CORIO_BENCH_EPOLL_SERVER_H
#define CORIO_BENCH_EPOLL_SERVER_H

#include <sys/epoll.h>

#include "net_util.h"

/* Per connection, indexed by fd; allocated at accept. */
struct ep_conn {
    char *out;        /* bytes the kernel did not take yet */
    size_t off, len;  /* out[off, len) is still to send */
    size_t cap;
    size_t inlen;     /* bytes kept in `in` (the start of an HTTP request) */
    char in[NET_BUF_SIZE];
};

static int ep_fd = -1;
static struct ep_conn **ep_conns;
static size_t ep_nconns;

/* What a server does when fd is readable: read, then ep_send() the answer or ep_close(fd). */
typedef void (*ep_readable_fn)(int fd, struct ep_conn *c);

static void ep_close(int fd)
{
    struct ep_conn *c = ep_conns[fd];
    free(c->out);
    free(c);
    ep_conns[fd] = NULL;
    close(fd); /* also removes it from the epoll set */
}

static void ep_watch(int fd, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(ep_fd, op, fd, &ev) < 0)
        NET_DIE("epoll_ctl: %s", strerror(errno));
}

/* Sends out[off, len); 1 when all is sent, 0 when the kernel is full, -1 on error. */
static int ep_flush(int fd, struct ep_conn *c)
{
    while (c->off < c->len) {
        ssize_t n = write(fd, c->out + c->off, c->len - c->off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->off += (size_t)n;
    }
    c->off = c->len = 0;
    return 1;
}

/* Sends buf (or queues what the kernel does not take, and waits for EPOLLOUT). */
static void ep_send(int fd, struct ep_conn *c, const char *buf, size_t len)
{
    ssize_t n = write(fd, buf, len);
    if (n == (ssize_t)len)
        return;
    if (n < 0 && errno != EAGAIN) {
        ep_close(fd);
        return;
    }
    size_t sent = n < 0 ? 0 : (size_t)n;
    if (c->cap < len - sent) {
        free(c->out);
        c->cap = len - sent;
        if (!(c->out = malloc(c->cap)))
            NET_DIE("out of memory");
    }
    memcpy(c->out, buf + sent, len - sent);
    c->off = 0;
    c->len = len - sent;
    ep_watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
}

static void ep_accept_all(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == ECONNABORTED || errno == EINTR)
                return;
            NET_DIE("accept4: %s", strerror(errno));
        }
        if ((size_t)fd >= ep_nconns) {
            size_t n = (size_t)fd * 2 + 64;
            if (!(ep_conns = realloc(ep_conns, n * sizeof *ep_conns)))
                NET_DIE("out of memory");
            memset(ep_conns + ep_nconns, 0, (n - ep_nconns) * sizeof *ep_conns);
            ep_nconns = n;
        }
        struct ep_conn *c = malloc(sizeof *c); /* in[] untouched: echo does not use it */
        if (!c)
            NET_DIE("out of memory");
        c->out = NULL;
        c->off = c->len = c->cap = c->inlen = 0;
        ep_conns[fd] = c;
        net_nodelay(fd);
        ep_watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    }
}

/* Serves forever on the listening socket lfd. */
static void ep_serve(int lfd, ep_readable_fn on_readable)
{
    if ((ep_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        NET_DIE("epoll_create1: %s", strerror(errno));
    ep_watch(lfd, EPOLLIN, EPOLL_CTL_ADD);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep_fd, evs, 256, -1);
        if (n < 0 && errno != EINTR)
            NET_DIE("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            struct ep_conn *c;
            if (fd == lfd) {
                ep_accept_all(lfd);
            } else if (!(c = ep_conns[fd])) {
                continue; /* closed earlier in this batch */
            } else if (evs[i].events & EPOLLOUT) {
                int rc = ep_flush(fd, c);
                if (rc < 0)
                    ep_close(fd);
                else if (rc > 0)
                    ep_watch(fd, EPOLLIN, EPOLL_CTL_MOD);
            } else {
                on_readable(fd, c);
            }
        }
    }
}

#endif
