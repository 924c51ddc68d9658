/* Stress: hostile peers against the real examples (issue 18). examples/echo_server and
 * examples/http_hello run as child processes with their default options, and this process
 * attacks each in turn, one attack per phase:
 *   slowloris   many connections trickling a line or a request head a byte at a time;
 *   flood       a few connections sending pipelined requests as fast as they go, reading nothing;
 *   rst storm   thousands of connections sending part of a request, then a reset;
 *   huge lines  connections sending a line or a head far over the server's limit;
 *   garbage     connections sending random bytes.
 * Throughout each phase a normal client connects, asks and checks the answer every 20 ms, and
 * the server's RSS and fd count are sampled. Checked: every normal request answered correctly and
 * in time, the server's fds bounded by the connections open and back to their start once the
 * attackers are gone, its RSS bounded, and the server alive at the end. The defences' time
 * limits (60 s and more by default) are longer than a phase: tests/test_stream_slowloris.c and
 * its siblings check them with short limits. */
#include "stress_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* Seconds: a normal request answered later than this failed (a flood of pipelined requests
 * held one for 1.006 s before the cooperative budget; 0.017 s after). */
#ifdef CORIO_SANITIZE
#define PROBE_LATE 2.0
#else
#define PROBE_LATE 0.5
#endif
#define RSS_BOUND (96 * 1024) /* KiB: the most a phase may add to the server's RSS */

typedef struct target {
    const char *name;
    int http;
} target;

static const target targets[] = {{"echo_server", 0}, {"http_hello", 1}};
static const char http_ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                              "Content-Length: 13\r\n\r\nHello, world!";

static pid_t server = -1;
static int port, http;
#define PHASE_SECS 1.0 /* each attack's length */
static volatile int phase_over;
static long attacks_made; /* attacker connections made in the phase */

/* ---- the server process ---- */

static int start_server(const target *t) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CORIO_EXAMPLES_DIR, t->name);
    int out[2];
    if (access(path, X_OK) != 0 || pipe(out) != 0)
        return -1;
    server = fork();
    if (server == 0) {
        dup2(out[1], 1);
        close(out[0]);
        execl(path, path, "0", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[256] = "";
    FILE *f = fdopen(out[0], "r");
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    char *colon = ok ? strrchr(line, ':') : NULL;
    port = colon ? atoi(colon + 1) : 0;
    http = t->http;
    return port > 0 ? 0 : -1;
}

static long server_rss_kib(void) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/statm", (int)server);
    return rss_kib_of(p);
}

static int server_fds(void) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/fd", (int)server);
    return fds_in(p);
}

static int server_alive(void) { return waitpid(server, NULL, WNOHANG) == 0; }

/* ---- connections ---- */

static int connect_server(void) {
    int fd = corio_socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return fd;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&a, sizeof a, 10.0);
    if (rc < 0) {
        corio_close(fd);
        return rc;
    }
    attacks_made++;
    return fd;
}

static void reset_close(int fd) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    corio_close(fd);
}

/* Sends what the socket takes now, waiting at most `wait` seconds for room. */
static ssize_t send_some(int fd, const char *buf, size_t n, double wait) {
    if (corio_wait_writable(fd, wait) < 0)
        return 0;
    ssize_t k = corio_sock_send(fd, buf, n, MSG_DONTWAIT);
    return k == -EAGAIN ? 0 : k;
}

/* ---- the normal client ---- */

typedef struct probes {
    long done, failed;
    double worst;
} probes;

/* One request on a new connection; its latency, or -1. */
static double probe_once(void) {
    double t0 = now_s();
    corio_reader *r;
    corio_writer *w;
    if (corio_open_connection(&r, &w, "127.0.0.1", port, NULL) < 0)
        return -1;
    const char *req = http ? "GET / HTTP/1.1\r\nHost: x\r\n\r\n" : "ping\n";
    const char *want = http ? http_ok : "ping\n";
    size_t n = strlen(want);
    char got[128];
    corio_timeout *tm;
    int ok = corio_timeout_enter(&tm, PROBE_LATE) == 0;
    if (ok) {
        ok = corio_writer_write(w, req, strlen(req)) == 0 &&
             corio_reader_readexactly(r, got, n, NULL) == (ssize_t)n && memcmp(got, want, n) == 0;
        ok = corio_timeout_exit(tm, ok ? 0 : -1) == 0 && ok;
    }
    corio_stream_free(r, w);
    return ok ? now_s() - t0 : -1;
}

static void *normal_client(void *arg) {
    probes *p = arg;
    while (!phase_over) {
        double dt = probe_once();
        p->done++;
        if (dt < 0)
            p->failed++;
        else if (dt > p->worst)
            p->worst = dt;
        corio_sleep(0.02);
    }
    return NULL;
}

/* ---- the server's figures, sampled ---- */

typedef struct samples {
    long rss_peak;
    int fds_peak;
} samples;

static void *sampler(void *arg) {
    samples *s = arg;
    while (!phase_over) {
        long rss = server_rss_kib();
        int fds = server_fds();
        s->rss_peak = rss > s->rss_peak ? rss : s->rss_peak;
        s->fds_peak = fds > s->fds_peak ? fds : s->fds_peak;
        corio_sleep(0.01);
    }
    return NULL;
}

/* ---- the attacks: each task holds its connection until the phase is over ---- */

static void *slowloris(void *arg) {
    (void)arg;
    int fd = connect_server();
    if (fd < 0)
        return NULL;
    const char *start = http ? "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " : "slow";
    corio_sock_sendall(fd, start, strlen(start), 0);
    while (!phase_over && send_some(fd, "a", 1, 0.1) >= 0)
        corio_sleep(0.1);
    reset_close(fd);
    return NULL;
}

static void *flood(void *arg) {
    (void)arg;
    int fd = connect_server();
    if (fd < 0)
        return NULL;
    static char burst[32768];
    static size_t burst_n;
    if (!burst_n) {
        const char *one = http ? "GET / HTTP/1.1\r\nHost: x\r\n\r\n" : "pipelined line\n";
        size_t k = strlen(one);
        for (; burst_n + k <= sizeof burst; burst_n += k)
            memcpy(burst + burst_n, one, k);
    }
    while (!phase_over && send_some(fd, burst, burst_n, 0.05) >= 0)
        ;
    reset_close(fd);
    return NULL;
}

static void *rst_storm(void *arg) {
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n && !phase_over; i++) {
        int fd = connect_server();
        if (fd < 0)
            continue;
        const char *part = http ? "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"
                                : "part of a li";
        corio_sock_send(fd, part, strlen(part), MSG_DONTWAIT);
        reset_close(fd);
    }
    return NULL;
}

static void *huge_line(void *arg) {
    (void)arg;
    int fd = connect_server();
    if (fd < 0)
        return NULL;
    static char chunk[16384];
    memset(chunk, 'h', sizeof chunk);
    if (http)
        corio_sock_sendall(fd, "GET / HTTP/1.1\r\nX-Huge: ", 24, 0);
    size_t sent = 0;
    while (!phase_over && sent < (8u << 20)) {
        ssize_t k = send_some(fd, chunk, sizeof chunk, 0.05);
        if (k < 0)
            break; /* the server refused the line and closed */
        sent += (size_t)k;
    }
    reset_close(fd);
    return NULL;
}

static void *garbage(void *arg) {
    (void)arg;
    int fd = connect_server();
    if (fd < 0)
        return NULL;
    char junk[4096];
    for (int round = 0; round < 16 && !phase_over; round++) {
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (char)rng();
        if (send_some(fd, junk, sizeof junk, 0.05) < 0)
            break;
        char sink[4096];
        corio_sock_recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    }
    reset_close(fd);
    return NULL;
}

typedef struct attack {
    const char *name;
    corio_coro_fn fn;
    long tasks;
    long arg; /* per task */
} attack;

/* ---- one phase ---- */

/* Waits up to 10 s for the server's fds to come back to `base`; returns the last count. */
static int settle_fds(int base) {
    int fds = server_fds();
    for (int i = 0; i < 1000 && fds > base; i++) {
        corio_sleep(0.01);
        fds = server_fds();
    }
    return fds;
}

static void run_phase(const attack *a, int base_fds) {
    phase_over = 0;
    attacks_made = 0;
    probes p = {0};
    samples s = {0};
    long rss0 = server_rss_kib();
    corio_task *probe, *sample;
    corio_create_task(&probe, NULL, normal_client, &p, NULL);
    corio_create_task(&sample, NULL, sampler, &s, NULL);
    corio_task **ts = calloc((size_t)a->tasks, sizeof *ts);
    for (long i = 0; i < a->tasks; i++)
        corio_create_task(&ts[i], NULL, a->fn, (void *)(intptr_t)a->arg, NULL);
    corio_sleep(PHASE_SECS);
    phase_over = 1;
    for (long i = 0; i < a->tasks; i++) {
        corio_await(corio_task_future(ts[i]), NULL);
        corio_task_unref(ts[i]);
    }
    free(ts);
    corio_await(corio_task_future(probe), NULL);
    corio_await(corio_task_future(sample), NULL);
    corio_task_unref(probe);
    corio_task_unref(sample);
    int fds_after = settle_fds(base_fds);
    printf("  %-10s %5ld attackers, %5ld connections: normal client %ld requests, %ld failed, "
           "worst %.3f s; server peak %d fds, RSS +%ld KiB (peak %ld KiB); fds after %d (start "
           "%d)\n", a->name, a->tasks, attacks_made, p.done, p.failed, p.worst, s.fds_peak,
           s.rss_peak - rss0, s.rss_peak, fds_after, base_fds);
    CHECK(p.done > 0 && p.failed == 0, "%s: %ld of %ld normal requests failed", a->name,
          p.failed, p.done);
    CHECK(p.worst < PROBE_LATE, "%s: a normal request took %.3f s", a->name, p.worst);
    /* Each attacker holds one connection at a time; the server may also hold, briefly, up to a
     * backlog's worth that were accepted before it saw their reset. */
    CHECK(s.fds_peak <= base_fds + a->tasks + 128, "%s: %d fds for %ld connections", a->name,
          s.fds_peak, a->tasks);
    CHECK(fds_after == base_fds, "%s: the server kept %d fds after the attack", a->name,
          fds_after - base_fds);
#ifndef CORIO_SANITIZE
    CHECK(s.rss_peak - rss0 <= RSS_BOUND, "%s: RSS grew by %ld KiB", a->name, s.rss_peak - rss0);
#endif
    CHECK(server_alive(), "%s: the server died", a->name);
}

static void *main_task(void *arg) {
    (void)arg;
    attack attacks[] = {
        {"slowloris", slowloris, scaled(1000), 0},
        {"flood", flood, scaled(16), 0},
        {"rst storm", rst_storm, 20, scaled(200)},
        {"huge lines", huge_line, scaled(32), 0},
        {"garbage", garbage, scaled(200), 0},
    };
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        if (start_server(&targets[t]) < 0) {
            CHECK(0, "could not start %s/%s", CORIO_EXAMPLES_DIR, targets[t].name);
            continue;
        }
        corio_sleep(0.1);
        int base = server_fds();
        printf("%s (pid %d, port %d, %d fds, RSS %ld KiB):\n", targets[t].name, (int)server, port,
               base, server_rss_kib());
        for (size_t i = 0; i < sizeof attacks / sizeof *attacks; i++)
            run_phase(&attacks[i], base);
        CHECK(server_alive(), "%s died", targets[t].name);
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    return NULL;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    rng_seed();
    const char *be = getenv("CORIO_BACKEND");
    printf("stress_hostile: backend %s, scale %.2f\n", be ? be : "default", stress_scale());
    int rc = corio_run(main_task, NULL, NULL, NULL);
    CHECK(rc == 0, "corio_run: %s", corio_strerror(rc));
    return stress_result("stress_hostile");
}
