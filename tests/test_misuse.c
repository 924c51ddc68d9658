/* Misuse never corrupts memory (docs/conventions.md, row "misuse"): in debug mode a second free
 * or unref, or a call on a freed object, is reported through the error handler naming the
 * function and the object, and the program aborts with that message. One test per object kind,
 * each misusing the object in a child process: both a second free and a call after the free.
 * Debug mode comes from CORIO_DEBUG=1 (set in the child before any corio call) in some tests and
 * from the loop's debug option in others. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <corio.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "in_child.h"

TestSuite(misuse, .timeout = 30);

/* ---- running a misuse in a child ---- */

/* In the child: a step that must work before the misuse; otherwise the child says which and
 * exits with 3, so that the test fails with that line instead of a missing abort. */
#define MUST(expr)                                                                                 \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "child: %s failed (line %d)\n", #expr, __LINE__);                      \
            _exit(3);                                                                              \
        }                                                                                          \
    } while (0)

/* Debug mode for every object, loops included, as the environment gives it. */
static void debug_env(void)
{
    setenv("CORIO_DEBUG", "1", 1);
}

/* The child's loops stay reachable from here until the abort: Valgrind's leak check at the abort
 * must not see them lost (a loop whose inbox holds a handle's work is a cycle). */
static corio_loop *loops[4];
static int nloops;

static corio_loop *new_child_loop(const corio_loop_opts *opts)
{
    MUST(nloops < 4);
    MUST(corio_loop_new(&loops[nloops], opts) == 0);
    return loops[nloops++];
}

/* A loop in debug mode by its option, with CORIO_DEBUG unset. */
static corio_loop *debug_loop(void)
{
    unsetenv("CORIO_DEBUG");
    return new_child_loop(&(corio_loop_opts){.debug = 1});
}

static corio_loop *env_loop(void)
{
    debug_env();
    return new_child_loop(NULL);
}

static int count(const char *haystack, const char *needle)
{
    int n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Runs fn in a child, which must die of SIGABRT with `want` ("corio_lock_free: lock") in what it
 * wrote to stderr, once. */
static void expect_misuse(void (*fn)(void), const char *want)
{
    char out[8192];
    int status;
    in_child(fn, out, sizeof out, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "the child should abort (status 0x%x); it wrote:\n%s", status, out);
    cr_assert_eq(count(out, want), 1, "stderr should name \"%s\" once; it holds:\n%s", want, out);
    cr_assert(strstr(out, "used after it was freed") || strstr(out, "is not a live"),
              "stderr should say what was wrong:\n%s", out);
}

static void *ret_null(void *arg)
{
    (void)arg;
    return NULL;
}

static void noop_cb(void *arg) { (void)arg; }
static void stop_cb(void *loop) { corio_loop_stop(loop); }

/* ---- loop ---- */

static void loop_free_twice(void)
{
    corio_loop *loop = env_loop();
    MUST(corio_loop_free(loop) == 0);
    corio_loop_free(loop);
}

static void loop_run_after_free(void)
{
    corio_loop *loop = debug_loop();
    MUST(corio_loop_free(loop) == 0);
    corio_loop_run_forever(loop);
}

static void loop_call_soon_after_free(void)
{
    corio_loop *loop = debug_loop();
    corio_future *f; /* holds the loop's memory: freed is what its owner says, not its memory */
    MUST(corio_future_new(&f, loop) == 0);
    MUST(corio_loop_free(loop) == 0);
    corio_loop_call_soon(NULL, loop, noop_cb, NULL);
}

static void fd_callback(int fd, void *arg)
{
    (void)fd;
    (void)arg;
}

/* Reported in the public function's name, not in that of the helper it shares with add_writer. */
static void loop_add_reader_after_free(void)
{
    corio_loop *loop = debug_loop();
    MUST(corio_loop_free(loop) == 0);
    corio_loop_add_reader(loop, 0, fd_callback, NULL);
}

static void loop_remove_writer_after_free(void)
{
    corio_loop *loop = debug_loop();
    MUST(corio_loop_free(loop) == 0);
    corio_loop_remove_writer(loop, 0);
}

Test(misuse, loop)
{
    expect_misuse(loop_free_twice, "corio_loop_free: loop");
    expect_misuse(loop_run_after_free, "corio_loop_run_forever: loop");
    expect_misuse(loop_call_soon_after_free, "corio_loop_call_soon: loop");
    expect_misuse(loop_add_reader_after_free, "corio_loop_add_reader: loop");
    expect_misuse(loop_remove_writer_after_free, "corio_loop_remove_writer: loop");
}

/* ---- future ---- */

static void future_unref_twice(void)
{
    corio_loop *loop = env_loop();
    corio_future *f;
    MUST(corio_future_new(&f, loop) == 0);
    corio_future_unref(f);
    corio_future_unref(f);
}

static void future_set_result_after_unref(void)
{
    corio_loop *loop = debug_loop();
    corio_future *f;
    MUST(corio_future_new(&f, loop) == 0);
    corio_future_unref(f);
    corio_future_set_result(f, NULL);
}

Test(misuse, future)
{
    expect_misuse(future_unref_twice, "corio_future_unref: future");
    expect_misuse(future_set_result_after_unref, "corio_future_set_result: future");
}

/* ---- task ---- */

/* A task run to its end, with the caller's reference dropped: freed. */
static corio_task *finished_task(corio_loop *loop)
{
    corio_task *t;
    MUST(corio_create_task(&t, loop, ret_null, NULL, NULL) == 0);
    MUST(corio_loop_run_until_complete(loop, corio_task_future(t), NULL) == 0);
    corio_task_unref(t);
    return t;
}

static void task_unref_twice(void) { corio_task_unref(finished_task(env_loop())); }
static void task_cancel_after_unref(void) { corio_task_cancel(finished_task(debug_loop()), NULL); }
/* As a future, the freed task is still named a task. */
static void task_future_after_unref(void)
{
    corio_future_done(corio_task_future(finished_task(debug_loop())));
}

Test(misuse, task)
{
    expect_misuse(task_unref_twice, "corio_task_unref: task");
    expect_misuse(task_cancel_after_unref, "corio_task_cancel: task");
    expect_misuse(task_future_after_unref, "corio_future_done: task");
}

/* ---- handle ---- */

static corio_handle *ran_handle(corio_loop *loop)
{
    corio_handle *h;
    MUST(corio_loop_call_soon(&h, loop, noop_cb, NULL) == 0);
    MUST(corio_loop_call_soon(NULL, loop, stop_cb, loop) == 0);
    MUST(corio_loop_run_forever(loop) == 0);
    corio_handle_unref(h); /* the loop dropped its reference when the callback ran */
    return h;
}

static void handle_unref_twice(void) { corio_handle_unref(ran_handle(env_loop())); }
static void handle_cancel_after_unref(void)
{
    corio_loop *loop = debug_loop();
    corio_handle *h;
    MUST(corio_loop_call_later(&h, loop, 10.0, noop_cb, NULL) == 0);
    corio_handle_cancel(h); /* the timer leaves the loop, with the loop's reference */
    corio_handle_unref(h);
    corio_handle_cancel(h);
}

Test(misuse, handle)
{
    expect_misuse(handle_unref_twice, "corio_handle_unref: handle");
    expect_misuse(handle_cancel_after_unref, "corio_handle_cancel: handle");
}

/* ---- stream ---- */

static void new_stream(corio_loop *loop, corio_reader **r, corio_writer **w)
{
    int sv[2];
    MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    MUST(corio_stream_new(r, w, loop, sv[0], NULL) == 0);
    close(sv[1]);
}

static void stream_free_twice(void)
{
    corio_reader *r;
    corio_writer *w;
    new_stream(env_loop(), &r, &w);
    MUST(corio_stream_free(r, w) == 0);
    corio_stream_free(r, w);
}

static void stream_read_after_free(void)
{
    corio_reader *r;
    corio_writer *w;
    new_stream(debug_loop(), &r, &w);
    MUST(corio_stream_free(r, w) == 0);
    corio_reader_buffered(r);
}

static void stream_write_after_free(void)
{
    corio_reader *r;
    corio_writer *w;
    new_stream(debug_loop(), &r, &w);
    MUST(corio_stream_free(NULL, w) == 0);
    corio_writer_write(w, "x", 1);
}

Test(misuse, stream)
{
    expect_misuse(stream_free_twice, "corio_stream_free: stream connection");
    expect_misuse(stream_read_after_free, "corio_reader_buffered: stream connection");
    expect_misuse(stream_write_after_free, "corio_writer_write: stream connection");
}

/* ---- server ---- */

static void quiet_handler(corio_reader *r, corio_writer *w, void *arg)
{
    (void)r;
    (void)w;
    (void)arg;
}

static corio_server *freed_server(void)
{
    corio_server *srv;
    MUST(corio_start_server(&srv, "127.0.0.1", 0, quiet_handler, NULL, NULL) == 0);
    MUST(corio_server_free(srv) == 0);
    return srv;
}

static void *server_free_twice_main(void *arg)
{
    (void)arg;
    corio_server_free(freed_server());
    return NULL;
}

/* Later: the server's own tasks have ended and its memory is gone (kept aside). */
static void *server_port_after_free_main(void *arg)
{
    (void)arg;
    corio_server *srv = freed_server();
    MUST(corio_sleep(0.01) == 0);
    corio_server_get_port(srv);
    return NULL;
}

static void server_free_twice(void)
{
    debug_env();
    corio_run(server_free_twice_main, NULL, NULL, NULL);
}

static void server_port_after_free(void)
{
    debug_env();
    corio_run(server_port_after_free_main, NULL, NULL, NULL);
}

Test(misuse, server)
{
    expect_misuse(server_free_twice, "corio_server_free: server");
    expect_misuse(server_port_after_free, "corio_server_get_port: server");
}

/* ---- lock, event, condition, semaphores, barrier, queue ---- */

static void lock_free_twice(void)
{
    corio_lock *lock;
    MUST(corio_lock_new(&lock, env_loop()) == 0);
    MUST(corio_lock_free(lock) == 0);
    corio_lock_free(lock);
}

static void lock_acquire_after_free(void)
{
    corio_lock *lock;
    MUST(corio_lock_new(&lock, debug_loop()) == 0);
    MUST(corio_lock_free(lock) == 0);
    corio_lock_acquire_nowait(lock);
}

Test(misuse, lock)
{
    expect_misuse(lock_free_twice, "corio_lock_free: lock");
    expect_misuse(lock_acquire_after_free, "corio_lock_acquire_nowait: lock");
}

static void event_free_twice(void)
{
    corio_event *ev;
    MUST(corio_event_new(&ev, env_loop()) == 0);
    MUST(corio_event_free(ev) == 0);
    corio_event_free(ev);
}

static void event_set_after_free(void)
{
    corio_event *ev;
    MUST(corio_event_new(&ev, debug_loop()) == 0);
    MUST(corio_event_free(ev) == 0);
    corio_event_set(ev);
}

Test(misuse, event)
{
    expect_misuse(event_free_twice, "corio_event_free: event");
    expect_misuse(event_set_after_free, "corio_event_set: event");
}

static void condition_free_twice(void)
{
    corio_condition *cond;
    MUST(corio_condition_new(&cond, env_loop(), NULL) == 0);
    MUST(corio_condition_free(cond) == 0);
    corio_condition_free(cond);
}

static void condition_notify_after_free(void)
{
    corio_condition *cond;
    MUST(corio_condition_new(&cond, debug_loop(), NULL) == 0);
    MUST(corio_condition_free(cond) == 0);
    corio_condition_notify_all(cond);
}

/* A condition given a lock that was freed already. */
static void condition_with_freed_lock(void)
{
    corio_loop *loop = debug_loop();
    corio_lock *lock;
    MUST(corio_lock_new(&lock, loop) == 0);
    MUST(corio_lock_free(lock) == 0);
    corio_condition *cond;
    corio_condition_new(&cond, loop, lock);
}

Test(misuse, condition)
{
    expect_misuse(condition_free_twice, "corio_condition_free: condition");
    expect_misuse(condition_notify_after_free, "corio_condition_notify: condition");
    expect_misuse(condition_with_freed_lock, "corio_condition_new: lock");
}

static void semaphore_free_twice(void)
{
    corio_semaphore *sem;
    MUST(corio_semaphore_new(&sem, env_loop(), 1) == 0);
    MUST(corio_semaphore_free(sem) == 0);
    corio_semaphore_free(sem);
}

static void semaphore_release_after_free(void)
{
    corio_semaphore *sem;
    MUST(corio_semaphore_new(&sem, debug_loop(), 1) == 0);
    MUST(corio_semaphore_free(sem) == 0);
    corio_semaphore_release(sem);
}

Test(misuse, semaphore)
{
    expect_misuse(semaphore_free_twice, "corio_semaphore_free: semaphore");
    expect_misuse(semaphore_release_after_free, "corio_semaphore_release: semaphore");
}

/* The same object as a semaphore, with a bound: named a semaphore. */
static void bounded_semaphore_free_twice(void)
{
    corio_semaphore *sem;
    MUST(corio_bounded_semaphore_new(&sem, env_loop(), 2) == 0);
    MUST(corio_semaphore_free(sem) == 0);
    corio_semaphore_free(sem);
}

static void bounded_semaphore_acquire_after_free(void)
{
    corio_semaphore *sem;
    MUST(corio_bounded_semaphore_new(&sem, debug_loop(), 2) == 0);
    MUST(corio_semaphore_free(sem) == 0);
    corio_semaphore_acquire_nowait(sem);
}

Test(misuse, bounded_semaphore)
{
    expect_misuse(bounded_semaphore_free_twice, "corio_semaphore_free: semaphore");
    expect_misuse(bounded_semaphore_acquire_after_free,
                  "corio_semaphore_acquire_nowait: semaphore");
}

static void barrier_free_twice(void)
{
    corio_barrier *b;
    MUST(corio_barrier_new(&b, env_loop(), 2) == 0);
    MUST(corio_barrier_free(b) == 0);
    corio_barrier_free(b);
}

static void barrier_abort_after_free(void)
{
    corio_barrier *b;
    MUST(corio_barrier_new(&b, debug_loop(), 2) == 0);
    MUST(corio_barrier_free(b) == 0);
    corio_barrier_abort(b);
}

Test(misuse, barrier)
{
    expect_misuse(barrier_free_twice, "corio_barrier_free: barrier");
    expect_misuse(barrier_abort_after_free, "corio_barrier_abort: barrier");
}

static void queue_free_twice(void)
{
    corio_queue *q;
    MUST(corio_queue_new(&q, env_loop(), NULL) == 0);
    MUST(corio_queue_free(q) == 0);
    corio_queue_free(q);
}

static void queue_put_after_free(void)
{
    corio_queue *q;
    MUST(corio_queue_new(&q, debug_loop(), NULL) == 0);
    MUST(corio_queue_free(q) == 0);
    corio_queue_put_nowait(q, NULL);
}

Test(misuse, queue)
{
    expect_misuse(queue_free_twice, "corio_queue_free: queue");
    expect_misuse(queue_put_after_free, "corio_queue_put_nowait: queue");
}

/* ---- task group, timeout scope, as_completed ---- */

static void *taskgroup_free_twice_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg;
    MUST(corio_taskgroup_new(&tg) == 0);
    MUST(corio_taskgroup_exit(tg, 0) == 0);
    MUST(corio_taskgroup_free(tg) == 0);
    corio_taskgroup_free(tg);
    return NULL;
}

static void *taskgroup_create_after_free_main(void *arg)
{
    (void)arg;
    corio_taskgroup *tg;
    MUST(corio_taskgroup_new(&tg) == 0);
    MUST(corio_taskgroup_create_task(NULL, tg, ret_null, NULL, NULL) == 0);
    MUST(corio_taskgroup_exit(tg, 0) == 0);
    MUST(corio_taskgroup_free(tg) == 0);
    corio_taskgroup_create_task(NULL, tg, ret_null, NULL, NULL);
    return NULL;
}

/* corio_run with the loop in debug mode by its option: a task of a loop of our own. */
static void run_in_debug_loop(corio_coro_fn fn)
{
    corio_loop *loop = debug_loop();
    corio_task *t;
    MUST(corio_create_task(&t, loop, fn, NULL, NULL) == 0);
    corio_loop_run_until_complete(loop, corio_task_future(t), NULL);
}

static void taskgroup_free_twice(void)
{
    debug_env();
    corio_run(taskgroup_free_twice_main, NULL, NULL, NULL);
}

static void taskgroup_create_after_free(void) { run_in_debug_loop(taskgroup_create_after_free_main); }

Test(misuse, taskgroup)
{
    expect_misuse(taskgroup_free_twice, "corio_taskgroup_free: task group");
    expect_misuse(taskgroup_create_after_free, "corio_taskgroup_create_task: task group");
}

static void *timeout_exit_twice_main(void *arg)
{
    (void)arg;
    corio_timeout *tm;
    MUST(corio_timeout_enter(&tm, 1.0) == 0);
    MUST(corio_timeout_exit(tm, 0) == 0);
    corio_timeout_exit(tm, 0);
    return NULL;
}

static void *timeout_when_after_exit_main(void *arg)
{
    (void)arg;
    corio_timeout *tm;
    MUST(corio_timeout_enter(&tm, CORIO_FOREVER) == 0);
    MUST(corio_timeout_exit(tm, 0) == 0);
    corio_timeout_when(tm);
    return NULL;
}

static void timeout_exit_twice(void)
{
    debug_env();
    corio_run(timeout_exit_twice_main, NULL, NULL, NULL);
}

static void timeout_when_after_exit(void) { run_in_debug_loop(timeout_when_after_exit_main); }

Test(misuse, timeout_scope)
{
    expect_misuse(timeout_exit_twice, "corio_timeout_exit: timeout scope");
    expect_misuse(timeout_when_after_exit, "corio_timeout_when: timeout scope");
}

static corio_as_completed *freed_iterator(corio_loop *loop)
{
    corio_future *f;
    MUST(corio_future_new(&f, loop) == 0);
    corio_as_completed *it;
    MUST(corio_as_completed_new(&it, &f, 1, CORIO_FOREVER) == 0);
    corio_future_unref(f);
    MUST(corio_as_completed_free(it) == 0);
    return it;
}

static void as_completed_free_twice(void) { corio_as_completed_free(freed_iterator(env_loop())); }

static void *as_completed_next_after_free_main(void *arg)
{
    (void)arg;
    corio_future *f;
    corio_as_completed_next(freed_iterator(corio_get_running_loop()), &f);
    return NULL;
}

static void as_completed_next_after_free(void)
{
    run_in_debug_loop(as_completed_next_after_free_main);
}

Test(misuse, as_completed)
{
    expect_misuse(as_completed_free_twice, "corio_as_completed_free: as_completed iterator");
    expect_misuse(as_completed_next_after_free, "corio_as_completed_next: as_completed iterator");
}

/* ---- executor, concurrent handle ---- */

static void executor_free_twice(void)
{
    debug_env();
    corio_executor *ex;
    MUST(corio_executor_new(&ex, 1) == 0);
    MUST(corio_executor_free(ex) == 0);
    corio_executor_free(ex);
}

static void executor_shutdown_after_free(void)
{
    debug_env();
    corio_executor *ex;
    MUST(corio_executor_new(&ex, 1) == 0);
    MUST(corio_executor_free(ex) == 0);
    corio_executor_shutdown(ex, 1, 0);
}

Test(misuse, executor)
{
    expect_misuse(executor_free_twice, "corio_executor_free: executor");
    expect_misuse(executor_shutdown_after_free, "corio_executor_shutdown: executor");
}

static void signal_watcher_free_twice(void)
{
    corio_signal_watcher *w;
    int sig = SIGUSR1;
    MUST(corio_signal_watcher_new(&w, env_loop(), &sig, 1) == 0);
    MUST(corio_signal_watcher_free(w) == 0);
    corio_signal_watcher_free(w);
}

static void signal_watcher_pending_after_free(void)
{
    corio_signal_watcher *w;
    int sig = SIGUSR1;
    MUST(corio_signal_watcher_new(&w, debug_loop(), &sig, 1) == 0);
    MUST(corio_signal_watcher_free(w) == 0);
    corio_signal_watcher_pending(w);
}

Test(misuse, signal_watcher)
{
    expect_misuse(signal_watcher_free_twice, "corio_signal_watcher_free: signal watcher");
    expect_misuse(signal_watcher_pending_after_free,
                  "corio_signal_watcher_pending: signal watcher");
}

static corio_process *exited_process(corio_loop *loop)
{
    const char *const argv[] = {"true", NULL};
    corio_process *p;
    MUST(corio_create_subprocess_exec(&p, loop, argv, NULL) == 0);
    while (!corio_process_get_returncode(p, NULL)) {
        MUST(corio_loop_call_later(NULL, loop, 0.01, stop_cb, loop) == 0);
        MUST(corio_loop_run_forever(loop) == 0);
    }
    return p;
}

static void process_free_twice(void)
{
    corio_process *p = exited_process(env_loop());
    MUST(corio_process_free(p) == 0);
    corio_process_free(p);
}

static void process_pid_after_free(void)
{
    corio_process *p = exited_process(debug_loop());
    MUST(corio_process_free(p) == 0);
    corio_process_get_pid(p);
}

Test(misuse, process)
{
    expect_misuse(process_free_twice, "corio_process_free: process");
    expect_misuse(process_pid_after_free, "corio_process_get_pid: process");
}

/* A handle on a coroutine of the thread's own loop (started when the loop runs). */
static corio_concurrent *freed_concurrent(corio_loop *loop)
{
    corio_concurrent *h;
    MUST(corio_run_coroutine_threadsafe(&h, loop, ret_null, NULL) == 0);
    MUST(corio_concurrent_free(h) == 0);
    return h;
}

static void concurrent_free_twice(void) { corio_concurrent_free(freed_concurrent(env_loop())); }

/* Once the loop has run the coroutine, the loop's side lets go too and the memory goes. */
static void concurrent_done_after_free(void)
{
    corio_loop *loop = debug_loop();
    corio_concurrent *h = freed_concurrent(loop);
    for (int i = 0; i < 3; i++) {
        MUST(corio_loop_call_soon(NULL, loop, stop_cb, loop) == 0);
        MUST(corio_loop_run_forever(loop) == 0);
    }
    corio_concurrent_done(h);
}

Test(misuse, concurrent_handle)
{
    expect_misuse(concurrent_free_twice, "corio_concurrent_free: concurrent handle");
    expect_misuse(concurrent_done_after_free, "corio_concurrent_done: concurrent handle");
}

/* ---- the report ---- */

static void log_handler(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)loop;
    (void)arg;
    fprintf(stderr, "handler got: %s\n", ctx->message);
}

/* The report goes to the handler of the object's loop, though another loop is current. */
static void custom_handler_child(void)
{
    corio_loop *loop = debug_loop(), *other = debug_loop();
    MUST(corio_loop_set_error_handler(loop, log_handler, NULL) == 0);
    MUST(corio_set_event_loop(other) == 0);
    corio_lock *lock;
    MUST(corio_lock_new(&lock, loop) == 0);
    MUST(corio_lock_free(lock) == 0);
    corio_lock_free(lock);
}

Test(misuse, custom_error_handler_gets_the_message_before_the_abort)
{
    char out[8192];
    int status;
    in_child(custom_handler_child, out, sizeof out, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status 0x%x:\n%s", status, out);
    const char *got = strstr(out, "handler got: corio_lock_free: lock 0x");
    cr_assert_not_null(got, "the handler should get the message:\n%s", out);
    /* And the abort explains itself on stderr all the same, after the handler. */
    const char *said = strstr(out, "corio: corio_lock_free: lock 0x");
    cr_assert(said && said > got, "the message should follow on stderr:\n%s", out);
}

/* With no loop at all the message goes to stderr. */
static void no_loop_child(void)
{
    debug_env();
    corio_executor *ex;
    MUST(corio_executor_new(&ex, 1) == 0);
    MUST(corio_executor_free(ex) == 0);
    corio_executor_free(ex);
}

Test(misuse, without_a_loop_the_message_goes_to_stderr)
{
    char out[8192];
    int status;
    in_child(no_loop_child, out, sizeof out, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status 0x%x:\n%s", status, out);
    cr_assert(strstr(out, "corio: corio_executor_free: executor 0x") &&
                  strstr(out, "used after it was freed (a second free, or a call on a freed "
                              "object)"),
              "%s", out);
}

/* An object of another kind where a lock is expected: not mistaken for a freed lock. */
static void wrong_kind_child(void)
{
    corio_event *ev;
    MUST(corio_event_new(&ev, env_loop()) == 0);
    corio_lock_locked((corio_lock *)(void *)ev);
}

Test(misuse, another_kind_is_not_a_live_object)
{
    char out[8192];
    int status;
    in_child(wrong_kind_child, out, sizeof out, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status 0x%x:\n%s", status, out);
    cr_assert(strstr(out, "corio_lock_locked: 0x") && strstr(out, " is not a live lock"), "%s",
              out);
}

/* Outside debug mode a pooled object keeps its memory in its loop's pool, so a second unref is
 * still caught (not where every object is its own malloc: the sanitizer and Valgrind builds). */
#ifndef CORIO_NO_POOL
static void pooled_unref_twice_child(void)
{
    unsetenv("CORIO_DEBUG");
    corio_loop *loop;
    MUST(corio_loop_new(&loop, &(corio_loop_opts){.debug = -1}) == 0);
    corio_future *f;
    MUST(corio_future_new(&f, loop) == 0);
    corio_future_unref(f);
    corio_future_unref(f);
}

Test(misuse, outside_debug_mode_a_pooled_object_is_still_caught)
{
    expect_misuse(pooled_unref_twice_child, "corio_future_unref: future");
}
#endif

/* Not misuse: a future outlives its loop's free (the loop's memory stays for it), and releasing
 * it, with the debug report of its unretrieved error through the freed loop's handler, calls
 * nothing that checks the loop. */
static int reports;
static void count_handler(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)loop;
    (void)arg;
    if (ctx->message && strstr(ctx->message, "never retrieved"))
        reports++;
}

Test(misuse, a_future_outlives_its_freed_loop)
{
    corio_loop *loop;
    cr_assert_eq(corio_loop_new(&loop, &(corio_loop_opts){.debug = 1}), 0);
    cr_assert_eq(corio_loop_set_error_handler(loop, count_handler, NULL), 0);
    corio_future *f, *g;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_new(&g, loop), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(corio_future_set_error(f, -EIO), 0);
    cr_assert_eq(corio_future_cancel(g, NULL), 1);
    cr_assert_eq(corio_future_error(g), -ECANCELED);
    cr_assert_eq(corio_future_get_loop(g), loop);
    corio_future_unref(g);
    corio_future_unref(f); /* the last: the loop's memory goes too */
    cr_assert_eq(reports, 1);
}

/* Debug mode keeps freed objects aside only for a while: many frees in a row still work, and the
 * oldest go back (to the pool or to malloc) as the newest come. */
Test(misuse, the_keep_is_bounded)
{
    corio_loop *loop;
    cr_assert_eq(corio_loop_new(&loop, &(corio_loop_opts){.debug = 1}), 0);
    for (int i = 0; i < 20000; i++) {
        corio_future *f;
        cr_assert_eq(corio_future_new(&f, loop), 0);
        corio_future_unref(f);
        corio_lock *lock;
        cr_assert_eq(corio_lock_new(&lock, loop), 0);
        cr_assert_eq(corio_lock_free(lock), 0);
    }
    cr_assert_eq(corio_loop_free(loop), 0);
}
