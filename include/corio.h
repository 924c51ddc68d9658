/* corio: Python asyncio's runtime model in C.
 *
 * An event loop, futures, and tasks that run plain C functions on their own stacks: a task calls
 * corio_await() (or anything built on it: corio_sleep, corio_gather, corio_wait_for) and the whole
 * chain of C calls on its stack is suspended until the awaited future is done, while the loop runs
 * other tasks. One loop per thread; concurrent, not parallel.
 *
 * Every function follows docs/conventions.md; in short:
 *  - Errors are negative codes: -errno values (-ENOMEM, -ECANCELED, -ETIMEDOUT, ...) or the
 *    CORIO_E* codes of <corio/errors.h>; success is 0 or a non-negative value. corio_strerror()
 *    and corio_err_name() name them.
 *  - Constructors take their out-parameter first: corio_X_new(&x, loop, ..., opts). A NULL loop
 *    is the running loop, else the thread's current one, else CORIO_ENOLOOP.
 *  - Futures, tasks and handles are reference counted (_ref / _unref); every other object has one
 *    owner and is freed with its _free call. The loop holds its own reference to every pending
 *    task, so a task runs to completion even when its creator drops its reference at once.
 *  - Threads: a loop and every object bound to it may be used only from the thread that runs the
 *    loop, except the few functions marked ANY THREAD (<corio/thread.h>).
 *  - Awaiting functions (corio_await and everything documented "awaits") may be called only from
 *    inside a task; elsewhere they return CORIO_ENOTASK at once.
 *  - Timeouts are seconds as double: CORIO_FOREVER (negative) for no limit, 0 for "do not wait".
 *
 * Each area has its own header, which compiles alone:
 *   corio/errors.h       error codes, corio_strerror, corio_err_name
 *   corio/base.h         version, object and function types, CORIO_FOREVER
 *   corio/loop.h         the event loop, callbacks and timers, corio_run
 *   corio/future.h       futures and corio_await
 *   corio/task.h         tasks, sleep, gather, wait_for
 *   corio/combinators.h  shield, wait, as_completed, timeout scopes, task groups
 *   corio/sync.h         Lock, Event, Condition, Semaphore, Barrier, Queue
 *   corio/io.h           awaitable socket and fd calls, add_reader / add_writer
 *   corio/fs.h           files: open, read, write, stat, ... that never block the loop
 *   corio/stream.h       streams, open_connection, start_server
 *   corio/tls.h          TLS contexts, TLS streams, start_tls
 *   corio/signal.h       signal handlers and watchers
 *   corio/process.h      child processes: create_subprocess_exec and _shell
 *   corio/thread.h       executors, to_thread, the ways in from other threads
 *   corio/debug.h        debug mode, task dumps, virtual time
 */
#ifndef CORIO_H
#define CORIO_H

#include "corio/errors.h"
#include "corio/base.h"
#include "corio/loop.h"
#include "corio/future.h"
#include "corio/task.h"
#include "corio/combinators.h"
#include "corio/sync.h"
#include "corio/io.h"
#include "corio/fs.h"
#include "corio/stream.h"
#include "corio/tls.h"
#include "corio/signal.h"
#include "corio/process.h"
#include "corio/thread.h"
#include "corio/debug.h"

#endif
