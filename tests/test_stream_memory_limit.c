/* A server out of address space (issue 18): with RLIMIT_AS set a few megabytes above what the
 * process uses, more clients connect than the server has stacks for, each holding its
 * connection open. Every client must be either served or dropped with a report through the
 * loop's error handler, one report per dropped connection: never an EOF nobody explains. Once
 * the limit is lifted (memory is back), a second round of as many clients is served whole.
 *
 * The clients run on a thread started before the limit, with blocking sockets, so that their
 * side needs no memory from the server's budget. Criterion runs each test in its own process,
 * so the limit touches no other test. The sanitizers reserve terabytes of shadow memory and
 * Valgrind keeps its own address-space rules: the test skips there. */
#include "stream_helpers.h"
#include "under_valgrind.h"

#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>

#define NCLIENTS 300
#define HEADROOM_STACKS 100 /* stacks' worth of address space above the process's use */

static int server_port;
static int dropped_reports, other_reports;

static void count_report(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)loop, (void)arg;
    if (ctx->err < 0 && ctx->message && strstr(ctx->message, "connection dropped"))
        dropped_reports++;
    else
        other_reports++;
}

/* Echoes one line, then holds the connection until the client closes it: every client of a
 * client_round needs its own task, and so its own stack, at the same time. */
static void echo_and_hold(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    const char *line;
    ssize_t n = corio_reader_readline(r, &line);
    if (n <= 0 || corio_writer_write(w, line, (size_t)n) < 0 || corio_writer_drain(w) < 0)
        return;
    char rest[16];
    while (corio_reader_read(r, rest, sizeof rest) > 0)
        ;
}

/* ---- the clients' thread ---- */

typedef struct client_round {
    int served, dropped, silent; /* echoed back; ended without an echo; neither, in time */
    int refused;                 /* could not even connect */
    int done_fd;                 /* written once the client_round is over */
} client_round;

/* The reply on one connection: 1 the line came back, 0 the connection ended without it, -1 no
 * answer within the time limit. */
static int await_reply(int fd)
{
    char buf[16];
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 20000) == 1) {
        ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
        if (n <= 0)
            return 0;
        got += (size_t)n;
        if (got >= 6)
            return memcmp(buf, "hello\n", 6) == 0 ? 1 : 0;
    }
    return -1;
}

static void *clients_main(void *arg)
{
    client_round *rd = arg;
    static int fds[NCLIENTS];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < NCLIENTS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0 ||
            send(fds[i], "hello\n", 6, MSG_NOSIGNAL) != 6) {
            rd->refused++;
            if (fds[i] >= 0)
                close(fds[i]);
            fds[i] = -1;
        }
    }
    for (int i = 0; i < NCLIENTS; i++) {
        if (fds[i] < 0)
            continue;
        int r = await_reply(fds[i]);
        rd->served += r == 1;
        rd->dropped += r == 0;
        rd->silent += r < 0;
    }
    for (int i = 0; i < NCLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    char one = 1;
    if (write(rd->done_fd, &one, 1) != 1)
        abort();
    return NULL;
}

/* ---- the server's side ---- */

static size_t address_space_used(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

/* Runs one round of clients on a thread made before the limit and awaits its end. */
static void run_round(client_round *rd)
{
    int pfd[2];
    cr_assert_eq(pipe2(pfd, O_CLOEXEC | O_NONBLOCK), 0);
    rd->done_fd = pfd[1];
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, clients_main, rd), 0);
    char one;
    cr_assert_eq(corio_read(pfd[0], &one, 1), 1);
    pthread_join(th, NULL);
    corio_close(pfd[0]);
    close(pfd[1]);
}

static void *server_main(void *arg)
{
    (void)arg;
    corio_loop_set_error_handler(NULL, count_report, NULL);
    corio_server *srv;
    corio_stream_opts o = {.backlog = NCLIENTS};
    cr_assert_eq(corio_start_server(&srv, "127.0.0.1", 0, echo_and_hold, NULL, &o), 0);
    server_port = corio_server_get_port(srv);

    /* A thread's stack is mapped when it starts: the clients' come before the limit. */
    client_round first = {0}, second = {0};
    struct rlimit old;
    cr_assert_eq(getrlimit(RLIMIT_AS, &old), 0);
    size_t stride = (64 + 64) * 1024; /* a default stack and its guard (at most 64 KiB) */
    struct rlimit lim = {.rlim_cur = address_space_used() + HEADROOM_STACKS * stride,
                         .rlim_max = old.rlim_max};
    /* The clients' thread stack (8 MiB) is reserved under the limit too: leave it room. */
    lim.rlim_cur += 16u << 20;
    cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
    run_round(&first);
    cr_assert_eq(setrlimit(RLIMIT_AS, &old), 0);
    int first_reports = dropped_reports;
    run_round(&second);

    printf("memory limit: %d clients, %d served, %d dropped with %d reports (%d other reports); "
           "after the limit: %d served\n",
           NCLIENTS, first.served, first.dropped, first_reports, other_reports, second.served);
    cr_expect_eq(first.refused + second.refused, 0, "clients that could not connect");
    cr_expect_eq(first.silent, 0, "clients with no answer at all");
    cr_expect_gt(first.dropped, 0, "the limit left room for every client: it tests nothing");
    /* About 200 stacks fit in the headroom. Slabs double (16, 32, ... stacks), and without the
     * pool's fallback to smaller slabs the first one that does not fit ends it: about 110. */
    cr_expect_geq(first.served, HEADROOM_STACKS * 3 / 2, "the stack pool stopped at a full slab");
    cr_expect_eq(first.served + first.dropped, NCLIENTS);
    cr_expect_eq(first_reports, first.dropped, "each dropped client has its report");
    cr_expect_eq(second.served, NCLIENTS, "memory is back: every client is served");
    cr_expect_eq(dropped_reports, first_reports);
    corio_server_close(srv);
    corio_server_close_clients(srv);
    corio_server_wait_closed(srv);
    corio_server_free(srv);
    return NULL;
}

Test(stream_memory_limit, every_client_served_or_reported, .timeout = 120)
{
    if (slow_build())
        cr_skip_test("RLIMIT_AS: the sanitizers and Valgrind manage the address space their way");
    RUN_CHECKED(server_main, NULL);
}
