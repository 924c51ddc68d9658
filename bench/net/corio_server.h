/* The accept loop of the corio servers (corio_echo.c, corio_http.c), the way a corio server is
 * written: the main task awaits connections, and each connection gets a task of its own that
 * runs straight-line code (recv, answer, repeat) and is suspended wherever it waits. Header only:
 * each .c in bench/net/ is its own program.
 *
 * The backend is the library's choice, which the environment variable CORIO_BACKEND overrides
 * ("epoll" or "io_uring"); bench/net/run.sh runs every corio server once with each. The server
 * prints "backend <name>" once its loop runs, after "port <n>". */
#ifndef CORIO_BENCH_CORIO_SERVER_H
#define CORIO_BENCH_CORIO_SERVER_H

#include <corio.h>
#include <stdint.h>

#include "net_util.h"

struct server {
    int listen_fd;
    corio_coro_fn serve_conn; /* takes the connection's fd, (void *)(intptr_t)fd, and closes it */
};

/* The main task: accepts connections for ever, a task for each. */
static void *accept_loop(void *arg)
{
    struct server *s = arg;
    /* For bench/net/run.sh, which checks that the backend is the one it asked for. */
    printf("backend %s\n", corio_loop_get_backend(NULL));
    fflush(stdout);
    for (;;) {
        int fd = corio_sock_accept(s->listen_fd, NULL, NULL);
        if (fd == -ECONNABORTED || fd == -EINTR)
            continue;
        if (fd < 0)
            return corio_raise(fd);
        net_nodelay(fd);
        /* Fire and forget: the loop holds the task until it returns. */
        if (corio_create_task(NULL, NULL, s->serve_conn, (void *)(intptr_t)fd, NULL) < 0)
            corio_close(fd);
    }
}

/* Listens on the port of argv[1] (see net_listen) and serves until an error stops it. */
static int server_run(int argc, char **argv, corio_coro_fn serve_conn)
{
    struct server s = {net_listen(argc, argv), serve_conn};
    int rc = corio_run(accept_loop, &s, NULL, NULL);
    fprintf(stderr, "%s: %s\n", argv[0], corio_strerror(rc));
    return 1;
}

#endif
