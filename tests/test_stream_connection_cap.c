/* max_connections (issue 18): at the cap a server stops accepting, so clients wait in the
 * backlog rather than take the fds the process needs, and it accepts again as soon as a
 * connection ends. The default cap leaves 64 fds of RLIMIT_NOFILE free: under `ulimit -n 256`,
 * 251 slowloris connections used to take every fd and lock out every other client (and every
 * other fd the process wanted) until they left. Here a separate process opens more silent
 * connections than the limit allows while this one keeps fds to spare, never sees EMFILE, and
 * serves a normal client within a few header_timeouts. Criterion runs each test in its own
 * process, so the lowered limit touches no other test. */
#include "defence_helpers.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static int port, accept_reports;

static void count_report(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)loop, (void)arg;
    (void)ctx;
    accept_reports++;
}

static void echo_lines(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    const char *line;
    ssize_t n;
    while ((n = corio_reader_readline(r, &line)) > 0)
        if (corio_writer_write(w, line, (size_t)n) < 0 || corio_writer_drain(w) < 0)
            return;
}

/* 1 if fd gets its line echoed within `limit` seconds. */
static int echoed(int fd, double limit)
{
    char buf[6];
    return recv_exactly(fd, buf, sizeof buf, limit) == 0 && memcmp(buf, "hello\n", 6) == 0;
}

/* ---- the cap pauses accepting and resumes it ---- */

#define CAP 4
#define EXTRA 2

static void *pause_and_resume(void *arg)
{
    (void)arg;
    corio_stream_opts o = {.max_connections = CAP};
    corio_server *srv;
    cr_assert_eq(corio_start_server(&srv, "127.0.0.1", 0, echo_lines, NULL, &o), 0);
    port = corio_server_get_port(srv);
    int fds[CAP + EXTRA];
    for (int i = 0; i < CAP + EXTRA; i++) {
        fds[i] = client_connect(port);
        cr_assert_geq(fds[i], 0);
        corio_sock_sendall(fds[i], "hello\n", 6, 0);
    }
    for (int i = 0; i < CAP; i++)
        cr_expect(echoed(fds[i], END_LATE), "client %d under the cap is served", i);
    for (int i = CAP; i < CAP + EXTRA; i++)
        cr_expect(!echoed(fds[i], 0.3), "client %d over the cap waits", i);
    corio_server_stats st = server_stats(srv);
    cr_expect_eq(st.active, CAP);
    cr_expect_eq(st.accepted, CAP);
    cr_expect_geq(st.accept_pauses, 1);
    /* One leaves: exactly one more is taken. */
    corio_close(fds[0]);
    cr_expect(echoed(fds[CAP], END_LATE), "the first waiting client is served once one left");
    cr_expect(!echoed(fds[CAP + 1], 0.3), "the next still waits");
    corio_close(fds[1]);
    cr_expect(echoed(fds[CAP + 1], END_LATE));
    for (int i = 2; i < CAP + EXTRA; i++)
        corio_close(fds[i]);
    corio_server_close(srv);
    cr_expect_eq(corio_server_wait_closed(srv), 0);
    corio_server_free(srv);
    return NULL;
}
Test(stream_connection_cap, accepting_pauses_at_the_cap_and_resumes, .timeout = 30)
{
    RUN_CHECKED(pause_and_resume, NULL);
}

/* ---- fd exhaustion against the default cap ---- */

#define NOFILE 192   /* the server's limit: its default cap is NOFILE - 64 */
#define ATTACKERS 300 /* silent connections from another process: more than NOFILE */
#define LIMIT 1.0    /* header_timeout */

/* The attacking process: its own fd limit raised, ATTACKERS connections that send nothing,
 * each waiting for the server to close it. Exits with the number that were not closed. */
static void attacker_process(int ready_fd)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static int fds[ATTACKERS];
    for (int i = 0; i < ATTACKERS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0)
            _exit(200);
        struct timeval tv = {.tv_sec = (time_t)END_LATE * 3};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    if (write(ready_fd, "r", 1) != 1)
        _exit(201);
    int open_still = 0;
    for (int i = 0; i < ATTACKERS; i++) {
        char c;
        if (recv(fds[i], &c, 1, 0) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            open_still++;
        close(fds[i]);
    }
    _exit(open_still > 199 ? 199 : open_still);
}

static void *fd_exhaustion(void *arg)
{
    (void)arg;
    corio_loop_set_error_handler(corio_get_running_loop(), count_report, NULL);
    corio_stream_opts o = {.header_timeout = LIMIT, .backlog = ATTACKERS + 16};
    corio_server *srv;
    cr_assert_eq(corio_start_server(&srv, "127.0.0.1", 0, echo_lines, NULL, &o), 0);
    port = corio_server_get_port(srv);
    corio_server_stats st = server_stats(srv);
    cr_expect_eq(st.max_connections, NOFILE - 64, "the default cap");
    int ready[2];
    cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        attacker_process(ready[1]);
    corio_close(ready[1]);
    cr_assert_eq(corio_wait_readable(ready[0], END_LATE), 0, "the attackers connected");
    corio_close(ready[0]);
    /* Every slot taken now, the backlog holding the rest: this process still has fds. */
    int fd = client_connect(port);
    cr_assert_geq(fd, 0, "the server left no fd for a client: %s", corio_strerror(fd));
    double t0 = now_s();
    corio_sock_sendall(fd, "hello\n", 6, 0);
    cr_expect(echoed(fd, 30 * LIMIT), "the normal client was not served");
    double dt = now_s() - t0;
    /* Behind ATTACKERS / cap rounds of attackers at most, each closed at header_timeout. */
    double rounds = (double)ATTACKERS / (NOFILE - 64) + 1;
    cr_expect_lt(dt, (rounds + 2) * LIMIT + 2.0, "a normal client waited %.3f s", dt);
    corio_close(fd);
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0)
        corio_sleep(0.05);
    cr_expect(WIFEXITED(status), "the attacking process ended by a signal");
    cr_expect_eq(WEXITSTATUS(status), 0, "attackers left open (200+: could not connect)");
    st = server_stats(srv);
    fprintf(stderr, "fd exhaustion: cap %zu under RLIMIT_NOFILE %d, %d attackers; normal client "
            "served in %.3f s; %llu header timeouts, %llu accept pauses, %d reports\n",
            st.max_connections, NOFILE, ATTACKERS, dt, (unsigned long long)st.header_timeouts,
            (unsigned long long)st.accept_pauses, accept_reports);
    cr_expect_eq(st.header_timeouts, ATTACKERS);
    cr_expect_geq(st.accept_pauses, 1);
    cr_expect_eq(accept_reports, 0, "no EMFILE, nothing dropped");
    cr_expect_eq(st.dropped, 0);
    corio_server_close(srv);
    corio_server_wait_closed(srv);
    corio_server_free(srv);
    return NULL;
}

Test(stream_connection_cap, fd_exhaustion_leaves_room_for_a_client, .timeout = 90)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < ATTACKERS + 64)
        cr_skip_test("RLIMIT_NOFILE's hard limit %lu is below %d", (unsigned long)rl.rlim_max,
                     ATTACKERS + 64);
    rl.rlim_cur = NOFILE;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    RUN_CHECKED(fd_exhaustion, NULL);
}
