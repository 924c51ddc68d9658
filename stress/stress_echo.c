/* Stress: 10,000 concurrent TCP connections over loopback echoing checksummed data, in rounds.
 *
 * The parent process is the echo server (a task per connection); a forked child is the client.
 * Each client connection connects and waits for the server's go byte, which the server sends
 * once it has accepted every connection of the round (so that they are all held at once), then
 * does one of three things: (normal, 80%) sends a random amount
 * of pseudo-random data in random-sized pieces, half-closes, reads the echo to EOF and checks it
 * byte for byte; (early close, 10%) sends part and closes without reading; (reset, 10%) sends
 * part and aborts with an RST. Each round of each run uses its own source address (127.a.b.r,
 * a and b random), so that TIME_WAIT from earlier rounds and runs never runs out of ports.
 *
 * Checked: every byte of every normal connection came back intact and the server received
 * exactly what was sent; aborted connections end with EOF, -ECONNRESET or -EPIPE and nothing
 * else; each process's fd count returns to its start after every round; RSS stays flat. */
#include "stress_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

enum { MODE_NORMAL, MODE_EARLY_CLOSE, MODE_RESET };

static long nconn;
static int rounds = 3;
static struct sockaddr_in srv_addr;
static int listen_fd;

/* ---- the data: a per-connection pseudo-random byte stream ---- */

static inline uint8_t stream_byte(uint32_t conn, uint64_t pos) {
    uint64_t x = (pos >> 3) * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)conn << 32 | 0x5bd1e995);
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    return (uint8_t)(x >> ((pos & 7) * 8));
}

static void fill(uint32_t conn, uint64_t pos, uint8_t *buf, size_t n) {
    for (size_t i = 0; i < n; i++)
        buf[i] = stream_byte(conn, pos + i);
}

/* ---- server ---- */

static struct {
    long accepted, active, max_active, done;
    long bytes_in, bytes_out, eof, resets, pipes, other;
} srv;

static long srv_total;

static void *serve_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    uint8_t buf[8192];
    /* Every connection is held open until the last one is accepted; then the go byte. */
    while (srv.accepted < srv_total)
        corio_sleep(0.005);
    if (corio_sock_sendall(fd, "G", 1, 0) != 1)
        srv.other++;
    for (;;) {
        ssize_t n = corio_sock_recv(fd, buf, sizeof buf, 0);
        if (n == 0) {
            srv.eof++;
            break;
        }
        if (n < 0) {
            if (n == -ECONNRESET)
                srv.resets++;
            else
                srv.other++, fprintf(stderr, "server recv: %s\n", corio_strerror((int)n));
            break;
        }
        srv.bytes_in += n;
        ssize_t w = corio_sock_sendall(fd, buf, (size_t)n, 0);
        if (w < 0) {
            if (w == -EPIPE)
                srv.pipes++;
            else if (w == -ECONNRESET)
                srv.resets++;
            else
                srv.other++, fprintf(stderr, "server send: %s\n", corio_strerror((int)w));
            break;
        }
        srv.bytes_out += w;
    }
    corio_close(fd);
    srv.active--;
    srv.done++;
    return NULL;
}

static void *server_main(void *arg) {
    long total = (long)(intptr_t)arg;
    srv_total = total;
    while (srv.accepted < total) {
        int c = corio_sock_accept(listen_fd, NULL, NULL);
        if (c < 0) {
            CHECK(0, "accept: %s", corio_strerror(c));
            corio_sleep(0.01);
            continue;
        }
        srv.accepted++;
        if (++srv.active > srv.max_active)
            srv.max_active = srv.active;
        /* Fire and forget: the loop keeps the task until it is done. */
        int rc = corio_create_task(NULL, NULL, serve_conn, (void *)(intptr_t)c, NULL);
        CHECK(rc == 0, "create_task: %s", corio_strerror(rc));
    }
    while (srv.done < total)
        corio_sleep(0.005);
    return NULL;
}

/* ---- client ---- */

static struct {
    long connected, inflight;
    long bytes_sent, bytes_sent_normal, bytes_checked, normal, early, reset, failures;
    int round;
    uint32_t src_base; /* 127.a.b.0: this run's source addresses, one per round */
} cli;

static void *client_conn(void *arg) {
    uint32_t id = (uint32_t)(uintptr_t)arg;
    uint64_t r = rng();
    int mode = r % 10 == 0 ? MODE_EARLY_CLOSE : r % 10 == 1 ? MODE_RESET : MODE_NORMAL;
    size_t total = (size_t)((r >> 8) % 16384);
    int fd = corio_socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0, "socket: %s", corio_strerror(fd));
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(cli.src_base + 1u + (uint32_t)cli.round);
    CHECK(bind(fd, (struct sockaddr *)&src, sizeof src) == 0, "bind: %s", strerror(errno));
    while (cli.inflight >= 256) /* no more SYNs at once than the backlog takes */
        corio_sleep(0.001);
    cli.inflight++;
    int rc = corio_sock_connect(fd, (struct sockaddr *)&srv_addr, sizeof srv_addr, 30.0);
    cli.inflight--;
    CHECK(rc == 0, "connect: %s", corio_strerror(rc));
    if (rc < 0) {
        cli.failures++;
        corio_close(fd);
        return NULL;
    }
    cli.connected++;
    /* The server says go once it holds every connection of the round. */
    char go = 0;
    ssize_t g = corio_sock_recv(fd, &go, 1, 0);
    CHECK(g == 1 && go == 'G', "no go byte: %s", corio_strerror((int)g));
    if (mode != MODE_NORMAL)
        total /= 2;
    uint8_t buf[4096];
    size_t sent = 0;
    while (sent < total) {
        size_t n = 1 + (size_t)rng_below(sizeof buf);
        if (n > total - sent)
            n = total - sent;
        fill(id, sent, buf, n);
        ssize_t w = corio_sock_sendall(fd, buf, n, 0);
        CHECK(w == (ssize_t)n, "send: %s", corio_strerror((int)w));
        if (w < 0)
            break;
        sent += n;
    }
    cli.bytes_sent += (long)sent;
    if (mode == MODE_RESET) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        cli.reset++;
    } else if (mode == MODE_EARLY_CLOSE) {
        cli.early++;
    } else {
        corio_sock_shutdown(fd, SHUT_WR);
        size_t got = 0;
        for (;;) {
            ssize_t n = corio_sock_recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                CHECK(n == 0, "recv: %s", corio_strerror((int)n));
                break;
            }
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] != stream_byte(id, got + (size_t)i)) {
                    CHECK(0, "connection %u: byte %zu differs", id, got + (size_t)i);
                    cli.failures++;
                    break;
                }
            got += (size_t)n;
        }
        CHECK(got == sent, "connection %u: sent %zu, echoed %zu", id, sent, got);
        cli.bytes_sent_normal += (long)sent;
        cli.bytes_checked += (long)got;
        cli.normal++;
    }
    corio_close(fd);
    return NULL;
}

static void *client_round(void *arg) {
    long base = (long)(intptr_t)arg;
    corio_task **ts = calloc((size_t)nconn, sizeof *ts);
    for (long i = 0; i < nconn; i++) {
        int rc = corio_create_task(&ts[i], NULL, client_conn, (void *)(uintptr_t)(base + i), NULL);
        CHECK(rc == 0, "create_task %ld: %s", i, corio_strerror(rc));
    }
    for (long i = 0; i < nconn; i++) {
        if (!ts[i])
            continue;
        corio_await(corio_task_future(ts[i]), NULL);
        corio_task_unref(ts[i]);
    }
    free(ts);
    return NULL;
}

static int report_fd = -1;

static int run_client(void) {
    rng_state ^= 0x1234567; /* the child's own sequence */
    /* Source addresses of this run only: the TIME_WAIT of an earlier run (or of the other
     * backend's run) must not take this run's ports. */
    cli.src_base = 0x7f000000u | (uint32_t)(1 + rng_below(250)) << 16 |
                   (uint32_t)rng_below(256) << 8;
    int fds0 = open_fds();
    long rss[8];
    for (int r = 0; r < rounds; r++) {
        cli.round = r;
        cli.connected = 0;
        int rc = corio_run(client_round, (void *)(intptr_t)(r * nconn), NULL, NULL);
        CHECK(rc == 0, "client round: %s", corio_strerror(rc));
        rss[r] = rss_kib();
        CHECK(open_fds() == fds0, "client fds: %d at start, %d after round %d", fds0, open_fds(),
              r + 1);
    }
    check_rss_flat(rss, rounds);
    printf("client: %ld connections (%ld normal, %ld early closes, %ld resets), %ld bytes sent, "
           "%ld bytes echoed and checked, RSS %ld KiB after round 1, %ld after round %d\n",
           nconn * rounds, cli.normal, cli.early, cli.reset, cli.bytes_sent, cli.bytes_checked,
           rss[0], rss[rounds - 1], rounds);
    fflush(stdout);
    long sums[2] = {cli.bytes_sent, cli.bytes_sent_normal};
    if (write(report_fd, sums, sizeof sums) != sizeof sums)
        return 1;
    return stress_failures ? 1 : 0;
}

static void raise_fd_limit(long need) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    rng_seed();
    nconn = scaled(10000);
    raise_fd_limit(nconn + 200);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((long)rl.rlim_cur < nconn + 100) {
        printf("SKIP: %ld connections need %ld fds, the limit is %ld\n", nconn, nconn + 100,
               (long)rl.rlim_cur);
        return 0;
    }
    listen_fd = corio_socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    srv_addr.sin_family = AF_INET;
    srv_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof srv_addr;
    if (bind(listen_fd, (struct sockaddr *)&srv_addr, alen) < 0 || listen(listen_fd, 4096) < 0 ||
        getsockname(listen_fd, (struct sockaddr *)&srv_addr, &alen) < 0)
        return 2;
    alarm(300); /* a hang fails loudly rather than at ctest's limit */
    fflush(stdout);
    int report[2];
    if (pipe(report) < 0)
        return 2;
    pid_t child = fork();
    if (child == 0) {
        close(report[0]);
        report_fd = report[1];
        _exit(run_client());
    }
    close(report[1]);
    long total_in = 0;
    double t = now_s();
    int fds0 = open_fds();
    long rss[8];
    for (int r = 0; r < rounds; r++) {
        memset(&srv, 0, sizeof srv);
        int rc = corio_run(server_main, (void *)(intptr_t)nconn, NULL, NULL);
        CHECK(rc == 0, "server round: %s", corio_strerror(rc));
        rss[r] = rss_kib();
        total_in += srv.bytes_in;
        CHECK(open_fds() == fds0, "server fds: %d at start, %d after round %d", fds0, open_fds(),
              r + 1);
        CHECK(srv.other == 0, "%ld unexpected connection errors", srv.other);
        CHECK(srv.bytes_in == srv.bytes_out || srv.resets + srv.pipes > 0,
              "received %ld, echoed %ld", srv.bytes_in, srv.bytes_out);
        printf("server round %d: %ld connections accepted, %ld held at once, %ld bytes in, %ld "
               "echoed, %ld EOF, %ld resets, %ld EPIPE, RSS %ld KiB\n",
               r + 1, srv.accepted, srv.max_active, srv.bytes_in, srv.bytes_out, srv.eof,
               srv.resets, srv.pipes, rss[r]);
        CHECK(srv.max_active == nconn, "only %ld of %ld connections were open at once",
              srv.max_active, nconn);
    }
    check_rss_flat(rss, rounds);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client failed (status %d)", status);
    /* Every byte a client sent on a connection it closed normally reached the server; an RST may
     * discard what the server had not read yet, never more than was sent. */
    long sums[2] = {0, 0};
    CHECK(read(report[0], sums, sizeof sums) == sizeof sums, "no report from the client");
    close(report[0]);
    CHECK(total_in >= sums[1] && total_in <= sums[0],
          "server received %ld bytes; clients sent %ld (%ld on normal connections)", total_in,
          sums[0], sums[1]);
    printf("bytes: clients sent %ld (%ld on normal connections), server received %ld\n", sums[0],
           sums[1], total_in);
    corio_close(listen_fd);
    printf("stress_echo: %d rounds of %ld concurrent connections in %.1f s (backend %s)\n",
           rounds, nconn, now_s() - t, getenv("CORIO_BACKEND") ? getenv("CORIO_BACKEND") : "default");
    return stress_result("stress_echo");
}
