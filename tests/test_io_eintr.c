/* EINTR on every blocking system call (issue 6): a timer signal whose handler is installed
 * without SA_RESTART fires every 100 us while the loop sleeps in the poller, tasks echo over TCP
 * and a pipe, sleep, and hand jobs to the executor. Every interrupted call must be retried or
 * resumed (an interrupted connect goes on in the background): the run's outcome must be exactly
 * what it is without signals. */
#define _GNU_SOURCE /* pipe2 */
#include "io_helpers.h"

#include <signal.h>
#include <sys/time.h>

static volatile sig_atomic_t signals;
static struct sockaddr_storage srv_addr;
static socklen_t srv_alen;
static int listen_fd;

static void on_signal(int sig)
{
    (void)sig;
    signals++;
}

static void start_storm(void)
{
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: calls fail with EINTR */
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {.it_interval = {0, 100}, .it_value = {0, 100}};
    cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void stop_storm(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    signal(SIGALRM, SIG_IGN);
}

static void *echo_server(void *arg)
{
    int n_clients = VI(arg);
    for (int i = 0; i < n_clients; i++) {
        int c = corio_sock_accept(listen_fd, NULL, NULL);
        cr_expect_geq(c, 0, "accept: %s", corio_strerror(c));
        char buf[4096];
        ssize_t n;
        while ((n = corio_sock_recv(c, buf, sizeof buf, 0)) > 0)
            cr_expect_eq(corio_sock_sendall(c, buf, (size_t)n, 0), n);
        cr_expect_eq(n, 0, "recv: %s", corio_strerror((int)n));
        corio_close(c);
    }
    return NULL;
}

static void *echo_client(void *arg)
{
    (void)arg;
    int fd = corio_socket(srv_addr.ss_family, SOCK_STREAM, 0);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&srv_addr, srv_alen, 10.0);
    cr_expect_eq(rc, 0, "connect: %s", corio_strerror(rc));
    long checked = 0;
    char out[3000], in[3000];
    for (int round = 0; round < 200; round++) {
        size_t len = 1 + (size_t)(round * 37) % sizeof out;
        for (size_t i = 0; i < len; i++)
            out[i] = (char)(round + i);
        cr_expect_eq(corio_sock_sendall(fd, out, len, 0), (ssize_t)len);
        size_t got = 0;
        while (got < len) {
            ssize_t n = corio_sock_recv(fd, in + got, len - got, 0);
            cr_expect_gt(n, 0, "recv: %s", corio_strerror((int)n));
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        cr_expect(memcmp(in, out, len) == 0);
        checked += (long)got;
        if (round % 50 == 0)
            cr_expect_eq(corio_sleep(0.001), 0);
    }
    corio_close(fd);
    return (void *)checked;
}

static void *pipe_reader(void *arg)
{
    int fd = VI(arg);
    long total = 0;
    char buf[512];
    ssize_t n;
    while ((n = corio_read(fd, buf, sizeof buf)) > 0)
        total += n;
    cr_expect_eq(n, 0, "read: %s", corio_strerror((int)n));
    corio_close(fd);
    return (void *)total;
}

static void *job(void *arg, int *err)
{
    (void)err;
    return arg;
}

static void *main_task(void *arg)
{
    (void)arg;
    enum { CLIENTS = 4 };
    int p[2];
    cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    corio_task *srv = spawn(echo_server, IV(CLIENTS));
    corio_task *rd = spawn(pipe_reader, IV(p[0]));
    corio_task *cl[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        cl[i] = spawn(echo_client, NULL);
    char chunk[256];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 400; i++) {
        cr_expect_eq(corio_write(p[1], chunk, sizeof chunk), (ssize_t)sizeof chunk);
        if (i % 100 == 0) {
            void *r = NULL;
            cr_expect_eq(corio_to_thread(job, IV(i + 1), &r), 0);
            cr_expect_eq(VI(r), i + 1);
        }
    }
    corio_close(p[1]);
    long echoed = 0;
    for (int i = 0; i < CLIENTS; i++) {
        void *v = NULL;
        cr_expect_eq(corio_await(corio_task_future(cl[i]), &v), 0);
        echoed += (long)v;
        corio_task_unref(cl[i]);
    }
    void *piped = NULL;
    cr_expect_eq(corio_await(corio_task_future(rd), &piped), 0);
    cr_expect_eq((long)piped, 400L * 256);
    cr_expect_eq(corio_await(corio_task_future(srv), NULL), 0);
    corio_task_unref(rd);
    corio_task_unref(srv);
    return (void *)echoed;
}

Test(io_eintr, every_call_survives_a_signal_storm, .timeout = 60)
{
    FD_CHECK_BEGIN();
    listen_fd = tcp_listener(0, &srv_addr, &srv_alen);
    start_storm();
    void *echoed = NULL;
    int rc = corio_run(main_task, NULL, &echoed, NULL);
    stop_storm();
    cr_assert_eq(rc, 0, "corio_run: %s", corio_strerror(rc));
    long want = 0;
    for (int round = 0; round < 200; round++)
        want += 1 + (round * 37) % 3000;
    cr_assert_eq((long)echoed, 4 * want);
    corio_close(listen_fd);
    printf("io_eintr: %ld signals delivered during the run, %ld bytes echoed intact\n",
           (long)signals, (long)echoed);
    cr_assert_gt(signals, 10, "the storm did not happen (%ld signals)", (long)signals);
    FD_CHECK_END();
}
