/* Bad input to the I/O calls gets a clear error code, never a crash, a hang or a leak: fd -1, a
 * closed fd, a non-socket fd, NULL buffers and addresses, calls outside a task, wrong socket
 * states; and the backend's choice: a bad name in corio_loop_opts or CORIO_BACKEND is -EINVAL,
 * corio_loop_get_backend names the backend (of the running, else the current loop for NULL;
 * NULL without a loop). */
#define _GNU_SOURCE /* pipe2 */
#include "io_call_helpers.h"

/* Every awaiting call on fd with sane arguments; returns how many gave `want`, and reports the
 * others. */
static int all_calls(int fd, int want)
{
    char buf[16] = {0};
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    long rc[] = {
        corio_sock_recv(fd, buf, sizeof buf, 0),
        corio_sock_send(fd, buf, sizeof buf, 0),
        corio_sock_sendall(fd, buf, sizeof buf, 0),
        corio_sock_recvmsg(fd, &m, 0),
        corio_sock_sendmsg(fd, &m, 0),
        corio_sock_recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen),
        corio_sock_sendto(fd, buf, sizeof buf, 0, (struct sockaddr *)&to, sizeof to),
        corio_sock_accept(fd, NULL, NULL),
        corio_sock_connect(fd, (struct sockaddr *)&to, sizeof to, 1.0),
        corio_read(fd, buf, sizeof buf),
        corio_write(fd, buf, sizeof buf),
        corio_wait_readable(fd, 1.0),
        corio_wait_writable(fd, 1.0),
    };
    static const char *names[] = {"recv", "send", "sendall", "recvmsg", "sendmsg", "recvfrom",
                                  "sendto", "accept", "connect", "read", "write",
                                  "wait_readable", "wait_writable"};
    int ok = 0;
    for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++) {
        cr_expect_eq(rc[i], want, "%s(%d): %s, want %s", names[i], fd, corio_err_name((int)rc[i]),
                     corio_err_name(want));
        ok += rc[i] == want;
    }
    return ok;
}

#define NCALLS 13

/* ---- bad fds ---- */

static void *bad_fd_main(void *arg)
{
    (void)arg;
    cr_expect_eq(all_calls(-1, -EBADF), NCALLS);
    int p[2];
    cr_expect_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    corio_close(p[0]);
    corio_close(p[1]);
    cr_expect_eq(all_calls(p[0], -EBADF), NCALLS, "a closed fd");
    cr_expect_eq(all_calls(1 << 20, -EBADF), NCALLS, "an fd beyond any table");
    cr_expect_eq(corio_sock_shutdown(-1, SHUT_RDWR), -EBADF);
    return NULL;
}

Test(io_errors, invalid_and_closed_fds_are_ebadf, .timeout = 10)
{
    FD_CHECK_BEGIN();
    cr_assert_eq(corio_run(bad_fd_main, NULL, NULL, NULL), 0);
    FD_CHECK_END();
}

static void *not_socket_main(void *arg)
{
    int *p = arg;
    char buf[8] = {0};
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_expect_eq(corio_sock_recv(p[0], buf, sizeof buf, 0), -ENOTSOCK);
    cr_expect_eq(corio_sock_send(p[1], buf, sizeof buf, 0), -ENOTSOCK);
    cr_expect_eq(corio_sock_recvmsg(p[0], &m, 0), -ENOTSOCK);
    cr_expect_eq(corio_sock_sendmsg(p[1], &m, 0), -ENOTSOCK);
    cr_expect_eq(corio_sock_recvfrom(p[0], buf, sizeof buf, 0, NULL, NULL), -ENOTSOCK);
    cr_expect_eq(corio_sock_accept(p[0], NULL, NULL), -ENOTSOCK);
    cr_expect_eq(corio_sock_connect(p[1], (struct sockaddr *)&to, sizeof to, 1.0), -ENOTSOCK);
    cr_expect_eq(corio_sock_shutdown(p[0], SHUT_RD), -ENOTSOCK);
    /* The pipe still works afterwards. */
    cr_expect_eq(corio_write(p[1], "ok", 2), 2);
    cr_expect_eq(corio_read(p[0], buf, sizeof buf), 2);
    return NULL;
}

Test(io_errors, socket_calls_on_a_pipe_are_enotsock, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    run_with_pair(not_socket_main, p);
    FD_CHECK_END();
}

/* ---- NULL pointers and bad arguments ---- */

static void *null_main(void *arg)
{
    int *fds = arg;
    int fd = fds[0];
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    cr_expect_eq(corio_sock_recv(fd, NULL, 10, 0), -EFAULT);
    cr_expect_eq(corio_sock_send(fd, NULL, 10, 0), -EFAULT);
    cr_expect_eq(corio_sock_sendall(fd, NULL, 10, 0), -EFAULT);
    cr_expect_eq(corio_sock_recvfrom(fd, NULL, 10, 0, NULL, NULL), -EFAULT);
    cr_expect_eq(corio_sock_sendto(fd, NULL, 10, 0, NULL, 0), -EFAULT);
    cr_expect_eq(corio_sock_recvmsg(fd, NULL, 0), -EFAULT);
    cr_expect_eq(corio_sock_sendmsg(fd, NULL, 0), -EFAULT);
    cr_expect_eq(corio_read(fd, NULL, 10), -EFAULT);
    cr_expect_eq(corio_write(fd, NULL, 10), -EFAULT);
    cr_expect_eq(corio_sock_recvfrom(fd, (char[4]){0}, 4, 0, (struct sockaddr *)&ss, NULL),
                 -EFAULT, "an address without its length");
    cr_expect_eq(corio_sock_accept(fd, (struct sockaddr *)&ss, NULL), -EFAULT,
                 "an address without its length");
    cr_expect_eq(corio_sock_connect(fd, NULL, 16, 1.0), -EINVAL);
    cr_expect_eq(corio_sock_connect(fd, (struct sockaddr *)&ss, len, NAN), -EINVAL);
    cr_expect_eq(corio_wait_readable(fd, NAN), -EINVAL);
    cr_expect_eq(corio_wait_writable(fd, NAN), -EINVAL);

    /* The kernel's own answers come through unchanged. */
    int s = corio_socket(AF_INET, SOCK_STREAM, 0);
    char buf[4];
    cr_expect_eq(corio_sock_recv(s, buf, sizeof buf, 0), -ENOTCONN, "recv, not connected");
    cr_expect_eq(corio_sock_accept(s, NULL, NULL), -EINVAL, "accept, not listening");
    cr_expect_eq(corio_sock_shutdown(s, SHUT_RDWR), -ENOTCONN);
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    cr_expect_eq(corio_sock_connect(s, (struct sockaddr *)&v6, sizeof v6, 1.0), -EAFNOSUPPORT);
    cr_expect_eq(corio_sock_connect(s, (struct sockaddr *)&ss, 0, 1.0), -EINVAL, "addrlen 0");
    corio_close(s);
    cr_expect_eq(corio_sock_shutdown(fd, 12345), -EINVAL);
    (void)len;
    return NULL;
}

Test(io_errors, null_pointers_and_bad_arguments, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    run_with_pair(null_main, fds);
    FD_CHECK_END();
}

Test(io_errors, corio_socket_bad_arguments, .timeout = 10)
{
    FD_CHECK_BEGIN();
    cr_assert_eq(corio_socket(12345, SOCK_STREAM, 0), -EAFNOSUPPORT);
    /* qemu-user translates socket types and answers an unknown one with another error */
    if (getenv("CORIO_QEMU"))
        cr_assert_lt(corio_socket(AF_INET, 12345, 0), 0);
    else
        cr_assert_eq(corio_socket(AF_INET, 12345, 0), -EINVAL);
    cr_assert_eq(corio_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), -EPROTONOSUPPORT);
    int fd = corio_socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0, "no loop needed");
    cr_assert_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    cr_assert_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    cr_assert_eq(corio_close(fd), 0);
    FD_CHECK_END();
}

/* ---- outside a task ---- */

static int outside_ok;

static void in_callback(void *arg)
{
    int *fds = arg;
    outside_ok = all_calls(fds[0], CORIO_ENOTASK);
}

Test(io_errors, awaiting_calls_outside_a_task_are_enotask, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    cr_assert_eq(all_calls(fds[0], CORIO_ENOTASK), NCALLS, "no loop at all");
    cr_assert_eq(all_calls(-1, CORIO_ENOTASK), NCALLS, "checked before the fd");
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_call_soon(NULL, loop, in_callback, fds), 0);
    run_once(loop);
    cr_assert_eq(outside_ok, NCALLS, "a plain callback is not a task");
    /* Calls that do not await work anywhere. */
    cr_assert_eq(corio_sock_shutdown(fds[0], SHUT_WR), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(corio_close(fds[0]), 0);
    cr_assert_eq(corio_close(fds[1]), 0);
    FD_CHECK_END();
}

/* ---- the backend's choice ---- */

Test(io_errors, bad_backend_name_in_opts, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = (corio_loop *)1;
    corio_loop_opts opts = {.backend = "bogus"};
    cr_assert_eq(corio_loop_new(&loop, &opts), -EINVAL);
    opts.backend = "epoll";
    cr_assert_eq(corio_loop_new(&loop, &opts), 0);
    cr_assert_str_eq(corio_loop_get_backend(loop), "epoll");
    cr_assert_eq(corio_loop_free(loop), 0);
    FD_CHECK_END();
}

static void *never_run(void *arg)
{
    (void)arg;
    cr_expect_fail("ran on a loop with a bogus backend");
    return NULL;
}

Test(io_errors, bad_backend_name_in_environment, .timeout = 10)
{
    FD_CHECK_BEGIN();
    const char *was = getenv("CORIO_BACKEND");
    char *saved = was ? strdup(was) : NULL;
    setenv("CORIO_BACKEND", "bogus", 1);
    corio_loop *loop = NULL;
    cr_assert_eq(corio_loop_new(&loop, NULL), -EINVAL);
    cr_assert_eq(corio_run(never_run, NULL, NULL, NULL), -EINVAL, "corio_run fails too");
    /* An explicit name in opts wins over the environment. */
    corio_loop_opts opts = {.backend = "epoll"};
    cr_assert_eq(corio_loop_new(&loop, &opts), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    if (saved) {
        setenv("CORIO_BACKEND", saved, 1);
        free(saved);
    } else {
        unsetenv("CORIO_BACKEND");
    }
    FD_CHECK_END();
}

Test(io_errors, loop_backend_names_the_backend, .timeout = 10)
{
    FD_CHECK_BEGIN();
    cr_assert_null(corio_loop_get_backend(NULL), "no loop: NULL");
    corio_loop *loop = new_loop();
    const char *name = corio_loop_get_backend(loop);
    cr_assert(strcmp(name, "epoll") == 0 || strcmp(name, "io_uring") == 0, "backend %s", name);
    const char *env = getenv("CORIO_BACKEND");
    if (env && strcmp(env, "epoll") == 0)
        cr_assert_str_eq(name, "epoll", "CORIO_BACKEND=epoll is obeyed");
    cr_assert_null(corio_loop_get_backend(NULL), "a loop that is neither running nor current");
    cr_assert_eq(corio_loop_free(loop), 0);
    FD_CHECK_END();
}

static void *running_backend(void *arg)
{
    (void)arg;
    return (void *)corio_loop_get_backend(NULL);
}

/* NULL is the running loop, else the current one. The current loop is on epoll; the running
 * one on the backend ctest chose (io_uring where the kernel has it), so that the two differ. */
Test(io_errors, loop_backend_of_null_is_the_running_or_current_loop, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *current, *loop = new_loop();
    cr_assert_eq(corio_loop_new(&current, &(corio_loop_opts){.backend = "epoll"}), 0);
    cr_assert_eq(corio_set_event_loop(current), 0);
    cr_assert_str_eq(corio_loop_get_backend(NULL), "epoll", "the current loop's");
    void *name = NULL;
    cr_assert_eq(run_main(loop, running_backend, NULL, &name), 0);
    cr_assert_not_null(name);
    cr_assert_str_eq(name, corio_loop_get_backend(loop), "the running loop's, not the current's");
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(corio_loop_free(current), 0);
    cr_assert_null(corio_loop_get_backend(NULL), "the freed current loop is current no more");
    FD_CHECK_END();
}
