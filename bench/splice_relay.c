/* What a proxy's relay costs: the loop thread's CPU time to move N MiB from one loopback TCP
 * connection to another, by corio_sock_splice (through a pipe, no copy into user space) or by
 * corio_sock_recv + corio_sock_sendall through a buffer as big as the pipe, 256 KiB (what a
 * relay without splice does). The sender and the receiver are plain blocking threads, outside
 * the measure. The two ways alternate for R rounds; the report is each way's median and the
 * ratio of the medians.
 *
 *   cmake --build build-bench --target bench_splice_relay
 *   build-bench/bench/splice_relay [MiB per round (256)] [rounds (5)]
 */
#define _GNU_SOURCE /* accept4 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#define BUF (256 * 1024) /* the copy's buffer, as big as the splice's pipe */

typedef struct round {
    int src[2], dst[2]; /* [0] the thread's end, [1] the relay's end */
    size_t bytes;
    int splice;
    double cpu;
} round_t;

static void tcp_pair(int fds[2]) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, alen) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) < 0)
        BENCH_DIE("listen: %s", strerror(errno));
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fds[0], (struct sockaddr *)&a, alen) < 0)
        BENCH_DIE("connect: %s", strerror(errno));
    fds[1] = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    close(l);
}

static void *send_thread(void *arg) {
    round_t *r = arg;
    static char buf[BUF];
    for (size_t off = 0; off < r->bytes;) {
        ssize_t n = send(r->src[0], buf, BUF, 0);
        if (n <= 0)
            BENCH_DIE("send: %s", strerror(errno));
        off += (size_t)n;
    }
    shutdown(r->src[0], SHUT_WR);
    return NULL;
}

static void *recv_thread(void *arg) {
    round_t *r = arg;
    static char buf[BUF];
    while (recv(r->dst[0], buf, BUF, 0) > 0)
        ;
    return NULL;
}

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static ssize_t copy_relay(int in, int out) {
    char *buf = malloc(BUF);
    ssize_t n, total = 0;
    while ((n = corio_sock_recv(in, buf, BUF, 0)) > 0) {
        if (corio_sock_sendall(out, buf, (size_t)n, 0) < 0)
            break;
        total += n;
    }
    free(buf);
    return total;
}

static void *relay(void *arg) {
    round_t *r = arg;
    double t0 = thread_cpu();
    ssize_t n = r->splice ? corio_sock_splice(r->src[1], r->dst[1], 0, NULL)
                          : copy_relay(r->src[1], r->dst[1]);
    r->cpu = thread_cpu() - t0;
    if (n < (ssize_t)r->bytes)
        BENCH_DIE("relay moved %zd of %zu", n, r->bytes);
    return NULL;
}

static double run_round(size_t bytes, int splice) {
    round_t r = {.bytes = bytes, .splice = splice};
    tcp_pair(r.src);
    tcp_pair(r.dst);
    int fl = fcntl(r.dst[1], F_GETFL);
    fcntl(r.dst[1], F_SETFL, fl | O_NONBLOCK);
    pthread_t s, d;
    pthread_create(&s, NULL, send_thread, &r);
    pthread_create(&d, NULL, recv_thread, &r);
    if (corio_run(relay, &r, NULL, NULL) != 0)
        BENCH_DIE("corio_run failed");
    shutdown(r.dst[1], SHUT_WR);
    pthread_join(s, NULL);
    pthread_join(d, NULL);
    for (int i = 0; i < 2; i++)
        close(r.src[i]), close(r.dst[i]);
    return r.cpu;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 256, rounds = argc > 2 ? atol(argv[2]) : 5;
    if (mib <= 0 || rounds <= 0 || rounds > 99)
        BENCH_DIE("usage: %s [MiB > 0] [rounds 1..99]", argv[0]);
    size_t bytes = (size_t)mib << 20;
    double sp[99], cp[99];
    for (long i = 0; i < rounds; i++) {
        sp[i] = run_round(bytes, 1);
        cp[i] = run_round(bytes, 0);
    }
    qsort(sp, (size_t)rounds, sizeof *sp, cmp);
    qsort(cp, (size_t)rounds, sizeof *cp, cmp);
    double s = sp[rounds / 2], c = cp[rounds / 2];
    printf("relay of %ld MiB, loop thread CPU (median of %ld): splice %.3f s (%.2f GiB/s of CPU), "
           "recv+send %.3f s (%.2f GiB/s of CPU); splice/copy %.2fx\n",
           mib, rounds, s, (double)mib / 1024 / s, c, (double)mib / 1024 / c, s / c);
    return 0;
}
