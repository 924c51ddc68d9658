/* Any fd, not only sockets: pipes, eventfds, a regular file and a terminal with corio_read /
 * corio_write and corio_wait_readable / writable; asyncio's add_reader / add_writer callbacks
 * (called each iteration while the fd is ready, replaced, removed inside the callback, side by
 * side with a task awaiting the same fd); -EBUSY for a second waiter in one direction. */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ, posix_openpt */
#include "io_call_helpers.h"

#include <stdlib.h>
#include <sys/eventfd.h>
#include <termios.h>

static void nb_pipe(int p[2])
{
    cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void *write_later(void *arg)
{
    int fd = *(int *)arg;
    corio_sleep(0.02);
    cr_expect_eq(corio_write(fd, "data", 4), 4);
    return NULL;
}

static void never_called(int fd, void *arg)
{
    (void)arg;
    cr_expect_fail("callback called for fd %d", fd);
}

/* ---- pipes ---- */

static void *pipe_main(void *arg)
{
    int *p = arg;
    char buf[64];
    /* A read that waits for the writer. */
    corio_task *w = spawn(write_later, &p[1]);
    cr_expect_eq(corio_read(p[0], buf, sizeof buf), 4);
    cr_expect(memcmp(buf, "data", 4) == 0);
    corio_await(corio_task_future(w), NULL);
    corio_task_unref(w);

    /* A write that waits for room: fill the pipe, then a reader drains it. */
    fcntl(p[1], F_SETPIPE_SZ, 4096);
    static char big[1 << 16];
    size_t queued = 0;
    ssize_t n;
    while ((n = write(p[1], big, sizeof big)) > 0)
        queued += (size_t)n;
    cr_expect_eq(corio_wait_writable(p[1], 0.05), -ETIMEDOUT, "a full pipe is not writable");
    cr_expect_eq(corio_wait_readable(p[0], 0.0), 0, "a pipe with data is readable at once");
    return (void *)queued;
}

static void *drain_pipe(void *arg)
{
    int fd = *(int *)arg;
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = corio_read(fd, buf, sizeof buf)) > 0)
        total += (size_t)n;
    cr_expect_eq(n, 0, "EOF when the write end closes");
    return (void *)total;
}

static void *pipe_full_main(void *arg)
{
    int *p = arg;
    void *queued = pipe_main(p);
    corio_task *d = spawn(drain_pipe, &p[0]);
    static char more[10000];
    cr_expect_eq(corio_write(p[1], more, sizeof more) > 0, 1, "the write waited for room");
    corio_close(p[1]);
    p[1] = -1;
    void *total = NULL;
    corio_await(corio_task_future(d), &total);
    corio_task_unref(d);
    cr_expect_geq((size_t)total, (size_t)queued + 1);
    return NULL;
}

Test(io_fd, pipe_read_write_and_wait, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    cr_assert_eq(corio_run(pipe_full_main, p, NULL, NULL), 0);
    corio_close(p[0]);
    FD_CHECK_END();
}

static void *broken_pipe_main(void *arg)
{
    int *p = arg;
    corio_close(p[0]);
    return IV(corio_write(p[1], "x", 1));
}

Test(io_fd, pipe_write_after_reader_closed_is_epipe, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    void *rc = NULL;
    cr_assert_eq(corio_run(broken_pipe_main, p, &rc, NULL), 0);
    cr_assert_eq(VI(rc), -EPIPE, "write(2) to a pipe without reader: %s", corio_strerror(VI(rc)));
    corio_close(p[1]);
    FD_CHECK_END();
}

static void *eof_wait_main(void *arg)
{
    int *p = arg;
    corio_close(p[1]);
    cr_expect_eq(corio_wait_readable(p[0], 1.0), 0, "EOF counts as readable");
    char c;
    cr_expect_eq(corio_read(p[0], &c, 1), 0);
    cr_expect_eq(corio_read(p[0], &c, 1), 0, "and again");
    return NULL;
}

Test(io_fd, pipe_eof_is_readable, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    cr_assert_eq(corio_run(eof_wait_main, p, NULL, NULL), 0);
    corio_close(p[0]);
    FD_CHECK_END();
}

/* ---- eventfd ---- */

static void *efd_signal(void *arg)
{
    int fd = *(int *)arg;
    corio_sleep(0.02);
    uint64_t v = 3;
    cr_expect_eq(corio_write(fd, &v, sizeof v), 8);
    return NULL;
}

static void *efd_main(void *arg)
{
    int *fd = arg;
    uint64_t v = 0;
    cr_expect_eq(corio_wait_readable(*fd, 0.02), -ETIMEDOUT);
    corio_task *s = spawn(efd_signal, fd);
    cr_expect_eq(corio_read(*fd, &v, sizeof v), 8);
    cr_expect_eq(v, 3);
    corio_await(corio_task_future(s), NULL);
    corio_task_unref(s);
    cr_expect_eq(corio_wait_writable(*fd, 1.0), 0, "an eventfd below its maximum is writable");
    return NULL;
}

Test(io_fd, eventfd_read_waits_for_write, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(corio_run(efd_main, &fd, NULL, NULL), 0);
    corio_close(fd);
    FD_CHECK_END();
}

/* ---- a regular file is always ready ---- */

static void *file_main(void *arg)
{
    int fd = *(int *)arg;
    cr_expect_eq(corio_wait_readable(fd, 1.0), 0);
    cr_expect_eq(corio_wait_writable(fd, 1.0), 0);
    cr_expect_eq(corio_write(fd, "file contents", 13), 13);
    lseek(fd, 0, SEEK_SET);
    char buf[32];
    cr_expect_eq(corio_read(fd, buf, sizeof buf), 13);
    cr_expect_eq(corio_read(fd, buf, sizeof buf), 0, "end of file");
    cr_expect_eq(corio_wait_readable(fd, 1.0), 0, "still ready at the end");
    return NULL;
}

static void *file_watch_main(void *arg)
{
    int fd = *(int *)arg;
    corio_loop *loop = corio_get_running_loop();
    return IV(corio_loop_add_reader(loop, fd, never_called, NULL));
}

Test(io_fd, regular_file_always_ready, .timeout = 10)
{
    FD_CHECK_BEGIN();
    char path[] = "/tmp/corio-fd-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    cr_assert_eq(corio_run(file_main, &fd, NULL, NULL), 0);
    void *rc = NULL;
    cr_assert_eq(corio_run(file_watch_main, &fd, &rc, NULL), 0);
    cr_assert_eq(VI(rc), -EPERM, "add_reader on a regular file: %s", corio_strerror(VI(rc)));
    corio_close(fd);
    FD_CHECK_END();
}

/* ---- a terminal ---- */

static void *pty_main(void *arg)
{
    int *t = arg; /* master, slave */
    corio_task *w = spawn(write_later, &t[0]);
    char buf[64];
    ssize_t n = corio_read(t[1], buf, sizeof buf);
    cr_expect_eq(n, 4, "read from the terminal: %s", corio_strerror((int)n));
    cr_expect(n == 4 && memcmp(buf, "data", 4) == 0);
    corio_await(corio_task_future(w), NULL);
    corio_task_unref(w);
    cr_expect_eq(corio_write(t[1], "back", 4), 4);
    cr_expect_eq(corio_read(t[0], buf, sizeof buf), 4);
    return NULL;
}

Test(io_fd, pty_read_write, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int t[2];
    t[0] = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (t[0] < 0)
        cr_skip_test("posix_openpt: %s (no pseudo-terminals here)", strerror(errno));
    const char *name = grantpt(t[0]) == 0 && unlockpt(t[0]) == 0 ? ptsname(t[0]) : NULL;
    t[1] = name ? open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) : -1;
    if (t[1] < 0) {
        close(t[0]);
        cr_skip_test("cannot open the pty's terminal side: %s", strerror(errno));
    }
    /* Raw mode: bytes pass as they are, without line editing or echo. */
    struct termios tio;
    cr_assert_eq(tcgetattr(t[1], &tio), 0);
    cfmakeraw(&tio);
    cr_assert_eq(tcsetattr(t[1], TCSANOW, &tio), 0);
    cr_assert_eq(corio_run(pty_main, t, NULL, NULL), 0);
    corio_close(t[1]);
    corio_close(t[0]);
    FD_CHECK_END();
}

/* ---- add_reader / add_writer ---- */

static int calls_a, calls_b;

static void read_one_byte(int fd, void *arg)
{
    int *count = arg;
    char c;
    if (read(fd, &c, 1) == 1)
        ++*count;
    else
        *count += 1000; /* called while not readable */
}

static void count_only(int fd, void *arg)
{
    (void)fd;
    ++*(int *)arg;
}

static void *level_triggered_main(void *arg)
{
    int *p = arg;
    corio_loop *loop = corio_get_running_loop();
    cr_expect_eq(write(p[1], "12345", 5), 5);
    cr_expect_eq(corio_loop_add_reader(loop, p[0], read_one_byte, &calls_a), 0);
    /* Each call reads one byte: called again while bytes remain, and not after. */
    for (int i = 0; i < 20 && calls_a < 5; i++)
        corio_sleep(0.005);
    corio_sleep(0.02);
    cr_expect_eq(calls_a, 5, "called once per byte, while readable: %d", calls_a);
    cr_expect_eq(corio_loop_remove_reader(loop, p[0]), 1);
    cr_expect_eq(corio_loop_remove_reader(loop, p[0]), 0, "nothing to remove the second time");

    /* A writer on a writable fd is called every iteration without anyone writing. */
    cr_expect_eq(corio_loop_add_writer(loop, p[1], count_only, &calls_b), 0);
    for (int i = 0; i < 100 && calls_b < 3; i++)
        corio_sleep(0);
    cr_expect_geq(calls_b, 3, "a writable fd's writer is called each iteration: %d", calls_b);
    cr_expect_eq(corio_loop_remove_writer(loop, p[1]), 1);
    int seen = calls_b;
    corio_sleep(0.01);
    cr_expect_eq(calls_b, seen, "not called after its removal");
    return NULL;
}

Test(io_fd, add_reader_level_triggered, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    run_with_pair(level_triggered_main, p);
    FD_CHECK_END();
}

static void *replace_main(void *arg)
{
    int *p = arg;
    corio_loop *loop = corio_get_running_loop();
    cr_expect_eq(corio_loop_add_reader(loop, p[0], count_only, &calls_a), 0);
    cr_expect_eq(corio_loop_add_reader(loop, p[0], read_one_byte, &calls_b), 0);
    cr_expect_eq(write(p[1], "ab", 2), 2);
    for (int i = 0; i < 100 && calls_b < 2; i++)
        corio_sleep(0.001);
    cr_expect_eq(calls_a, 0, "the replaced reader is never called");
    cr_expect_eq(calls_b, 2);
    cr_expect_eq(corio_loop_remove_reader(loop, p[0]), 1);
    return NULL;
}

Test(io_fd, add_reader_replaces_reader, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    run_with_pair(replace_main, p);
    FD_CHECK_END();
}

static void remove_self(int fd, void *arg)
{
    (void)arg;
    calls_a++;
    cr_expect_eq(corio_loop_remove_reader(corio_get_running_loop(), fd), 1);
}

static void *remove_inside_main(void *arg)
{
    int *p = arg;
    corio_loop *loop = corio_get_running_loop();
    cr_expect_eq(write(p[1], "x", 1), 1);
    cr_expect_eq(corio_loop_add_reader(loop, p[0], remove_self, NULL), 0);
    for (int i = 0; i < 20; i++)
        corio_sleep(0);
    cr_expect_eq(calls_a, 1, "removed inside its first call, never called again");
    /* Removing while a call is already queued: add, let it be queued, remove. */
    cr_expect_eq(corio_loop_add_reader(loop, p[0], count_only, &calls_b), 0);
    cr_expect_eq(corio_loop_remove_reader(loop, p[0]), 1);
    for (int i = 0; i < 20; i++)
        corio_sleep(0);
    cr_expect_eq(calls_b, 0);
    return NULL;
}

Test(io_fd, remove_reader_inside_callback, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    run_with_pair(remove_inside_main, p);
    FD_CHECK_END();
}

static void *task_reads(void *arg)
{
    int fd = *(int *)arg;
    char buf[16];
    return IV(corio_read(fd, buf, sizeof buf));
}

static void *callback_and_task_main(void *arg)
{
    int *p = arg;
    corio_loop *loop = corio_get_running_loop();
    /* A writer callback on the read end's peer and a task reading the read end, and a reader
     * callback on the same fd as the task. */
    cr_expect_eq(corio_loop_add_reader(loop, p[0], count_only, &calls_a), 0);
    cr_expect_eq(corio_loop_add_writer(loop, p[1], count_only, &calls_b), 0);
    corio_task *r = spawn(task_reads, &p[0]);
    corio_sleep(0.01);
    cr_expect_eq(calls_a, 0, "nothing to read yet");
    cr_expect_gt(calls_b, 0);
    cr_expect_eq(write(p[1], "hello", 5), 5);
    void *n = NULL;
    cr_expect_eq(corio_await(corio_task_future(r), &n), 0);
    corio_task_unref(r);
    cr_expect_eq(VI(n), 5, "the task read the data");
    cr_expect_eq(corio_loop_remove_writer(loop, p[1]), 1);
    /* The callback was called while the data was there, or not at all if the task read it
     * first; with the data gone it is not called any more. */
    int seen = calls_a;
    corio_sleep(0.01);
    cr_expect_eq(calls_a, seen);
    /* It is called again when new data comes, and a second task can wait too. */
    r = spawn(task_reads, &p[0]);
    corio_sleep(0.01);
    cr_expect_eq(write(p[1], "again", 5), 5);
    cr_expect_eq(corio_await(corio_task_future(r), &n), 0);
    corio_task_unref(r);
    cr_expect_eq(VI(n), 5);
    cr_expect_eq(corio_loop_remove_reader(loop, p[0]), 1);
    /* Back to plain waiting: a read still waits and wakes. */
    corio_task *w = spawn(write_later, &p[1]);
    char buf[8];
    cr_expect_eq(corio_read(p[0], buf, sizeof buf), 4);
    corio_await(corio_task_future(w), NULL);
    corio_task_unref(w);
    return NULL;
}

Test(io_fd, callback_and_task_on_same_fd, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    run_with_pair(callback_and_task_main, p);
    FD_CHECK_END();
}

static void *bad_watch_main(void *arg)
{
    (void)arg;
    corio_loop *loop = corio_get_running_loop();
    cr_expect_eq(corio_loop_add_reader(loop, -1, count_only, NULL), -EBADF);
    cr_expect_eq(corio_loop_add_writer(loop, -1, count_only, NULL), -EBADF);
    int p[2];
    nb_pipe(p);
    close(p[0]);
    close(p[1]);
    cr_expect_eq(corio_loop_add_reader(loop, p[0], count_only, NULL), -EBADF, "a closed fd");
    cr_expect_eq(corio_loop_add_reader(loop, 0, NULL, NULL), -EINVAL, "no callback");
    cr_expect_eq(corio_loop_add_reader(NULL, -1, count_only, NULL), -EBADF,
                 "NULL is the running loop: the fd is what is wrong");
    cr_expect_eq(corio_loop_remove_reader(loop, -1), 0);
    cr_expect_eq(corio_loop_remove_writer(loop, p[1]), 0);
    return NULL;
}

Test(io_fd, add_reader_bad_input, .timeout = 10)
{
    FD_CHECK_BEGIN();
    cr_assert_eq(corio_run(bad_watch_main, NULL, NULL, NULL), 0);
    FD_CHECK_END();
}

/* A NULL loop is the running loop, else the thread's current loop, else CORIO_ENOLOOP. */
static void *null_loop_main(void *arg)
{
    int *p = arg;
    cr_expect_eq(write(p[1], "x", 1), 1);
    cr_expect_eq(corio_loop_add_reader(NULL, p[0], count_only, &calls_a), 0);
    cr_expect_eq(corio_loop_add_writer(NULL, p[1], count_only, &calls_b), 0);
    for (int i = 0; i < 100 && (calls_a == 0 || calls_b == 0); i++)
        corio_sleep(0.001);
    cr_expect_gt(calls_a, 0, "the reader runs on the running loop");
    cr_expect_gt(calls_b, 0, "the writer too");
    corio_loop *loop = corio_get_running_loop();
    cr_expect_eq(corio_loop_remove_reader(loop, p[0]), 1, "it was the running loop's");
    cr_expect_eq(corio_loop_remove_writer(NULL, p[1]), 1);
    return NULL;
}

Test(io_fd, add_reader_with_a_null_loop, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    /* No loop at all. */
    cr_assert_eq(corio_loop_add_reader(NULL, p[0], never_called, NULL), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_add_writer(NULL, p[1], never_called, NULL), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_remove_reader(NULL, p[0]), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_remove_writer(NULL, p[1]), CORIO_ENOLOOP);
    /* The current loop, not running: the callbacks wait for it to run. */
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_assert_eq(corio_loop_add_reader(NULL, p[0], count_only, &calls_a), 0);
    cr_assert_eq(corio_loop_add_writer(NULL, p[1], count_only, &calls_b), 0);
    cr_assert_eq(calls_a + calls_b, 0, "not called before the loop runs");
    for (int i = 0; i < 100 && (calls_a == 0 || calls_b == 0); i++)
        run_once(loop);
    cr_assert_gt(calls_a, 0);
    cr_assert_gt(calls_b, 0);
    cr_assert_eq(corio_loop_remove_reader(NULL, p[0]), 1);
    cr_assert_eq(corio_loop_remove_writer(loop, p[1]), 1, "it was the current loop's");
    cr_assert_eq(corio_loop_remove_reader(NULL, p[0]), 0, "nothing left");
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(corio_loop_add_reader(NULL, p[0], never_called, NULL), CORIO_ENOLOOP,
                 "the freed current loop is current no more");
    /* In a task: the running loop. */
    calls_a = calls_b = 0;
    cr_assert_eq(read(p[0], (char[1]){0}, 1), 1);
    run_with_pair(null_loop_main, p);
    FD_CHECK_END();
}

/* ---- wait_readable / wait_writable ---- */

static void *wait_second(void *arg)
{
    int fd = *(int *)arg;
    return IV(corio_wait_readable(fd, 5.0));
}

static void *wait_main(void *arg)
{
    int *p = arg;
    cr_expect_eq(corio_wait_readable(p[0], 0.02), -ETIMEDOUT);
    cr_expect_eq(corio_wait_readable(p[0], 0), -ETIMEDOUT, "zero timeout: a poll");
    cr_expect_eq(corio_wait_writable(p[1], 0), 0, "an empty pipe is writable");
    cr_expect_eq(corio_wait_readable(p[0], NAN), -EINVAL);
    /* Two waiters in the same direction: the second is refused; the first still wakes. */
    corio_task *a = spawn(wait_second, &p[0]);
    corio_sleep(0.01);
    cr_expect_eq(corio_wait_readable(p[0], 1.0), -EBUSY);
    cr_expect_eq(corio_wait_writable(p[0], 0.01), -ETIMEDOUT,
                 "the other direction is free (a read end never becomes writable)");
    cr_expect_eq(write(p[1], "x", 1), 1);
    void *rc = NULL;
    cr_expect_eq(corio_await(corio_task_future(a), &rc), 0);
    corio_task_unref(a);
    cr_expect_eq(VI(rc), 0, "the first waiter woke: %s", corio_strerror(VI(rc)));
    cr_expect_eq(corio_wait_readable(p[0], CORIO_FOREVER), 0, "still readable: it was not read");
    return NULL;
}

Test(io_fd, wait_readable_writable_timeout_busy, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int p[2];
    nb_pipe(p);
    run_with_pair(wait_main, p);
    FD_CHECK_END();
}

/* ---- an idle loop stays idle ---- */

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A writer callback on a full socket whose peer has shut down its side: the fd is not writable,
 * so the loop must sleep, not wake again and again for the peer's half-close that nobody asked
 * about. Measured as CPU time over a sleep: a loop that sleeps in epoll_wait uses next to none,
 * one that spins uses whatever share of a core the machine gives it. */
static void *no_spin_main(void *arg)
{
    int *fds = arg;
    corio_loop *loop = corio_get_running_loop();
    fill_socket(fds[0]);
    cr_expect_eq(corio_sock_shutdown(fds[1], SHUT_WR), 0);
    cr_expect_eq(corio_loop_add_writer(loop, fds[0], count_only, &calls_a), 0);
    double c0 = cpu_s(), t0 = now_s();
    corio_sleep(0.3);
    double cpu = cpu_s() - c0, wall = now_s() - t0;
    cr_expect_lt(cpu, wall / 10, "the loop spun: %.3f s of CPU in %.3f s", cpu, wall);
    cr_expect_eq(calls_a, 0, "the full socket's writer is not called");
    cr_expect_eq(corio_loop_remove_writer(loop, fds[0]), 1);
    return NULL;
}

Test(io_fd, writer_on_full_socket_after_peer_shutdown_does_not_spin, .timeout = 10)
{
    FD_CHECK_BEGIN();
    int fds[2];
    tcp_pair(0, fds);
    small_buffers(fds[0]);
    small_buffers(fds[1]);
    run_with_pair(no_spin_main, fds);
    FD_CHECK_END();
}
