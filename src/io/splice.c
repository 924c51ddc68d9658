/* A relay from one socket to another that never copies the bytes through user space: splice(2)
 * moves them from the first socket into a pipe and from the pipe into the second, as Go's
 * io.Copy between two TCP connections does. Each splice is a non-blocking try, and the task
 * awaits readiness between tries, so the relay runs alike on either backend (io_uring's own
 * splice would hand a socket that has nothing to read to a kernel worker thread). */
#define _GNU_SOURCE /* splice */
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPLICE_FLAGS (SPLICE_F_NONBLOCK | SPLICE_F_MOVE)
/* The pipe's size: what one splice moves at most. */
#define PIPE_SIZE ((size_t)256 * 1024)

typedef struct relay {
    int in, out;
    int pipe[2];  /* [0] read end, [1] write end */
    size_t left;  /* bytes still to move (SIZE_MAX: until in ends) */
    size_t held;  /* bytes in the pipe: taken from in, not yet written to out */
    size_t moved; /* bytes written to out */
} relay;

/* One splice: bytes moved, or -errno (-EAGAIN when the fd it would wait for is not ready). */
static ssize_t splice_once(int from, int to, size_t len) {
    for (;;) {
        ssize_t n = splice(from, NULL, to, NULL, len, SPLICE_FLAGS);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

/* Fills the empty pipe from in: bytes taken, 0 at in's end of stream, or -errno. */
static ssize_t fill(relay *r) {
    for (;;) {
        ssize_t n = splice_once(r->in, r->pipe[1], r->left < PIPE_SIZE ? r->left : PIPE_SIZE);
        if (n != -EAGAIN)
            return n;
        int rc = corio_wait_readable(r->in, CORIO_FOREVER);
        if (rc < 0)
            return rc;
    }
}

/* Writes what the pipe holds to out until out would block: 0, -EAGAIN, or -errno. */
static ssize_t push(relay *r) {
    while (r->held) {
        ssize_t n = splice_once(r->pipe[0], r->out, r->held);
        if (n < 0)
            return n;
        r->held -= (size_t)n;
        r->moved += (size_t)n;
    }
    return 0;
}

/* Writes everything the pipe holds to out: 0 or -errno. A cancelled wait still lets out take
 * what it takes at once; the rest is dropped with the pipe. */
static ssize_t empty(relay *r) {
    for (;;) {
        ssize_t rc = push(r);
        if (rc != -EAGAIN)
            return rc;
        rc = corio_wait_writable(r->out, CORIO_FOREVER);
        if (rc < 0) {
            push(r);
            return rc;
        }
    }
}

static ssize_t run(relay *r, corio_task *t) {
    while (r->left) {
        ssize_t n = fill(r);
        if (n <= 0)
            return n;
        r->held = (size_t)n;
        if (r->left != SIZE_MAX)
            r->left -= (size_t)n;
        ssize_t rc = empty(r);
        if (rc < 0)
            return rc;
        /* Peers that are always ready must not keep every other task waiting. */
        rc = corio__task_spend(t);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int socket_check(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    return S_ISSOCK(st.st_mode) ? 0 : -ENOTSOCK;
}

ssize_t corio_sock_splice(int in, int out, size_t count, size_t *moved) {
    if (moved)
        *moved = 0;
    corio_loop *loop;
    int rc = corio__io_enter(in, &loop);
    if (rc < 0)
        return rc;
    if (out < 0)
        return -EBADF;
    /* Checked first: splice would find out's kind only after taking bytes from in. */
    if ((rc = socket_check(in)) < 0 || (rc = socket_check(out)) < 0)
        return rc;
    relay r = {.in = in, .out = out, .left = count ? count : SIZE_MAX};
    if (pipe2(r.pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -errno;
    /* A bigger pipe takes a third off the relay's CPU time (bench/splice_relay.c); where the
     * user's pipe allowance is spent the kernel refuses, and 64 KiB still works. */
    fcntl(r.pipe[1], F_SETPIPE_SZ, (int)PIPE_SIZE);
    ssize_t res = run(&r, corio__current_task());
    close(r.pipe[0]);
    close(r.pipe[1]);
    if (moved)
        *moved = r.moved;
    return res < 0 ? res : (ssize_t)r.moved;
}
