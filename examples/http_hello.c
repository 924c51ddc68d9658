/* An HTTP/1.1 "hello world" server: keep-alive, pipelined requests (each is read from the
 * reader's buffer in turn and answered in order), bodies by Content-Length or chunked, read and
 * dropped. Requests are parsed strictly (examples/http/request.h): a malformed or ambiguous one
 * is answered 400 (501, 505, 431) and the connection closed. Usage: http_hello [port] (default
 * 8080; 0 picks a free one, printed); --selftest sends it pipelined requests from the same
 * process and prints what came back. Try: curl -v http://127.0.0.1:8080/ http://127.0.0.1:8080/
 * (one connection, two requests). */
#include "http/serve.h"

#include <corio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hello[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                            "Content-Length: 13\r\n\r\nHello, world!";

static void handle_http(corio_reader *r, corio_writer *w, void *arg) {
    (void)arg;
    for (;;) {
        http_request req;
        int rc = http_read_head(r, &req);
        int keep = rc == 0 && req.keep_alive; /* req points into r's buffer: take it first */
        if (rc == 0)
            rc = http_discard_body(r, w, &req);
        if (rc != 0) {
            if (rc >= 400)
                http_send_error(w, rc);
            break;                   /* an error, the peer's end, or the above: close */
        }
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
    const char *last = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                       "Connection: close\r\n\r\nhi";
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
    return corio_run(main_task, argc > 1 ? argv[1] : "8080", NULL, NULL) < 0;
}
