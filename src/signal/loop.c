/* A loop's signals: its pipe, its mask of recorded signals, and its subscribers per signal.
 *
 * The state is made when the loop first takes a signal, so a loop that never does pays nothing.
 * The pipe's read end is an add_reader watch: when corio's handler writes to it, the loop's
 * callback empties it, takes the recorded mask and calls each signal's subscribers, on the loop's
 * thread. A subscriber may unsubscribe itself or others from its call: those are only marked
 * while the calls go on, and freed after.
 */
#define _GNU_SOURCE /* pipe2 */
#include "signal/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct corio__sig_sub {
    corio__sig_sub *next;
    struct corio__sig_loop *st; /* NULL once the loop closed: the owner's unsubscribe frees it */
    corio__sig_fn fn;
    void *arg;
    int signo;
    unsigned flags;
    uint8_t dead; /* unsubscribed during a dispatch */
};

typedef struct corio__sig_loop {
    corio_loop *loop;
    int rfd, wfd;
    atomic_ullong pending;
    uint64_t attached;  /* signals with a node in the table */
    uint64_t unblocked; /* signals that were blocked on the loop's thread when attached */
    unsigned dispatching, dead;
    corio__sig_sub *subs[NSIG];
    corio__sig_node nodes[NSIG];
} corio__sig_loop;

static inline uint64_t bit_of(int signo) { return 1ull << (signo - 1); }

static void dispatch_one(corio__sig_loop *st, int signo) {
    int claimed = -1;
    for (corio__sig_sub *s = st->subs[signo]; s; s = s->next) {
        if (s->dead)
            continue;
        if (s->flags & CORIO__SIG_WEAK) {
            if (claimed < 0)
                claimed = corio__sig_table_claimed(signo);
            if (claimed)
                continue;
        }
        s->fn(s, signo, s->arg);
    }
}

static void sweep(corio__sig_loop *st) {
    for (int signo = 1; st->dead && signo < NSIG; signo++)
        for (corio__sig_sub **link = &st->subs[signo]; *link;) {
            corio__sig_sub *s = *link;
            if (!s->dead) {
                link = &s->next;
                continue;
            }
            *link = s->next;
            free(s);
            st->dead--;
        }
}

static void on_pipe(int fd, void *arg) {
    corio__sig_loop *st = arg;
    char buf[64];
    while (read(fd, buf, sizeof buf) == (ssize_t)sizeof buf)
        ;
    uint64_t mask = atomic_exchange(&st->pending, 0);
    st->dispatching++;
    for (int signo = 1; mask; signo++, mask >>= 1)
        if ((mask & 1) && st->subs[signo])
            dispatch_one(st, signo);
    if (--st->dispatching == 0)
        sweep(st);
}

static int state_new(corio_loop *loop, corio__sig_loop **out) {
    corio__sig_loop *st = corio__calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        int err = -errno;
        free(st);
        return err;
    }
    st->loop = loop;
    st->rfd = fds[0];
    st->wfd = fds[1];
    int rc = corio_loop_add_reader(loop, st->rfd, on_pipe, st);
    if (rc < 0) {
        close(fds[0]);
        close(fds[1]);
        free(st);
        return rc;
    }
    *out = loop->sig.state = st;
    return 0;
}

static int has_public(const corio__sig_loop *st, int signo) {
    for (const corio__sig_sub *s = st->subs[signo]; s; s = s->next)
        if (!s->dead && (s->flags & CORIO__SIG_PUBLIC))
            return 1;
    return 0;
}

static int all_weak(const corio__sig_loop *st, int signo) {
    for (const corio__sig_sub *s = st->subs[signo]; s; s = s->next)
        if (!s->dead && !(s->flags & CORIO__SIG_WEAK))
            return 0;
    return 1;
}

/* Links signo's node for this loop, unblocking the signal on this thread if it was blocked. */
static int attach(corio__sig_loop *st, int signo, unsigned flags) {
    corio__sig_node *node = &st->nodes[signo];
    node->wfd = st->wfd;
    node->pending = &st->pending;
    node->weak = (flags & CORIO__SIG_WEAK) != 0;
    int rc = corio__sig_table_attach(signo, node, (flags & CORIO__SIG_PUBLIC) ? st->loop : NULL);
    if (rc < 0)
        return rc;
    st->attached |= bit_of(signo);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, signo);
    if (pthread_sigmask(SIG_UNBLOCK, &set, &old) == 0 && sigismember(&old, signo))
        st->unblocked |= bit_of(signo);
    return 0;
}

static void detach(corio__sig_loop *st, int signo) {
    corio__sig_table_unclaim(signo, st->loop);
    corio__sig_table_detach(signo, &st->nodes[signo]);
    st->attached &= ~bit_of(signo);
    atomic_fetch_and(&st->pending, ~bit_of(signo));
    if (st->unblocked & bit_of(signo)) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, signo);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        st->unblocked &= ~bit_of(signo);
    }
}

int corio__signal_subscribe(corio__sig_sub **out, corio_loop *loop, int signo, corio__sig_fn fn,
                            void *arg, unsigned flags) {
    *out = NULL;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    corio__sig_sub *s = corio__calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    corio__sig_loop *st = loop->sig.state;
    int rc = st ? 0 : state_new(loop, &st);
    if (rc == 0 && !(st->attached & bit_of(signo)))
        rc = attach(st, signo, flags);
    else if (rc == 0 && (flags & CORIO__SIG_PUBLIC) && !has_public(st, signo))
        rc = corio__sig_table_claim(signo, loop);
    if (rc < 0) {
        free(s);
        return rc;
    }
    uint8_t was_weak = st->nodes[signo].weak;
    *s = (corio__sig_sub){.next = st->subs[signo], .st = st, .fn = fn, .arg = arg,
                          .signo = signo, .flags = flags};
    st->subs[signo] = s;
    if (was_weak && !(flags & CORIO__SIG_WEAK)) {
        st->nodes[signo].weak = 0;
        corio__sig_table_refresh(signo);
    }
    *out = s;
    return 0;
}

void corio__signal_unsubscribe(corio__sig_sub *s) {
    if (!s)
        return;
    corio__sig_loop *st = s->st;
    if (!st) {
        free(s);
        return;
    }
    int signo = s->signo;
    unsigned flags = s->flags; /* s may be freed by the sweep */
    s->dead = 1;
    st->dead++;
    if (!st->dispatching)
        sweep(st);
    int live = 0;
    for (corio__sig_sub *t = st->subs[signo]; t; t = t->next)
        live += !t->dead;
    if (!live) {
        detach(st, signo);
        return;
    }
    if ((flags & CORIO__SIG_PUBLIC) && !has_public(st, signo))
        corio__sig_table_unclaim(signo, st->loop);
    if (!st->nodes[signo].weak && all_weak(st, signo)) {
        st->nodes[signo].weak = 1;
        corio__sig_table_refresh(signo);
    }
}

int corio__signal_sub_signo(const corio__sig_sub *sub) { return sub->signo; }
void *corio__signal_sub_arg(const corio__sig_sub *sub) { return sub->arg; }
int corio__signal_sub_closed(const corio__sig_sub *sub) { return !sub->st; }

corio__sig_sub *corio__signal_find(corio_loop *loop, int signo, corio__sig_fn fn) {
    corio__sig_loop *st = loop->sig.state;
    for (corio__sig_sub *s = st ? st->subs[signo] : NULL; s; s = s->next)
        if (!s->dead && s->fn == fn)
            return s;
    return NULL;
}

void corio__signal_loop_term(corio_loop *loop) {
    corio__sig_loop *st = loop->sig.state;
    if (!st)
        return;
    for (int signo = 1; signo < NSIG; signo++) {
        if (st->attached & bit_of(signo))
            detach(st, signo);
        for (corio__sig_sub *s = st->subs[signo], *next; s; s = next) {
            next = s->next;
            if (s->flags & CORIO__SIG_OWNED_BY_LOOP) {
                if (!s->dead)
                    free(s->arg);
                free(s);
            } else if (s->dead) {
                free(s);
            } else {
                s->st = NULL;
            }
        }
    }
    corio__poller_forget(corio__loop_poller(loop), st->rfd); /* see proc/reap.c */
    close(st->rfd);
    close(st->wfd);
    free(st);
    loop->sig.state = NULL;
}
