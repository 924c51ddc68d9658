/* Choosing a poller's backend, and the poller calls common to every backend. */
#include "poll/poller.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static const corio__poll_backend *find(const char *name) {
    if (strcmp(name, "epoll") == 0)
        return &corio__poll_epoll;
#ifdef CORIO_HAVE_LIBURING
    if (strcmp(name, "io_uring") == 0 || strcmp(name, "uring") == 0)
        return &corio__poll_uring;
#else
    if (strcmp(name, "io_uring") == 0 || strcmp(name, "uring") == 0)
        return NULL;
#endif
    return NULL;
}

static int known(const char *name) {
    return strcmp(name, "epoll") == 0 || strcmp(name, "io_uring") == 0 ||
           strcmp(name, "uring") == 0;
}

/* A peer that goes away must give -EPIPE, not kill the process: sends use MSG_NOSIGNAL, but
 * write(2) on a pipe or socket has no such flag. As Python and Go do, SIGPIPE is ignored unless
 * the program chose a handler of its own. */
static void ignore_sigpipe(void) {
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
        !(old.sa_flags & SA_SIGINFO)) {
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, NULL);
    }
}

static int try_backend(corio__poller *p, const corio__poll_backend *be) {
    p->be = be;
    p->kind = be->kind;
    p->nwatched = 0;
    int rc = be->init(p);
    if (rc < 0)
        p->be = NULL;
    return rc;
}

int corio__poller_init(corio__poller *p, const char *name) {
    ignore_sigpipe();
    p->be = NULL;
    p->impl = NULL;
    p->kinds = NULL;
    p->nkinds = 0;
    atomic_init(&p->wake_pending, 0);
    int explicit_name = name && *name;
    if (!explicit_name) {
        name = getenv("CORIO_BACKEND");
        if (name && !*name)
            name = NULL;
    }
    if (name) {
        if (!known(name))
            return -EINVAL;
        const corio__poll_backend *be = find(name);
        if (!be)
            return -ENOSYS; /* built without liburing */
        int rc = try_backend(p, be);
        /* Named in the environment only: a kernel that refuses io_uring gets epoll. */
        if (rc < 0 && !explicit_name && be != &corio__poll_epoll)
            rc = try_backend(p, &corio__poll_epoll);
        return rc;
    }
#ifdef CORIO_HAVE_LIBURING
    /* Memcheck cannot follow io_uring: it does not see the kernel fill a buffer after the
     * system call returned, and a thread waiting in io_uring_enter keeps every other thread of
     * the program from running. Under it the default is epoll (naming io_uring still works). */
    if (!RUNNING_ON_VALGRIND && try_backend(p, &corio__poll_uring) == 0)
        return 0;
#endif
    return try_backend(p, &corio__poll_epoll);
}

void corio__poller_close(corio__poller *p) {
    if (p->be)
        p->be->fini(p);
    corio__poller_fd_kinds_free(p);
}

int corio__poller_wait(corio__poller *p, int64_t timeout_ns) { return p->be->wait(p, timeout_ns); }

int corio__poller_wake(corio__poller *p) {
    if (atomic_exchange_explicit(&p->wake_pending, 1, memory_order_acq_rel))
        return 0;
    int saved = errno; /* a signal handler may call this: leave the interrupted code's errno */
    int rc = p->be->wake(p);
    errno = saved;
    return rc;
}

int corio__poller_attach(corio__poller *p) {
    return p->be && p->be->attach ? p->be->attach(p) : 0;
}

const char *corio__poller_name(const corio__poller *p) { return p->be ? p->be->name : "none"; }

void corio__poller_forget(corio__poller *p, int fd) {
    corio__poller_set_fd_kind(p, fd, CORIO__FD_UNKNOWN);
    if (p->be)
        p->be->forget(p, fd);
}

corio__poll_rec *corio__poller_watch(corio__poller *p, int fd, uint32_t dir, corio__poll_rec *w,
                                     int *err) {
    *err = 0;
    return p->be->watch(p, fd, dir, w, err);
}
