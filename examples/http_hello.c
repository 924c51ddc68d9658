/* An HTTP/1.1 "hello world" server: keep-alive, Content-Length, pipelined requests (each is read
 * from the reader's buffer in turn and answered in order). Usage: http_hello [port] (default
 * 8080); --selftest sends it pipelined requests from the same process and prints what came back.
 * Try: curl -v http://127.0.0.1:8080/ http://127.0.0.1:8080/ (one connection, two requests). */
#define _GNU_SOURCE /* strcasestr */
#include <corio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char hello[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                            "Content-Length: 13\r\n\r\nHello, world!";
static const char too_large[] = "HTTP/1.1 431 Too Large\r\nContent-Length: 0\r\n\r\n";

static void handle_http(corio_reader *r, corio_writer *w, void *arg) {
    (void)arg;
    for (;;) {
        const char *req;
        size_t len;
        ssize_t n = corio_reader_readuntil(r, "\r\n\r\n", 4, &req, &len);
        if (n == CORIO_ELIMIT)   /* headers over the reader's limit */
            corio_writer_write(w, too_large, sizeof too_large - 1);
        if (n < 0)
            break;               /* EOF, an error, or the above: close */
        char head[8192];         /* the limit below makes the headers fit */
        memcpy(head, req, (size_t)n);
        head[n] = 0;
        char *body = strcasestr(head, "\r\ncontent-length:");
        size_t skip = body ? strtoul(body + 17, NULL, 10) : 0;
        char tmp[4096];
        while (skip > 0) {       /* a request body: read past it */
            ssize_t k = corio_reader_read(r, tmp, skip < sizeof tmp ? skip : sizeof tmp);
            if (k <= 0)
                return;
            skip -= (size_t)k;
        }
        char *eol = strchr(head, '\r');  /* HTTP/1.0 closes unless asked not to */
        int keep = eol - head < 8 || strncmp(eol - 8, "HTTP/1.0", 8) != 0;
        if (strcasestr(head, "\r\nconnection: close"))
            keep = 0;
        else if (strcasestr(head, "\r\nconnection: keep-alive"))
            keep = 1;
        corio_writer_write(w, hello, sizeof hello - 1);
        if (!keep || corio_writer_drain(w) < 0)
            break;
    }
}   /* returning closes the connection (after the buffered responses are sent) */

static void *selftest(void *arg) {
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(arg), NULL);
    if (rc < 0)
        return corio_raise(rc);
    const char *get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 3; i++)          /* three requests in flight on one connection */
        corio_writer_write(w, get, strlen(get));
    const char *last = "POST / HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";
    corio_writer_write(w, last, strlen(last));
    char buf[1024];
    size_t got = 0;
    ssize_t n;
    while ((n = corio_reader_read(r, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    int responses = 0;
    for (char *p = buf; (p = strstr(p, "Hello, world!")); p++)
        responses++;
    printf("%d responses, then the server closed: %s\n", responses, n == 0 ? "yes" : "no");
    corio_stream_free(r, w);
    corio_server_close(arg);
    return NULL;
}

static void *main_task(void *arg) {
    int self = strcmp(arg, "--selftest") == 0;
    corio_stream_opts opts = {.limit = 8000};    /* request headers up to 8000 bytes */
    corio_server *server;
    int rc = corio_start_server(&server, "127.0.0.1", self ? 0 : atoi(arg), handle_http, NULL,
                                &opts);
    if (rc < 0) {
        fprintf(stderr, "start_server: %s\n", corio_strerror(rc));
        return corio_raise(rc);
    }
    if (self)
        corio_create_task(NULL, NULL, selftest, server, NULL);
    else
        printf("Serving on http://127.0.0.1:%d/\n", corio_server_get_port(server));
    fflush(stdout);
    corio_server_serve_forever(server);
    corio_server_wait_closed(server);
    corio_server_free(server);
    return NULL;
}

int main(int argc, char **argv) {
    return corio_run(main_task, argc > 1 ? argv[1] : "8080", NULL) < 0;
}
