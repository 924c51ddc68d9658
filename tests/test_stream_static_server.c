/* examples/static_server as a real process on each backend, this test its client over loopback
 * with blocking sockets: files served whole on one keep-alive connection (a 1 MiB one by
 * sendfile), HEAD without a body, 404, 403 for a directory without an index, 405, 304 for
 * If-Modified-Since, and no request reaching a file above the root, however its path is encoded. */
#define _GNU_SOURCE /* nftw, memmem */
#include "example_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG ((size_t)1 << 20)

static pid_t server = -1;
static int port;
static char top[64], root[96];

static unsigned char byte_at(size_t i) { return (unsigned char)(i * 31 + (i >> 10)); }

static void put(const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* top/www is the root: index.html, a.txt (1 KiB), big.bin (1 MiB), "sp ace.txt", sub/ (no
 * index), sub2/index.html; top/secret.txt lies above it. */
static void make_site(void)
{
    strcpy(top, "/tmp/corio-static-XXXXXX");
    cr_assert_not_null(mkdtemp(top));
    snprintf(root, sizeof root, "%s/www", top);
    cr_assert_eq(mkdir(root, 0755), 0);
    unsigned char *big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        big[i] = byte_at(i);
    put("a.txt", big, 1024);
    put("big.bin", big, BIG);
    free(big);
    put("index.html", "<h1>hi</h1>", 11);
    put("sp ace.txt", "space", 5);
    char path[256];
    snprintf(path, sizeof path, "%s/sub", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/sub2", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    put("sub2/index.html", "two", 3);
    snprintf(path, sizeof path, "%s/secret.txt", top);
    FILE *f = fopen(path, "w");
    fputs("TOPSECRET", f);
    fclose(f);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void start_server(void)
{
    make_site();
    char line[256], fmt[160];
    const char *const args[] = {root, "0", NULL};
    server = example_start("static_server", args, line, sizeof line);
    snprintf(fmt, sizeof fmt, "Serving %s on http://127.0.0.1:%%d/", root);
    cr_assert_eq(sscanf(line, fmt, &port), 1, "%s", line);
}

static void stop_server(void)
{
    example_stop(server);
    if (top[0])
        nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(static_server, .init = start_server, .fini = stop_server, .timeout = 60);

/* ---- a client ---- */

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
    return fd;
}

typedef struct response {
    int status;
    char head[2048];
    unsigned char *body; /* to free */
    size_t len;
} response;

/* The value of header `name` in the head ("" if absent), into out (128). */
static const char *header(const response *r, const char *name, char *out)
{
    char key[64];
    snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *p = strstr(r->head, key);
    out[0] = 0;
    if (p)
        sscanf(p + strlen(key), "%127[^\r]", out);
    return out;
}

/* Sends `req` on fd and reads one response: its head, then Content-Length bytes of body
 * (none for HEAD and 304). */
static void exchange(int fd, const char *req, int head_only, response *r)
{
    cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    size_t n = 0;
    while (n < sizeof r->head - 1 && (n < 4 || memcmp(r->head + n - 4, "\r\n\r\n", 4) != 0)) {
        ssize_t k = recv(fd, r->head + n, 1, 0);
        cr_assert_eq(k, 1, "the response's head ended early: \"%.*s\"", (int)n, r->head);
        n++;
    }
    r->head[n] = 0;
    cr_assert_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1, "%s", r->head);
    char cl[128];
    size_t want = strtoul(header(r, "Content-Length", cl), 0, 10);
    if (head_only || r->status == 304)
        want = 0;
    r->body = malloc(want + 1);
    for (r->len = 0; r->len < want;) {
        ssize_t k = recv(fd, r->body + r->len, want - r->len, 0);
        cr_assert_gt(k, 0, "the body ended after %zu of %zu bytes", r->len, want);
        r->len += (size_t)k;
    }
}

static int get(int fd, const char *target, const char *extra, response *r)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", target, extra ? extra : "");
    exchange(fd, req, 0, r);
    return r->status;
}

/* ---- the tests ---- */

Test(static_server, files_on_one_keep_alive_connection)
{
    int fd = dial();
    response r;
    char v[128];
    cr_expect_eq(get(fd, "/a.txt", NULL, &r), 200);
    cr_expect_eq(r.len, 1024);
    for (size_t i = 0; i < r.len; i++)
        cr_assert_eq(r.body[i], byte_at(i), "a.txt byte %zu", i);
    cr_expect_str_eq(header(&r, "Content-Type", v), "text/plain");
    free(r.body);
    cr_expect_eq(get(fd, "/big.bin", NULL, &r), 200);
    cr_expect_eq(r.len, BIG);
    size_t bad = 0;
    for (size_t i = 0; i < r.len; i++)
        bad += r.body[i] != byte_at(i);
    cr_expect_eq(bad, 0, "big.bin: %zu bytes differ", bad);
    free(r.body);
    cr_expect_eq(get(fd, "/", NULL, &r), 200);
    cr_expect(r.len == 11 && memcmp(r.body, "<h1>hi</h1>", 11) == 0);
    cr_expect_str_eq(header(&r, "Content-Type", v), "text/html");
    free(r.body);
    cr_expect_eq(get(fd, "/sub2/", NULL, &r), 200);
    cr_expect(r.len == 3 && memcmp(r.body, "two", 3) == 0);
    free(r.body);
    cr_expect_eq(get(fd, "/sp%20ace.txt?q=1", NULL, &r), 200);
    cr_expect(r.len == 5 && memcmp(r.body, "space", 5) == 0);
    free(r.body);
    close(fd);
}

Test(static_server, head_has_no_body)
{
    int fd = dial();
    response r;
    char v[128];
    exchange(fd, "HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 1, &r);
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(header(&r, "Content-Length", v), "1024");
    free(r.body);
    /* Had a body followed, this would read it as the next head. */
    cr_expect_eq(get(fd, "/index.html", NULL, &r), 200);
    cr_expect_eq(r.len, 11);
    free(r.body);
    close(fd);
}

Test(static_server, missing_forbidden_and_other_methods)
{
    int fd = dial();
    response r;
    char v[128];
    cr_expect_eq(get(fd, "/nope.txt", NULL, &r), 404);
    free(r.body);
    cr_expect_eq(get(fd, "/sub/", NULL, &r), 403, "a directory without index.html");
    free(r.body);
    exchange(fd, "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 0, &r);
    cr_expect_eq(r.status, 405);
    cr_expect_str_eq(header(&r, "Allow", v), "GET, HEAD");
    free(r.body);
    cr_expect_eq(get(fd, "/a.txt", NULL, &r), 200, "the connection goes on");
    free(r.body);
    close(fd);
}

/* A request's body is read and dropped, and the answer is still the one its head asked for
 * (the body's reads reuse the buffer the head was in). */
Test(static_server, bodies_are_dropped)
{
    int fd = dial();
    response r;
    size_t body = 70000;
    char *req = malloc(body + 256);
    int n = snprintf(req, 256, "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
                     body);
    memset(req + n, 'z', body);
    req[n + (int)body] = 0;
    exchange(fd, req, 0, &r);
    cr_expect_eq(r.status, 200);
    cr_expect_eq(r.len, 1024);
    cr_expect(r.len == 1024 && r.body[1023] == byte_at(1023));
    free(r.body);
    snprintf(req, 256, "POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             body);
    n = (int)strlen(req);
    memset(req + n, 'z', body);
    req[n + (int)body] = 0;
    exchange(fd, req, 0, &r);
    cr_expect_eq(r.status, 405);
    free(r.body);
    cr_expect_eq(get(fd, "/index.html", NULL, &r), 200, "the connection goes on");
    free(r.body);
    free(req);
    close(fd);
}

Test(static_server, if_modified_since)
{
    int fd = dial();
    response r;
    char mod[128], ims[200];
    cr_expect_eq(get(fd, "/a.txt", NULL, &r), 200);
    header(&r, "Last-Modified", mod);
    free(r.body);
    cr_expect_neq(mod[0], 0, "Last-Modified is sent");
    snprintf(ims, sizeof ims, "If-Modified-Since: %s\r\n", mod);
    cr_expect_eq(get(fd, "/a.txt", ims, &r), 304);
    cr_expect_eq(r.len, 0);
    free(r.body);
    const char *epoch = "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
    cr_expect_eq(get(fd, "/a.txt", epoch, &r), 200);
    cr_expect_eq(r.len, 1024);
    free(r.body);
    cr_expect_eq(get(fd, "/a.txt", "If-Modified-Since: yesterday\r\n", &r), 200,
                 "a date that does not parse is ignored");
    free(r.body);
    close(fd);
}

Test(static_server, no_path_reaches_above_the_root)
{
    static const char *const targets[] = {
        "/../secret.txt",           "/%2e%2e/secret.txt",         "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",         "/sub/..%2f..%2fsecret.txt",  "/sub/%2e%2e/%2e%2e/secret.txt",
        "/sub/../../secret.txt",    "/./a.txt",                   "/a.txt%00.html",
        "/%zz",                     "/%2",                        "secret.txt",
        "/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
    };
    int fd = dial();
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        response r;
        int status = get(fd, targets[i], NULL, &r);
        cr_expect(status == 400 || status == 404, "%s: %d", targets[i], status);
        cr_expect(r.len < 9 || !memmem(r.body, r.len, "TOPSECRET", 9), "%s: the secret",
                  targets[i]);
        free(r.body);
        if (strstr(r.head, "Connection: close")) { /* the parser refused the target itself */
            close(fd);
            fd = dial();
        }
    }
    close(fd);
}
