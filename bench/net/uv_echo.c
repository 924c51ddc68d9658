/* The network benchmark's echo server on libuv (see uv_server.h): what is read is written back.
 *
 * Usage: uv_echo [port]   (prints "port <n>" once listening; runs until killed) */
#define _GNU_SOURCE
#include "uv_server.h"

static void echo_data(struct uvs_conn *c, size_t n)
{
    uvs_send(c, c->in, n);
}

int main(int argc, char **argv)
{
    return uvs_serve(argc, argv, echo_data);
}
