/* start_server: listening sockets, an accept task for each, a task per connection. */
#include "stream/resolve.h"
#include "stream/stream.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct listener {
    struct corio_server *srv;
    int fd;
    corio_task *task;
} listener;

struct corio_server {
    corio_loop *loop;
    corio_stream_handler_fn handler;
    void *arg;
    corio_stream_opts opts;
    listener *ls;
    size_t nls;
    size_t running;   /* accept tasks and connection tasks not ended yet */
    corio__link conns; /* corio__stream.link of the connections being handled */
    size_t nconns, max_conns;
    corio__server_share share;
    uint32_t refs;    /* the owner's and one per task */
    uint32_t magic;   /* base/obj.h: dead once freed by its owner, though its tasks may run */
    uint8_t closed, released;
    corio__waiters closers, servers, room; /* room: accept tasks paused at max_conns */
    char *unix_path;  /* removed on close if it is still our socket */
    dev_t dev;
    ino_t ino;
};

#define CHECK(srv) CORIO__CHECK(srv, CORIO__KIND_SERVER, (srv)->loop)

static void server_unref(corio_server *srv) {
    if (--srv->refs)
        return;
    corio__waiters_fini(&srv->closers);
    corio__waiters_fini(&srv->servers);
    corio__waiters_fini(&srv->room);
    free(srv->ls);
    free(srv->unix_path);
    if (srv->opts.tls)
        corio__tls_context_unref(srv->opts.tls);
    corio_loop *loop = srv->loop;
    corio__obj_free(srv, &srv->magic, corio__loop_keeps(loop));
    corio__loop_unref(loop);
}

void corio__server_unref(corio_server *srv) { server_unref(srv); }

/* A task ended: wake wait_closed once the server is closed and nothing runs. */
static void task_ended(corio_server *srv) {
    srv->running--;
    if (srv->closed && !srv->running)
        corio__waiters_wake(&srv->closers, 0);
    server_unref(srv);
}

static void conn_end(corio__stream *s) {
    corio_server *srv = s->server;
    corio__list_remove(&s->link);
    if (--srv->nconns < srv->max_conns && srv->room.n)
        corio__waiters_wake(&srv->room, 0);
    corio_task_unref(s->task);
    s->task = NULL;
    corio__stream_release(s);
    task_ended(srv);
}

/* A TLS server's handshake, in the connection's task: a client that fails it is counted (and
 * reported in debug mode: scanners and old clients fail handshakes all day) and never reaches
 * the handler. */
static int conn_tls(corio__stream *s, corio_server *srv) {
    int rc = corio__stream_tls_start(s, srv->opts.tls, NULL, &srv->opts);
    if (rc < 0 && rc != -ECANCELED) {
        srv->share.stats.tls_failures++;
        if (corio_loop_get_debug(srv->loop)) {
            char msg[224];
            snprintf(msg, sizeof msg, "corio server: TLS handshake failed: %s",
                     corio_writer_get_tls_error(&s->writer));
            corio_error_context ctx = {.message = msg, .err = rc};
            corio_loop_call_error_handler(srv->loop, &ctx);
        }
    }
    return rc;
}

static void *conn_main(void *arg) {
    corio__stream *s = arg;
    corio_server *srv = s->server;
    /* aborted: by abort_clients before it could start */
    if (!s->aborted && (!srv->opts.tls || conn_tls(s, srv) == 0))
        srv->handler(&s->reader, &s->writer, srv->arg);
    conn_end(s);
    return NULL;
}

/* A connection the server could not serve is reported, as asyncio logs a failed accept: its
 * client only sees EOF, so the server side must say why. */
static void report_dropped(corio_server *srv, int err) {
    srv->share.stats.dropped++;
    corio_error_context ctx = {.message = "corio server: connection dropped", .err = err};
    corio_loop_call_error_handler(srv->loop, &ctx);
}

/* A task that ended before its first step never ran its function: its clean-up is done here
 * instead. Cancelled (corio_run cancelling what is left), the server is going away; failed (no
 * stack for it), the connection is dropped and must be reported. When it did run, arg may be
 * gone. */
static void conn_done(corio_future *f, void *arg) {
    if (corio__task_started((corio_task *)f))
        return;
    corio__stream *s = arg;
    int err = corio__future_state(f) == CORIO_FUTURE_FINISHED ? corio__future_err(f) : 0;
    if (err < 0)
        report_dropped(s->server, err);
    conn_end(s);
}

static void accept_done(corio_future *f, void *arg) {
    if (!corio__task_started((corio_task *)f))
        task_ended(((listener *)arg)->srv);
}

static void spawn(corio_server *srv, int fd) {
    if (srv->unix_path == NULL) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    srv->share.stats.accepted++;
    corio__stream *s = corio__stream_new(srv->loop, fd, &srv->opts, 1);
    if (!s) {
        corio_close(fd);
        report_dropped(srv, -ENOMEM);
        return;
    }
    s->server = srv;
    s->share = &srv->share;
    srv->refs++; /* the connection's, dropped when it is freed */
    if (corio_create_task(&s->task, srv->loop, conn_main, s, NULL) < 0 ||
        corio_future_add_done_callback(corio_task_future(s->task), conn_done, s) < 0) {
        if (s->task) {
            corio_task_cancel(s->task, NULL);
            corio_task_unref(s->task);
        }
        corio__stream_release(s);
        report_dropped(srv, -ENOMEM);
        return;
    }
    corio__list_insert_tail(&srv->conns, &s->link);
    srv->nconns++;
    srv->running++;
    srv->refs++;
}

static int resource_shortage(int err) {
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

/* At max_connections, accepting waits for a connection to end: clients wait in the backlog,
 * which is what a full server should make them do, rather than take fds the process needs. */
static int wait_for_room(corio_server *srv) {
    srv->share.stats.accept_pauses++;
    while (srv->nconns >= srv->max_conns && !srv->closed) {
        int rc = corio__waiters_wait(&srv->room, srv->loop);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void *accept_main(void *arg) {
    listener *l = arg;
    corio_server *srv = l->srv;
    while (!srv->closed) {
        if (srv->nconns >= srv->max_conns && wait_for_room(srv) < 0)
            break;
        if (srv->closed)
            break;
        int fd = corio_sock_accept(l->fd, NULL, NULL);
        if (fd >= 0) {
            spawn(srv, fd);
        } else if (srv->closed || fd == -ECANCELED || fd == -EBADF) {
            break;
        } else if (resource_shortage(fd)) {
            /* As asyncio: report, then pause accepting for a second rather than spin. */
            corio_error_context ctx = {.message = "corio server: accept failed, retrying in 1 s",
                                       .err = fd};
            corio_loop_call_error_handler(srv->loop, &ctx);
            if (corio_sleep(1.0) < 0)
                break;
        } /* else: the connection went away before it was accepted; go on */
    }
    task_ended(srv);
    return NULL;
}

static int server_close(corio_server *srv) {
    if (srv->closed)
        return 0;
    srv->closed = 1;
    for (size_t i = 0; i < srv->nls; i++) {
        listener *l = &srv->ls[i];
        if (l->fd >= 0)
            corio_close(l->fd); /* wakes its accept task with -EBADF */
        l->fd = -1;
        if (l->task) {
            if (corio__task_started(l->task)) /* one not started yet sees `closed` and ends */
                corio_task_cancel(l->task, NULL);
            corio_task_unref(l->task);
            l->task = NULL;
        }
    }
    struct stat st;
    if (srv->unix_path && stat(srv->unix_path, &st) == 0 && st.st_dev == srv->dev &&
        st.st_ino == srv->ino)
        unlink(srv->unix_path);
    corio__waiters_wake(&srv->servers, 0);
    corio__waiters_wake(&srv->room, 0);
    if (!srv->running)
        corio__waiters_wake(&srv->closers, 0);
    return 0;
}

int corio_server_close(corio_server *srv) {
    if (!srv)
        return -EINVAL;
    CHECK(srv);
    return server_close(srv);
}

int corio_server_close_clients(corio_server *srv) {
    if (!srv)
        return -EINVAL;
    CHECK(srv);
    for (corio__link *l = srv->conns.next; l != &srv->conns; l = l->next)
        corio__writer_close(corio__container_of(l, corio__stream, link));
    return 0;
}

int corio_server_abort_clients(corio_server *srv) {
    if (!srv)
        return -EINVAL;
    CHECK(srv);
    for (corio__link *l = srv->conns.next; l != &srv->conns; l = l->next) {
        corio__stream *s = corio__container_of(l, corio__stream, link);
        corio__stream_close_now(s);
        s->aborted = 1;
        /* A task cancelled before it starts never runs, nor the release after its handler:
         * one not started yet skips its handler instead. */
        if (s->task && corio__task_started(s->task))
            corio_task_cancel(s->task, NULL);
    }
    return 0;
}

static int server_wait(corio_server *srv, corio__waiters *ws) {
    srv->refs++;
    int rc = corio__waiters_wait(ws, srv->loop);
    server_unref(srv);
    return rc;
}

int corio_server_wait_closed(corio_server *srv) {
    if (!srv)
        return -EINVAL;
    CHECK(srv);
    if (srv->closed && !srv->running)
        return 0;
    return server_wait(srv, &srv->closers);
}

int corio_server_serve_forever(corio_server *srv) {
    if (!srv)
        return -EINVAL;
    CHECK(srv);
    if (srv->closed)
        return 0;
    int rc = server_wait(srv, &srv->servers);
    if (rc == -ECANCELED)
        server_close(srv); /* also when its owner freed it meanwhile */
    return rc;
}

int corio_server_is_serving(const corio_server *srv) {
    if (!srv)
        return 0;
    CHECK(srv);
    return !srv->closed;
}

int corio_server_sockets(const corio_server *srv, int *fds, size_t cap) {
    if (!srv)
        return -EINVAL;
    CHECK(srv);
    if (!fds && cap)
        return -EINVAL;
    if (srv->closed)
        return 0;
    for (size_t i = 0; i < srv->nls && i < cap; i++)
        fds[i] = srv->ls[i].fd;
    return (int)srv->nls; /* one socket per address: far below INT_MAX */
}

int corio_server_get_port(const corio_server *srv) {
    if (!srv)
        return -EINVAL;
    CHECK(srv);
    if (srv->closed || !srv->nls)
        return -EBADF;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(srv->ls[0].fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EINVAL;
}

size_t corio_server_active_connections(const corio_server *srv) {
    if (!srv)
        return 0;
    CHECK(srv);
    return srv->nconns;
}

int corio_server_get_stats(const corio_server *srv, corio_server_stats *stats) {
    if (!srv || !stats)
        return -EINVAL;
    CHECK(srv);
    *stats = srv->share.stats;
    stats->active = srv->nconns;
    stats->buffered = srv->share.buffered;
    stats->max_connections = srv->max_conns;
    stats->max_buffered = srv->share.max_buffered;
    return 0;
}

/* The owner lets the server go (also on a failed start, before it was handed out). */
static void server_release(corio_server *srv) {
    srv->released = 1;
    server_close(srv);
    corio__obj_kill(&srv->magic, corio__loop_keeps(srv->loop));
    server_unref(srv);
}

int corio_server_free(corio_server *srv) {
    if (!srv)
        return 0;
    CHECK(srv);
    server_release(srv);
    return 0;
}

/* ---- setup ---- */

/* Room for other fds: a server that takes every fd up to the limit starves the rest of the
 * process (and its own accept retries: issue 18). */
static size_t default_max_conns(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return SIZE_MAX;
    size_t n = (size_t)rl.rlim_cur;
    n = n >= 128 ? n - 64 : n / 2;
    return n ? n : 1;
}

static corio_server *server_new(corio_stream_handler_fn handler, void *arg,
                                const corio_stream_opts *opts, size_t nls) {
    corio_server *srv = corio__calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->ls = corio__calloc(nls ? nls : 1, sizeof *srv->ls);
    if (!srv->ls) {
        free(srv);
        return NULL;
    }
    srv->loop = corio_get_running_loop();
    corio__loop_ref(srv->loop); /* its memory may outlive the loop's close */
    srv->magic = CORIO__MAGIC_LIVE(CORIO__KIND_SERVER);
    srv->handler = handler;
    srv->arg = arg;
    if (opts)
        srv->opts = *opts;
    srv->opts.server_hostname = NULL; /* a client's option, not kept */
    if (srv->opts.tls) /* the server's until it is freed */
        corio__tls_context_ref(srv->opts.tls);
    srv->refs = 1;
    srv->conns.prev = srv->conns.next = &srv->conns;
    srv->max_conns = opts && opts->max_connections ? opts->max_connections : default_max_conns();
    srv->share.max_buffered = opts && opts->max_buffered ? opts->max_buffered : 64u << 20;
    return srv;
}

/* A listening socket on addr, or an error. */
static int listen_on(const corio_stream_opts *o, int family, const struct sockaddr *addr,
                     socklen_t alen) {
    int fd = corio_socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        return fd;
    int one = 1, rc = 0;
    unsigned flags = o ? o->flags : 0;
    if (family != AF_UNIX && !(flags & CORIO_SERVER_NO_REUSE_ADDRESS))
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if ((flags & CORIO_SERVER_REUSE_PORT) &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        rc = -errno;
    /* Each family gets its own socket, so an IPv6 one must not take the IPv4 port too. */
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (rc == 0 && bind(fd, addr, alen) < 0)
        rc = -errno;
    if (rc == 0 && listen(fd, o && o->backlog > 0 ? o->backlog : 100) < 0)
        rc = -errno;
    if (rc < 0) {
        corio_close(fd);
        return rc;
    }
    return fd;
}

/* Starts an accept task per listening socket; on failure closes everything. */
static int start(corio_server **out, corio_server *srv) {
    for (size_t i = 0; i < srv->nls; i++) {
        listener *l = &srv->ls[i];
        l->srv = srv;
        int rc = corio_create_task(&l->task, srv->loop, accept_main, l, NULL);
        if (rc == 0 &&
            corio_future_add_done_callback(corio_task_future(l->task), accept_done, l) < 0) {
            corio_task_cancel(l->task, NULL);
            corio_task_unref(l->task);
            l->task = NULL;
            rc = -ENOMEM;
        }
        if (rc < 0) {
            server_release(srv);
            return rc;
        }
        srv->running++;
        srv->refs++;
    }
    *out = srv;
    return 0;
}

/* A server's options: the streams' checks, and a TLS context made for the server side. */
static int server_opts_check(const corio_stream_opts *opts) {
    if (corio__stream_opts_check(opts) < 0 ||
        (opts && opts->tls && opts->tls->side != CORIO_TLS_SERVER))
        return -EINVAL;
    return 0;
}

int corio_start_server(corio_server **out, const char *host, int port,
                       corio_stream_handler_fn handler, void *arg, const corio_stream_opts *opts) {
    if (out)
        *out = NULL;
    if (!handler || !out || port < 0 || port > 65535 || server_opts_check(opts) < 0)
        return -EINVAL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = opts ? opts->family : 0, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = corio__stream_resolve(host && *host ? host : NULL, service, &hints, &res);
    if (rc < 0)
        return rc;
    size_t n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n++;
    corio_server *srv = server_new(handler, arg, opts, n);
    if (!srv) {
        freeaddrinfo(res);
        return -ENOMEM;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = listen_on(opts, ai->ai_family, ai->ai_addr, ai->ai_addrlen);
        if (fd < 0) {
            rc = fd;
            break;
        }
        srv->ls[srv->nls++].fd = fd;
    }
    freeaddrinfo(res);
    if (rc < 0) {
        server_release(srv);
        return rc;
    }
    return start(out, srv);
}

int corio_start_unix_server(corio_server **out, const char *path, corio_stream_handler_fn handler,
                            void *arg, const corio_stream_opts *opts) {
    if (out)
        *out = NULL;
    if (!handler || !out || server_opts_check(opts) < 0)
        return -EINVAL;
    struct sockaddr_un sun;
    int rc = corio__stream_unix_addr(path, &sun);
    if (rc < 0)
        return rc;
    if (!corio_get_running_loop())
        return CORIO_ENOTASK;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* a stale socket of an earlier server, as asyncio removes */
    corio_server *srv = server_new(handler, arg, opts, 1);
    if (!srv)
        return -ENOMEM;
    if (!(srv->unix_path = strdup(path))) {
        server_release(srv);
        return -ENOMEM;
    }
    int fd = listen_on(opts, AF_UNIX, (struct sockaddr *)&sun, sizeof sun);
    if (fd < 0) {
        free(srv->unix_path);
        srv->unix_path = NULL;
        server_release(srv);
        return fd;
    }
    srv->ls[srv->nls++].fd = fd;
    if (stat(path, &st) == 0) {
        srv->dev = st.st_dev;
        srv->ino = st.st_ino;
    }
    return start(out, srv);
}
