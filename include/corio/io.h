/* corio I/O: awaitable socket and fd calls on the loop's backend (epoll or io_uring).
 *
 * Included by <corio.h>; docs/conventions.md holds. In particular every call documented
 * "awaits" suspends only the calling task, may be called only from a task (CORIO_ENOTASK
 * elsewhere), and returns -ECANCELED when the task is cancelled while it waits. A cancelled call
 * has had no effect on the fd beyond what it reports: on epoll it never started; on io_uring the
 * kernel's operation is cancelled and awaited before the call returns, and if it completed first
 * (bytes received, a connection accepted) the call returns that result and the cancellation is
 * delivered at the task's next await instead, so nothing is lost.
 *
 * Fairness: a call whose fd is ready completes without suspending, so a task whose peer always
 * has bytes ready could run on and keep every other task waiting. Each task has a budget of 128
 * such calls (stream reads included) from the time it resumes; once it is spent, the next call
 * yields once before it starts (as Tokio's cooperative budget). A task cancelled in that yield
 * gets -ECANCELED with nothing done.
 *
 * fds: give these calls non-blocking fds (corio_socket and corio_sock_accept make them so); a
 * blocking fd works but may block the whole loop. An fd used with these calls must be closed
 * with corio_close(), which wakes the tasks waiting on it (with -EBADF) and forgets the fd's
 * registration, so that a new fd with the same number starts clean. An fd closed with plain
 * close(2) instead leaves its registration behind on the epoll backend (the kernel drops its own
 * side silently, and checking for that would cost a system call per wait): a socket that
 * corio_sock_accept returns with the same number starts clean, and so does any new fd with that
 * number given to corio_loop_add_reader / add_writer, but a task awaiting another new fd with
 * that number (from socket(2), pipe(2), ...) may never wake. The loop also remembers whether an
 * fd is a file (corio_read on a file runs as corio_pread at the position, <corio/fs.h>): a new
 * fd from socket(2) or pipe(2) that takes the number of a file closed with close(2) would be
 * read on a thread, and one that takes a pipe's number, if it is a file, on the loop's thread.
 *
 * One waiter per direction: at most one task at a time should await an fd for reading (recv,
 * recvmsg, recvfrom, read, accept, wait_readable) and one for writing (send, sendall, sendmsg,
 * sendto, write, connect, wait_writable). Another task's call in the same direction while one
 * waits may fail at once with -EBUSY (it does on epoll; corio_wait_* always do).
 *
 * SIGPIPE: sends use MSG_NOSIGNAL, and creating a loop sets SIGPIPE to be ignored if it still had
 * the default action (as Python and Go do), so a peer that goes away gives -EPIPE, never a
 * killed process.
 */
#ifndef CORIO_IO_H
#define CORIO_IO_H

#include <sys/socket.h>
#include <sys/types.h>

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The name of the loop's I/O backend: "epoll" or "io_uring" (NULL without a loop). */
const char *corio_loop_get_backend(const corio_loop *loop);

/* socket(2) with SOCK_NONBLOCK and SOCK_CLOEXEC added. Returns the fd or -errno. ANY THREAD. */
int corio_socket(int domain, int type, int protocol);

/* Awaits a connection on the listening socket fd and returns the new socket (non-blocking,
 * close-on-exec), its peer address in addr/addrlen when given. -errno on failure (e.g. -EMFILE:
 * the listening socket stays usable; -EFAULT: addr without addrlen). */
int corio_sock_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);

/* Awaits connecting fd to addr, for at most `timeout` seconds (CORIO_FOREVER: no limit). Returns 0,
 * the connection's error (-ECONNREFUSED, -ENETUNREACH, ...), or -ETIMEDOUT; after an error or
 * timeout the socket should be closed. -EINVAL for a NULL addr or a NaN timeout. */
int corio_sock_connect(int fd, const struct sockaddr *addr, socklen_t addrlen, double timeout);

/* flags, here and below, are those of the system call; MSG_DONTWAIT makes the call try once
 * and return -EAGAIN instead of awaiting when it would block. */
/* Awaits at least one byte (or EOF, or a datagram) and returns the count (0: EOF) or -errno. */
ssize_t corio_sock_recv(int fd, void *buf, size_t len, int flags);
/* Awaits room for at least one byte and returns how many were sent, or -errno (-EPIPE,
 * -ECONNRESET when the peer went away). */
ssize_t corio_sock_send(int fd, const void *buf, size_t len, int flags);
/* Awaits until all len bytes are sent (asyncio's sock_sendall). Returns len, or -errno; on an
 * error (-ECANCELED included: only the send waiting when the cancel came is undone) the number of
 * bytes already sent is unknown to the caller (the stream is broken). */
ssize_t corio_sock_sendall(int fd, const void *buf, size_t len, int flags);
/* recvmsg(2) / sendmsg(2), awaiting as recv / send. The msghdr and its buffers must stay valid
 * until the call returns (they may be on the task's stack). */
ssize_t corio_sock_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t corio_sock_sendmsg(int fd, const struct msghdr *msg, int flags);
/* recvfrom(2) / sendto(2) for datagram sockets, awaiting as recv / send. */
ssize_t corio_sock_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                            socklen_t *addrlen);
ssize_t corio_sock_sendto(int fd, const void *buf, size_t len, int flags,
                          const struct sockaddr *addr, socklen_t addrlen);

/* Awaits moving bytes from socket `in` to socket `out` (a proxy's relay) with splice(2), through
 * a pipe of its own, so that they never pass through user space: `count` of them, or with count
 * 0 until in reaches its end of stream (then out is left open: shut it down to pass the end on).
 * Returns the bytes moved: count, or fewer when in ends first. Both must be non-blocking stream
 * sockets (TCP or Unix); it reads from in and writes to out as recv and send do, so it is the one
 * reading task of in and the one writing task of out while it runs.
 *
 * `moved` (may be NULL) is set on every return to the bytes written to out. On an error or a
 * cancellation some bytes may have left in without reaching out: those that out does not take
 * at once are dropped (at most the pipe's 256 KiB), so the two streams are out of step and a
 * proxy closes both. Errors: -errno of either side (-ECONNRESET, -EPIPE, -EINVAL for a socket
 * that splice cannot serve, -EMFILE for want of the pipe's two fds), -ENOTSOCK for an fd that is
 * not a socket (checked before anything is read), -EBADF, CORIO_ENOTASK, -ECANCELED. */
ssize_t corio_sock_splice(int in, int out, size_t count, size_t *moved);

/* shutdown(2): does not await. 0 or -errno. */
int corio_sock_shutdown(int fd, int how);

/* read(2) / write(2) on any non-blocking fd that can be polled (pipes, terminals, eventfds,
 * sockets), awaiting as recv / send. A regular file or block device is read or written at its
 * position without blocking the loop, as corio_pread / corio_pwrite do (<corio/fs.h>): an fd the
 * loop has not waited for yet costs an fstat to tell (so an fd closed with close(2) whose number
 * comes back as a file is the hazard described above). */
ssize_t corio_read(int fd, void *buf, size_t len);
ssize_t corio_write(int fd, const void *buf, size_t len);

/* Awaits until fd is readable (or at EOF / in error) / writable, for at most `timeout` seconds
 * (CORIO_FOREVER: no limit; 0: only if it is ready now). Returns 0, -ETIMEDOUT, -EBADF (fd closed with corio_close meanwhile, or
 * invalid), -EBUSY if another task already waits on the same fd in the same direction. */
int corio_wait_readable(int fd, double timeout);
int corio_wait_writable(int fd, double timeout);

/* Wakes every task waiting on fd (their calls return -EBADF), removes its reader and writer
 * callbacks, forgets it and closes it. Does not await; works outside tasks too (on the thread's
 * running or current loop; with none, it is close(2)). Returns 0 or -errno from close(2). The one
 * function here that takes no loop and works without one. */
int corio_close(int fd);

/* asyncio's add_reader / add_writer: fn(fd, arg) is scheduled on the loop each iteration while
 * fd is readable / writable, until removed. One reader and one writer per fd: adding replaces
 * the previous one. Returns 0, -EBADF, -EPERM (an fd that cannot be polled, such as a regular
 * file), -EINVAL (NULL fn), -ENOMEM, CORIO_ECLOSED, CORIO_ENOLOOP. */
typedef void (*corio_fd_callback_fn)(int fd, void *arg);
int corio_loop_add_reader(corio_loop *loop, int fd, corio_fd_callback_fn fn, void *arg);
int corio_loop_add_writer(corio_loop *loop, int fd, corio_fd_callback_fn fn, void *arg);
/* Removes the callback; returns 1 if there was one, 0 if not, CORIO_ENOLOOP. */
int corio_loop_remove_reader(corio_loop *loop, int fd);
int corio_loop_remove_writer(corio_loop *loop, int fd);

#ifdef __cplusplus
}
#endif
#endif
