/* The network benchmark's echo server on corio (see corio_server.h): a task per connection,
 * awaiting each read and writing back what it read.
 *
 * Usage: [CORIO_BACKEND=epoll|io_uring] corio_echo [port]
 *        (prints "port <n>" once listening; runs until killed) */
#define _GNU_SOURCE
#include "corio_server.h"

static void *echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[NET_BUF_SIZE]; /* on the task's own stack (64 KiB by default) */
    ssize_t n;
    while ((n = corio_sock_recv(fd, buf, sizeof buf, 0)) > 0)
        if (corio_sock_sendall(fd, buf, (size_t)n, 0) < 0)
            break;
    corio_close(fd); /* EOF, an error, or -ECANCELED when the loop shuts down */
    return NULL;
}

int main(int argc, char **argv)
{
    return server_run(argc, argv, echo_conn);
}
