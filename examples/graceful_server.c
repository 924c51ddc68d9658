/* A server that stops cleanly on SIGTERM, as a daemon under systemd or Kubernetes must: it stops
 * accepting at once, closes its idle keep-alive connections, lets the requests in progress finish
 * (each answered with "Connection: close") within a grace period, then aborts whatever is left
 * and exits 0.
 *
 * HTTP/1.1 with keep-alive: GET / answers at once; GET /slow/<ms> answers after <ms>
 * milliseconds (a request in progress to drain). Usage: graceful_server [port] [grace seconds]
 * (defaults 8080 and 10; port 0 picks a free one). It prints "serving on port N", "draining" when
 * SIGTERM came, and "stopped: F finished, A aborted" at the end, each on a line of its own.
 * Try: graceful_server 8080 & curl localhost:8080/slow/3000 & sleep 1; kill %1. */
#include "http/serve.h"

#include <corio.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One connection: its handler task, and whether it is inside a request (busy) or waiting for the
 * next one (idle: cancelled when draining). */
typedef struct conn {
    struct conn *prev, *next;
    corio_task *task;
    int busy;
} conn;

static conn conns = {&conns, &conns, NULL, 0};
static int draining;
static long finished, aborted;

static void respond(corio_writer *w, const char *body, int keep) {
    char head[160];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
                     strlen(body), keep ? "" : "Connection: close\r\n");
    corio_writer_write(w, head, (size_t)n);
    corio_writer_write(w, body, strlen(body));
}

/* Serves one request; returns 1 to go on with the connection. */
static int serve_one(corio_reader *r, corio_writer *w, conn *c) {
    http_request req;
    int rc = http_read_head(r, &req);
    if (rc != 0) {
        if (rc >= 400)
            http_send_error(w, rc);
        return 0;
    }
    c->busy = 1;
    int keep = req.keep_alive;
    long ms = -1;
    if (req.target.n > 6 && memcmp(req.target.p, "/slow/", 6) == 0)
        ms = strtol(req.target.p + 6, NULL, 10); /* stops at the space after the target */
    if ((rc = http_discard_body(r, w, &req)) != 0) {
        if (rc >= 400)
            http_send_error(w, rc);
        return 0;
    }
    if (ms >= 0 && corio_sleep((double)ms / 1000) < 0)
        return 0;  /* aborted at the end of the grace period */
    keep = keep && !draining;
    respond(w, ms >= 0 ? "slow done\n" : "hello\n", keep);
    rc = corio_writer_drain(w);
    c->busy = 0;
    finished += rc == 0;
    return keep && rc == 0;
}

static void handle(corio_reader *r, corio_writer *w, void *arg) {
    (void)arg;
    conn c = {conns.prev, &conns, corio_current_task(), 0};
    c.prev->next = c.next->prev = &c;
    while (!draining && serve_one(r, w, &c))
        ;
    aborted += c.busy;
    c.prev->next = c.next;
    c.next->prev = c.prev;
}

/* SIGTERM came: stop accepting, close idle connections, give the rest `grace` seconds. */
static void drain(corio_server *server, double grace) {
    draining = 1;
    corio_server_close(server);
    printf("draining\n");
    fflush(stdout);
    for (conn *c = conns.next; c != &conns; c = c->next)
        if (!c->busy)
            corio_task_cancel(c->task, "idle at shutdown");
    corio_timeout *tm;
    if (corio_timeout_enter(&tm, grace) == 0 &&
        corio_timeout_exit(tm, corio_server_wait_closed(server)) == -ETIMEDOUT) {
        corio_server_abort_clients(server);
        corio_server_wait_closed(server);
    }
}

static void *main_task(void *arg) {
    char **argv = arg;
    int port = argv[1] ? atoi(argv[1]) : 8080;
    double grace = argv[1] && argv[2] ? atof(argv[2]) : 10.0;
    int sigs[] = {SIGTERM, SIGINT};
    corio_signal_watcher *stop;
    int rc = corio_signal_watcher_new(&stop, NULL, sigs, 2);
    corio_server *server = NULL;
    if (rc == 0)
        rc = corio_start_server(&server, "127.0.0.1", port, handle, NULL,
                                &(corio_stream_opts){.limit = 8000});
    if (rc < 0) {
        fprintf(stderr, "graceful_server: %s\n", corio_strerror(rc));
        corio_signal_watcher_free(stop);
        return corio_raise(rc);
    }
    printf("serving on port %d\n", corio_server_get_port(server));
    fflush(stdout);
    corio_signal_watcher_wait(stop);
    drain(server, grace);
    printf("stopped: %ld finished, %ld aborted\n", finished, aborted);
    corio_server_free(server);
    corio_signal_watcher_free(stop);
    return NULL;
}

int main(int argc, char **argv) {
    (void)argc;
    /* SIGINT is the watcher's, as SIGTERM: corio_run's own SIGINT handling is not wanted. */
    return corio_run(main_task, argv, NULL, &(corio_run_opts){.sigint = -1}) < 0;
}
