/* examples/http_hello against hostile requests (issue 18), as a real process on each backend:
 * every shape the issue found it reading wrongly gets its status (400, 431, 501) and the
 * connection closed, with nothing after it answered, while well-formed pipelined requests, chunked
 * bodies and 100-continue are served. The peer is this test, over loopback with blocking sockets:
 * what a client sees is the whole check. */
#include "example_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t server = -1;
static int port;

/* Starts build/examples/http_hello on a free port (it prints the port it got). */
static void start_server(void)
{
    char line[256];
    const char *const args[] = {"0", NULL};
    server = example_start("http_hello", args, line, sizeof line);
    cr_assert_eq(sscanf(line, "Serving on http://127.0.0.1:%d/", &port), 1, "%s", line);
}

static void stop_server(void) { example_stop(server); }

/* Sends `n` bytes on a new connection, then reads until the server closes it (5 s at most).
 * Returns what came back (to free), its length in *len; *closed tells whether it ended. */
static char *exchange(const char *req, size_t n, size_t *len, int *closed)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
    size_t sent = 0;
    while (sent < n) {
        ssize_t k = send(fd, req + sent, n - sent, MSG_NOSIGNAL);
        if (k <= 0)
            break; /* the server may close before it has read everything: fine */
        sent += (size_t)k;
    }
    size_t cap = 65536;
    char *buf = malloc(cap + 1);
    *len = 0;
    ssize_t k;
    while ((k = recv(fd, buf + *len, cap - *len, 0)) > 0)
        *len += (size_t)k;
    buf[*len] = 0;
    *closed = k == 0 || (k < 0 && errno == ECONNRESET);
    close(fd);
    return buf;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p++)
        n++;
    return n;
}

/* The request gets `status` alone (no 200 before or after it) and the connection closes. */
static void expect_refused(const char *why, const char *req, size_t n, int status)
{
    size_t len;
    int closed;
    char *got = exchange(req, n, &len, &closed);
    char want[32];
    snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
    cr_expect_eq(strncmp(got, want, strlen(want)), 0, "%s: got \"%.60s\"", why, got);
    cr_expect_eq(count(got, "HTTP/1.1 "), 1, "%s: one response only: \"%s\"", why, got);
    cr_expect(strstr(got, "Connection: close"), "%s", why);
    cr_expect(closed, "%s: the connection stayed open", why);
    free(got);
}

#define REFUSED(why, req, status) expect_refused(why, req, sizeof req - 1, status)

/* The request gets `n200` answers of 200 and the connection then closes. */
static void expect_served(const char *why, const char *req, int n200)
{
    size_t len;
    int closed;
    char *got = exchange(req, strlen(req), &len, &closed);
    cr_expect_eq(count(got, "HTTP/1.1 200 OK"), n200, "%s: \"%s\"", why, got);
    cr_expect_eq(count(got, "HTTP/1.1 4"), 0, "%s: \"%s\"", why, got);
    cr_expect(closed, "%s: not closed", why);
    free(got);
}

#define POST "POST / HTTP/1.1\r\nHost: x\r\n"
#define CLOSE "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

Test(stream_http_hostile, the_shapes_of_issue_18_are_refused, .init = start_server,
     .fini = stop_server, .timeout = 60)
{
    REFUSED("duplicate Content-Length", POST "Content-Length: 1\r\nContent-Length: 30\r\n\r\n"
                                             "x" CLOSE, 400);
    REFUSED("CL.TE smuggling", POST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "0\r\n\r\n" CLOSE, 400);
    REFUSED("TE.CL smuggling", POST "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                                    "5\r\nhello\r\n0\r\n\r\n" CLOSE, 400);
    REFUSED("Content-Length -1", POST "Content-Length: -1\r\n\r\n" CLOSE, 400);
    REFUSED("Content-Length 10^23", POST "Content-Length: 100000000000000000000000\r\n\r\n" CLOSE,
            400);
    REFUSED("NUL before the first CR", "GET /\0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                       CLOSE, 400);
    REFUSED("bare LF", "GET / HTTP/1.1\nHost: x\r\n\r\n" CLOSE, 400);
    REFUSED("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n" CLOSE, 400);
    REFUSED("space before a colon", POST "Content-Length : 0\r\n\r\n" CLOSE, 400);
    REFUSED("no Host", "GET / HTTP/1.1\r\n\r\n" CLOSE, 400);
    REFUSED("gzip, chunked", POST "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" CLOSE, 501);
    REFUSED("chunked, gzip", POST "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" CLOSE, 400);
    REFUSED("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n" CLOSE, 505);
    REFUSED("a bad chunk size", POST "Transfer-Encoding: chunked\r\n\r\nzz\r\n" CLOSE, 400);
    REFUSED("chunk data not ending in CRLF", POST "Transfer-Encoding: chunked\r\n\r\n"
                                                  "2\r\nabXY0\r\n\r\n" CLOSE, 400);
    REFUSED("a chunk size over 2^64", POST "Transfer-Encoding: chunked\r\n\r\n"
                                           "10000000000000000\r\n" CLOSE, 400);
}

Test(stream_http_hostile, heads_over_the_limit_get_431, .init = start_server, .fini = stop_server,
     .timeout = 60)
{
    size_t n = 20000;
    char *req = malloc(n + 64);
    strcpy(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    size_t at = strlen(req);
    memset(req + at, 'a', n);
    strcpy(req + at + n, "\r\n\r\n");
    expect_refused("a 20 KB header", req, strlen(req), 431);
    free(req);
}

Test(stream_http_hostile, well_formed_requests_are_served, .init = start_server,
     .fini = stop_server, .timeout = 60)
{
    expect_served("three pipelined", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                                     "GET / HTTP/1.1\r\nHost: x\r\n\r\n" CLOSE, 3);
    /* A chunked body holding a request is a body: two responses, not three. */
    const char *inner = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    char req[512];
    snprintf(req, sizeof req, POST "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n"
             "3;ext=\"v\"\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n" CLOSE, strlen(inner), inner);
    expect_served("a chunked body holding a request", req, 2);
    expect_served("a body by length holding a request",
                  POST "Content-Length: 36\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
                  CLOSE, 2);
    expect_served("blank lines before a request", "\r\n\r\n" CLOSE, 1);
    expect_served("HTTP/1.0 closes by default", "GET / HTTP/1.0\r\n\r\n", 1);
    size_t len;
    int closed;
    static const char expect[] = POST "Expect: 100-continue\r\nContent-Length: 2\r\n"
                                      "Connection: close\r\n\r\nhi";
    char *got = exchange(expect, sizeof expect - 1, &len, &closed);
    cr_expect_eq(strncmp(got, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK", 40), 0, "%s", got);
    free(got);
}
