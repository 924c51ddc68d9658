/* The load client of the network benchmark's echo rows (bench/net/run.sh).
 *
 * Opens C connections to an echo server on 127.0.0.1 and makes each one play ping-pong: send an
 * M-byte message, read the M bytes back, check them, send the next one. Message k of a connection
 * is M bytes of a fixed pseudo-random pattern starting at offset k mod 256, so that a server that
 * echoes stale, short or misplaced bytes fails the check (the client stops with an error). One
 * thread, level-triggered epoll, as little work per round trip as it can: one send, as many recvs
 * as the reply takes (usually one), a memcmp.
 *
 * After a warm-up (connections open and already playing), it counts round trips for a fixed time.
 * The load client has a core of its own and can saturate it before the server saturates its own,
 * which caps round trips per second: so with -P it also reads the server's CPU time (utime +
 * stime of the whole process, /proc/PID/stat) at both ends of the measured window, and prints
 * the server's CPU time per round trip, which does not depend on how fast the client is.
 *
 * Usage: load -p PORT [-c CONNS] [-s BYTES] [-d SECONDS] [-w WARMUP_SECONDS] [-P SERVER_PID]
 *        (defaults: 100 connections, 64 bytes, 3 s, 0.5 s)
 * Prints: RESULT conns=C size=M rts=.. secs=.. rt_per_s=.. load_cpu_frac=..
 *         [srv_cpu_s=.. srv_cpu_us_per_rt=..]
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

#include "net_util.h"

struct lconn {
    int fd;
    uint32_t k;        /* the message being played */
    size_t sent, got;  /* bytes of it sent and received */
    int want_out;      /* waiting for EPOLLOUT to send the rest */
};

static size_t msg_size;
static unsigned char *pattern; /* msg_size + 256 bytes */
static unsigned char *scratch; /* what recv reads into */
static int ep;
static uint64_t rts;

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* utime + stime of the whole process (all its threads, dead ones too), in seconds. */
static double proc_cpu(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        NET_DIE("%s: %s (the server is gone?)", path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long utime, stime;
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                     &stime) != 2)
        NET_DIE("cannot parse %s", path);
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void watch(struct lconn *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, op, c->fd, &ev) < 0)
        NET_DIE("epoll_ctl: %s", strerror(errno));
}

/* Sends what is left of the message; waits for EPOLLOUT if the kernel does not take it all. */
static void send_rest(struct lconn *c)
{
    const unsigned char *msg = pattern + (c->k & 255);
    while (c->sent < msg_size) {
        ssize_t n = send(c->fd, msg + c->sent, msg_size - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN)
                NET_DIE("send: %s", strerror(errno));
            if (!c->want_out)
                watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
            c->want_out = 1;
            return;
        }
        c->sent += (size_t)n;
    }
    if (c->want_out)
        watch(c, EPOLLIN, EPOLL_CTL_MOD);
    c->want_out = 0;
}

static void on_readable(struct lconn *c)
{
    ssize_t n = recv(c->fd, scratch, msg_size - c->got, 0);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        NET_DIE("the server closed a connection (%s)", n ? strerror(errno) : "EOF");
    }
    if (memcmp(scratch, pattern + (c->k & 255) + c->got, (size_t)n) != 0)
        NET_DIE("the server echoed wrong bytes (message %u, offset %zu)", c->k, c->got);
    c->got += (size_t)n;
    if (c->got < msg_size || c->sent < msg_size)
        return;
    rts++;
    c->k++;
    c->sent = c->got = 0;
    send_rest(c);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        NET_DIE("connect to port %d: %s", port, strerror(errno));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    net_nodelay(fd);
    return fd;
}

/* Plays until `until` (CLOCK_MONOTONIC seconds). */
static void play(double until)
{
    struct epoll_event evs[1024];
    while (now(CLOCK_MONOTONIC) < until) {
        int n = epoll_wait(ep, evs, 1024, 100);
        if (n < 0 && errno != EINTR)
            NET_DIE("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            struct lconn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLOUT)
                send_rest(c);
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(c);
        }
    }
}

int main(int argc, char **argv)
{
    int port = 0, nconns = 100, pid = 0, opt;
    double secs = 3.0, warmup = 0.5;
    msg_size = 64;
    while ((opt = getopt(argc, argv, "p:c:s:d:w:P:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'c': nconns = atoi(optarg); break;
        case 's': msg_size = (size_t)atol(optarg); break;
        case 'd': secs = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 'P': pid = atoi(optarg); break;
        default: port = 0; optind = argc; break;
        }
    }
    if (port <= 0 || nconns <= 0 || msg_size == 0 || secs <= 0 || warmup < 0)
        NET_DIE("usage: %s -p PORT [-c CONNS] [-s BYTES] [-d SECONDS] [-w WARMUP] [-P PID]",
                argv[0]);

    pattern = malloc(msg_size + 256);
    scratch = malloc(msg_size);
    struct lconn *conns = calloc((size_t)nconns, sizeof *conns);
    if (!pattern || !scratch || !conns)
        NET_DIE("out of memory");
    uint32_t x = 2463534242u; /* xorshift32 */
    for (size_t i = 0; i < msg_size + 256; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        pattern[i] = (unsigned char)x;
    }
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        NET_DIE("epoll_create1: %s", strerror(errno));
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = connect_to(port);
        watch(&conns[i], EPOLLIN, EPOLL_CTL_ADD);
    }
    for (int i = 0; i < nconns; i++)
        send_rest(&conns[i]);

    play(now(CLOCK_MONOTONIC) + warmup);
    uint64_t rts0 = rts;
    double srv0 = pid ? proc_cpu(pid) : 0, cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
    double t0 = now(CLOCK_MONOTONIC);
    play(t0 + secs);
    double t1 = now(CLOCK_MONOTONIC), cpu1 = now(CLOCK_PROCESS_CPUTIME_ID);
    double srv1 = pid ? proc_cpu(pid) : 0;
    uint64_t n = rts - rts0;

    printf("RESULT conns=%d size=%zu rts=%llu secs=%.3f rt_per_s=%.0f load_cpu_frac=%.3f", nconns,
           msg_size, (unsigned long long)n, t1 - t0, (double)n / (t1 - t0),
           (cpu1 - cpu0) / (t1 - t0));
    if (pid)
        printf(" srv_cpu_s=%.2f srv_cpu_us_per_rt=%.3f", srv1 - srv0,
               n ? (srv1 - srv0) * 1e6 / (double)n : 0.0);
    printf("\n");
    for (int i = 0; i < nconns; i++)
        close(conns[i].fd);
    close(ep);
    free(conns);
    free(scratch);
    free(pattern);
    return n > 0 ? 0 : 1;
}
