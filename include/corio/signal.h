/* corio signals: asyncio's loop.add_signal_handler, and a watcher a task awaits.
 *
 * Included by <corio.h>; docs/conventions.md holds.
 *
 * How a signal reaches the loop: corio installs its own action for the signal (sigaction), whose
 * handler only records the signal and writes a byte to a pipe the loop watches; the loop then
 * runs the handlers and wakes the watchers as an ordinary callback, on its own thread. So a
 * handler may call any corio function of its loop (never one in signal context).
 *
 * Ownership: a signal belongs to one loop at a time. Registering a signal that another loop
 * has returns CORIO_ESIGOWNED; within one loop, one handler and any number of watchers may share
 * it (each gets every delivery). The action that was in place before corio took the signal is
 * put back when the last handler or watcher of the signal goes (in any loop), and at the latest
 * when the loop closes; if the signal was blocked on the loop's thread, registering unblocks it
 * there and the last removal blocks it again.
 *
 * Coalescing: as the kernel merges a standard signal that arrives while one is pending, corio
 * merges the deliveries of one signal that arrive between two passes of its loop: the handler
 * runs once per pass, and a watcher keeps one pending delivery per signal number.
 *
 * Not accepted (-EINVAL): numbers outside 1..NSIG-1, SIGKILL and SIGSTOP (they cannot be
 * caught), and the signals of synchronous faults, SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGTRAP
 * (their handler must run at once, on the faulting thread: a loop callback would come too late).
 *
 * Threads: the executor's threads (<corio/thread.h>) block every signal but those of faults, so
 * a signal is always taken by a thread that may run corio's handler; corio's handler is
 * async-signal-safe and may run on any thread.
 *
 * SIGCHLD: corio's processes (<corio/process.h>) use it where the kernel has no pidfd; a user's
 * handler or watcher for SIGCHLD works beside them, each gets every delivery.
 *
 * SIGINT and corio_run: see <corio/loop.h>.
 */
#ifndef CORIO_SIGNAL_H
#define CORIO_SIGNAL_H

#include <stddef.h>

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A signal handler: called on the loop's thread as a loop callback, with the signal's number. */
typedef void (*corio_signal_handler_fn)(int signo, void *arg);

/* asyncio's loop.add_signal_handler: fn(signo, arg) runs on the loop each time signo arrives
 * (see "Coalescing" above) until corio_loop_remove_signal_handler or the loop's close. Returns 0;
 * -EINVAL for a NULL fn or a signal that is not accepted (above); -EEXIST if the loop already has
 * a handler for signo (remove it first: unlike asyncio, a second add does not replace the first,
 * so that two parts of a program cannot silently take each other's signal); CORIO_ESIGOWNED if
 * another loop has signo; CORIO_ECLOSED, CORIO_ENOLOOP; -EMFILE, -ENOMEM. */
int corio_loop_add_signal_handler(corio_loop *loop, int signo, corio_signal_handler_fn fn,
                                  void *arg);

/* asyncio's loop.remove_signal_handler: returns 1 if the loop had a handler for signo (it will not
 * run again, not even for a delivery already recorded), 0 if not; -EINVAL for a signal that is
 * not accepted; CORIO_ENOLOOP. When it was the signal's last handler or watcher, the action in
 * place before corio took the signal is put back. */
int corio_loop_remove_signal_handler(corio_loop *loop, int signo);

/* ------------------------------------------------------------------------------------------------
 * Watchers: awaiting signals in straight-line code
 * --------------------------------------------------------------------------------------------- */

/* A set of signals a task can await. A delivery that arrives while no task waits is kept (once
 * per signal number) for the next wait, so that a loop of waits loses nothing between two of
 * them. Owned by its creator, freed with corio_signal_watcher_free. */
typedef struct corio_signal_watcher corio_signal_watcher;

/* Creates a watcher for the n signals in signos[] (n >= 1; repeats are allowed), registered at
 * once: from this call on, these signals are corio's (the paragraph "Ownership" above). Returns 0;
 * -EINVAL for NULL signos, n == 0, or a signal that is not accepted; CORIO_ESIGOWNED if another
 * loop has one of them (nothing is registered then); CORIO_ECLOSED, CORIO_ENOLOOP; -EMFILE,
 * -ENOMEM. */
int corio_signal_watcher_new(corio_signal_watcher **out, corio_loop *loop, const int *signos,
                             size_t n);

/* Awaits the next delivery of one of the watcher's signals and returns its number (> 0), taking
 * it: with several pending, the lowest number comes first. Several tasks may wait on one watcher:
 * each delivery goes to one of them. -ECANCELED (nothing taken), CORIO_ENOTASK, -EINVAL for a
 * NULL watcher or a task of another loop; CORIO_ECLOSED if the loop closed (the watcher is then
 * unregistered). Use corio_wait_for or a timeout scope for a time limit. */
int corio_signal_watcher_wait(corio_signal_watcher *w);

/* The signal numbers pending on the watcher as a bit mask (bit signo - 1), taking none; 0 for
 * NULL. */
unsigned long long corio_signal_watcher_pending(const corio_signal_watcher *w);

/* Unregisters the watcher's signals (the paragraph "Ownership" above) and frees it. -EBUSY, with
 * nothing done, while a task waits on it. */
int corio_signal_watcher_free(corio_signal_watcher *w);

#ifdef __cplusplus
}
#endif

#endif
