/* Helpers shared by the signal tests: waits with a wide limit (a signal that never arrives fails
 * the test instead of hanging it), and reads of a signal's action and the thread's mask. */
#ifndef CORIO_TESTS_SIGNAL_HELPERS_H
#define CORIO_TESTS_SIGNAL_HELPERS_H

#include "core_helpers.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define SIGNAL_WAIT_LIMIT 10.0

static inline int event_wait_bounded(corio_event *ev)
{
    corio_timeout *tm;
    int rc = corio_timeout_enter(&tm, SIGNAL_WAIT_LIMIT);
    if (rc < 0)
        return rc;
    return corio_timeout_exit(tm, corio_event_wait(ev));
}

static inline int watcher_wait_bounded(corio_signal_watcher *w)
{
    corio_timeout *tm;
    int rc = corio_timeout_enter(&tm, SIGNAL_WAIT_LIMIT);
    if (rc < 0)
        return rc;
    return corio_timeout_exit(tm, corio_signal_watcher_wait(w));
}

static inline void (*action_of(int signo))(int)
{
    struct sigaction sa;
    cr_assert_eq(sigaction(signo, NULL, &sa), 0);
    return sa.sa_handler;
}

static inline int blocked_here(int signo)
{
    sigset_t set;
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, NULL, &set), 0);
    return sigismember(&set, signo);
}

static inline void set_blocked(int signo, int blocked)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    cr_assert_eq(pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL), 0);
}

#endif
