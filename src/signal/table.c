/* The process-wide table of signals taken by corio, and corio's handler.
 *
 * The handler must be async-signal-safe and may run on any thread at any moment, so it takes no
 * lock: it walks the signal's list of nodes with atomic loads, sets the signal's bit in each
 * loop's mask and writes one byte to each loop's pipe (a full pipe is fine: the loop has bytes
 * to read already, and the mask keeps the signal). Changes to the lists are made under a mutex.
 * A node that is unlinked may still be read by a handler that loaded it before: `inflight`
 * counts the handlers running, and detach waits for it to reach zero before the node's memory
 * may go (an increment before the load, so a handler that could have seen the node is counted).
 */
#include "signal/signal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

static _Atomic(corio__sig_node *) heads[NSIG];
static atomic_uint inflight;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction saved[NSIG];     /* the action in place before corio took the signal */
static _Atomic(const void *) owner[NSIG]; /* the loop that claimed it, or NULL */

int corio__sig_valid(int signo) {
    switch (signo) {
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGTRAP:
        return 0;
    default:
        return signo > 0 && signo < NSIG && signo <= 64;
    }
}

static void on_signal(int signo) {
    int saved_errno = errno;
    atomic_fetch_add(&inflight, 1);
    unsigned long long bit = 1ull << (signo - 1);
    for (corio__sig_node *n = atomic_load(&heads[signo]); n; n = atomic_load(&n->next)) {
        atomic_fetch_or(n->pending, bit);
        char byte = (char)signo;
        ssize_t w = write(n->wfd, &byte, 1);
        (void)w; /* EAGAIN: the pipe is full, the loop will read it and find the bit */
    }
    atomic_fetch_sub(&inflight, 1);
    errno = saved_errno;
}

/* corio's action for signo, one-shot while every node of the signal is weak. Called with the
 * lock held and the list not empty. */
static int install(int signo, struct sigaction *old) {
    int all_weak = 1;
    for (corio__sig_node *n = atomic_load(&heads[signo]); n; n = atomic_load(&n->next))
        all_weak &= n->weak;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | (all_weak ? SA_RESETHAND : 0);
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, old) < 0 ? -errno : 0;
}

int corio__sig_table_attach(int signo, corio__sig_node *node, const void *loop_owner) {
    pthread_mutex_lock(&lock);
    const void *cur = atomic_load(&owner[signo]);
    int rc = 0;
    if (loop_owner && cur && cur != loop_owner) {
        rc = CORIO_ESIGOWNED;
        goto out;
    }
    corio__sig_node *first = atomic_load(&heads[signo]);
    atomic_store(&node->next, first);
    atomic_store(&heads[signo], node);
    rc = install(signo, first ? NULL : &saved[signo]);
    if (rc < 0) {
        atomic_store(&heads[signo], first); /* no handler could have seen it: none installed */
        goto out;
    }
    if (loop_owner)
        atomic_store(&owner[signo], loop_owner);
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

int corio__sig_table_claim(int signo, const void *loop_owner) {
    pthread_mutex_lock(&lock);
    const void *cur = atomic_load(&owner[signo]);
    int rc = cur && cur != loop_owner ? CORIO_ESIGOWNED : 0;
    if (rc == 0)
        atomic_store(&owner[signo], loop_owner);
    pthread_mutex_unlock(&lock);
    return rc;
}

void corio__sig_table_unclaim(int signo, const void *loop_owner) {
    pthread_mutex_lock(&lock);
    if (atomic_load(&owner[signo]) == loop_owner)
        atomic_store(&owner[signo], NULL);
    pthread_mutex_unlock(&lock);
}

int corio__sig_table_claimed(int signo) { return atomic_load(&owner[signo]) != NULL; }

void corio__sig_table_refresh(int signo) {
    pthread_mutex_lock(&lock);
    if (atomic_load(&heads[signo]))
        install(signo, NULL);
    pthread_mutex_unlock(&lock);
}

void corio__sig_table_detach(int signo, corio__sig_node *node) {
    pthread_mutex_lock(&lock);
    _Atomic(corio__sig_node *) *link = &heads[signo];
    corio__sig_node *n;
    while ((n = atomic_load(link)) && n != node)
        link = &n->next;
    if (n) {
        atomic_store(link, atomic_load(&node->next));
        if (!atomic_load(&heads[signo]))
            sigaction(signo, &saved[signo], NULL);
        else
            install(signo, NULL); /* the weak flags may have changed */
    }
    pthread_mutex_unlock(&lock);
    while (atomic_load(&inflight))
        sched_yield();
}
