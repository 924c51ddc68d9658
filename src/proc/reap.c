/* Learning of children's exits, and each loop's list of its children.
 *
 * With pidfds (Linux 5.3+), each child's pidfd is watched with add_reader: it becomes readable
 * when the child exits, and the child is reaped with waitid(P_PID). Without them (or with
 * CORIO_PIDFD=0), the loop subscribes to SIGCHLD and, on each delivery, tries waitid(WNOHANG) on
 * each of its children: a cost in the number of children per SIGCHLD, which only the fallback
 * pays. Either way only corio's own children are reaped, never another part of the program's.
 *
 * A SIGCHLD can be lost to the fallback: another part of the program may put its own handler in
 * corio's place, and ThreadSanitizer, which defers signals, was seen to drop one in about one run
 * in twenty of tests/standalone_signal_process.c (never without it, in 500 runs). So while the
 * fallback has children, the loop also looks at them every GUARD_S seconds: a lost signal costs
 * that much delay, not a wait for ever. Not under virtual time, whose clock would jump from one
 * look to the next while the child runs.
 */
#define _GNU_SOURCE
#include "proc/proc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUARD_S 1.0

typedef struct corio__proc_loop {
    corio__link children;  /* not reaped yet */
    corio__sig_sub *sigchld; /* the fallback's subscription, or NULL */
    corio_handle *guard;     /* the fallback's next look at its children, or NULL */
    corio_loop *loop;
    int use_pidfd;
} corio__proc_loop;

/* Whether this process uses pidfds: -1 not known yet. */
static atomic_int pidfd_mode = -1;

static int pidfd_wanted(void) {
    int mode = atomic_load(&pidfd_mode);
    if (mode >= 0)
        return mode;
    const char *env = getenv("CORIO_PIDFD");
    mode = !(env && strcmp(env, "0") == 0);
    if (mode) {
        /* The kernel has pidfd_open if it answers for this very process. */
        int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
        mode = fd >= 0;
        if (fd >= 0)
            close(fd);
    }
    atomic_store(&pidfd_mode, mode);
    return mode;
}

/* The returncode of a reaped child, asyncio's way. */
static int returncode(const siginfo_t *si) {
    return si->si_code == CLD_EXITED ? si->si_status : -si->si_status;
}

/* Reaps p if it has exited. Returns 1 if it had. */
static int try_reap(corio_process *p) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc;
    while ((rc = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG)) < 0 && errno == EINTR)
        ;
    if (rc < 0) {
        corio__proc_exited(p, 255); /* ECHILD: reaped by someone else; its status is gone */
        return 1;
    }
    if (si.si_pid != p->pid)
        return 0;
    corio__proc_exited(p, returncode(&si));
    return 1;
}

static void on_pidfd(int fd, void *arg) {
    (void)fd;
    try_reap(arg);
}

static void reap_all(corio__proc_loop *st) {
    for (corio__link *l = st->children.next, *next; l != &st->children; l = next) {
        next = l->next;
        try_reap(corio__container_of(l, corio_process, link));
    }
}

static void on_sigchld(corio__sig_sub *sub, int signo, void *arg) {
    (void)sub;
    (void)signo;
    reap_all(arg);
}

static void on_guard(void *arg);

/* Arms the guard if the fallback has children and none is armed (a failure to arm leaves the
 * signal alone, as before the guard). */
static void guard_arm(corio__proc_loop *st) {
    if (st->guard || !st->sigchld || st->children.next == &st->children ||
        corio__loop_virtual(st->loop))
        return;
    if (corio_loop_call_later(&st->guard, st->loop, GUARD_S, on_guard, st) < 0)
        st->guard = NULL;
}

static void guard_drop(corio__proc_loop *st) {
    corio_handle_cancel(st->guard);
    corio_handle_unref(st->guard);
    st->guard = NULL;
}

static void on_guard(void *arg) {
    corio__proc_loop *st = arg;
    corio_handle_unref(st->guard);
    st->guard = NULL;
    reap_all(st);
    guard_arm(st);
}

int corio__proc_prepare(corio_loop *loop) {
    corio__proc_loop *st = loop->proc.state;
    if (!st) {
        if (!(st = corio__calloc(1, sizeof *st)))
            return -ENOMEM;
        corio__list_init(&st->children);
        st->loop = loop;
        st->use_pidfd = pidfd_wanted();
        loop->proc.state = st;
    }
    if (st->use_pidfd || st->sigchld)
        return st->use_pidfd;
    return corio__signal_subscribe(&st->sigchld, loop, SIGCHLD, on_sigchld, st, 0);
}

void corio__proc_watch(corio_process *p, int use_pidfd) {
    corio__proc_loop *st = p->loop->proc.state;
    corio__list_insert_tail(&st->children, &p->link);
    p->pidfd = -1;
    if (!use_pidfd) {
        guard_arm(st);
        return;
    }
    int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (fd >= 0 && corio_loop_add_reader(p->loop, fd, on_pidfd, p) == 0) {
        p->pidfd = fd;
        return;
    }
    if (fd >= 0)
        close(fd);
    /* No pidfd for this one (EMFILE, ENOMEM): the loop falls back to SIGCHLD for it. */
    if (!st->sigchld)
        corio__signal_subscribe(&st->sigchld, p->loop, SIGCHLD, on_sigchld, st, 0);
    if (!try_reap(p))
        guard_arm(st);
}

void corio__proc_exited(corio_process *p, int code) {
    p->exited = 1;
    p->code = code;
    corio__list_remove(&p->link);
    if (p->pidfd >= 0) {
        /* Forgotten by the poller before the close: on epoll a plain close would leave the
         * number's registration behind, and the next fd to get the number (a pipe of the next
         * child) would never be waited on. */
        corio__poller_forget(corio__loop_poller(p->loop), p->pidfd);
        close(p->pidfd);
        p->pidfd = -1;
    }
    if (p->freed)
        corio__proc_release(p);
    else
        corio_event_set(p->exit_ev);
}

void corio__proc_release(corio_process *p) {
    corio_event_free(p->exit_ev);
    corio_loop *loop = p->loop;
    if (p->freed)
        free(p); /* its magic was killed when the owner freed it */
    else
        corio__obj_free(p, &p->magic, corio__loop_keeps(loop));
    corio__loop_unref(loop);
}

/* Kills and reaps a child the loop's close finds running, and says so. */
static void kill_at_close(corio_loop *loop, corio_process *p) {
    char msg[96];
    snprintf(msg, sizeof msg, "process %d still running when its loop closed: killed",
             (int)p->pid);
    corio__loop_report(loop, msg, 0, NULL, NULL);
    if (p->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
    else
        kill(p->pid, SIGKILL);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc;
    while ((rc = waitid(P_PID, (id_t)p->pid, &si, WEXITED)) < 0 && errno == EINTR)
        ;
    corio__proc_exited(p, rc < 0 ? 255 : returncode(&si));
}

void corio__proc_loop_term(corio_loop *loop) {
    corio__proc_loop *st = loop->proc.state;
    if (!st)
        return;
    while (st->children.next != &st->children) {
        corio_process *p = corio__container_of(st->children.next, corio_process, link);
        if (!try_reap(p))
            kill_at_close(loop, p);
    }
    guard_drop(st);
    corio__signal_unsubscribe(st->sigchld);
    free(st);
    loop->proc.state = NULL;
}
