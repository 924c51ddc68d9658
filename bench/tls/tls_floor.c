/* The TLS echo floor: OpenSSL 3 and epoll, nothing else, for a benchmark of CPU time per
 * operation. One thread, level-triggered epoll, a socket BIO per connection (SSL_set_fd).
 *
 *     tls_floor CERTFILE KEYFILE PORT
 *
 * Listens on 127.0.0.1:PORT, TLS 1.3 only, prints "ready", echoes until the client closes.
 * A readable connection is read once (plus whatever OpenSSL already holds, up to 64 KiB) and
 * answered at once, so the usual turn is epoll_wait, read, write: reading again until EAGAIN
 * would add a system call per message that level-triggered epoll makes unnecessary. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUF_SIZE 65536

struct conn {
    int fd;
    SSL *ssl;
    int established;   /* handshake done */
    uint32_t events;   /* what epoll watches for: EPOLLIN or EPOLLOUT */
    size_t off, len;   /* buf[off, len) is still to be echoed */
    unsigned char buf[BUF_SIZE];
};

static int epfd;

static void die(const char *what)
{
    fprintf(stderr, "tls_floor: %s: %s\n", what, errno ? strerror(errno) : "failed");
    ERR_print_errors_fp(stderr);
    exit(1);
}

static void on_signal(int sig)
{
    (void)sig;
    _exit(0);
}

static void conn_close(struct conn *c, int clean)
{
    /* SSL_shutdown must not follow a fatal error; after the peer's close_notify it sends ours
     * (one write, not waited on). */
    if (clean && SSL_shutdown(c->ssl) < 0)
        ERR_clear_error();
    SSL_free(c->ssl);
    close(c->fd); /* also leaves the epoll set */
    free(c);
}

/* Only changes the epoll set when the direction changes, so a steady echo costs no epoll_ctl. */
static void conn_watch(struct conn *c, uint32_t events)
{
    if (c->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl");
    c->events = events;
}

/* After an SSL call returned r <= 0: waits for what OpenSSL needs, or closes. 0 if closed. */
static int conn_wait(struct conn *c, int r)
{
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        conn_watch(c, EPOLLIN);
        return 1;
    case SSL_ERROR_WANT_WRITE:
        conn_watch(c, EPOLLOUT);
        return 1;
    case SSL_ERROR_ZERO_RETURN:
        conn_close(c, 1);
        return 0;
    default: /* EOF without close_notify, reset, bad record: nothing to say to the peer */
        ERR_clear_error();
        conn_close(c, 0);
        return 0;
    }
}

/* Runs a connection as far as it goes without blocking, whichever way epoll woke it: a TLS
 * read may need a write (a key update) and a write a read, so the event itself is not used. */
static void conn_step(struct conn *c)
{
    if (!c->established) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            conn_wait(c, r);
            return;
        }
        c->established = 1;
        /* The client's first data may have come with its Finished and be held by OpenSSL
         * (read-ahead) already: read now, not on the next readiness that may never come. */
    }
    for (;;) {
        while (c->off < c->len) {
            int r = SSL_write(c->ssl, c->buf + c->off, (int)(c->len - c->off));
            if (r <= 0) {
                conn_wait(c, r);
                return;
            }
            c->off += (size_t)r;
        }
        if (c->len) {
            c->off = c->len = 0;
            /* Level-triggered epoll covers bytes still in the socket; bytes OpenSSL read
             * ahead are invisible to it, so they are handled now. */
            if (!SSL_has_pending(c->ssl)) {
                conn_watch(c, EPOLLIN);
                return;
            }
        }
        int r = SSL_read(c->ssl, c->buf, BUF_SIZE);
        if (r <= 0) {
            conn_wait(c, r);
            return;
        }
        c->len = (size_t)r;
        /* SSL_read gives one record (16 KiB at most): take the rest of what is already read
         * ahead too, for fewer, larger writes. A failure here shows again on the next read. */
        while (c->len < BUF_SIZE && SSL_has_pending(c->ssl)) {
            r = SSL_read(c->ssl, c->buf + c->len, (int)(BUF_SIZE - c->len));
            if (r <= 0) {
                ERR_clear_error();
                break;
            }
            c->len += (size_t)r;
        }
    }
}

static void accept_all(int lfd, SSL_CTX *ctx)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == ECONNABORTED || errno == EINTR)
                return;
            if (errno == EMFILE || errno == ENFILE) /* clients will retry or time out */
                return;
            die("accept4");
        }
        /* Go and asyncio set TCP_NODELAY by default; without it, the records of one large
         * write can wait on delayed ACKs. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = malloc(sizeof *c);
        if (!c || !(c->ssl = SSL_new(ctx)))
            die("out of memory");
        c->fd = fd;
        c->established = 0;
        c->off = c->len = 0;
        c->events = EPOLLIN;
        SSL_set_fd(c->ssl, fd);
        SSL_set_accept_state(c->ssl);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s CERTFILE KEYFILE PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an EPIPE, not the end of the server */
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)
        || !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
        die("SSL_CTX_new");
    if (SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1)
        die(argv[1]);
    if (SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1
        || SSL_CTX_check_private_key(ctx) != 1)
        die(argv[2]);
    /* Partial writes let SSL_write return after each record; the moving buffer is harmless
     * here (a retry always passes the same bytes) and keeps OpenSSL from checking. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
        || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1024) < 0)
        die("listen");
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0)
        die("epoll_ctl");

    printf("ready\n");
    fflush(stdout);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        /* Each fd shows up once per batch, so a connection closed here has no later event. */
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr)
                conn_step(evs[i].data.ptr);
            else
                accept_all(lfd, ctx);
        }
    }
}
