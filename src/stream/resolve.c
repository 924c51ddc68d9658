/* Name lookup on a worker thread, handed back to the loop through an eventfd.
 *
 * The job is shared by the awaiting task and the worker until one of them lets go: the worker
 * moves `state` from RUNNING to DONE when it has a result, the task moves it from RUNNING to
 * ABANDONED when it is cancelled first. Whoever loses the race knows the other still holds the
 * job: a task that finds DONE joins the (finishing) worker and takes the result; a worker that
 * finds ABANDONED is detached and frees the result and the job itself, touching nothing else.
 * The eventfd belongs to the loop side throughout (it is registered with the backend), so the
 * worker writes to it only in the DONE case, while the task is still there to close it after.
 */
#define _GNU_SOURCE
#include "stream/resolve.h"
#include "task/task.h"

#include "corio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

enum { RUNNING, DONE, ABANDONED };

typedef struct job {
    char *host, *service;
    struct addrinfo hints;
    int has_hints;
    struct addrinfo *res;
    int rc; /* corio error code */
    int efd;
    int state;
    pthread_t thread;
} job;

static int live_workers;

int corio__stream_resolve_pending(void) { return __atomic_load_n(&live_workers, __ATOMIC_ACQUIRE); }

static int lookup_error(int rc, int err) {
    if (rc == 0)
        return 0;
    if (rc == EAI_SYSTEM)
        return err ? -err : -EIO;
    if (rc == EAI_MEMORY)
        return -ENOMEM;
    return CORIO_EAI(rc);
}

static void job_free(job *j) {
    if (j->res)
        freeaddrinfo(j->res);
    free(j->host);
    free(j->service);
    free(j);
}

static void *worker(void *arg) {
    job *j = arg;
    errno = 0;
    int rc = getaddrinfo(j->host, j->service, j->has_hints ? &j->hints : NULL, &j->res);
    j->rc = lookup_error(rc, errno);
    if (rc != 0)
        j->res = NULL;
    int expected = RUNNING;
    if (__atomic_compare_exchange_n(&j->state, &expected, DONE, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        uint64_t one = 1;
        ssize_t n = write(j->efd, &one, sizeof one); /* the task joins us, then closes it */
        (void)n;
    } else {
        job_free(j); /* abandoned and detached: the job is ours alone */
    }
    __atomic_fetch_sub(&live_workers, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

static int is_numeric(const char *host) {
    unsigned char buf[sizeof(struct in6_addr)];
    return !host || inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static job *job_new(const char *host, const char *service, const struct addrinfo *hints) {
    job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->efd = -1;
    j->host = host ? strdup(host) : NULL;
    j->service = service ? strdup(service) : NULL;
    if ((host && !j->host) || (service && !j->service)) {
        job_free(j);
        return NULL;
    }
    if (hints) {
        /* Only the fields getaddrinfo reads: the pointers in hints must be NULL. */
        j->hints.ai_flags = hints->ai_flags;
        j->hints.ai_family = hints->ai_family;
        j->hints.ai_socktype = hints->ai_socktype;
        j->hints.ai_protocol = hints->ai_protocol;
        j->has_hints = 1;
    }
    return j;
}

/* Starts the worker with every signal blocked, so that signals keep going to the program's
 * threads. */
static int start_worker(job *j) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    __atomic_fetch_add(&live_workers, 1, __ATOMIC_ACQ_REL);
    int rc = pthread_create(&j->thread, NULL, worker, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        __atomic_fetch_sub(&live_workers, 1, __ATOMIC_ACQ_REL);
    return -rc;
}

static int await_worker(job *j, struct addrinfo **res) {
    int rc = corio_wait_readable(j->efd, -1);
    if (rc < 0) {
        int expected = RUNNING;
        pthread_t th = j->thread;
        int efd = j->efd;
        if (__atomic_compare_exchange_n(&j->state, &expected, ABANDONED, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            pthread_detach(th); /* j now belongs to the worker */
            corio_close(efd);
            return rc;
        }
        /* DONE: the worker has its result and is finishing; take it as below. */
    }
    pthread_join(j->thread, NULL);
    corio_close(j->efd);
    if (rc == 0 && (rc = j->rc) == 0) {
        *res = j->res;
        j->res = NULL;
    }
    job_free(j);
    return rc;
}

int corio__stream_resolve(const char *host, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res) {
    if (res)
        *res = NULL;
    if (!res || (!host && !service))
        return -EINVAL;
    if (!corio__current_task())
        return CORIO_ENOTASK;
    if (is_numeric(host)) {
        struct addrinfo h = {0};
        if (hints) {
            h.ai_flags = hints->ai_flags;
            h.ai_family = hints->ai_family;
            h.ai_socktype = hints->ai_socktype;
            h.ai_protocol = hints->ai_protocol;
        }
        if (host)
            h.ai_flags |= AI_NUMERICHOST;
        errno = 0;
        int rc = getaddrinfo(host, service, &h, res);
        if (rc != 0)
            *res = NULL;
        return lookup_error(rc, errno);
    }
    job *j = job_new(host, service, hints);
    if (!j)
        return -ENOMEM;
    j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (j->efd < 0) {
        int err = -errno;
        job_free(j);
        return err;
    }
    int rc = start_worker(j);
    if (rc < 0) {
        close(j->efd);
        job_free(j);
        return rc;
    }
    return await_worker(j, res);
}
