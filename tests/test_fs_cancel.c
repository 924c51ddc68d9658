/* Cancelling a file call: one still queued for a thread does nothing and says -ECANCELED; one
 * the kernel or a thread has runs to its end, and the task gets its result (an fd is never
 * lost) with the cancellation at its next await, or -ECANCELED where the kernel could stop it;
 * loop close waits for a call in flight. On each backend. */
#include "fs_helpers.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct cancel_case {
    char dir[FS_DIR_MAX];
    char path[PATH_MAX];
    int pipe[2];
    int result;       /* what the cancelled call returned */
    int next;         /* what the next await returned */
    int started;
    int fd;           /* the file, or the FIFO's read end */
    int w;            /* the FIFO's write end */
} cancel_case;

/* Holds the executor's only thread until a byte arrives on the pipe. */
static void *hold_job(void *arg, int *err)
{
    (void)err;
    char b;
    ssize_t n = read(*(int *)arg, &b, 1);
    return (void *)(intptr_t)n;
}

static void *holder(void *arg)
{
    cancel_case *c = arg;
    return IV(corio_to_thread(hold_job, &c->pipe[0], NULL));
}

static void *truncater(void *arg)
{
    cancel_case *c = arg;
    c->started = 1;
    c->result = corio_ftruncate(c->fd, 100);
    return NULL;
}

static void *queued_main(void *arg)
{
    cancel_case *c = arg;
    c->fd = corio_open(c->path, O_RDWR, 0);
    corio_executor *ex;
    cr_expect_eq(corio_executor_new(&ex, 1), 0);
    cr_expect_eq(corio_loop_set_default_executor(NULL, ex), 0);
    corio_task *h = spawn(holder, c);
    corio_task *t = spawn(truncater, c);
    while (!c->started)
        corio_sleep(0.001);
    corio_sleep(0.05); /* the truncate is queued behind the holder */
    cr_expect_eq(corio_task_cancel(t, NULL), 1);
    cr_expect_eq(corio_await(corio_task_future(t), NULL), -ECANCELED);
    cr_expect_eq(c->result, -ECANCELED, "a queued call: %s", corio_strerror(c->result));
    struct stat st;
    cr_expect_eq(stat(c->path, &st), 0);
    cr_expect_eq(st.st_size, 5, "and nothing was done");
    cr_expect_eq(write(c->pipe[1], "x", 1), 1);
    cr_expect_eq(corio_await(corio_task_future(h), NULL), 0);
    corio_task_unref(t);
    corio_task_unref(h);
    corio_close(c->fd);
    cr_expect_eq(corio_loop_set_default_executor(NULL, NULL), 0);
    corio_executor_free(ex);
    return NULL;
}

Test(fs_cancel, queued_call_does_nothing, .timeout = 20)
{
    FD_CHECK_BEGIN();
    cancel_case c = {0};
    fs_tmpdir(c.dir);
    fs_join(c.path, c.dir, "f");
    fs_put(c.path, "12345", 5);
    cr_assert_eq(pipe2(c.pipe, O_CLOEXEC), 0);
    cr_assert_eq(corio_run(queued_main, &c, NULL, NULL), 0);
    close(c.pipe[0]);
    close(c.pipe[1]);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}

/* Opening a FIFO for reading blocks until a writer comes (on a thread; io_uring opens it
 * without waiting). */
static void *opener(void *arg)
{
    cancel_case *c = arg;
    c->started = 1;
    c->result = corio_open(c->path, O_RDONLY, 0);
    if (c->result >= 0)
        corio_close(c->result);
    c->next = corio_sleep(0);
    return NULL;
}

/* A writer for the FIFO, once a reader waits there (O_NONBLOCK: ENXIO until then). */
static int open_writer(const char *path)
{
    return open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

/* A read of an empty FIFO (a blocking fd) waits for a writer's byte: on a thread (epoll), or in
 * the kernel (io_uring), which can stop it. */
static void *reader(void *arg)
{
    cancel_case *c = arg;
    char b = 0;
    struct iovec iov = {&b, 1};
    c->started = 1;
    c->result = (int)corio_readv(c->fd, &iov, 1);
    c->next = corio_sleep(0);
    return NULL;
}

static void *running_main(void *arg)
{
    cancel_case *c = arg;
    corio_task *t = spawn(reader, c);
    while (!c->started)
        corio_sleep(0.001);
    corio_sleep(0.1); /* in the read now */
    cr_expect_eq(corio_task_cancel(t, NULL), 1);
    corio_sleep(0.05);
    cr_expect_eq(write(c->w, "x", 1), 1, "a byte for a read that a thread still holds");
    corio_await(corio_task_future(t), NULL);
    char b;
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    ssize_t left = read(c->fd, &b, 1);
    if (c->result == 1) {
        cr_expect_eq(c->next, -ECANCELED, "the byte came back, the cancel at the next await");
        cr_expect_eq(left, -1, "and the FIFO is empty");
    } else {
        cr_expect_eq(c->result, -ECANCELED, "the read gave %s", corio_strerror(c->result));
        cr_expect_eq(left, 1, "the kernel stopped the read: the byte is still there");
    }
    corio_task_unref(t);
    return NULL;
}

Test(fs_cancel, running_call_keeps_its_result, .timeout = 20)
{
    FD_CHECK_BEGIN();
    cancel_case c = {0};
    fs_tmpdir(c.dir);
    fs_join(c.path, c.dir, "fifo");
    cr_assert_eq(mkfifo(c.path, 0600), 0);
    c.fd = open(c.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    c.w = open_writer(c.path);
    cr_assert(c.fd >= 0 && c.w >= 0);
    cr_assert_eq(fcntl(c.fd, F_SETFL, 0), 0); /* blocking: only a thread or the kernel waits */
    cr_assert_eq(corio_run(running_main, &c, NULL, NULL), 0);
    close(c.fd);
    close(c.w);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}

/* Loop close destroys a task whose open is in flight: it waits for it and leaks no fd. */
typedef struct unblock {
    const char *path;
    atomic_int done;
} unblock;

static void *unblock_thread(void *arg)
{
    unblock *u = arg;
    usleep(300 * 1000);
    while (!atomic_load(&u->done)) {
        int w = open_writer(u->path);
        if (w >= 0) {
            close(w);
            break;
        }
        usleep(10 * 1000);
    }
    return NULL;
}

static void *leave_opener(void *arg)
{
    cancel_case *c = arg;
    corio_create_task(NULL, NULL, opener, c, NULL);
    while (!c->started)
        corio_sleep(0.001);
    corio_sleep(0.05);
    return NULL;
}

Test(fs_cancel, loop_close_waits_for_the_call, .timeout = 20)
{
    FD_CHECK_BEGIN();
    cancel_case c = {0};
    fs_tmpdir(c.dir);
    fs_join(c.path, c.dir, "fifo");
    cr_assert_eq(mkfifo(c.path, 0600), 0);
    corio_loop *loop;
    cr_assert_eq(corio_loop_new(&loop, NULL), 0);
    cr_assert_eq(run_main(loop, leave_opener, &c, NULL), 0);
    unblock u = {.path = c.path};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, unblock_thread, &u), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    atomic_store(&u.done, 1);
    pthread_join(th, NULL);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}
