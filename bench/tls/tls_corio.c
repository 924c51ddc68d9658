/* The TLS benchmark's echo server on corio: corio_start_server with a TLS context (TLS 1.3
 * only), a task per connection reading up to 64 KiB and writing it back.
 *
 * Usage: [CORIO_BACKEND=epoll|io_uring] tls_corio CERTFILE KEYFILE PORT
 *        (prints "ready" once listening; runs until killed) */
#include <corio.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define BUF (64 * 1024)

static void echo(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    static char buf[BUF]; /* one loop, one thread: handlers take turns between awaits */
    ssize_t n;
    while ((n = corio_reader_read(r, buf, sizeof buf)) > 0)
        if (corio_writer_write(w, buf, (size_t)n) < 0 || corio_writer_drain(w) < 0)
            break;
}

static void *serve(void *arg)
{
    char **argv = arg;
    corio_tls_context_opts to = {.certfile = argv[1], .keyfile = argv[2],
                                 .min_version = CORIO_TLS_VERSION_1_3};
    corio_tls_context *ctx = NULL;
    int rc = corio_tls_context_new(&ctx, CORIO_TLS_SERVER, &to);
    if (rc < 0) {
        fprintf(stderr, "tls_corio: %s (%s)\n", corio_strerror(rc), corio_tls_get_error());
        exit(1);
    }
    /* A benchmark's load comes and goes as it likes: no defences in the way. */
    corio_stream_opts so = {.tls = ctx, .backlog = 1024, .header_timeout = CORIO_FOREVER,
                            .idle_timeout = CORIO_FOREVER, .write_timeout = CORIO_FOREVER};
    corio_server *srv = NULL;
    rc = corio_start_server(&srv, "127.0.0.1", atoi(argv[3]), echo, NULL, &so);
    corio_tls_context_free(ctx);
    if (rc < 0) {
        fprintf(stderr, "tls_corio: start_server: %s\n", corio_strerror(rc));
        exit(1);
    }
    printf("ready\n");
    fflush(stdout);
    corio_server_serve_forever(srv);
    corio_server_free(srv);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tls_corio CERTFILE KEYFILE PORT\n");
        return 2;
    }
    signal(SIGTERM, SIG_DFL);
    return corio_run(serve, argv, NULL, NULL) == 0 ? 0 : 1;
}
