/* An echo server (asyncio's streams example): each connection is a task that sends every line
 * back. Usage: echo_server [port] (default 8888); --selftest runs a client against it in the same
 * process and exits. */
#include <corio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void handle_echo(corio_reader *r, corio_writer *w, void *arg) {
    (void)arg;
    const char *line;
    ssize_t n;
    while ((n = corio_reader_readline(r, &line)) > 0) {
        corio_writer_write(w, line, (size_t)n);
        if (corio_writer_drain(w) < 0)
            break;
    }
}   /* returning closes the connection */

static void *selftest(void *arg) {
    corio_reader *r;
    corio_writer *w;
    int rc = corio_open_connection(&r, &w, "127.0.0.1", corio_server_get_port(arg), NULL);
    if (rc < 0)
        return corio_raise(rc);
    const char *line;
    corio_writer_write(w, "hello\n", 6);
    ssize_t n = corio_reader_readline(r, &line);
    printf("echoed: %.*s", (int)(n > 0 ? n : 0), line);
    corio_stream_free(r, w);
    corio_server_close(arg);
    return NULL;
}

static void *main_task(void *arg) {
    const char *port = arg;
    corio_server *server;
    int rc = corio_start_server(&server, "127.0.0.1", strcmp(port, "--selftest") ? atoi(port) : 0,
                                handle_echo, NULL, NULL);
    if (rc < 0) {
        fprintf(stderr, "start_server: %s\n", corio_strerror(rc));
        return corio_raise(rc);
    }
    if (strcmp(port, "--selftest") == 0)
        corio_create_task(NULL, NULL, selftest, server, NULL);
    else
        printf("Serving on 127.0.0.1:%d\n", corio_server_get_port(server));
    fflush(stdout);
    corio_server_serve_forever(server);   /* until closed */
    corio_server_wait_closed(server);     /* and every connection is done */
    corio_server_free(server);
    return NULL;
}

int main(int argc, char **argv) {
    return corio_run(main_task, argc > 1 ? argv[1] : "8888", NULL, NULL) < 0;
}
