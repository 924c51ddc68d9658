/* The libuv server under uv_echo.c and uv_http.c, written the way libuv is fastest: one
 * connection buffer handed to every read (no allocation per read), answers sent with
 * uv_try_write (as uvloop and Node.js do) and only what the kernel does not take queued with
 * uv_write, reading paused until it is sent. Header only: each .c in bench/net/ is its own
 * program. */
#ifndef CORIO_BENCH_UV_SERVER_H
#define CORIO_BENCH_UV_SERVER_H

#include <uv.h>

#include "net_util.h"

struct uvs_conn {
    uv_tcp_t tcp;
    uv_write_t wr;
    char *pending; /* the copy uv_write is sending, or NULL */
    size_t inlen;  /* bytes kept in `in` (the start of an HTTP request) */
    char in[NET_BUF_SIZE];
};

/* What a server does with the n bytes just read into c->in + c->inlen: uvs_send() an answer. */
typedef void (*uvs_data_fn)(struct uvs_conn *c, size_t n);

static uvs_data_fn uvs_on_data;

static void uvs_free(uv_handle_t *h)
{
    struct uvs_conn *c = (struct uvs_conn *)h;
    free(c->pending);
    free(c);
}

static void uvs_close(struct uvs_conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, uvs_free);
}

static void uvs_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct uvs_conn *c = (struct uvs_conn *)h;
    (void)suggested;
    *buf = uv_buf_init(c->in + c->inlen, (unsigned)(sizeof c->in - c->inlen));
}

static void uvs_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    if (n < 0)
        uvs_close((struct uvs_conn *)s);
    else if (n > 0)
        uvs_on_data((struct uvs_conn *)s, (size_t)n);
}

static void uvs_written(uv_write_t *wr, int status)
{
    struct uvs_conn *c = wr->data;
    free(c->pending);
    c->pending = NULL;
    if (status < 0)
        uvs_close(c);
    else if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_read_start((uv_stream_t *)&c->tcp, uvs_alloc, uvs_read);
}

static void uvs_send(struct uvs_conn *c, const char *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        uvs_close(c);
        return;
    }
    size_t sent = n < 0 ? 0 : (size_t)n;
    if (!(c->pending = malloc(len - sent)))
        NET_DIE("out of memory");
    memcpy(c->pending, data + sent, len - sent);
    b = uv_buf_init(c->pending, (unsigned)(len - sent));
    c->wr.data = c;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, uvs_written) < 0)
        uvs_close(c);
}

static void uvs_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct uvs_conn *c = malloc(sizeof *c);
    if (!c)
        NET_DIE("out of memory");
    c->pending = NULL;
    c->inlen = 0;
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        uvs_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, uvs_alloc, uvs_read);
}

/* Serves forever on the port of argv[1] (see net_listen). */
static int uvs_serve(int argc, char **argv, uvs_data_fn on_data)
{
    uvs_on_data = on_data;
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    int rc = uv_tcp_open(&server, net_listen(argc, argv));
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, NET_BACKLOG, uvs_connection);
    if (rc < 0)
        NET_DIE("libuv listen: %s", uv_strerror(rc));
    return uv_run(loop, UV_RUN_DEFAULT);
}

#endif
