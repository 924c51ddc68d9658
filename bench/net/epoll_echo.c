/* The floor of the network benchmark's echo rows: a minimal single-threaded epoll echo server
 * (see epoll_server.h). A readable connection is read once into one shared buffer and the bytes
 * are written straight back.
 *
 * Usage: epoll_echo [port]   (prints "port <n>" once listening; runs until killed) */
#define _GNU_SOURCE
#include "epoll_server.h"

static char buf[NET_BUF_SIZE];

static void echo_readable(int fd, struct ep_conn *c)
{
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0)
        ep_send(fd, c, buf, (size_t)n);
    else if (n == 0 || errno != EAGAIN)
        ep_close(fd);
}

int main(int argc, char **argv)
{
    ep_serve(net_listen(argc, argv), echo_readable);
}
