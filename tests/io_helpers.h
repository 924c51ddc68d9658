/* Helpers for the I/O tests (tests/test_io_*.c, tests/test_stream_*.c).
 *
 * ctest runs each of these files once per backend (CORIO_BACKEND=epoll, then io_uring), so the
 * tests themselves never name a backend unless that is what they test. Every test checks that it
 * leaves no fd open: FD_CHECK_BEGIN() counts /proc/self/fd, FD_CHECK_END() asserts the count.
 */
#ifndef CORIO_TESTS_IO_HELPERS_H
#define CORIO_TESTS_IO_HELPERS_H

#include "core_helpers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static inline int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

/* In a task (which must not longjmp: cr_expect only): a new task running fn(arg) on the running
 * loop, with opts (may be NULL). A failure to create it is reported with its reason. */
static inline corio_task *spawn_opts(corio_coro_fn fn, void *arg, const corio_task_opts *opts)
{
    corio_task *t;
    int rc = corio_create_task(&t, NULL, fn, arg, opts);
    cr_expect_eq(rc, 0, "corio_create_task: %s", corio_strerror(rc));
    return t;
}

static inline corio_task *spawn(corio_coro_fn fn, void *arg) { return spawn_opts(fn, arg, NULL); }

#define FD_CHECK_BEGIN() int fd_check_start_ = fd_count()
#define FD_CHECK_END()                                                                             \
    cr_assert_eq(fd_count(), fd_check_start_, "fds open: %d at the start, %d at the end",          \
                 fd_check_start_, fd_count())

/* 127.0.0.1 (or ::1 with v6), port 0. */
static inline void loopback_addr(int v6, struct sockaddr_storage *addr, socklen_t *alen)
{
    memset(addr, 0, sizeof *addr);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)addr;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        *alen = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)addr;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *alen = sizeof *a;
    }
}

/* A listening TCP socket on 127.0.0.1 (or ::1 with v6), non-blocking, on an ephemeral port. */
static inline int tcp_listener(int v6, struct sockaddr_storage *addr, socklen_t *alen)
{
    int fd = corio_socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    loopback_addr(v6, addr, alen);
    cr_assert_eq(bind(fd, (struct sockaddr *)addr, *alen), 0, "bind: %s", strerror(errno));
    cr_assert_eq(listen(fd, 128), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)addr, alen), 0);
    return fd;
}

#endif
