/* What the stream layer costs over the raw socket calls: one connection over loopback TCP, a
 * 64-byte message sent and echoed back N times, through corio_writer_write + readexactly (the
 * echo side: a start_server handler doing read + write + drain), or through corio_sock_sendall +
 * recv on both sides. Not a comparison with other systems (bench/README.md has those).
 *
 *   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench \
 *       --target bench_stream_pingpong
 *   taskset -c 1 build-bench/bench/stream_pingpong [raw] [N]   (microseconds per round trip)
 */
#include <corio.h>

#include <errno.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int raw;
static long rounds = 100000;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void stream_echo(corio_reader *r, corio_writer *w, void *arg) {
    (void)arg;
    char b[4096];
    ssize_t n;
    while ((n = corio_reader_read(r, b, sizeof b)) > 0)
        if (corio_writer_write(w, b, (size_t)n) < 0 || corio_writer_drain(w) < 0)
            break;
}

static double streams(void) {
    char msg[64], back[64];
    memset(msg, 'x', sizeof msg);
    corio_server *s;
    corio_reader *r;
    corio_writer *w;
    if (corio_start_server(&s, "127.0.0.1", 0, stream_echo, NULL, NULL) < 0 ||
        corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(s), NULL) < 0)
        return -1;
    double t0 = now();
    for (long i = 0; i < rounds; i++) {
        corio_writer_write(w, msg, sizeof msg);
        if (corio_reader_readexactly(r, back, sizeof back, NULL) < 0)
            return -1;
    }
    double dt = now() - t0;
    corio_stream_free(r, w);
    corio_server_close(s);
    corio_server_wait_closed(s);
    corio_server_free(s);
    return dt;
}

static void *raw_echo(void *arg) {
    int c = corio_sock_accept((int)(intptr_t)arg, NULL, NULL);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char b[4096];
    ssize_t n;
    while ((n = corio_sock_recv(c, b, sizeof b, 0)) > 0)
        corio_sock_sendall(c, b, (size_t)n, 0);
    corio_close(c);
    return NULL;
}

static double raw_calls(void) {
    char msg[64], back[64];
    memset(msg, 'x', sizeof msg);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int l = corio_socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&sa, len) < 0 || listen(l, 8) < 0 ||
        getsockname(l, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    corio_task *t;
    if (corio_create_task(&t, NULL, raw_echo, (void *)(intptr_t)l, NULL) < 0)
        return -1;
    int fd = corio_socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (corio_sock_connect(fd, (struct sockaddr *)&sa, len, CORIO_FOREVER) < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    double t0 = now();
    for (long i = 0; i < rounds; i++) {
        corio_sock_sendall(fd, msg, sizeof msg, 0);
        for (size_t got = 0; got < sizeof back;) {
            ssize_t n = corio_sock_recv(fd, back + got, sizeof back - got, 0);
            if (n <= 0)
                return -1;
            got += (size_t)n;
        }
    }
    double dt = now() - t0;
    corio_close(fd);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    corio_close(l);
    return dt;
}

static void *main_task(void *arg) {
    (void)arg;
    double dt = raw ? raw_calls() : streams();
    if (dt < 0)
        return corio_raise(-EIO);
    printf("%s (%s): %.2f us per round trip\n", raw ? "raw socket calls" : "streams",
           corio_loop_get_backend(corio_get_running_loop()), dt / (double)rounds * 1e6);
    return NULL;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "raw") == 0)
            raw = 1;
        else
            rounds = atol(argv[i]);
    }
    return corio_run(main_task, NULL, NULL, NULL) != 0;
}
