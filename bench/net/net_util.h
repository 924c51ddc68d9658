/* Shared by the C programs of the network benchmark (bench/net/run.sh). Header only: CMake turns
 * every C file in bench/net/ into its own executable.
 *
 * Every server of the benchmark, in every language, follows the same contract: it takes an
 * optional port as its only argument (default 0: any free port), listens on 127.0.0.1 with a
 * backlog of NET_BACKLOG, prints "port <n>" on stdout once it accepts connections, sets
 * TCP_NODELAY on every connection it accepts, and reads into buffers of NET_BUF_SIZE bytes. */
#ifndef CORIO_BENCH_NET_UTIL_H
#define CORIO_BENCH_NET_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_BUF_SIZE 16384
/* 1000 clients connect at once; a smaller backlog (Python's default is 100) drops SYNs, and the
 * client's retransmit 1 s later would be measured. */
#define NET_BACKLOG 4096

#define NET_DIE(...)                                                                             \
    do {                                                                                         \
        fprintf(stderr, __VA_ARGS__);                                                            \
        fputc('\n', stderr);                                                                     \
        exit(1);                                                                                 \
    } while (0)

/* The HTTP benchmark's one response (keep-alive is HTTP/1.1's default). */
#define NET_HTTP_RESPONSE                                                                        \
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"
#define NET_HTTP_RESPONSE_LEN (sizeof NET_HTTP_RESPONSE - 1)

static inline void net_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The listening socket of a server (nonblocking, close-on-exec), on the port given as argv[1]
 * (default 0). Prints "port <n>" on stdout. Exits on failure. Also ignores SIGPIPE, as servers
 * do (Go's runtime and Python do it by themselves): a write to a connection the client has
 * closed fails with EPIPE instead of killing the server. */
static inline int net_listen(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        NET_DIE("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, NET_BACKLOG) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        NET_DIE("listen on port %d: %s", port, strerror(errno));
    printf("port %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    return fd;
}

/* Consumes the complete HTTP requests at the start of in[0, *inlen): each one ends with an empty
 * line (GET requests without a body, as wrk sends them; a body is not looked for). The start of a
 * request still arriving is moved to the front and *inlen becomes its length. Returns how many
 * requests there were (pipelined requests are all counted: the server answers each one, in
 * order), or -1 when in[] is full of one request larger than NET_BUF_SIZE. */
static inline long net_http_take(char *in, size_t *inlen)
{
    long n = 0;
    size_t at = 0;
    const char *end;
    while ((end = memmem(in + at, *inlen - at, "\r\n\r\n", 4)) != NULL) {
        at = (size_t)(end - in) + 4;
        n++;
    }
    if (n == 0 && *inlen == NET_BUF_SIZE)
        return -1;
    *inlen -= at;
    memmove(in, in + at, *inlen);
    return n;
}

/* The most requests one read of NET_BUF_SIZE bytes can hold ("\r\n\r\n" at least). */
#define NET_HTTP_MAX_REQS (NET_BUF_SIZE / 4)

/* NET_HTTP_MAX_REQS copies of the response back to back, so that the answer to n requests is its
 * first n * NET_HTTP_RESPONSE_LEN bytes. Built at the first call, read-only afterwards. */
static inline const char *net_http_responses(void)
{
    static char net_http_out[NET_HTTP_MAX_REQS * NET_HTTP_RESPONSE_LEN];
    if (!net_http_out[0])
        for (size_t i = 0; i < NET_HTTP_MAX_REQS; i++)
            memcpy(net_http_out + i * NET_HTTP_RESPONSE_LEN, NET_HTTP_RESPONSE,
                   NET_HTTP_RESPONSE_LEN);
    return net_http_out;
}

#endif
