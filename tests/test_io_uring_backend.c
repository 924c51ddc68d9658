/* What the io_uring backend must get right beyond the plain calls: falling back to epoll where
 * the kernel refuses io_uring, cancelling an operation the kernel holds without losing what it
 * did, deadlines, corio_close while an operation is in flight, compact tasks (whose frames move,
 * so the kernel must not write into them), loop close with operations in flight, waking the loop
 * from another thread, a loop made on one thread and run on another, and a loop whose I/O the
 * kernel holds for one thread (a single-issuer ring): refused elsewhere while that thread lives,
 * moved on once it has exited.
 *
 * ctest runs this file once per backend. Most tests check behaviour both backends share; the few
 * that only mean something on io_uring skip elsewhere, saying so. */
#define _GNU_SOURCE /* pipe2, accept4 */
#include "io_helpers.h"

#include "loop/loop.h" /* corio__poller_wait / _wake: the loop's poll, driven directly */

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

static int sp[2]; /* a stream socketpair: sp[0] is read by the tasks, sp[1] is the peer */

static void pair_open(void)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0);
}

static void pair_close(void)
{
    corio_close(sp[0]);
    corio_close(sp[1]);
}

static int is_uring(corio_loop *loop) { return strcmp(corio_loop_get_backend(loop), "io_uring") == 0; }

#define REQUIRE_URING(loop)                                                                        \
    do {                                                                                           \
        if (!is_uring(loop)) {                                                                     \
            corio_loop_free(loop);                                                                \
            cr_skip_test("io_uring only: this loop runs on %s", "epoll");                         \
        }                                                                                          \
    } while (0)

/* ---- falling back to epoll ---- */

/* Makes io_uring_setup fail with EPERM in this process (each Criterion test is a process of its
 * own), as a container's seccomp profile does. */
static int deny_io_uring(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = (unsigned short)(sizeof f / sizeof f[0]), .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0 ? -errno : 0;
}

static void *echo_once(void *arg)
{
    (void)arg;
    char buf[8];
    ssize_t n = corio_sock_recv(sp[0], buf, sizeof buf, 0);
    cr_expect_eq(n, 4);
    return (void *)(intptr_t)n;
}

Test(io_uring_backend, kernel_refusal_falls_back_to_epoll, .timeout = 10)
{
    corio_loop *loop;
    corio_loop_opts want = {.backend = "io_uring"};
    int rc = corio_loop_new(&loop, &want);
    if (rc < 0)
        cr_skip_test("io_uring is not available here (%s): nothing to fall back from",
                     corio_strerror(rc));
    corio_loop_free(loop);
    rc = deny_io_uring();
    if (rc < 0)
        cr_skip_test("cannot install a seccomp filter here: %s", strerror(-rc));

    /* Named explicitly: the refusal is the answer. */
    cr_assert_eq(corio_loop_new(&loop, &want), -EPERM);
    /* Left to the library, or named in the environment: epoll, and it works. */
    const char *envs[] = {NULL, "io_uring"};
    for (int i = 0; i < 2; i++) {
        if (envs[i])
            setenv("CORIO_BACKEND", envs[i], 1);
        else
            unsetenv("CORIO_BACKEND");
        FD_CHECK_BEGIN();
        cr_assert_eq(corio_loop_new(&loop, NULL), 0);
        cr_assert_str_eq(corio_loop_get_backend(loop), "epoll");
        pair_open();
        cr_assert_eq(write(sp[1], "ping", 4), 4);
        void *n;
        cr_assert_eq(run_main(loop, echo_once, NULL, &n), 0);
        cr_assert_eq((intptr_t)n, 4);
        pair_close();
        corio_loop_free(loop);
        FD_CHECK_END();
    }
}

Test(io_uring_backend, environment_and_option_choose_the_backend, .timeout = 10)
{
    corio_loop *loop;
    const char *env = getenv("CORIO_BACKEND");
    cr_assert_eq(corio_loop_new(&loop, NULL), 0);
    if (env && strcmp(env, "epoll") == 0)
        cr_assert_str_eq(corio_loop_get_backend(loop), "epoll");
    corio_loop_free(loop);
    cr_assert_eq(corio_loop_new(&loop, &(corio_loop_opts){.backend = "epoll"}), 0);
    cr_assert_str_eq(corio_loop_get_backend(loop), "epoll");
    corio_loop_free(loop);
    cr_assert_eq(corio_loop_new(&loop, &(corio_loop_opts){.backend = "kqueue"}), -EINVAL);
}

/* ---- cancellation ---- */

static corio_task *reader;
static char got[64];

/* Reads what is there, then awaits again: the second await is where a cancellation that came
 * too late for the read must show up. */
static int read_rc, next_rc, cancel_rc, peer_rc;

static void *read_then_yield(void *arg)
{
    (void)arg;
    read_rc = (int)corio_sock_recv(sp[0], got, sizeof got, 0);
    next_rc = corio_sleep(0);
    return NULL;
}

static void *cancel_reader(void *arg)
{
    (void)arg;
    cancel_rc = corio_task_cancel(reader, NULL);
    return NULL;
}

/* The reader's recv is queued for the kernel, and cancelled in the same iteration, before the
 * ring is entered: the kernel runs the recv first (the data is there) and the cancel finds
 * nothing. The bytes are the recv's result; the cancellation comes at the next await. */
Test(io_uring_backend, cancel_too_late_keeps_the_data_and_cancels_next_await, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    pair_open();
    cr_assert_eq(write(sp[1], "hello", 5), 5);
    cr_assert_eq(corio_create_task(&reader, loop, read_then_yield, NULL, NULL), 0);
    corio_task *c;
    cr_assert_eq(corio_create_task(&c, loop, cancel_reader, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, reader, NULL), -ECANCELED);
    cr_assert_eq(cancel_rc, 1);
    cr_assert_eq(read_rc, 5);
    cr_assert_eq(next_rc, -ECANCELED);
    cr_assert(memcmp(got, "hello", 5) == 0);
    corio_task_unref(reader);
    corio_task_unref(c);
    pair_close();
    corio_loop_free(loop);
    FD_CHECK_END();
}

static void *read_forever(void *arg)
{
    (void)arg;
    ev((int)corio_sock_recv(sp[0], got, sizeof got, 0));
    return NULL;
}

static void *cancel_later(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        corio_sleep(0);
    ev(100 + corio_task_cancel(reader, "stop"));
    return NULL;
}

static void *read_all(void *arg)
{
    size_t want = (size_t)(intptr_t)arg, have = 0;
    while (have < want) {
        ssize_t n = corio_sock_recv(sp[0], got + have, sizeof got - have, 0);
        if (n <= 0)
            return NULL;
        have += (size_t)n;
    }
    return (void *)(intptr_t)have;
}

/* A recv waiting in the kernel is cancelled: -ECANCELED, the task ends cancelled, and the recv
 * is gone for good: bytes written afterwards all reach the next reader. */
Test(io_uring_backend, cancel_in_flight_recv_consumes_nothing, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    pair_open();
    cr_assert_eq(corio_create_task(&reader, loop, read_forever, NULL, NULL), 0);
    corio_task *c;
    cr_assert_eq(corio_create_task(&c, loop, cancel_later, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, reader, NULL), -ECANCELED);
    cr_assert_eq(run_task(loop, c, NULL), 0);
    EV_EXPECT(101, -ECANCELED);
    cr_assert_eq(write(sp[1], "0123456789", 10), 10);
    void *n;
    cr_assert_eq(run_main(loop, read_all, (void *)10, &n), 0);
    cr_assert_eq((intptr_t)n, 10);
    cr_assert(memcmp(got, "0123456789", 10) == 0);
    corio_task_unref(reader);
    corio_task_unref(c);
    pair_close();
    corio_loop_free(loop);
    FD_CHECK_END();
}

static void *wait_for_recv(void *arg)
{
    (void)arg;
    corio_task *t = spawn(read_forever, NULL);
    int rc = corio_wait_for(corio_task_future(t), 0.05, NULL);
    corio_task_unref(t);
    return IV(rc);
}

/* wait_for around a recv in the kernel: the deadline cancels it through the kernel and reports
 * -ETIMEDOUT; the socket still works. */
Test(io_uring_backend, wait_for_times_out_an_in_flight_recv, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    pair_open();
    void *rc;
    cr_assert_eq(run_main(loop, wait_for_recv, NULL, &rc), 0);
    cr_assert_eq((intptr_t)rc, -ETIMEDOUT);
    EV_EXPECT(-ECANCELED);
    cr_assert_eq(write(sp[1], "abc", 3), 3);
    void *n;
    cr_assert_eq(run_main(loop, read_all, (void *)3, &n), 0);
    cr_assert_eq((intptr_t)n, 3);
    pair_close();
    corio_loop_free(loop);
    FD_CHECK_END();
}

static void *wait_readable_briefly(void *arg)
{
    (void)arg;
    double t0 = now_s();
    ev(corio_wait_readable(sp[0], 0.05));
    ev(now_s() - t0 >= 0.04);
    ev(corio_wait_readable(sp[0], 5.0)); /* the peer wrote meanwhile */
    return NULL;
}

static void write_later(void *arg)
{
    (void)arg;
    cr_expect_eq(write(sp[1], "x", 1), 1);
}

/* An op's own deadline: the kernel's poll is cancelled, the call gives -ETIMEDOUT, and the next
 * wait on the same fd is free to start (-EBUSY would mean the first one was still registered). */
Test(io_uring_backend, deadline_of_an_in_flight_poll, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    pair_open();
    cr_assert_eq(corio_loop_call_later(NULL, loop, 0.2, write_later, NULL), 0);
    cr_assert_eq(run_main(loop, wait_readable_briefly, NULL, NULL), 0);
    EV_EXPECT(-ETIMEDOUT, 1, 0);
    pair_close();
    corio_loop_free(loop);
    FD_CHECK_END();
}

/* ---- corio_close with an op in flight ---- */

static void *close_reader_then_read_peer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        corio_sleep(0);
    cancel_rc = corio_close(sp[0]);
    /* The kernel let go of the file: the peer sees the end of the stream at once. */
    char c;
    peer_rc = (int)corio_sock_recv(sp[1], &c, 1, 0);
    return NULL;
}

Test(io_uring_backend, close_wakes_in_flight_recv_and_really_closes, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    pair_open();
    cr_assert_eq(corio_create_task(&reader, loop, read_forever, NULL, NULL), 0);
    corio_task *c;
    cr_assert_eq(corio_create_task(&c, loop, close_reader_then_read_peer, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, c, NULL), 0);
    cr_assert_eq(run_task(loop, reader, NULL), 0);
    EV_EXPECT(-EBADF);
    cr_assert_eq(cancel_rc, 0);
    cr_assert_eq(peer_rc, 0);
    corio_task_unref(reader);
    corio_task_unref(c);
    corio_close(sp[1]);
    corio_loop_free(loop);
    FD_CHECK_END();
}

static int lfd;

static void *accept_forever(void *arg)
{
    (void)arg;
    ev(corio_sock_accept(lfd, NULL, NULL));
    return NULL;
}

static void *close_listener(void *arg)
{
    (void)arg;
    corio_sleep(0.02);
    ev(corio_close(lfd));
    return NULL;
}

Test(io_uring_backend, close_wakes_in_flight_accept, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    struct sockaddr_storage a;
    socklen_t alen;
    lfd = tcp_listener(0, &a, &alen);
    cr_assert_eq(corio_create_task(&reader, loop, accept_forever, NULL, NULL), 0);
    corio_task *c;
    cr_assert_eq(corio_create_task(&c, loop, close_listener, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, reader, NULL), 0);
    cr_assert_eq(run_task(loop, c, NULL), 0);
    EV_EXPECT(0, -EBADF);
    corio_task_unref(reader);
    corio_task_unref(c);
    corio_loop_free(loop);
    FD_CHECK_END();
}

/* ---- loop close with ops in flight ---- */

static int dpairs[3][2];

static void *recv_until_destroyed(void *arg)
{
    char buf[32];
    ev((int)corio_sock_recv(dpairs[VI(arg)][0], buf, sizeof buf, 0));
    return NULL;
}

/* The tasks are destroyed while their recvs are in the kernel: each await fails with -ECANCELED
 * only once the kernel gave its op back, and nothing is left reading the sockets: bytes written
 * after the close are all still there. */
Test(io_uring_backend, loop_close_with_recvs_in_flight, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task *t[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                                dpairs[i]), 0);
        /* The last one is compact: its wait is a poll in the kernel, just as much in flight. */
        corio_task_opts o = {.flags = i == 2 ? CORIO_TASK_COMPACT : 0};
        cr_assert_eq(corio_create_task(&t[i], loop, recv_until_destroyed, IV(i), &o), 0);
    }
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_loop_call_later(NULL, loop, 0.05, stop_cb, loop), 0);
    cr_assert_eq(corio_loop_run_until_complete(loop, f, NULL), CORIO_ESTOPPED);
    cr_assert_eq(corio_loop_close(loop), 0);
    EV_EXPECT(-ECANCELED, -ECANCELED, -ECANCELED);
    cr_assert_eq(cap.n, 3);
    corio_future_unref(f);
    cr_assert_eq(corio_loop_free(loop), 0);
    for (int i = 0; i < 3; i++) {
        corio_task_unref(t[i]);
        cr_assert_eq(write(dpairs[i][1], "still", 5), 5);
        char buf[8];
        cr_assert_eq(read(dpairs[i][0], buf, sizeof buf), 5);
        close(dpairs[i][0]);
        close(dpairs[i][1]);
    }
    FD_CHECK_END();
}

/* ---- compact tasks ---- */

#define NCOMPACT 16
#define ROUNDS 40
static int cpairs[NCOMPACT][2];

/* A compact task whose buffers are in its frame, which is copied off the shared stack while it
 * waits. Had the kernel been given those addresses, replies would land in another task's frame
 * and the checks below would fail (or the shared stack would be corrupted). */
static void *compact_client(void *arg)
{
    int i = (int)(intptr_t)arg;
    int fd = cpairs[i][0];
    for (int r = 0; r < ROUNDS; r++) {
        char out[48], in[48];
        memset(out, 'a' + i, sizeof out);
        snprintf(out, sizeof out, "%d:%d", i, r);
        if (corio_sock_sendall(fd, out, sizeof out, 0) != (ssize_t)sizeof out)
            return IV(-1);
        size_t have = 0;
        while (have < sizeof in) {
            ssize_t n = corio_sock_recv(fd, in + have, sizeof in - have, 0);
            if (n <= 0)
                return IV(-2);
            have += (size_t)n;
        }
        if (memcmp(in, out, sizeof in) != 0)
            return IV(-3);
    }
    return IV(ROUNDS);
}

/* The echo side has its own stack; it reads in small pieces so that the clients wait. */
static void *echo_side(void *arg)
{
    int fd = cpairs[(int)(intptr_t)arg][1];
    char buf[16];
    ssize_t n;
    while ((n = corio_sock_recv(fd, buf, sizeof buf, 0)) > 0) {
        corio_sleep(0);
        if (corio_sock_sendall(fd, buf, (size_t)n, 0) != n)
            break;
    }
    return NULL;
}

static void *compact_main(void *arg)
{
    (void)arg;
    corio_task *c[NCOMPACT], *e[NCOMPACT];
    corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};
    for (int i = 0; i < NCOMPACT; i++) {
        c[i] = spawn_opts(compact_client, IV(i), &compact);
        e[i] = spawn(echo_side, IV(i));
    }
    long ok = 0;
    for (int i = 0; i < NCOMPACT; i++) {
        void *v;
        cr_expect_eq(corio_await(corio_task_future(c[i]), &v), 0);
        cr_expect_eq(VI(v), ROUNDS, "client %d: %d", i, VI(v));
        ok += VI(v) == ROUNDS;
        corio_sock_shutdown(cpairs[i][0], SHUT_WR);
        corio_await(corio_task_future(e[i]), NULL);
        corio_task_unref(c[i]);
        corio_task_unref(e[i]);
    }
    return IV(ok);
}

Test(io_uring_backend, compact_tasks_keep_their_buffers_out_of_the_kernel, .timeout = 30)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    for (int i = 0; i < NCOMPACT; i++)
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                                cpairs[i]), 0);
    void *ok;
    cr_assert_eq(run_main(loop, compact_main, NULL, &ok), 0);
    cr_assert_eq(VI(ok), NCOMPACT);
    for (int i = 0; i < NCOMPACT; i++) {
        corio_close(cpairs[i][0]);
        corio_close(cpairs[i][1]);
    }
    corio_loop_free(loop);
    FD_CHECK_END();
}

/* ---- files io_uring does not poll ---- */

static int pfd[2];

static void *pipe_reader(void *arg)
{
    (void)arg;
    char buf[8];
    ssize_t n = corio_read(pfd[0], buf, sizeof buf);
    ev((int)n);
    n = corio_read(pfd[0], buf, sizeof buf); /* the second read takes the readiness path */
    ev((int)n);
    return NULL;
}

static void *pipe_writer(void *arg)
{
    (void)arg;
    corio_sleep(0.01);
    ev(10 + (int)corio_write(pfd[1], "abc", 3));
    corio_sleep(0.01);
    ev(10 + (int)corio_write(pfd[1], "de", 2));
    return NULL;
}

/* An O_NONBLOCK pipe: io_uring answers its reads with EAGAIN instead of polling; corio must
 * wait, never return -EAGAIN. */
Test(io_uring_backend, nonblocking_pipe_waits_instead_of_eagain, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    cr_assert_eq(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
    corio_task *r;
    cr_assert_eq(corio_create_task(&r, loop, pipe_reader, NULL, NULL), 0);
    corio_task *w;
    cr_assert_eq(corio_create_task(&w, loop, pipe_writer, NULL, NULL), 0);
    cr_assert_eq(run_task(loop, r, NULL), 0);
    cr_assert_eq(run_task(loop, w, NULL), 0);
    EV_EXPECT(13, 3, 12, 2);
    corio_task_unref(r);
    corio_task_unref(w);
    corio_close(pfd[0]);
    corio_close(pfd[1]);
    corio_loop_free(loop);
    FD_CHECK_END();
}

/* ---- add_reader ---- */

static int fired;

static void count_fire(int fd, void *arg)
{
    (void)fd;
    (void)arg;
    fired++;
}

/* Level-triggered: called on each iteration while the byte is unread; left registered at loop
 * close, it is released with the loop (nothing leaks: ASan and Valgrind check). */
Test(io_uring_backend, reader_is_level_triggered_and_released_at_close, .timeout = 10)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    pair_open();
    cr_assert_eq(corio_loop_add_reader(loop, sp[0], count_fire, NULL), 0);
    for (int i = 0; i < 3; i++)
        run_once(loop);
    cr_assert_eq(fired, 0);
    cr_assert_eq(write(sp[1], "z", 1), 1);
    double t0 = now_s();
    while (fired < 4 && now_s() - t0 < 5)
        run_once(loop);
    cr_assert_geq(fired, 4, "fired %d times", fired);
    char c;
    cr_assert_eq(read(sp[0], &c, 1), 1);
    run_once(loop); /* a call already queued may still run once */
    int after = fired;
    for (int i = 0; i < 3; i++)
        run_once(loop);
    cr_assert_eq(fired, after);
    cr_assert_eq(corio_loop_add_writer(loop, sp[1], count_fire, NULL), 0);
    corio_loop_free(loop);
    pair_close();
    FD_CHECK_END();
}

Test(io_uring_backend, add_reader_refuses_regular_files_and_bad_fds, .timeout = 10)
{
    corio_loop *loop = new_loop();
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(corio_loop_add_reader(loop, fileno(f), count_fire, NULL), -EPERM);
    cr_assert_eq(corio_loop_add_reader(loop, 1000, count_fire, NULL), -EBADF);
    fclose(f);
    corio_loop_free(loop);
}

/* ---- waking the loop from another thread ---- */

static void *wake_after(void *arg)
{
    usleep(50 * 1000);
    cr_expect_eq(corio__poller_wake(corio__loop_poller((corio_loop *)arg)), 0);
    return NULL;
}

Test(io_uring_backend, wake_from_another_thread_ends_the_poll, .timeout = 20)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    if (is_uring(loop) && under_valgrind()) {
        corio_loop_free(loop);
        cr_skip_test("Valgrind runs no other thread while one waits in io_uring_enter");
    }
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, wake_after, loop), 0);
    double t0 = now_s();
    corio__poller_wait(corio__loop_poller(loop), 10 * 1000000000LL);
    cr_assert_lt(now_s() - t0, 5.0);
    pthread_join(th, NULL);
    /* Wakes coalesce: three before the poll end one poll, and the next one sleeps again. */
    for (int i = 0; i < 3; i++)
        corio__poller_wake(corio__loop_poller(loop));
    t0 = now_s();
    corio__poller_wait(corio__loop_poller(loop), 10 * 1000000000LL);
    cr_assert_lt(now_s() - t0, 5.0);
    t0 = now_s();
    corio__poller_wait(corio__loop_poller(loop), 100 * 1000000LL);
    cr_assert_geq(now_s() - t0, 0.05);
    corio_loop_free(loop);
    FD_CHECK_END();
}

/* ---- a loop made on one thread and run on another ---- */

static void *run_echo_on_thread(void *arg)
{
    corio_loop *loop = arg;
    cr_assert_eq(write(sp[1], "ping", 4), 4);
    void *n = NULL;
    int rc = run_main(loop, echo_once, NULL, &n);
    return (void *)(intptr_t)(rc == 0 ? (intptr_t)n : rc);
}

Test(io_uring_backend, loop_made_here_runs_on_other_threads, .timeout = 20)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    pair_open();
    for (int i = 0; i < 2; i++) { /* and then on a third one */
        pthread_t th;
        void *n;
        cr_assert_eq(pthread_create(&th, NULL, run_echo_on_thread, loop), 0);
        pthread_join(th, &n);
        cr_assert_eq((intptr_t)n, 4);
    }
    pair_close();
    corio_loop_free(loop); /* on the thread that made it, not the one that ran it */
    FD_CHECK_END();
}

/* ---- a loop whose I/O in the kernel belongs to one thread ---- */

/* A single-issuer ring (Linux 6.1+, unless CORIO_URING_SETUP asks for another) may be entered
 * only by the thread that first ran the loop. */
static int single_issuer_ring(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    if (getenv("CORIO_URING_SETUP") || uname(&u) < 0 ||
        sscanf(u.release, "%d.%d", &major, &minor) != 2)
        return 0;
    return major > 6 || (major == 6 && minor >= 1);
}

static sem_t held, let_go;

static void *recv_four(void *arg)
{
    (void)arg;
    char buf[4];
    return (void *)(intptr_t)corio_sock_recv(sp[0], buf, sizeof buf, 0);
}

/* Runs the loop until its task waits in recv, then holds on (the recv in the kernel) until told
 * to close the loop, here, on the thread that ran it. */
static void *run_then_hold(void *arg)
{
    corio_loop *loop = arg;
    corio_task *t;
    intptr_t rc = corio_create_task(&t, loop, recv_four, NULL, NULL);
    if (rc == 0)
        rc = corio_loop_call_soon(NULL, loop, stop_cb, loop);
    if (rc == 0)
        rc = corio_loop_run_forever(loop);
    sem_post(&held);
    sem_wait(&let_go);
    if (rc == 0)
        rc = corio_loop_close(loop);
    corio_task_unref(t);
    return (void *)rc;
}

/* Another thread can neither run nor close (nor free) that loop while the kernel holds the recv
 * (its task's frame must not go): a clear -EEXIST, and the loop is left as it was. Closed on its
 * own thread, it can then be freed here. */
Test(io_uring_backend, io_in_flight_keeps_the_loop_on_its_thread, .timeout = 20)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    REQUIRE_URING(loop);
    if (!single_issuer_ring()) {
        corio_loop_free(loop);
        cr_skip_test("the ring is not single-issuer here (kernel before 6.1 or CORIO_URING_SETUP)");
    }
    pair_open();
    cr_assert_eq(sem_init(&held, 0, 0), 0);
    cr_assert_eq(sem_init(&let_go, 0, 0), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, run_then_hold, loop), 0);
    sem_wait(&held);
    cr_assert_eq(corio_loop_call_soon(NULL, loop, stop_cb, loop), 0);
    cr_expect_eq(corio_loop_run_forever(loop), -EEXIST);
    cr_expect_eq(corio_loop_close(loop), -EEXIST);
    cr_expect_eq(corio_loop_free(loop), -EEXIST, "nothing is freed either");
    cr_expect_eq(corio_loop_is_closed(loop), 0);
    sem_post(&let_go);
    void *rc;
    pthread_join(th, &rc);
    cr_expect_eq((intptr_t)rc, 0, "close on the loop's own thread: %d", (int)(intptr_t)rc);
    cr_expect_eq(corio_loop_is_closed(loop), 1);
    cr_expect_eq(corio_loop_free(loop), 0);
    pair_close();
    FD_CHECK_END();
}

/* A thread that exits takes its I/O with it: the kernel will never carry out what it submitted
 * (nor post a CQE for it until the op fires). The next thread to run the loop gets a new ring,
 * the waiting task sees its recv end with -ECANCELED, and the data sent meanwhile is still in the
 * socket for its next recv. */
static void *run_then_exit(void *arg)
{
    corio_loop *loop = arg;
    intptr_t rc = corio_loop_call_soon(NULL, loop, stop_cb, loop);
    return (void *)(rc == 0 ? (intptr_t)corio_loop_run_forever(loop) : rc);
}

static void *recv_after_cancel(void *arg)
{
    (void)arg;
    char buf[4];
    ssize_t first = corio_sock_recv(sp[0], buf, sizeof buf, 0);
    ev((int)first);
    return (void *)(intptr_t)corio_sock_recv(sp[0], buf, sizeof buf, 0);
}

Test(io_uring_backend, loop_moves_on_when_its_thread_exits_with_io_in_flight, .timeout = 20)
{
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    REQUIRE_URING(loop);
    if (!single_issuer_ring()) { /* a shared ring does not know which thread submitted what */
        corio_loop_free(loop);
        cr_skip_test("the ring is not single-issuer here (kernel before 6.1 or CORIO_URING_SETUP)");
    }
    pair_open();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, recv_after_cancel, NULL, NULL), 0);
    pthread_t th;
    void *rc;
    cr_assert_eq(pthread_create(&th, NULL, run_then_exit, loop), 0);
    pthread_join(th, &rc);
    cr_assert_eq((intptr_t)rc, 0);
    cr_assert_eq(write(sp[1], "pong", 4), 4);
    void *n = NULL;
    int r, tries = 0;
    /* join returns a moment before the kernel forgets the thread: until then it is not gone */
    while ((r = run_task(loop, t, &n)) == -EEXIST && tries++ < 500)
        usleep(10 * 1000);
    cr_assert_eq(r, 0, "run_task: %d", r);
    EV_EXPECT(-ECANCELED);
    cr_expect_eq((intptr_t)n, 4);
    corio_task_unref(t);
    pair_close();
    corio_loop_free(loop);
    FD_CHECK_END();
}

/* ---- io_uring only ---- */

static void *recv_then_report_inflight(void *arg)
{
    (void)arg;
    ev((int)corio_sock_recv(sp[0], got, sizeof got, 0));
    return NULL;
}

/* The loop sees an op in the kernel as something to poll for (so that it never skips the ring
 * while a task waits on it), and nothing once the op's fd is closed. */
Test(io_uring_backend, ops_in_flight_are_counted_for_the_loop, .timeout = 10)
{
    corio_loop *loop = new_loop();
    REQUIRE_URING(loop);
    pair_open();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, recv_then_report_inflight, NULL, NULL), 0);
    run_once(loop);
    cr_assert_eq(corio__loop_poller(loop)->nwatched, 1);
    corio_set_event_loop(loop); /* corio_close outside a task finds the loop there */
    corio_close(sp[0]);
    cr_assert_eq(corio__loop_poller(loop)->nwatched, 0);
    cr_assert_eq(run_task(loop, t, NULL), 0);
    EV_EXPECT(-EBADF);
    corio_task_unref(t);
    corio_close(sp[1]);
    corio_loop_free(loop);
}

#define MANY 1500 /* more than the ring's 1024 submission entries */

static void *recv_one_byte(void *arg)
{
    (void)arg;
    char c;
    return IV(corio_sock_recv(sp[0], &c, 1, 0));
}

static void *many_recvs(void *arg)
{
    (void)arg;
    static corio_task *t[MANY];
    for (int i = 0; i < MANY; i++)
        t[i] = spawn(recv_one_byte, NULL);
    corio_sleep(0); /* every recv is queued in this iteration: the queue fills and is submitted */
    corio_sleep(0);
    static char bytes[MANY];
    memset(bytes, 'b', sizeof bytes);
    cr_expect_eq(corio_sock_sendall(sp[1], bytes, sizeof bytes, 0), MANY);
    long sum = 0;
    for (int i = 0; i < MANY; i++) {
        void *v;
        cr_expect_eq(corio_await(corio_task_future(t[i]), &v), 0);
        sum += VI(v);
        corio_task_unref(t[i]);
    }
    return IV(sum);
}

/* Several recvs on one socket at once are the kernel's business on io_uring (epoll allows one
 * waiter per direction); 1500 of them do not fit the submission queue in one go. */
Test(io_uring_backend, more_ops_than_the_submission_queue, .timeout = 30)
{
    corio_loop *loop = new_loop();
    REQUIRE_URING(loop);
    pair_open();
    void *sum;
    cr_assert_eq(run_main(loop, many_recvs, NULL, &sum), 0);
    cr_assert_eq(VI(sum), MANY);
    cr_assert_eq(corio__loop_poller(loop)->nwatched, 0);
    pair_close();
    corio_loop_free(loop);
}

#define NWATCH 1100 /* more completions in one poll than the submission queue has entries */
static int wfds[NWATCH];
static int wfired[NWATCH];

static void mark_fired(int fd, void *arg)
{
    (void)fd;
    wfired[VI(arg)]++;
}

/* Every reader is ready at once, more of them than the submission queue holds: arming their
 * polls fills the queue, whose submission completes them at once, and so on; each must still be
 * called again and again (level-triggered). */
Test(io_uring_backend, more_readers_firing_than_the_submission_queue, .timeout = 30)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < NWATCH + 100)
        cr_skip_test("needs %d fds, RLIMIT_NOFILE is %lu", NWATCH + 100,
                     (unsigned long)rl.rlim_cur);
    FD_CHECK_BEGIN();
    corio_loop *loop = new_loop();
    for (int i = 0; i < NWATCH; i++) {
        wfds[i] = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC); /* readable from the start */
        cr_assert_geq(wfds[i], 0);
        cr_assert_eq(corio_loop_add_reader(loop, wfds[i], mark_fired, IV(i)), 0);
    }
    /* io_uring fires all of them each iteration; epoll 128 per iteration, in turn. */
    int least = 0;
    for (int r = 0; r < 100 && least < 2; r++) {
        run_once(loop);
        least = wfired[0];
        for (int i = 1; i < NWATCH; i++)
            least = wfired[i] < least ? wfired[i] : least;
    }
    cr_assert_geq(least, 2, "some reader fired only %d times", least);
    corio_set_event_loop(loop);
    for (int i = 0; i < NWATCH; i++)
        corio_close(wfds[i]);
    corio_set_event_loop(NULL);
    run_once(loop);
    cr_assert_eq(corio__loop_poller(loop)->nwatched, 0);
    corio_loop_free(loop);
    FD_CHECK_END();
}

/* ---- a full socket whose peer shut down its side ---- */

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int hc[2]; /* a TCP pair: hc[0] is full, hc[1] shut its side down and reads nothing */
static int writer_calls;

static void count_writer(int fd, void *arg)
{
    (void)fd;
    (void)arg;
    writer_calls++;
}

static void *half_closed_main(void *arg)
{
    (void)arg;
    static char chunk[65536];
    while (send(hc[0], chunk, sizeof chunk, MSG_DONTWAIT) > 0) {
    }
    cr_expect_eq(shutdown(hc[1], SHUT_WR), 0);
    corio_sleep(0.01);
    /* io_uring reports the peer's half-close (POLLRDHUP) even to a poll for output. */
    double c0 = cpu_now(), t0 = now_s();
    ev(corio_wait_writable(hc[0], 0.2));
    cr_expect_eq(corio_loop_add_writer(corio_get_running_loop(), hc[0], count_writer, NULL), 0);
    corio_sleep(0.2);
    double cpu = cpu_now() - c0, wall = now_s() - t0;
    cr_expect_lt(cpu, wall / 4, "the loop spun: %.3f s of CPU in %.3f s", cpu, wall);
    cr_expect_eq(corio_loop_remove_writer(corio_get_running_loop(), hc[0]), 1);
    return NULL;
}

Test(io_uring_backend, full_socket_after_peer_half_close_is_not_writable, .timeout = 10)
{
    FD_CHECK_BEGIN();
    struct sockaddr_storage a;
    socklen_t alen;
    int l = tcp_listener(0, &a, &alen);
    hc[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(connect(hc[0], (struct sockaddr *)&a, alen), 0);
    hc[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(hc[1], 0);
    corio_loop *loop = new_loop();
    for (int compact = 0; compact < 2; compact++) { /* the ring's poll, then readiness */
        corio_task_opts o = {.flags = compact ? CORIO_TASK_COMPACT : 0};
        corio_task *t;
        cr_assert_eq(corio_create_task(&t, loop, half_closed_main, NULL, &o), 0);
        cr_assert_eq(run_task(loop, t, NULL), 0);
        corio_task_unref(t);
    }
    EV_EXPECT(-ETIMEDOUT, -ETIMEDOUT);
    cr_assert_eq(writer_calls, 0);
    corio_loop_free(loop);
    close(hc[0]);
    close(hc[1]);
    close(l);
    FD_CHECK_END();
}
