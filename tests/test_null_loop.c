/* The NULL-loop rule (docs/conventions.md, row "NULL loop"), on every public function that takes
 * a corio_loop *: NULL is the running loop, else the thread's current loop (corio_set_event_loop),
 * else CORIO_ENOLOOP, or for an accessor the neutral value its header states. No call creates a
 * loop; corio_loop_free(NULL) does nothing. (corio_set_event_loop(NULL), which unsets the current
 * loop, is the one function where NULL means something else: tests/test_loop_run.c.) */
#include "core_helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static void log_cb(void *arg) { ev(VI(arg)); }
/* A writer callback: logs each time the fd is writable. */
static void log_fd(int fd, void *arg)
{
    (void)fd;
    ev(VI(arg));
}
/* A reader callback: takes one byte and logs it was called. */
static void read_fd(int fd, void *arg)
{
    char c;
    if (read(fd, &c, 1) == 1)
        ev(VI(arg));
}

/* Runs loop iterations until the event log holds at least n entries (at most 100). */
static void run_until_events(corio_loop *loop, int n)
{
    for (int i = 0; i < 100 && ev_n < n; i++)
        run_once(loop);
}
static void *ret_arg(void *arg) { return arg; }
static void *log_task(void *arg)
{
    ev(VI(arg));
    return arg;
}
static void *job_double(void *arg, int *err)
{
    (void)err;
    return IV(VI(arg) * 2);
}
static void noop_handler(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)loop;
    (void)ctx;
    (void)arg;
}

/* ---- no running loop, no current loop ---- */

Test(null_loop, without_a_loop_every_call_is_enoloop, .timeout = 10)
{
    cr_assert_null(corio_get_running_loop());
    cr_assert_null(corio_get_event_loop());

    /* loop.h */
    cr_assert_eq(corio_loop_close(NULL), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_run_forever(NULL), CORIO_ENOLOOP);
    corio_loop *other = new_loop(); /* a future of a loop that is not current */
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, other), 0);
    corio_future_set_result(f, IV(1));
    void *v = SENTINEL;
    cr_assert_eq(corio_loop_run_until_complete(NULL, f, &v), CORIO_ENOLOOP,
                 "NULL is not the future's loop");
    corio_future_unref(f);
    cr_assert_eq(corio_loop_free(other), 0);
    cr_assert_eq(corio_loop_stop(NULL), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_set_debug(NULL, 1), CORIO_ENOLOOP);
    corio_handle *h = SENTINEL;
    cr_assert_eq(corio_loop_call_soon(&h, NULL, log_cb, IV(1)), CORIO_ENOLOOP);
    cr_assert_null(h);
    h = SENTINEL;
    cr_assert_eq(corio_loop_call_later(&h, NULL, 0.0, log_cb, IV(2)), CORIO_ENOLOOP);
    cr_assert_null(h);
    h = SENTINEL;
    cr_assert_eq(corio_loop_call_at(&h, NULL, 0.0, log_cb, IV(3)), CORIO_ENOLOOP);
    cr_assert_null(h);
    cr_assert_eq(corio_loop_call_soon(NULL, NULL, log_cb, IV(4)), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_set_error_handler(NULL, noop_handler, NULL), CORIO_ENOLOOP);
    corio_error_context ctx = {.message = "nobody hears this", .err = -EIO};
    cr_assert_eq(corio_loop_call_error_handler(NULL, &ctx), CORIO_ENOLOOP);

    /* future.h, task.h */
    f = SENTINEL;
    cr_assert_eq(corio_future_new(&f, NULL), CORIO_ENOLOOP);
    cr_assert_null(f);
    corio_task *t = SENTINEL;
    cr_assert_eq(corio_create_task(&t, NULL, ret_arg, NULL, NULL), CORIO_ENOLOOP);
    cr_assert_null(t);
    cr_assert_eq(corio_create_task(NULL, NULL, ret_arg, NULL, NULL), CORIO_ENOLOOP);
    corio_task *ts[2];
    cr_assert_eq(corio_all_tasks(NULL, ts, 2), CORIO_ENOLOOP);
    cr_assert_eq(corio_all_tasks(NULL, NULL, 0), CORIO_ENOLOOP);
    corio_future *g = SENTINEL;
    cr_assert_eq(corio_gather_new(&g, NULL, 0, 0), CORIO_ENOLOOP, "n == 0 names no loop");
    cr_assert_null(g);

    /* debug.h */
    cr_assert_eq(corio_loop_set_slow_callback_duration(NULL, 0.5), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_dump_tasks(NULL, stdout), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_dump_tasks_fd(NULL, 1), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_dump_on_signal(NULL, SIGUSR1, -1), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_dump_on_signal(NULL, 0, -1), CORIO_ENOLOOP);

    /* io.h */
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(corio_loop_add_reader(NULL, p[0], log_fd, IV(5)), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_add_writer(NULL, p[1], log_fd, IV(6)), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_remove_reader(NULL, p[0]), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_remove_writer(NULL, p[1]), CORIO_ENOLOOP);
    close(p[0]);
    close(p[1]);

    /* stream.h: the fd stays the caller's on error */
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    corio_reader *r = SENTINEL;
    corio_writer *w = SENTINEL;
    cr_assert_eq(corio_stream_new(&r, &w, NULL, sv[0], NULL), CORIO_ENOLOOP);
    cr_assert_null(r);
    cr_assert_null(w);
    cr_assert_eq(close(sv[0]), 0, "not taken over on error");
    close(sv[1]);

    /* sync.h */
    corio_lock *lock = SENTINEL;
    cr_assert_eq(corio_lock_new(&lock, NULL), CORIO_ENOLOOP);
    cr_assert_null(lock);
    corio_event *event = SENTINEL;
    cr_assert_eq(corio_event_new(&event, NULL), CORIO_ENOLOOP);
    cr_assert_null(event);
    corio_condition *cond = SENTINEL;
    cr_assert_eq(corio_condition_new(&cond, NULL, NULL), CORIO_ENOLOOP);
    cr_assert_null(cond);
    corio_semaphore *sem = SENTINEL;
    cr_assert_eq(corio_semaphore_new(&sem, NULL, 1), CORIO_ENOLOOP);
    cr_assert_null(sem);
    sem = SENTINEL;
    cr_assert_eq(corio_bounded_semaphore_new(&sem, NULL, 1), CORIO_ENOLOOP);
    cr_assert_null(sem);
    corio_barrier *barrier = SENTINEL;
    cr_assert_eq(corio_barrier_new(&barrier, NULL, 2), CORIO_ENOLOOP);
    cr_assert_null(barrier);
    corio_queue *queue = SENTINEL;
    cr_assert_eq(corio_queue_new(&queue, NULL, NULL), CORIO_ENOLOOP);
    cr_assert_null(queue);

    /* thread.h */
    corio_executor *ex;
    cr_assert_eq(corio_executor_new(&ex, 1), 0);
    cr_assert_eq(corio_loop_set_default_executor(NULL, ex), CORIO_ENOLOOP);
    f = SENTINEL;
    cr_assert_eq(corio_loop_run_in_executor(&f, NULL, ex, job_double, IV(1), NULL), CORIO_ENOLOOP);
    cr_assert_null(f);
    cr_assert_eq(corio_executor_free(ex), 0);
    cr_assert_eq(corio_loop_call_soon_threadsafe(NULL, log_cb, IV(7)), CORIO_ENOLOOP);
    corio_concurrent *c = SENTINEL;
    cr_assert_eq(corio_run_coroutine_threadsafe(&c, NULL, ret_arg, NULL), CORIO_ENOLOOP);
    cr_assert_null(c);

    /* nothing ran, and no call made a loop on the way */
    cr_assert_eq(ev_n, 0);
    cr_assert_null(corio_get_event_loop());
    cr_assert_null(corio_get_running_loop());
}

Test(null_loop, without_a_loop_accessors_are_neutral, .timeout = 10)
{
    cr_assert_eq(corio_loop_is_running(NULL), 0);
    cr_assert_eq(corio_loop_is_closed(NULL), 0);
    cr_assert_eq(corio_loop_get_debug(NULL), 0);
    cr_assert_null(corio_loop_get_backend(NULL));
    cr_assert(isnan(corio_loop_get_slow_callback_duration(NULL)));
    /* CLOCK_MONOTONIC */
    double before = now_s();
    double t = corio_loop_time(NULL);
    double after = now_s();
    cr_assert(t >= before - 1e-3 && t <= after + 1e-3, "%f not in [%f, %f]", t, before, after);
    corio_error_context ctx = {.message = "corio test: the default handler, no loop", .err = 0};
    corio_loop_default_error_handler(NULL, &ctx); /* writes to stderr, no loop needed */
    corio_loop_default_error_handler(NULL, NULL);
    cr_assert_null(corio_get_event_loop());
}

Test(null_loop, free_null_does_nothing, .timeout = 10)
{
    cr_assert_eq(corio_loop_free(NULL), 0);
    cr_assert_null(corio_get_event_loop());
    /* not even with a current loop: free(NULL) is not "free the current loop" */
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_loop_free(NULL), 0);
    cr_assert_eq(corio_get_event_loop(), loop);
    cr_assert_eq(corio_loop_is_closed(loop), 0);
    cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(1)), 0);
    run_once(loop);
    EV_EXPECT(1);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_null(corio_get_event_loop());
}

Test(null_loop, get_event_loop_never_creates_one, .timeout = 10)
{
    for (int i = 0; i < 3; i++)
        cr_assert_null(corio_get_event_loop());
    corio_loop *loop = new_loop();
    cr_assert_null(corio_get_event_loop(), "corio_loop_new does not make the loop current");
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_null(corio_get_event_loop());
}

/* ---- a current loop, not running ---- */

/* A virtual-time loop made current: its clock stands still, so times compare exactly. */
static corio_loop *current_vt_loop(void)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_null(corio_get_running_loop());
    return loop;
}

static void release_current(corio_loop *loop)
{
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

static void *sleeps(void *arg)
{
    int rc = corio_sleep(3600);
    return rc < 0 ? corio_raise(rc) : arg;
}

Test(null_loop, current_loop_futures_tasks_and_callbacks, .timeout = 10)
{
    corio_loop *loop = current_vt_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, NULL), 0);
    cr_assert_eq(corio_future_get_loop(f), loop);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, NULL, ret_arg, IV(3), NULL), 0);
    cr_assert_eq(corio_future_get_loop(corio_task_future(t)), loop);
    corio_task *out[4] = {0};
    cr_assert_eq(corio_all_tasks(NULL, out, 4), 1);
    cr_assert_eq(out[0], t);
    corio_future *g;
    cr_assert_eq(corio_gather_new(&g, NULL, 0, 0), 0);
    cr_assert_eq(corio_future_get_loop(g), loop);
    corio_future_unref(g);

    corio_handle *h = NULL;
    cr_assert_eq(corio_loop_call_soon(&h, NULL, log_cb, IV(1)), 0);
    corio_handle_unref(h);
    double now = corio_loop_time(loop);
    cr_assert_eq(corio_loop_call_later(&h, NULL, 1.0, log_cb, IV(3)), 0);
    cr_assert_lt(fabs(corio_handle_when(h) - (now + 1.0)), 1e-6, "timed on the current loop");
    corio_handle_unref(h);
    cr_assert_eq(corio_loop_call_at(NULL, NULL, now + 0.5, log_cb, IV(2)), 0);
    cr_assert_eq(corio_loop_call_later(NULL, NULL, 2.0, stop_cb, loop), 0);
    /* run_forever(NULL) runs the current loop */
    cr_assert_eq(corio_loop_run_forever(NULL), 0);
    EV_EXPECT(1, 2, 3);
    void *v = NULL;
    cr_assert_eq(corio_future_result(corio_task_future(t), &v), 0, "the task ran on it");
    cr_assert_eq(v, IV(3));
    corio_task_unref(t);

    /* run_until_complete(NULL, ...) too */
    ev_n = 0;
    cr_assert_eq(corio_loop_call_soon_threadsafe(NULL, log_cb, IV(4)), 0);
    cr_assert_eq(corio_create_task(&t, NULL, sleeps, IV(8), NULL), 0);
    cr_assert_eq(corio_loop_call_later(NULL, NULL, 0.25, stop_cb, loop), 0);
    cr_assert_eq(corio_loop_run_until_complete(NULL, corio_task_future(t), &v), CORIO_ESTOPPED);
    EV_EXPECT(4); /* the post from this thread ran on the current loop */
    corio_task_cancel(t, NULL);
    cr_assert_eq(corio_loop_run_until_complete(NULL, corio_task_future(t), &v), -ECANCELED);
    corio_task_unref(t);
    corio_future_set_result(f, IV(9));
    cr_assert_eq(corio_loop_run_until_complete(NULL, f, &v), 0);
    cr_assert_eq(v, IV(9));
    corio_future_unref(f);

    /* stop(NULL) before run_forever: one iteration */
    cr_assert_eq(corio_loop_call_soon(NULL, loop, log_cb, IV(5)), 0);
    cr_assert_eq(corio_loop_stop(NULL), 0);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    EV_EXPECT(4, 5);
    release_current(loop);
}

Test(null_loop, current_loop_state_debug_and_errors, .timeout = 10)
{
    corio_loop *loop = current_vt_loop();
    cr_assert_eq(corio_loop_is_running(NULL), 0);
    cr_assert_eq(corio_loop_is_closed(NULL), 0);
    cr_assert_eq(corio_loop_time(NULL), corio_loop_time(loop));
    cr_assert_not_null(corio_loop_get_backend(NULL));
    cr_assert_str_eq(corio_loop_get_backend(NULL), corio_loop_get_backend(loop));

    cr_assert_eq(corio_loop_get_debug(NULL), 0);
    cr_assert_eq(corio_loop_set_debug(NULL, 1), 0);
    cr_assert_eq(corio_loop_get_debug(loop), 1);
    cr_assert_eq(corio_loop_get_debug(NULL), 1);
    cr_assert_eq(corio_loop_set_debug(NULL, 0), 0);
    cr_assert_eq(corio_loop_get_debug(loop), 0);

    cr_assert_eq(corio_loop_set_slow_callback_duration(NULL, 0.75), 0);
    cr_assert_eq(corio_loop_get_slow_callback_duration(loop), 0.75);
    cr_assert_eq(corio_loop_get_slow_callback_duration(NULL), 0.75);

    cr_assert_eq(corio_loop_set_error_handler(NULL, capture_handler, NULL), 0);
    corio_error_context ctx = {.message = "to the current loop's handler", .err = -EIO};
    cr_assert_eq(corio_loop_call_error_handler(loop, &ctx), 0);
    cr_assert_eq(corio_loop_call_error_handler(NULL, &ctx), 0);
    cr_assert_eq(cap.n, 2);
    cr_assert_str_eq(cap.message[1], "to the current loop's handler");
    release_current(loop);
}

Test(null_loop, current_loop_dumps, .timeout = 10)
{
    corio_loop *loop = current_vt_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL); /* the close report */
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, NULL, sleeps, NULL, &(corio_task_opts){.name = "dumped"}),
                 0);
    run_once(loop);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_eq(corio_loop_dump_tasks(NULL, mem), 1);
    fclose(mem);
    cr_assert(strstr(buf, "(T) dumped [waiting]") != NULL, "%s", buf);
    free(buf);

    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0); /* a missing dump fails, not hangs */
    cr_assert_eq(corio_loop_dump_tasks_fd(NULL, p[1]), 1);
    char out[512] = "";
    cr_assert_gt(read(p[0], out, sizeof out - 1), 0);
    cr_assert(strstr(out, "(T) dumped [waiting]") != NULL, "%s", out);

    /* dump_on_signal(NULL, ...) arms the current loop */
    cr_assert_eq(corio_loop_dump_on_signal(NULL, SIGUSR1, p[1]), 0);
    raise(SIGUSR1);
    run_once(loop); /* the dump is written at the start of an iteration */
    run_once(loop);
    memset(out, 0, sizeof out);
    cr_assert_gt(read(p[0], out, sizeof out - 1), 0);
    cr_assert(strstr(out, "(T) dumped [waiting]") != NULL, "%s", out);
    cr_assert_eq(corio_loop_dump_on_signal(NULL, 0, -1), 0, "off again");
    close(p[0]);
    close(p[1]);

    corio_task_cancel(t, NULL);
    run_task(loop, t, NULL);
    corio_task_unref(t);
    release_current(loop);
}

Test(null_loop, current_loop_io, .timeout = 10)
{
    corio_loop *loop = current_vt_loop();
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_assert_eq(corio_loop_add_reader(NULL, p[0], read_fd, IV(1)), 0);
    run_until_events(loop, 1);
    EV_EXPECT(1); /* the readable pipe called back on the current loop */
    cr_assert_eq(corio_loop_remove_reader(NULL, p[0]), 1, "the reader was the current loop's");
    cr_assert_eq(corio_loop_remove_reader(loop, p[0]), 0);
    cr_assert_eq(corio_loop_add_writer(NULL, p[1], log_fd, IV(2)), 0);
    run_until_events(loop, 2);
    cr_assert_eq(corio_loop_remove_writer(loop, p[1]), 1);
    cr_assert_eq(corio_loop_remove_writer(NULL, p[1]), 0);
    cr_assert_geq(ev_n, 2);
    cr_assert_eq(ev_log[1], 2, "the writable pipe too");
    cr_assert_eq(corio_close(p[0]), 0);
    cr_assert_eq(corio_close(p[1]), 0);

    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    corio_reader *r;
    corio_writer *w;
    cr_assert_eq(corio_stream_new(&r, &w, NULL, sv[0], NULL), 0);
    cr_assert_eq(corio_writer_write(w, "hi", 2), 0);
    char got[2];
    cr_assert_eq(read(sv[1], got, 2), 2);
    cr_assert_eq(corio_stream_free(r, w), 0);
    run_once(loop);
    close(sv[1]);
    release_current(loop);
}

static corio_event *ev_obj;
static void *waits_event(void *arg)
{
    (void)arg;
    return IV(corio_event_wait(ev_obj));
}

Test(null_loop, current_loop_sync_primitives, .timeout = 10)
{
    corio_loop *loop = current_vt_loop();
    cr_assert_eq(corio_event_new(&ev_obj, NULL), 0);
    /* bound to the current loop: a task of that loop may await it (-EINVAL otherwise) */
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, waits_event, NULL, NULL), 0);
    run_once(loop);
    cr_assert_eq(corio_event_set(ev_obj), 0);
    void *v = IV(1);
    cr_assert_eq(run_task(loop, t, &v), 0);
    cr_assert_eq(VI(v), 0);
    corio_task_unref(t);
    cr_assert_eq(corio_event_free(ev_obj), 0);

    corio_lock *lock;
    cr_assert_eq(corio_lock_new(&lock, NULL), 0);
    corio_condition *cond;
    cr_assert_eq(corio_condition_new(&cond, NULL, lock), 0, "the lock is of the same loop");
    corio_semaphore *sem, *bsem;
    cr_assert_eq(corio_semaphore_new(&sem, NULL, 2), 0);
    cr_assert_eq(corio_bounded_semaphore_new(&bsem, NULL, 1), 0);
    corio_barrier *barrier;
    cr_assert_eq(corio_barrier_new(&barrier, NULL, 2), 0);
    corio_queue *queue;
    cr_assert_eq(corio_queue_new(&queue, NULL, NULL), 0);
    cr_assert_eq(corio_queue_put_nowait(queue, IV(1)), 0);
    cr_assert_eq(corio_condition_free(cond), 0);
    cr_assert_eq(corio_lock_free(lock), 0);
    cr_assert_eq(corio_semaphore_free(sem), 0);
    cr_assert_eq(corio_semaphore_free(bsem), 0);
    cr_assert_eq(corio_barrier_free(barrier), 0);
    cr_assert_eq(corio_queue_free(queue), 0);
    release_current(loop);
}

Test(null_loop, current_loop_executor, .timeout = 10)
{
    corio_loop *loop = current_vt_loop();
    corio_executor *ex;
    cr_assert_eq(corio_executor_new(&ex, 1), 0);
    cr_assert_eq(corio_loop_set_default_executor(NULL, ex), 0);
    corio_future *f;
    cr_assert_eq(corio_loop_run_in_executor(&f, NULL, NULL, job_double, IV(21), NULL), 0);
    cr_assert_eq(corio_future_get_loop(f), loop);
    void *v = NULL;
    cr_assert_eq(corio_loop_run_until_complete(loop, f, &v), 0);
    cr_assert_eq(v, IV(42));
    corio_future_unref(f);
    cr_assert_eq(corio_loop_set_default_executor(NULL, NULL), 0);

    /* a coroutine submitted "thread-safely" from the loop's own thread lands on it too */
    corio_concurrent *c;
    cr_assert_eq(corio_run_coroutine_threadsafe(&c, NULL, log_task, IV(3)), 0);
    for (int i = 0; i < 100 && !corio_concurrent_done(c); i++)
        run_once(loop);
    cr_assert_eq(corio_concurrent_done(c), 1);
    EV_EXPECT(3);
    cr_assert_eq(corio_concurrent_free(c), 0);
    release_current(loop);
    cr_assert_eq(corio_executor_free(ex), 0);
}

Test(null_loop, close_null_closes_the_current_loop, .timeout = 10)
{
    corio_loop *loop = current_vt_loop();
    cr_assert_eq(corio_loop_close(NULL), 0);
    cr_assert_eq(corio_loop_is_closed(loop), 1);
    cr_assert_null(corio_get_event_loop(), "a closed loop is no longer current");
    cr_assert_eq(corio_loop_is_closed(NULL), 0, "no loop now");
    cr_assert_eq(corio_loop_close(NULL), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- inside a running loop: NULL is the running loop, even when another one is current ---- */

static corio_loop *running, *current;
static void *checks_in_task(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_get_running_loop(), running);
    cr_expect_eq(corio_get_event_loop(), running, "the running loop comes first");
    cr_expect_eq(corio_loop_is_running(NULL), 1);
    cr_expect_eq(corio_loop_is_closed(NULL), 0);
    cr_expect_eq(corio_loop_time(NULL), corio_loop_time(running));
    cr_expect_str_eq(corio_loop_get_backend(NULL), corio_loop_get_backend(running));

    corio_future *f;
    cr_expect_eq(corio_future_new(&f, NULL), 0);
    cr_expect_eq(corio_future_get_loop(f), running);
    corio_future_unref(f);
    corio_task *t;
    cr_expect_eq(corio_create_task(&t, NULL, ret_arg, IV(5), NULL), 0);
    cr_expect_eq(corio_future_get_loop(corio_task_future(t)), running);
    void *v = NULL;
    cr_expect_eq(corio_await(corio_task_future(t), &v), 0);
    cr_expect_eq(v, IV(5));
    corio_task_unref(t);
    corio_task *out[4];
    cr_expect_eq(corio_all_tasks(NULL, out, 4), 1, "this task");
    cr_expect_eq(out[0], corio_current_task());

    cr_expect_eq(corio_loop_call_soon(NULL, NULL, log_cb, IV(1)), 0);
    cr_expect_eq(corio_loop_call_later(NULL, NULL, 0.5, log_cb, IV(2)), 0);
    cr_expect_eq(corio_loop_call_at(NULL, NULL, corio_loop_time(running) + 1.0, log_cb, IV(3)),
                 0);
    cr_expect_eq(corio_loop_call_soon_threadsafe(NULL, log_cb, IV(4)), 0);
    cr_expect_eq(corio_sleep(2.0), 0);
    cr_expect_eq(ev_n, 4, "all ran on the running loop");

    cr_expect_eq(corio_loop_set_slow_callback_duration(NULL, 0.5), 0);
    cr_expect_eq(corio_loop_get_slow_callback_duration(running), 0.5);
    cr_expect_eq(corio_loop_set_debug(NULL, 1), 0);
    cr_expect_eq(corio_loop_get_debug(running), 1);
    cr_expect_eq(corio_loop_get_debug(current), 0);
    cr_expect_eq(corio_loop_set_debug(NULL, 0), 0);
    cr_expect_eq(corio_loop_set_error_handler(NULL, capture_handler, NULL), 0);
    corio_error_context ctx = {.message = "running", .err = -EIO};
    cr_expect_eq(corio_loop_call_error_handler(NULL, &ctx), 0);
    cr_expect_eq(cap.n, 1);

    FILE *null_out = fopen("/dev/null", "w");
    cr_expect_eq(corio_loop_dump_tasks(NULL, null_out), 1, "this task, on the running loop");
    fclose(null_out);

    corio_event *e;
    cr_expect_eq(corio_event_new(&e, NULL), 0);
    corio_event_set(e);
    cr_expect_eq(corio_event_wait(e), 0, "bound to the running loop (-EINVAL otherwise)");
    corio_event_free(e);

    int p[2];
    cr_expect_eq(pipe(p), 0);
    cr_expect_eq(write(p[1], "x", 1), 1);
    cr_expect_eq(corio_loop_add_reader(NULL, p[0], read_fd, IV(6)), 0);
    for (int i = 0; i < 100 && ev_n < 5; i++)
        corio_sleep(0.01);
    cr_expect_eq(ev_n, 5, "the reader ran on the running loop");
    cr_expect_eq(corio_loop_remove_reader(NULL, p[0]), 1);
    cr_expect_eq(corio_loop_remove_reader(current, p[0]), 0, "not on the current loop");
    corio_close(p[0]);
    corio_close(p[1]);

    cr_expect_eq(corio_loop_run_in_executor(&f, NULL, NULL, job_double, IV(4), NULL), 0);
    cr_expect_eq(corio_future_get_loop(f), running);
    v = NULL;
    cr_expect_eq(corio_await(f, &v), 0);
    cr_expect_eq(v, IV(8));
    corio_future_unref(f);

    corio_concurrent *c;
    cr_expect_eq(corio_run_coroutine_threadsafe(&c, NULL, log_task, IV(9)), 0);
    for (int i = 0; i < 100 && !corio_concurrent_done(c); i++)
        corio_sleep(0.01);
    cr_expect_eq(corio_concurrent_done(c), 1);
    cr_expect_eq(ev_log[ev_n - 1], 9, "the coroutine ran on the running loop");
    cr_expect_eq(corio_concurrent_free(c), 0);

    /* the running loop cannot be run, closed or freed from inside */
    cr_expect_eq(corio_loop_run_forever(NULL), CORIO_ERUNNING);
    cr_expect_eq(corio_future_new(&f, NULL), 0);
    corio_future_set_result(f, NULL);
    cr_expect_eq(corio_loop_run_until_complete(NULL, f, NULL), CORIO_ERUNNING);
    corio_future_unref(f);
    cr_expect_eq(corio_loop_close(NULL), CORIO_ERUNNING);
    cr_expect_eq(corio_loop_free(NULL), 0, "free(NULL) does nothing, running loop or not");
    cr_expect_eq(corio_loop_is_closed(running), 0);
    cr_expect_eq(corio_loop_is_closed(current), 0);
    return IV(7);
}

Test(null_loop, running_loop_comes_before_current, .timeout = 10)
{
    current = current_vt_loop();
    running = new_vt_loop();
    void *res = NULL;
    cr_assert_eq(run_main(running, checks_in_task, NULL, &res), 0);
    cr_assert_eq(res, IV(7));
    cr_assert_eq(corio_all_tasks(current, NULL, 0), 0, "nothing landed on the current loop");
    cr_assert_eq(corio_get_event_loop(), current, "the current loop is still current");
    cr_assert_eq(corio_loop_free(running), 0);
    release_current(current);
}

static int stop_rc = 1, running_in_cb = -1;
static void stops_running(void *arg)
{
    (void)arg;
    running_in_cb = corio_loop_is_running(NULL);
    stop_rc = corio_loop_stop(NULL);
}

Test(null_loop, stop_null_in_a_callback_stops_the_running_loop, .timeout = 10)
{
    current = current_vt_loop();
    running = new_vt_loop();
    cr_assert_eq(corio_loop_call_soon(NULL, running, stops_running, NULL), 0);
    cr_assert_eq(corio_loop_call_later(NULL, running, 3600.0, log_cb, IV(1)), 0);
    cr_assert_eq(corio_loop_run_forever(running), 0, "stopped by stop(NULL)");
    cr_assert_eq(stop_rc, 0);
    cr_assert_eq(running_in_cb, 1);
    cr_assert_eq(ev_n, 0, "before the timer");
    cr_assert_eq(corio_loop_free(running), 0);
    release_current(current);
}
