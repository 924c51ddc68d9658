/* corio_loop_dump_on_signal: a signal asks every loop that registered it for a task dump.
 *
 * The handler only bumps a counter (lock-free atomics are async-signal-safe); each registered loop
 * compares it with the count at its last dump at the start of every iteration and dumps from its
 * own thread. Which loops listen to which signal is process-wide state, kept under a mutex, so
 * that the previous action can be put back when the last listener goes.
 */
#include "task/debug.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_uint signalled[NSIG];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned listeners[NSIG];
static struct sigaction previous[NSIG];

static void on_signal(int signo) {
    atomic_fetch_add_explicit(&signalled[signo], 1, memory_order_relaxed);
}

static int listen_to(int signo) {
    int rc = 0;
    pthread_mutex_lock(&lock);
    if (listeners[signo] == 0) {
        struct sigaction sa = {0};
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(signo, &sa, &previous[signo]) < 0)
            rc = -errno;
    }
    if (rc == 0)
        listeners[signo]++;
    pthread_mutex_unlock(&lock);
    return rc;
}

static void stop_listening(int signo) {
    pthread_mutex_lock(&lock);
    if (listeners[signo] && --listeners[signo] == 0)
        sigaction(signo, &previous[signo], NULL);
    pthread_mutex_unlock(&lock);
}

int corio_loop_dump_on_signal(corio_loop *loop, int signo, int fd) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (signo < 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP || signo == SIGSEGV ||
        signo == SIGBUS)
        return -EINVAL;
    /* A closed loop would never stop listening (close is where that happens): the process
     * would keep corio's handler for good. Turning it off (close itself does) is always fine. */
    if (signo && corio__loop_closing(loop))
        return CORIO_ECLOSED;
    if (signo && signo != loop->task.dump_signo) {
        int rc = listen_to(signo);
        if (rc < 0)
            return rc;
    }
    if (loop->task.dump_signo && signo != loop->task.dump_signo)
        stop_listening(loop->task.dump_signo);
    loop->task.dump_signo = signo;
    loop->task.dump_fd = fd < 0 ? STDERR_FILENO : fd;
    loop->task.dump_seen = atomic_load_explicit(&signalled[signo], memory_order_relaxed);
    corio__loop_watch(loop, signo != 0);
    return 0;
}

void corio__dump_if_signalled(corio_loop *loop) {
    unsigned now = atomic_load_explicit(&signalled[loop->task.dump_signo], memory_order_relaxed);
    if (now == loop->task.dump_seen)
        return;
    loop->task.dump_seen = now;
    corio_loop_dump_tasks_fd(loop, loop->task.dump_fd);
}
