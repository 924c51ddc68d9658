/* Internal: the epoll poller's calls for the request layer (io/epoll.c), which tries each system
 * call and, when it would block, waits for the fd's readiness through a waiter record. */
#ifndef CORIO_POLL_EPOLL_H
#define CORIO_POLL_EPOLL_H

#include "poll/poller.h"

/* Whether fd is registered and known not to be ready in direction dir (a short read of a stream
 * drained it): a call should wait for the edge rather than try a system call that would fail. */
int corio__epoll_drained(corio__poller *p, int fd, uint32_t dir);

/* Whether fd is registered (it was waited for since it was last forgotten): a socket, a pipe,
 * anything but a file. */
int corio__epoll_registered(corio__poller *p, int fd);

/* Registers w as the waiter of w->fd in direction w->dir (one per direction): w->fn(w, revents,
 * 1) once fd is ready that way, or w->fn(w, -EBADF, 1) when it is forgotten. Returns 0, -EBUSY
 * (another waiter there), -ENOMEM, -EPERM (a file that cannot be polled: it is always ready, w is
 * not registered) or another -errno from epoll_ctl. */
int corio__epoll_wait_start(corio__poller *p, corio__poll_rec *w);
/* Takes w back if it is still waiting (a timeout, a cancellation), and stops watching fd for it
 * where a watcher made the registration level-triggered. Harmless after w was called. */
void corio__epoll_wait_stop(corio__poller *p, corio__poll_rec *w);

/* A read of fd returned less than it asked for: if fd is a registered stream socket that has not
 * ended, it is drained until its next edge. */
void corio__epoll_read_short(corio__poller *p, int fd);

/* fd was just made by the kernel (accept): a registration left under its number by an fd closed
 * with close(2) rather than corio_close is forgotten. */
void corio__epoll_fd_new(corio__poller *p, int fd);

#endif
