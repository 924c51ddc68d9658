/* corio/debug.h: debug mode, task introspection, virtual time. Included by <corio.h>;
 * docs/conventions.md holds.
 *
 * Debug mode (corio_loop_opts.debug, corio_loop_set_debug, CORIO_DEBUG=1) costs nothing while off.
 * When on, the loop:
 *  - times every callback and every task step and reports one that holds the loop longer than
 *    the slow-callback duration (100 ms by default) through the error handler, naming the task:
 *    "task step took 0.250 s" with ctx.task set (a task suspending in debug mode always returns
 *    to the loop, so each step is timed on its own);
 *  - reports a future that finished with an error nobody retrieved, when it is freed;
 *  - reports a future freed while pending with done callbacks that will now never run;
 *  - empties each stack a task takes (its pages read back as zeros, and go back to the system),
 *    so that corio_task_stack_high_water() can tell how deep the task went;
 *  - keeps freed objects aside for a while (the last 4,096 futures, tasks and handles of each
 *    loop, and the last 4,096 other objects of the process), so that a call on an object already
 *    freed (or a second free) is reported by name through the error handler of the object's loop
 *    ("corio_lock_free: lock 0x... used after it was freed"; without a loop, the running or
 *    current loop's, else stderr), and the program aborts with that message, instead of
 *    corrupting memory. CORIO_DEBUG=1 turns this on for every object from the start, loops
 *    included, and is the only switch for an executor, which has no loop.
 * Loop close reports every task still pending, in or out of debug mode; in debug mode the message
 * also says what the task was waiting for.
 *
 * Virtual time (corio_loop_opts.virtual_time, CORIO_VIRTUAL_TIME=1): see corio_loop_opts. Timers
 * due at the same time fire in the order they were set, so a run is repeatable. Caveat: a task
 * waiting with a timeout for something outside the loop (another thread, a slow peer) sees the
 * timeout at once, since nothing else is pending in virtual time.
 */
#ifndef CORIO_DEBUG_H
#define CORIO_DEBUG_H

#include <stdio.h>
#include <sys/types.h>

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Debug mode reports a callback or task step that runs at least this many seconds (asyncio's
 * loop.slow_callback_duration; default 0.1). Measured on the real clock, also under virtual time.
 * Returns 0, -EINVAL for NaN or a negative value, CORIO_ENOLOOP. */
int corio_loop_set_slow_callback_duration(corio_loop *loop, double seconds);
/* The duration in seconds (NaN without a loop). */
double corio_loop_get_slow_callback_duration(const corio_loop *loop);

/* The deepest the task's stack has been used so far, in bytes: while it runs or is suspended,
 * and after it is done (the figure it reached). Measured only for tasks whose first step ran in
 * debug mode: their stack is emptied then, and here the lowest word no longer zero is found
 * (pages never touched are skipped; a deepest frame that wrote only zeros goes unseen).
 * Returns the byte count, -EINVAL for NULL, CORIO_EINVALSTATE for a task that has not started or
 * did not start in debug mode, -ENOTSUP for a compact task (it runs on a shared stack). */
ssize_t corio_task_stack_high_water(corio_task *t);

/* Writes every pending task of `loop` to `out`, one line each, as the
 * await tree of `python -m asyncio pstree`: a task that nobody awaits is a root, and below each
 * task come the tasks that it awaits (directly, or through gathers, nested ones too):
 *
 *     └── (T) main [waiting] awaits gather (1 of 2 done)
 *         ├── (T) worker-1 [waiting] awaits sleep (2.500 s left)
 *         └── (T) worker-2 [ready] stack 1432 B
 *
 * A state is one of running, ready (scheduled to run), waiting (suspended on a future) or
 * cancelling; with debug mode a started task also shows its stack high-water mark. A task awaited
 * by several tasks is listed under the first and named under the others; cycles (tasks awaiting
 * each other) are cut and marked. Returns the number of tasks written, -EINVAL for a NULL out,
 * -ENOMEM, CORIO_ENOLOOP. */
int corio_loop_dump_tasks(corio_loop *loop, FILE *out);

/* As corio_loop_dump_tasks, written to the file descriptor `fd` with write(2) (-EBADF for a
 * negative fd). */
int corio_loop_dump_tasks_fd(corio_loop *loop, int fd);

/* Makes signal `signo` (e.g. SIGUSR1 or SIGQUIT) dump the loop's tasks to `fd` (< 0: stderr). The
 * handler only counts the signal; the loop writes the dump at the start of its next iteration,
 * from its own thread. A signal delivered to the loop's thread interrupts its wait for I/O, so a
 * loop stuck waiting forever dumps at once; delivered to another thread it waits for the loop's
 * next wake-up. The process keeps corio's handler for `signo` until the last loop that asked for
 * it is closed or calls this with signo 0 (turns it off), and the previous action is then put
 * back. Returns 0, -EINVAL for an invalid signal (SIGKILL, SIGSTOP, SIGSEGV, SIGBUS are
 * refused), CORIO_ECLOSED (a closed loop would keep the handler for good), CORIO_ENOLOOP, or
 * the -errno of sigaction. Any thread may be signalled; call from the loop thread. */
int corio_loop_dump_on_signal(corio_loop *loop, int signo, int fd);

#ifdef __cplusplus
}
#endif

#endif
