/* A multi-core echo server: one event loop per CPU, each on its own thread, each accepting on
 * its own SO_REUSEPORT socket bound to the same port (the kernel spreads connections over them),
 * with a clean shutdown on SIGINT or SIGTERM.
 *
 *   multicore_echo [PORT [THREADS]]      (default 7007, one thread per online CPU)
 *   printf 'hello\n' | nc -q1 127.0.0.1 7007
 *
 * The shape that scales on a multi-core machine: loops share nothing, so nothing is locked on the
 * hot path. The main thread only waits for a signal (blocked in every thread, taken with
 * sigwait) and then asks each loop, with corio_loop_call_soon_threadsafe (the one call that may
 * cross threads), to cancel its server task; each server closes its socket, cancels its
 * connections, waits for them, and returns, so corio_run closes its loop.
 */
#include <corio.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 4096

typedef struct server {
    int index, port;
    int lfd;           /* the listening socket, made before the server counts as started */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when `started` is set */
    int started;       /* the server runs, or has failed (under mu) */
    corio_loop *loop;  /* set while the server task runs (under mu): main posts to it */
    corio_task *task;  /* the server task (loop thread) */
    int rc;            /* the thread's outcome */
    long served;       /* connections accepted */
} server;

static int listen_reuseport(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 1024) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* One connection: echo until the peer closes or the task is cancelled. */
static void *echo_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[16384];
    for (;;) {
        ssize_t n = corio_sock_recv(fd, buf, sizeof buf, 0);
        if (n <= 0 || corio_sock_sendall(fd, buf, (size_t)n, 0) < 0)
            break;
    }
    corio_close(fd);
    return NULL;
}

/* Drops the tasks of connections that have ended, keeping the others in place. */
static size_t reap(corio_task **conns, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (corio_future_done(corio_task_future(conns[i])))
            corio_task_unref(conns[i]);
        else
            conns[k++] = conns[i];
    }
    return k;
}

static void *serve(void *arg) {
    server *s = arg;
    int lfd = s->lfd;
    corio_task **conns = malloc(MAX_CONNS * sizeof *conns);
    if (!conns) {
        corio_close(lfd);
        return corio_raise(-ENOMEM);
    }
    size_t nconns = 0;
    int rc;
    for (;;) {
        int cfd = corio_sock_accept(lfd, NULL, NULL);
        if (cfd < 0) {
            rc = cfd == -ECANCELED ? 0 : cfd; /* cancelled: the shutdown asked for */
            break;
        }
        s->served++;
        if (nconns == MAX_CONNS)
            nconns = reap(conns, nconns);
        /* Own stacks, not compact ones: echo_conn's 16 KiB buffer would be copied at every
         * switch. */
        corio_task *t = NULL;
        if (nconns < MAX_CONNS)
            corio_create_task(&t, NULL, echo_conn, (void *)(intptr_t)cfd, NULL);
        if (!t) {
            corio_close(cfd);
            continue;
        }
        conns[nconns++] = t;
    }
    corio_close(lfd);
    /* The shutdown: cancel every connection and wait for each to close its socket. A cancelled
     * task's awaits fail at once from now on, so the gather is quick. */
    corio_task_uncancel(corio_current_task());
    for (size_t i = 0; i < nconns; i++)
        corio_task_cancel(conns[i], "server shutting down");
    corio_gather((corio_future *const *)conns, nconns, CORIO_GATHER_RETURN_ERRORS, NULL, NULL);
    for (size_t i = 0; i < nconns; i++)
        corio_task_unref(conns[i]);
    free(conns);
    return rc < 0 ? corio_raise(rc) : NULL;
}

static void set_started(server *s, corio_loop *loop) {
    pthread_mutex_lock(&s->mu);
    s->loop = loop;
    s->started = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *server_main(void *arg) {
    server *s = arg;
    /* Listening before main is told this server started: main then says the port is ready. */
    s->lfd = listen_reuseport(s->port);
    if (s->lfd < 0)
        return corio_raise(s->lfd);
    int rc = corio_create_task(&s->task, NULL, serve, s, &(corio_task_opts){.name = "server"});
    if (rc < 0) {
        corio_close(s->lfd);
        return corio_raise(rc);
    }
    set_started(s, corio_get_running_loop());
    void *v;
    rc = corio_await(corio_task_future(s->task), &v);
    /* No posts from main after this: the loop closes once this returns. */
    pthread_mutex_lock(&s->mu);
    s->loop = NULL;
    pthread_mutex_unlock(&s->mu);
    corio_task_unref(s->task);
    return rc < 0 ? corio_raise(rc) : NULL;
}

/* On the server's loop thread, posted by main. */
static void stop_server(void *arg) {
    server *s = arg;
    corio_task_cancel(s->task, "shutdown");
}

static void *server_thread(void *arg) {
    server *s = arg;
    s->rc = corio_run(server_main, s, NULL, NULL);
    set_started(s, NULL); /* if it failed before it started, main stops waiting */
    if (s->rc < 0) {      /* failed while the others run: shut them all down */
        fprintf(stderr, "multicore_echo: loop %d: %s\n", s->index, corio_strerror(s->rc));
        kill(getpid(), SIGTERM);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 7007;
    long nthreads = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
    if (port <= 0 || port > 65535 || nthreads < 1 || nthreads > 1024) {
        fprintf(stderr, "usage: %s [PORT [THREADS]]\n", argv[0]);
        return 2;
    }
    /* Blocked here, so in every thread created below: only sigwait takes them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    server *servers = calloc((size_t)nthreads, sizeof *servers);
    if (!servers)
        return 1;
    for (long i = 0; i < nthreads; i++) {
        servers[i].index = (int)i;
        servers[i].port = port;
        pthread_mutex_init(&servers[i].mu, NULL);
        pthread_cond_init(&servers[i].cv, NULL);
        if (pthread_create(&servers[i].thread, NULL, server_thread, &servers[i]) != 0) {
            fprintf(stderr, "multicore_echo: cannot start thread %ld\n", i);
            return 1;
        }
    }
    /* Every loop is posted to only while it runs: wait until each has started (a signal that
     * comes meanwhile stays pending). A server that failed to start stops them all. */
    int failed = 0;
    for (long i = 0; i < nthreads; i++) {
        pthread_mutex_lock(&servers[i].mu);
        while (!servers[i].started)
            pthread_cond_wait(&servers[i].cv, &servers[i].mu);
        failed |= servers[i].loop == NULL;
        pthread_mutex_unlock(&servers[i].mu);
    }
    if (!failed) {
        printf("multicore_echo: %ld loops on port %d; SIGINT or SIGTERM stops them\n", nthreads,
               port);
        fflush(stdout);
        int sig = 0;
        sigwait(&sigs, &sig);
        printf("multicore_echo: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    for (long i = 0; i < nthreads; i++) {
        pthread_mutex_lock(&servers[i].mu);
        if (servers[i].loop)
            corio_loop_call_soon_threadsafe(servers[i].loop, stop_server, &servers[i]);
        pthread_mutex_unlock(&servers[i].mu);
    }
    int bad = 0;
    long served = 0;
    for (long i = 0; i < nthreads; i++) {
        pthread_join(servers[i].thread, NULL);
        pthread_mutex_destroy(&servers[i].mu);
        pthread_cond_destroy(&servers[i].cv);
        served += servers[i].served;
        bad |= servers[i].rc < 0;
    }
    printf("multicore_echo: served %ld connections, all loops closed\n", served);
    free(servers);
    return bad;
}
