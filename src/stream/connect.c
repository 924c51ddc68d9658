/* open_connection: look the host up, connect to each address in turn, wrap the socket. */
#include "stream/resolve.h"
#include "stream/stream.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Connects a new socket to addr within timeout (<= 0: none): the fd or an error. */
static int connect_one(int family, const struct sockaddr *addr, socklen_t alen, double timeout) {
    int fd = corio_socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        return fd;
    int rc = corio_sock_connect(fd, addr, alen, timeout > 0 ? timeout : -1);
    if (rc < 0) {
        corio_close(fd);
        return rc;
    }
    return fd;
}

int corio__stream_connect_any(const struct addrinfo *ai, double timeout) {
    double deadline = timeout > 0 ? now() + timeout : 0;
    int first = -ECONNREFUSED;
    for (int i = 0; ai; ai = ai->ai_next, i++) {
        double left = 0;
        if (deadline) {
            left = deadline - now();
            if (left <= 0)
                return -ETIMEDOUT;
        }
        int fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, left);
        if (fd >= 0 || fd == -ECANCELED || fd == CORIO_ENOTASK)
            return fd;
        if (i == 0)
            first = fd;
        if (fd == -ETIMEDOUT)
            return fd; /* the deadline covers every address */
    }
    return first;
}

/* Wraps a connected socket for the caller (closing it on failure), after the TLS handshake
 * when the options ask for TLS. */
static int wrap(int fd, const corio_stream_opts *opts, const char *host, corio_reader **r,
                corio_writer **w) {
    corio__stream *s = corio__stream_new(corio_get_running_loop(), fd, opts, 0);
    if (!s) {
        corio_close(fd);
        return -ENOMEM;
    }
    if (opts && opts->tls) {
        const char *name = opts->server_hostname ? opts->server_hostname : host;
        int rc = corio__stream_tls_start(s, opts->tls, name, opts);
        if (rc < 0) {
            corio__stream_release(s);
            return rc;
        }
    }
    *r = &s->reader;
    *w = &s->writer;
    return 0;
}

/* A context given must be a client's. */
static int tls_check(const corio_stream_opts *opts) {
    return opts && opts->tls && opts->tls->side != CORIO_TLS_CLIENT ? -EINVAL : 0;
}

int corio_open_connection(corio_reader **r, corio_writer **w, const char *host, int port,
                          const corio_stream_opts *opts) {
    if (r)
        *r = NULL;
    if (w)
        *w = NULL;
    if (!host || !r || !w || port < 0 || port > 65535 || corio__stream_opts_check(opts) < 0 ||
        tls_check(opts) < 0)
        return -EINVAL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = opts ? opts->family : 0, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = corio__stream_resolve(host, service, &hints, &res);
    if (rc < 0)
        return rc;
    int fd = corio__stream_connect_any(res, opts ? opts->connect_timeout : 0);
    freeaddrinfo(res);
    if (fd < 0)
        return fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return wrap(fd, opts, host, r, w);
}

int corio_open_unix_connection(corio_reader **r, corio_writer **w, const char *path,
                               const corio_stream_opts *opts) {
    if (r)
        *r = NULL;
    if (w)
        *w = NULL;
    if (!r || !w || corio__stream_opts_check(opts) < 0 || tls_check(opts) < 0)
        return -EINVAL;
    struct sockaddr_un sun;
    int rc = corio__stream_unix_addr(path, &sun);
    if (rc < 0)
        return rc;
    if (!corio_get_running_loop())
        return CORIO_ENOTASK;
    int fd = connect_one(AF_UNIX, (struct sockaddr *)&sun, sizeof sun,
                         opts ? opts->connect_timeout : 0);
    if (fd < 0)
        return fd;
    return wrap(fd, opts, NULL, r, w);
}
