/* An echo client (asyncio's tcp_echo_client): sends one line, prints the reply.
 * Usage: echo_client [host [port [message]]] (default 127.0.0.1 8888 "Hello World!"). */
#include <corio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *tcp_echo_client(void *arg) {
    char **argv = arg;
    corio_reader *r;
    corio_writer *w;
    corio_stream_opts opts = {.connect_timeout = 5.0};
    int rc = corio_open_connection(&r, &w, argv[0], atoi(argv[1]), &opts);
    if (rc < 0) {
        fprintf(stderr, "connect: %s\n", corio_strerror(rc));
        return corio_raise(rc);
    }
    printf("Send: %s\n", argv[2]);
    corio_writer_write(w, argv[2], strlen(argv[2]));
    corio_writer_write(w, "\n", 1);
    const char *line;
    ssize_t n = corio_reader_readline(r, &line);    /* points into the reader's buffer */
    if (n > 0)
        printf("Received: %.*s", (int)n, line);
    corio_writer_close(w);
    corio_writer_wait_closed(w);
    corio_stream_free(r, w);
    return n < 0 ? corio_raise((int)n) : NULL;
}

int main(int argc, char **argv) {
    char *args[3] = {"127.0.0.1", "8888", "Hello World!"};
    for (int i = 1; i < argc && i <= 3; i++)
        args[i - 1] = argv[i];
    return corio_run(tcp_echo_client, args, NULL, NULL) < 0;
}
