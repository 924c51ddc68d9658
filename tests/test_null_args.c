/* NULL arguments (docs/conventions.md, row "NULL objects"): every public function given NULL
 * where it takes an object (or a pointer it must follow) returns -EINVAL or the neutral value its
 * header states, and never crashes. Functions are taken header by header; the calls that await
 * run inside a task, where their NULL check comes before anything else. A NULL loop is not an
 * error but the running or current loop: tests/test_null_loop.c covers those. */
#define _GNU_SOURCE /* struct statx */
#include "core_helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

TestSuite(null_args, .timeout = 30);

static void *ret_null(void *arg)
{
    (void)arg;
    return NULL;
}
static void noop_done(corio_future *f, void *arg)
{
    (void)f;
    (void)arg;
}
static int pred_true(void *arg)
{
    (void)arg;
    return 1;
}
static void *job(void *arg, int *err)
{
    (void)err;
    return arg;
}
static void noop_cb(void *arg) { (void)arg; }
static void noop_stream_handler(corio_reader *r, corio_writer *w, void *arg)
{
    (void)r;
    (void)w;
    (void)arg;
}

/* Runs fn as a task on a new loop and returns after it (fn checks with cr_expect). */
static void in_task(corio_coro_fn fn)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(run_main(loop, fn, NULL, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- loop.h ---- */

Test(null_args, loop)
{
    cr_expect_eq(corio_loop_new(NULL, NULL), -EINVAL);
    cr_expect_eq(corio_loop_free(NULL), 0);
    cr_expect_eq(corio_run(NULL, NULL, NULL, NULL), -EINVAL);
    corio_loop *loop = new_loop();
    void *v = SENTINEL;
    cr_expect_eq(corio_loop_run_until_complete(loop, NULL, &v), -EINVAL);
    cr_expect_null(v);
    cr_expect_eq(corio_loop_call_soon(NULL, loop, NULL, NULL), -EINVAL);
    corio_handle *h = SENTINEL;
    cr_expect_eq(corio_loop_call_later(&h, loop, 1.0, NULL, NULL), -EINVAL);
    cr_expect_null(h);
    cr_expect_eq(corio_loop_call_at(NULL, loop, 1.0, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_loop_call_error_handler(loop, NULL), -EINVAL);
    corio_loop_default_error_handler(loop, NULL); /* nothing */
    corio_loop_default_error_handler(NULL, NULL);
    cr_expect_eq(corio_loop_set_error_handler(loop, NULL, NULL), 0); /* the default again */
    cr_expect_eq(corio_set_event_loop(NULL), 0); /* unsets */

    /* Handles. */
    cr_expect_null(corio_handle_ref(NULL));
    corio_handle_unref(NULL);
    corio_handle_cancel(NULL);
    cr_expect_eq(corio_handle_cancelled(NULL), 0);
    cr_expect(isnan(corio_handle_when(NULL)));
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- future.h ---- */

static void *future_await_main(void *arg)
{
    (void)arg;
    void *v = SENTINEL;
    cr_expect_eq(corio_await(NULL, &v), -EINVAL);
    cr_expect_null(v);
    cr_expect_eq(corio_await(NULL, NULL), -EINVAL);
    return NULL;
}

Test(null_args, future)
{
    cr_expect_eq(corio_future_new(NULL, NULL), -EINVAL);
    cr_expect_null(corio_future_ref(NULL));
    corio_future_unref(NULL);
    cr_expect_eq(corio_future_set_result(NULL, NULL), -EINVAL);
    cr_expect_eq(corio_future_set_error(NULL, -EIO), -EINVAL);
    cr_expect_eq(corio_future_cancel(NULL, NULL), -EINVAL);
    cr_expect_eq(corio_future_get_state(NULL), CORIO_FUTURE_PENDING);
    cr_expect_eq(corio_future_done(NULL), 0);
    cr_expect_eq(corio_future_cancelled(NULL), 0);
    void *v = SENTINEL;
    cr_expect_eq(corio_future_result(NULL, &v), -EINVAL);
    cr_expect_null(v);
    cr_expect_eq(corio_future_error(NULL), -EINVAL);
    cr_expect_null(corio_future_cancel_message(NULL));
    cr_expect_null(corio_future_get_loop(NULL));
    cr_expect_eq(corio_future_add_done_callback(NULL, noop_done, NULL), -EINVAL);
    cr_expect_eq(corio_future_remove_done_callback(NULL, noop_done, NULL), -EINVAL);
    cr_expect_eq(corio_await(NULL, NULL), CORIO_ENOTASK); /* outside a task, that comes first */

    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_expect_eq(corio_future_add_done_callback(f, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_future_remove_done_callback(f, NULL, NULL), 0); /* none registered */
    cr_expect_eq(corio_future_cancel(f, NULL), 1); /* a NULL message is none */
    cr_expect_null(corio_future_cancel_message(f));
    cr_expect_eq(corio_future_result(f, NULL), -ECANCELED); /* value may be NULL */
    corio_future_unref(f);
    cr_assert_eq(corio_loop_free(loop), 0);
    in_task(future_await_main);
}

/* ---- task.h ---- */

static void *task_main(void *arg)
{
    (void)arg;
    void *v = SENTINEL;
    corio_future *none[1] = {NULL};
    int errs[1];
    cr_expect_eq(corio_gather(NULL, 1, 0, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_gather(none, 1, 0, &v, errs), -EINVAL);
    cr_expect_eq(corio_gather(NULL, 0, 0, NULL, NULL), 0); /* nothing to gather */
    cr_expect_eq(corio_wait_for(NULL, 1.0, &v), -EINVAL);
    cr_expect_null(v);
    /* Renaming the running task: a NULL name is refused. */
    cr_expect_eq(corio_task_set_name(corio_current_task(), NULL), -EINVAL);
    return NULL;
}

Test(null_args, task)
{
    corio_loop *loop = new_loop();
    corio_task *t = SENTINEL;
    cr_expect_eq(corio_create_task(&t, loop, NULL, NULL, NULL), -EINVAL);
    cr_expect_null(t);
    cr_expect_eq(corio_create_task(NULL, loop, ret_null, NULL, NULL), 0); /* fire and forget */
    cr_expect_null(corio_task_future(NULL));
    cr_expect_null(corio_task_ref(NULL));
    corio_task_unref(NULL);
    cr_expect_eq(corio_all_tasks(loop, NULL, 1), -EINVAL);
    cr_expect_eq(corio_all_tasks(loop, NULL, 0), 1); /* only counts */
    cr_expect_str_eq(corio_task_get_name(NULL), "");
    cr_expect_eq(corio_task_set_name(NULL, "x"), -EINVAL);
    cr_expect_eq(corio_task_cancel(NULL, NULL), -EINVAL);
    cr_expect_eq(corio_task_cancelling(NULL), 0);
    cr_expect_eq(corio_task_uncancel(NULL), -EINVAL);
    cr_expect_eq(corio_task_stack_high_water(NULL), -EINVAL);
    cr_expect_null(corio_raise(-EIO)); /* outside a task: nothing */

    corio_future *g = SENTINEL;
    corio_future *none[1] = {NULL};
    cr_expect_eq(corio_gather_new(NULL, NULL, 0, 0), -EINVAL);
    cr_expect_eq(corio_gather_new(&g, NULL, 1, 0), -EINVAL);
    cr_expect_null(g);
    cr_expect_eq(corio_gather_new(&g, none, 1, 0), -EINVAL);
    const int *errs = SENTINEL;
    cr_expect_eq(corio_gather_errors(NULL, &errs), -EINVAL);
    cr_expect_null(errs);
    cr_expect_eq(corio_gather_new(&g, NULL, 0, 0), CORIO_ENOLOOP); /* no loop to bind it to */
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_expect_eq(corio_gather_new(&g, NULL, 0, 0), 0); /* n == 0: done at once */
    cr_expect_eq(corio_gather_errors(g, NULL), 0);
    corio_future_unref(g);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    cr_expect_eq(run_main(loop, task_main, NULL, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- combinators.h ---- */

static void *combinators_main(void *arg)
{
    (void)arg;
    corio_future *none[1] = {NULL};
    unsigned char done[1];
    cr_expect_eq(corio_wait(NULL, 1, CORIO_ALL_COMPLETED, CORIO_FOREVER, done), -EINVAL);
    cr_expect_eq(corio_wait(none, 1, CORIO_ALL_COMPLETED, CORIO_FOREVER, done), -EINVAL);

    corio_future *f = SENTINEL;
    cr_expect_eq(corio_as_completed_next(NULL, &f), -EINVAL);
    cr_expect_null(f);
    corio_as_completed *it;
    cr_assert_eq(corio_as_completed_new(&it, NULL, 0, CORIO_FOREVER), 0); /* nothing to yield */
    cr_expect_eq(corio_as_completed_next(it, NULL), -EINVAL);
    cr_expect_eq(corio_as_completed_next(it, &f), 0);
    cr_expect_eq(corio_as_completed_free(it), 0);

    cr_expect_eq(corio_timeout_enter(NULL, 1.0), -EINVAL);
    cr_expect_eq(corio_timeout_enter_at(NULL, 1.0), -EINVAL);
    cr_expect_eq(corio_timeout_reschedule(NULL, 1.0), -EINVAL);
    cr_expect(isnan(corio_timeout_when(NULL)));
    cr_expect_eq(corio_timeout_expired(NULL), 0);
    cr_expect_eq(corio_timeout_exit(NULL, -EIO), -EIO);

    corio_task *t = SENTINEL;
    cr_expect_eq(corio_taskgroup_new(NULL), -EINVAL);
    cr_expect_eq(corio_taskgroup_create_task(&t, NULL, ret_null, NULL, NULL), -EINVAL);
    cr_expect_null(t);
    cr_expect_eq(corio_taskgroup_exit(NULL, 0), -EINVAL);
    cr_expect_eq(corio_taskgroup_wait(NULL), -EINVAL);
    corio_taskgroup *tg;
    cr_assert_eq(corio_taskgroup_new(&tg), 0);
    cr_expect_eq(corio_taskgroup_create_task(NULL, tg, NULL, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_taskgroup_exit(tg, 0), 0);
    cr_expect_eq(corio_taskgroup_errors(tg, NULL), 0);
    cr_expect_eq(corio_taskgroup_free(tg), 0);
    return NULL;
}

Test(null_args, combinators)
{
    corio_future *out = SENTINEL;
    cr_expect_eq(corio_shield(NULL, NULL), -EINVAL);
    cr_expect_eq(corio_shield(&out, NULL), -EINVAL);
    cr_expect_null(out);
    corio_as_completed *it = SENTINEL;
    corio_future *none[1] = {NULL};
    cr_expect_eq(corio_as_completed_new(NULL, NULL, 0, CORIO_FOREVER), -EINVAL);
    cr_expect_eq(corio_as_completed_new(&it, NULL, 1, CORIO_FOREVER), -EINVAL);
    cr_expect_null(it);
    cr_expect_eq(corio_as_completed_new(&it, none, 1, CORIO_FOREVER), -EINVAL);
    cr_expect_eq(corio_as_completed_free(NULL), 0);
    const corio_taskgroup_error *errs = SENTINEL;
    cr_expect_eq(corio_taskgroup_errors(NULL, &errs), 0);
    cr_expect_null(errs);
    cr_expect_eq(corio_taskgroup_free(NULL), 0);
    /* Outside a task these say so first. */
    cr_expect_eq(corio_taskgroup_exit(NULL, 0), CORIO_ENOTASK);
    cr_expect_eq(corio_wait(NULL, 1, CORIO_ALL_COMPLETED, 0, NULL), CORIO_ENOTASK);
    in_task(combinators_main);
}

/* ---- sync.h ---- */

static void *sync_main(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_lock_acquire(NULL), -EINVAL);
    cr_expect_eq(corio_event_wait(NULL), -EINVAL);
    cr_expect_eq(corio_condition_acquire(NULL), -EINVAL);
    cr_expect_eq(corio_condition_wait(NULL), -EINVAL);
    cr_expect_eq(corio_condition_wait_for(NULL, pred_true, NULL), -EINVAL);
    cr_expect_eq(corio_semaphore_acquire(NULL), -EINVAL);
    cr_expect_eq(corio_barrier_wait(NULL), -EINVAL);
    cr_expect_eq(corio_queue_put(NULL, NULL), -EINVAL);
    cr_expect_eq(corio_queue_put_prio(NULL, NULL, 1), -EINVAL);
    void *item = SENTINEL;
    cr_expect_eq(corio_queue_get(NULL, &item), -EINVAL);
    cr_expect_null(item);
    cr_expect_eq(corio_queue_join(NULL), -EINVAL);

    corio_condition *cond;
    cr_assert_eq(corio_condition_new(&cond, NULL, NULL), 0);
    cr_expect_eq(corio_condition_wait_for(cond, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_condition_free(cond), 0);
    corio_queue *q;
    cr_assert_eq(corio_queue_new(&q, NULL, NULL), 0);
    cr_expect_eq(corio_queue_get(q, NULL), -EINVAL);
    cr_expect_eq(corio_queue_free(q), 0);
    return NULL;
}

Test(null_args, sync)
{
    corio_loop *loop = new_loop();
    cr_expect_eq(corio_lock_new(NULL, loop), -EINVAL);
    cr_expect_eq(corio_lock_free(NULL), 0);
    cr_expect_eq(corio_lock_acquire_nowait(NULL), -EINVAL);
    cr_expect_eq(corio_lock_release(NULL), -EINVAL);
    cr_expect_eq(corio_lock_locked(NULL), 0);

    cr_expect_eq(corio_event_new(NULL, loop), -EINVAL);
    cr_expect_eq(corio_event_free(NULL), 0);
    cr_expect_eq(corio_event_set(NULL), -EINVAL);
    cr_expect_eq(corio_event_clear(NULL), -EINVAL);
    cr_expect_eq(corio_event_is_set(NULL), 0);

    cr_expect_eq(corio_condition_new(NULL, loop, NULL), -EINVAL);
    cr_expect_eq(corio_condition_free(NULL), 0);
    cr_expect_eq(corio_condition_release(NULL), -EINVAL);
    cr_expect_eq(corio_condition_locked(NULL), 0);
    cr_expect_eq(corio_condition_notify(NULL, 1), -EINVAL);
    cr_expect_eq(corio_condition_notify_all(NULL), -EINVAL);
    corio_condition *cond = SENTINEL;
    cr_expect_eq(corio_condition_new(&cond, loop, NULL), 0); /* NULL lock: one of its own */
    cr_expect_eq(corio_condition_free(cond), 0);

    cr_expect_eq(corio_semaphore_new(NULL, loop, 1), -EINVAL);
    cr_expect_eq(corio_bounded_semaphore_new(NULL, loop, 1), -EINVAL);
    cr_expect_eq(corio_semaphore_free(NULL), 0);
    cr_expect_eq(corio_semaphore_acquire_nowait(NULL), -EINVAL);
    cr_expect_eq(corio_semaphore_release(NULL), -EINVAL);
    cr_expect_eq(corio_semaphore_locked(NULL), 0);
    cr_expect_eq(corio_semaphore_value(NULL), 0);

    cr_expect_eq(corio_barrier_new(NULL, loop, 2), -EINVAL);
    cr_expect_eq(corio_barrier_free(NULL), 0);
    cr_expect_eq(corio_barrier_reset(NULL), -EINVAL);
    cr_expect_eq(corio_barrier_abort(NULL), -EINVAL);
    cr_expect_eq(corio_barrier_parties(NULL), 0);
    cr_expect_eq(corio_barrier_n_waiting(NULL), 0);
    cr_expect_eq(corio_barrier_broken(NULL), 0);

    cr_expect_eq(corio_queue_new(NULL, loop, NULL), -EINVAL);
    corio_queue *q;
    cr_expect_eq(corio_queue_new(&q, loop, NULL), 0); /* NULL opts: unbounded FIFO */
    cr_expect_eq(corio_queue_free(q), 0);
    cr_expect_eq(corio_queue_free(NULL), 0);
    cr_expect_eq(corio_queue_put_nowait(NULL, NULL), -EINVAL);
    cr_expect_eq(corio_queue_put_prio_nowait(NULL, NULL, 1), -EINVAL);
    void *item = SENTINEL;
    cr_expect_eq(corio_queue_get_nowait(NULL, &item), -EINVAL);
    cr_expect_null(item);
    cr_expect_eq(corio_queue_task_done(NULL), -EINVAL);
    cr_expect_eq(corio_queue_shutdown(NULL, 1), -EINVAL);
    cr_expect_eq(corio_queue_qsize(NULL), 0);
    cr_expect_eq(corio_queue_maxsize(NULL), 0);
    cr_expect_eq(corio_queue_empty(NULL), 0);
    cr_expect_eq(corio_queue_full(NULL), 0);
    cr_expect_eq(corio_queue_is_shutdown(NULL), 0);
    cr_expect_eq(run_main(loop, sync_main, NULL, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- io.h ---- */

static void *io_main(void *arg)
{
    (void)arg;
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    cr_expect_eq(corio_sock_connect(sv[0], NULL, 0, 1.0), -EINVAL);
    cr_expect_eq(corio_sock_recvmsg(sv[0], NULL, 0), -EFAULT);
    cr_expect_eq(corio_sock_sendmsg(sv[0], NULL, 0), -EFAULT);
    cr_expect_eq(corio_sock_send(sv[0], NULL, 1, 0), -EFAULT);
    cr_expect_eq(corio_sock_sendall(sv[0], NULL, 1, 0), -EFAULT);
    cr_expect_eq(corio_sock_recv(sv[0], NULL, 1, 0), -EFAULT);
    cr_expect_eq(corio_sock_sendto(sv[0], NULL, 1, 0, NULL, 0), -EFAULT);
    char c;
    struct sockaddr_storage from;
    cr_expect_eq(corio_sock_recvfrom(sv[0], &c, 1, 0, (struct sockaddr *)&from, NULL), -EFAULT);
    cr_expect_eq(corio_read(sv[0], NULL, 1), -EFAULT);
    cr_expect_eq(corio_write(sv[0], NULL, 1), -EFAULT);
    struct sockaddr_storage ss;
    cr_expect_eq(corio_sock_accept(sv[0], (struct sockaddr *)&ss, NULL), -EFAULT);
    corio_close(sv[0]);
    corio_close(sv[1]);
    return NULL;
}

Test(null_args, io)
{
    corio_loop *loop = new_loop();
    cr_expect_eq(corio_loop_add_reader(loop, 0, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_loop_add_writer(loop, 1, NULL, NULL), -EINVAL);
    cr_expect_eq(run_main(loop, io_main, NULL, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- fs.h ---- */

static void *fs_main(void *arg)
{
    (void)arg;
    struct stat st;
    struct statx stx;
    corio_dirent *e = (corio_dirent *)1;
    char c;
    off_t off = 0;
    cr_expect_eq(corio_open(NULL, O_RDONLY, 0), -EFAULT);
    cr_expect_eq(corio_openat(AT_FDCWD, NULL, O_RDONLY, 0), -EFAULT);
    cr_expect_eq(corio_pread(0, NULL, 1, 0), -EFAULT);
    cr_expect_eq(corio_pwrite(1, NULL, 1, 0), -EFAULT);
    cr_expect_eq(corio_readv(0, NULL, 1), -EFAULT);
    cr_expect_eq(corio_writev(1, NULL, 1), -EFAULT);
    cr_expect_eq(corio_preadv(0, NULL, 1, 0), -EFAULT);
    cr_expect_eq(corio_pwritev(1, NULL, 1, 0), -EFAULT);
    cr_expect_eq(corio_stat(NULL, &st), -EFAULT);
    cr_expect_eq(corio_stat("/", NULL), -EFAULT);
    cr_expect_eq(corio_lstat(NULL, &st), -EFAULT);
    cr_expect_eq(corio_fstat(0, NULL), -EFAULT);
    cr_expect_eq(corio_statx(AT_FDCWD, NULL, 0, 0, &stx), -EFAULT);
    cr_expect_eq(corio_statx(AT_FDCWD, "/", 0, 0, NULL), -EFAULT);
    cr_expect_eq(corio_rename(NULL, "/x"), -EFAULT);
    cr_expect_eq(corio_rename("/x", NULL), -EFAULT);
    cr_expect_eq(corio_unlink(NULL), -EFAULT);
    cr_expect_eq(corio_mkdir(NULL, 0700), -EFAULT);
    cr_expect_eq(corio_rmdir(NULL), -EFAULT);
    cr_expect_eq(corio_symlink(NULL, "/x"), -EFAULT);
    cr_expect_eq(corio_symlink("/x", NULL), -EFAULT);
    cr_expect_eq(corio_readlink(NULL, &c, 1), -EFAULT);
    cr_expect_eq(corio_readlink("/x", NULL, 1), -EFAULT);
    cr_expect_eq(corio_copy_file_range(-1, &off, 1, NULL, 1, 0), -EBADF);
    cr_expect_eq(corio_scandir(NULL, &e), -EINVAL);
    cr_expect_null(e);
    cr_expect_eq(corio_scandir("/", NULL), -EINVAL);
    cr_expect_eq(corio_fsync(-1), -EBADF);
    cr_expect_eq(corio_fdatasync(-1), -EBADF);
    cr_expect_eq(corio_ftruncate(-1, 0), -EBADF);
    cr_expect_eq(corio_fallocate(-1, 0, 0, 1), -EBADF);
    return NULL;
}

Test(null_args, fs)
{
    corio_loop *loop = new_loop();
    cr_expect_eq(run_main(loop, fs_main, NULL, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- stream.h ---- */

static void *stream_main(void *arg)
{
    (void)arg;
    char buf[4];
    const char *chunk = SENTINEL, *line = SENTINEL;
    size_t len = 1, partial = 1;
    cr_expect_eq(corio_reader_read(NULL, buf, sizeof buf), -EINVAL);
    cr_expect_eq(corio_reader_readexactly(NULL, buf, sizeof buf, &partial), -EINVAL);
    cr_expect_eq(partial, 0);
    cr_expect_eq(corio_reader_readuntil(NULL, "\n", 1, &chunk, &len), -EINVAL);
    cr_expect_null(chunk);
    cr_expect_eq(len, 0);
    cr_expect_eq(corio_reader_readline(NULL, &line), -EINVAL);
    cr_expect_null(line);
    cr_expect_eq(corio_writer_drain(NULL), -EINVAL);
    cr_expect_eq(corio_writer_wait_closed(NULL), -EINVAL);
    cr_expect_eq(corio_server_wait_closed(NULL), -EINVAL);
    cr_expect_eq(corio_server_serve_forever(NULL), -EINVAL);

    corio_reader *r = SENTINEL;
    corio_writer *w = SENTINEL;
    cr_expect_eq(corio_open_connection(NULL, &w, "127.0.0.1", 1, NULL), -EINVAL);
    cr_expect_eq(corio_open_connection(&r, &w, NULL, 1, NULL), -EINVAL);
    cr_expect_null(r);
    cr_expect_null(w);
    cr_expect_eq(corio_open_unix_connection(&r, NULL, "/nonexistent", NULL), -EINVAL);
    cr_expect_eq(corio_open_unix_connection(&r, &w, NULL, NULL), -EINVAL);
    corio_server *srv = SENTINEL;
    cr_expect_eq(corio_start_server(NULL, "127.0.0.1", 0, noop_stream_handler, NULL, NULL),
                 -EINVAL);
    cr_expect_eq(corio_start_server(&srv, "127.0.0.1", 0, NULL, NULL, NULL), -EINVAL);
    cr_expect_null(srv);
    cr_expect_eq(corio_start_unix_server(&srv, NULL, noop_stream_handler, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_start_unix_server(&srv, "/tmp/x", NULL, NULL, NULL), -EINVAL);

    /* A real connection: NULL buffers and out-parameters. */
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(corio_stream_new(&r, &w, NULL, sv[0], NULL), 0);
    cr_expect_eq(corio_reader_read(r, NULL, 1), -EINVAL);
    cr_expect_eq(corio_reader_read(r, NULL, 0), 0);
    cr_expect_eq(corio_reader_readuntil(r, NULL, 1, &chunk, &len), -EINVAL);
    cr_expect_eq(corio_reader_readuntil(r, "\n", 1, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_reader_readline(r, NULL), -EINVAL);
    cr_expect_eq(corio_writer_write(w, NULL, 1), -EINVAL);
    cr_expect_eq(corio_writer_write(w, NULL, 0), 0);
    cr_expect_eq(corio_writer_get_write_buffer_limits(w, NULL, NULL), 0);
    socklen_t alen = 0;
    cr_expect_eq(corio_writer_get_peername(w, NULL, &alen), -EINVAL);
    cr_expect_eq(corio_writer_get_sockname(w, (struct sockaddr *)buf, NULL), -EINVAL);
    cr_expect_eq(corio_stream_free(r, NULL), 0); /* either half names the connection */
    close(sv[1]);
    return NULL;
}

Test(null_args, stream)
{
    corio_reader *r = SENTINEL;
    corio_writer *w = SENTINEL;
    cr_expect_eq(corio_stream_new(NULL, &w, NULL, 0, NULL), -EINVAL);
    cr_expect_null(w);
    cr_expect_eq(corio_stream_new(&r, NULL, NULL, 0, NULL), -EINVAL);
    cr_expect_null(r);
    cr_expect_eq(corio_stream_free(NULL, NULL), 0);

    cr_expect_eq(corio_reader_at_eof(NULL), 0);
    cr_expect_eq(corio_reader_buffered(NULL), 0);
    cr_expect_eq(corio_reader_get_limit(NULL), 0);
    cr_expect_eq(corio_writer_write(NULL, "x", 1), -EINVAL);
    cr_expect_eq(corio_writer_set_write_buffer_limits(NULL, 1, 0), -EINVAL);
    size_t high = 1, low = 1;
    cr_expect_eq(corio_writer_get_write_buffer_limits(NULL, &high, &low), -EINVAL);
    cr_expect_eq(high, 0);
    cr_expect_eq(low, 0);
    cr_expect_eq(corio_writer_get_write_buffer_size(NULL), 0);
    cr_expect_eq(corio_writer_write_eof(NULL), -EINVAL);
    cr_expect_eq(corio_writer_close(NULL), -EINVAL);
    cr_expect_eq(corio_writer_abort(NULL), -EINVAL);
    cr_expect_eq(corio_writer_is_closing(NULL), 0);
    cr_expect_eq(corio_writer_get_fd(NULL), -EINVAL);
    struct sockaddr_storage ss;
    socklen_t alen = sizeof ss;
    cr_expect_eq(corio_writer_get_peername(NULL, (struct sockaddr *)&ss, &alen), -EINVAL);
    cr_expect_eq(corio_writer_get_sockname(NULL, (struct sockaddr *)&ss, &alen), -EINVAL);

    cr_expect_eq(corio_server_close(NULL), -EINVAL);
    cr_expect_eq(corio_server_close_clients(NULL), -EINVAL);
    cr_expect_eq(corio_server_abort_clients(NULL), -EINVAL);
    cr_expect_eq(corio_server_is_serving(NULL), 0);
    int fds[1];
    cr_expect_eq(corio_server_sockets(NULL, fds, 1), -EINVAL);
    cr_expect_eq(corio_server_get_port(NULL), -EINVAL);
    cr_expect_eq(corio_server_active_connections(NULL), 0);
    cr_expect_eq(corio_server_free(NULL), 0);
    in_task(stream_main);
}

/* ---- thread.h ---- */

static void *thread_main(void *arg)
{
    (void)arg;
    void *v = SENTINEL;
    cr_expect_eq(corio_to_thread(NULL, NULL, &v), -EINVAL);
    cr_expect_null(v);
    struct addrinfo *res = SENTINEL;
    cr_expect_eq(corio_getaddrinfo(NULL, NULL, NULL, &res), -EINVAL);
    cr_expect_null(res);
    cr_expect_eq(corio_getaddrinfo("localhost", NULL, NULL, NULL), -EINVAL);
    return NULL;
}

Test(null_args, thread)
{
    cr_expect_eq(corio_executor_new(NULL, 1), -EINVAL);
    cr_expect_eq(corio_executor_shutdown(NULL, 1, 0), -EINVAL);
    cr_expect_eq(corio_executor_free(NULL), 0);
    cr_expect_eq(corio_concurrent_wait(NULL, 1.0, NULL), -EINVAL);
    cr_expect_eq(corio_concurrent_cancel(NULL), -EINVAL);
    cr_expect_eq(corio_concurrent_done(NULL), 0);
    cr_expect_eq(corio_concurrent_free(NULL), 0);

    corio_loop *loop = new_loop();
    corio_future *f = SENTINEL;
    cr_expect_eq(corio_loop_run_in_executor(NULL, loop, NULL, job, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_loop_run_in_executor(&f, loop, NULL, NULL, NULL, NULL), -EINVAL);
    cr_expect_null(f);
    cr_expect_eq(corio_loop_set_default_executor(loop, NULL), 0); /* back to the loop's own */
    cr_expect_eq(corio_loop_call_soon_threadsafe(loop, NULL, NULL), -EINVAL);
    corio_concurrent *h = SENTINEL;
    cr_expect_eq(corio_run_coroutine_threadsafe(NULL, loop, ret_null, NULL), -EINVAL);
    cr_expect_eq(corio_run_coroutine_threadsafe(&h, loop, NULL, NULL), -EINVAL);
    cr_expect_null(h);
    cr_expect_eq(corio_loop_call_soon_threadsafe(loop, noop_cb, NULL), 0);
    cr_expect_eq(run_main(loop, thread_main, NULL, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- debug.h ---- */

Test(null_args, debug)
{
    corio_loop *loop = new_loop();
    cr_expect_eq(corio_loop_dump_tasks(loop, NULL), -EINVAL);
    cr_expect_eq(corio_task_stack_high_water(NULL), -EINVAL);
    cr_expect_eq(corio_loop_set_slow_callback_duration(loop, NAN), -EINVAL);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* ---- signal.h ---- */

static void *signal_main(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_signal_watcher_wait(NULL), -EINVAL);
    return NULL;
}

Test(null_args, signal)
{
    corio_loop *loop = new_loop();
    int sig = SIGUSR1;
    cr_expect_eq(corio_loop_add_signal_handler(loop, SIGUSR1, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_signal_watcher_new(NULL, loop, &sig, 1), -EINVAL);
    corio_signal_watcher *w = SENTINEL;
    cr_expect_eq(corio_signal_watcher_new(&w, loop, NULL, 1), -EINVAL);
    cr_expect_null(w);
    cr_expect_eq(corio_signal_watcher_pending(NULL), 0);
    cr_expect_eq(corio_signal_watcher_free(NULL), 0);
    cr_expect_eq(corio_signal_watcher_wait(NULL), -EINVAL);
    in_task(signal_main);
    corio_loop_free(loop);
}

/* ---- process.h ---- */

static void *process_main(void *arg)
{
    (void)arg;
    int code = 5;
    cr_expect_eq(corio_process_wait(NULL, &code), -EINVAL);
    cr_expect_eq(code, 0);
    char *out = SENTINEL;
    size_t len = 5;
    cr_expect_eq(corio_process_communicate(NULL, NULL, 0, &out, &len, NULL, NULL, NULL), -EINVAL);
    cr_expect_null(out);
    cr_expect_eq(len, 0);
    return NULL;
}

Test(null_args, process)
{
    corio_loop *loop = new_loop();
    const char *const argv[] = {"true", NULL};
    cr_expect_eq(corio_create_subprocess_exec(NULL, loop, argv, NULL), -EINVAL);
    corio_process *p = SENTINEL;
    cr_expect_eq(corio_create_subprocess_exec(&p, loop, NULL, NULL), -EINVAL);
    cr_expect_null(p);
    p = SENTINEL;
    cr_expect_eq(corio_create_subprocess_shell(&p, loop, NULL, NULL), -EINVAL);
    cr_expect_null(p);
    cr_expect_eq(corio_process_get_pid(NULL), 0);
    int code = 5;
    cr_expect_eq(corio_process_get_returncode(NULL, &code), 0);
    cr_expect_eq(code, 0);
    cr_expect_null(corio_process_get_stdin(NULL));
    cr_expect_null(corio_process_get_stdout(NULL));
    cr_expect_null(corio_process_get_stderr(NULL));
    cr_expect_eq(corio_process_send_signal(NULL, SIGTERM), -EINVAL);
    cr_expect_eq(corio_process_terminate(NULL), -EINVAL);
    cr_expect_eq(corio_process_kill(NULL), -EINVAL);
    cr_expect_eq(corio_process_free(NULL), 0);
    in_task(process_main);
    corio_loop_free(loop);
}

/* ---- tls.h ---- */

static void *tls_main(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_writer_start_tls(NULL, NULL, NULL), -EINVAL);
    return NULL;
}

Test(null_args, tls)
{
    corio_loop *loop = new_loop();
    cr_expect_eq(corio_tls_context_new(NULL, CORIO_TLS_CLIENT, NULL), -EINVAL);
    corio_tls_context *c = SENTINEL;
    cr_expect_eq(corio_tls_context_new(&c, (corio_tls_side)0, NULL), -EINVAL);
    cr_expect_null(c);
    cr_expect_eq(corio_tls_context_add_certificate(NULL, "x.pem", NULL), -EINVAL);
    cr_expect_eq(corio_tls_context_free(NULL), 0);
    cr_expect_not_null(corio_tls_get_error());
    corio_tls_info info;
    cr_expect_eq(corio_writer_get_tls_info(NULL, &info), -EINVAL);
    cr_expect_eq(corio_writer_get_peer_certificate(NULL, NULL, 0), -EINVAL);
    cr_expect_null(corio_writer_get_ssl_object(NULL));
    cr_expect_null(corio_writer_get_tls_error(NULL));
    in_task(tls_main);
    corio_loop_free(loop);
}
