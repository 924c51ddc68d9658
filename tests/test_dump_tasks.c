/* corio_loop_dump_tasks: every pending task with its state and what it awaits, as the await tree
 * of `python -m asyncio pstree` (CPython test_asyncio/test_tools.py builds the same tree); the
 * dump to an fd and on a signal. */
#include "core_helpers.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static char *dump(corio_loop *loop, int *n)
{
    static char *buf;
    size_t len = 0;
    free(buf);
    buf = NULL;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    *n = corio_loop_dump_tasks(loop, f);
    fclose(f);
    return buf;
}

/* The line naming `task`, or NULL. */
static const char *line_of(const char *text, const char *task)
{
    char key[96];
    snprintf(key, sizeof key, "(T) %s [", task);
    return strstr(text, key);
}

/* Column at which `task` appears on its line (its depth in the tree, in characters). */
static int column_of(const char *text, const char *task)
{
    const char *p = line_of(text, task);
    if (!p)
        return -1;
    const char *start = p;
    while (start > text && start[-1] != '\n')
        start--;
    return (int)(p - start);
}

/* A task named `name` (cr_expect: also called from tasks). */
static corio_task *spawn(corio_loop *loop, corio_coro_fn fn, void *arg, const char *name)
{
    corio_task *t;
    cr_expect_eq(corio_create_task(&t, loop, fn, arg, &(corio_task_opts){.name = name}), 0);
    return t;
}

/* Cancels t, lets it end and drops it. */
static void finish(corio_loop *loop, corio_task *t)
{
    corio_task_cancel(t, NULL);
    run_task(loop, t, NULL);
    corio_task_unref(t);
}

/* A virtual-time loop whose close reports (of tasks left pending) are captured, not printed. */
static corio_loop *quiet_loop(void)
{
    corio_loop *loop = new_vt_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    return loop;
}

static corio_future *never;

static void *sleeper(void *arg)
{
    corio_sleep(30.0);
    return arg;
}

static void *waiter(void *arg)
{
    corio_await(never, NULL);
    return arg;
}

static void *gatherer(void *arg)
{
    (void)arg;
    corio_task *a = spawn(NULL, sleeper, NULL, "worker-1");
    corio_task *b = spawn(NULL, waiter, NULL, "worker-2");
    corio_future *fs[2] = {corio_task_future(a), corio_task_future(b)};
    int rc = corio_gather(fs, 2, 0, NULL, NULL);
    corio_task_unref(a);
    corio_task_unref(b);
    return IV(rc);
}

static void *idle(void *arg)
{
    corio_sleep(0);
    return arg;
}

Test(dump_tasks, tree_of_a_gather_with_states_and_waits, .timeout = 10)
{
    corio_loop *loop = quiet_loop();
    cr_assert_eq(corio_future_new(&never, loop), 0);
    corio_task *m = spawn(loop, gatherer, NULL, "main");
    run_once(loop); /* main gathers */
    run_once(loop); /* the workers start and wait */
    corio_task *lone = spawn(loop, idle, NULL, "lone");
    int n = 0;
    const char *out = dump(loop, &n);
    cr_assert_eq(n, 4, "%s", out);
    cr_assert_not_null(line_of(out, "main"), "%s", out);
    cr_assert(strstr(out, "(T) main [waiting] awaits gather (0 of 2 done)") != NULL, "%s", out);
    cr_assert(strstr(out, "(T) worker-1 [waiting] awaits sleep (30.000 s left)") != NULL, "%s",
              out);
    cr_assert(strstr(out, "(T) worker-2 [waiting] awaits a future") != NULL, "%s", out);
    cr_assert(strstr(out, "(T) lone [ready]\n") != NULL, "not started yet: %s", out);
    /* the workers are below main, one level deeper; main and lone are roots */
    cr_assert_eq(column_of(out, "main"), column_of(out, "lone"));
    cr_assert_gt(column_of(out, "worker-1"), column_of(out, "main"));
    cr_assert_eq(column_of(out, "worker-1"), column_of(out, "worker-2"));
    cr_assert_lt(line_of(out, "main"), line_of(out, "worker-1"));
    cr_assert_lt(line_of(out, "worker-1"), line_of(out, "worker-2"), "argument order");
    cr_assert(strstr(out, "├── (T) worker-1") != NULL, "%s", out);
    cr_assert(strstr(out, "└── (T) worker-2") != NULL, "%s", out);
    corio_task_unref(m);
    run_task(loop, lone, NULL);
    corio_task_unref(lone);
    corio_loop_free(loop); /* before `never` goes: the tasks still await it */
    corio_future_unref(never);
}

static void *awaits_task(void *arg)
{
    corio_task *t = arg;
    corio_await(corio_task_future(t), NULL);
    return NULL;
}

Test(dump_tasks, chain_of_awaited_tasks_nests, .timeout = 10)
{
    corio_loop *loop = quiet_loop();
    cr_assert_eq(corio_future_new(&never, loop), 0);
    corio_task *c = spawn(loop, waiter, NULL, "c");
    corio_task *b = spawn(loop, awaits_task, c, "b");
    corio_task *a = spawn(loop, awaits_task, b, "a");
    run_once(loop);
    int n = 0;
    const char *out = dump(loop, &n);
    cr_assert_eq(n, 3);
    cr_assert(strstr(out, "(T) a [waiting] awaits task 'b'") != NULL, "%s", out);
    cr_assert(strstr(out, "(T) b [waiting] awaits task 'c'") != NULL, "%s", out);
    cr_assert_lt(column_of(out, "a"), column_of(out, "b"), "%s", out);
    cr_assert_lt(column_of(out, "b"), column_of(out, "c"), "%s", out);
    cr_assert_lt(line_of(out, "a"), line_of(out, "b"));
    cr_assert_lt(line_of(out, "b"), line_of(out, "c"));
    corio_task_unref(a);
    corio_task_unref(b);
    corio_task_unref(c);
    corio_loop_free(loop); /* before `never` goes: the tasks still await it */
    corio_future_unref(never);
}

static corio_task *peer[2];
static void *awaits_peer(void *arg)
{
    corio_sleep(0); /* both exist by now */
    corio_await(corio_task_future(peer[VI(arg)]), NULL);
    return NULL;
}

Test(dump_tasks, await_cycle_is_shown_once, .timeout = 10)
{
    corio_loop *loop = quiet_loop();
    corio_task *x = spawn(loop, awaits_peer, IV(1), "x");
    corio_task *y = spawn(loop, awaits_peer, IV(0), "y");
    peer[0] = x;
    peer[1] = y;
    run_once(loop);
    run_once(loop);
    int n = 0;
    const char *out = dump(loop, &n);
    cr_assert_eq(n, 2);
    cr_assert(strstr(out, "(await cycle)") != NULL, "%s", out);
    cr_assert(strstr(out, "(listed above)") != NULL, "%s", out);
    corio_task_unref(x);
    corio_task_unref(y);
    corio_loop_free(loop);
}

Test(dump_tasks, cancelling_is_shown_and_done_tasks_leave, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t = spawn(loop, sleeper, NULL, "s");
    run_once(loop);
    corio_task_cancel(t, NULL);
    int n = 0;
    const char *out = dump(loop, &n);
    cr_assert(strstr(out, "(T) s [ready, cancelling]") != NULL, "%s", out);
    run_task(loop, t, NULL);
    out = dump(loop, &n);
    cr_assert_eq(n, 0);
    cr_assert_str_eq(out, "");
    corio_task_unref(t);
    corio_loop_free(loop);
}

static char self_dump[512];
static void *dumps_itself(void *arg)
{
    (void)arg;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    corio_loop_dump_tasks(NULL, f); /* NULL: the running loop */
    fclose(f);
    snprintf(self_dump, sizeof self_dump, "%s", buf);
    free(buf);
    return NULL;
}

Test(dump_tasks, from_inside_a_task, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    run_main(loop, dumps_itself, NULL, NULL);
    cr_assert(strstr(self_dump, "[running]") != NULL, "%s", self_dump);
    corio_loop_free(loop);
}

Test(dump_tasks, to_an_fd, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    corio_task *t = spawn(loop, sleeper, NULL, "fd");
    run_once(loop);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(corio_loop_dump_tasks_fd(loop, p[1]), 1);
    close(p[1]);
    char buf[256] = "";
    cr_assert_gt(read(p[0], buf, sizeof buf - 1), 0);
    close(p[0]);
    cr_assert(strstr(buf, "(T) fd [waiting] awaits sleep") != NULL, "%s", buf);
    finish(loop, t);
    corio_loop_free(loop);
}

Test(dump_tasks, bad_arguments, .timeout = 10)
{
    /* a NULL loop is the running or current loop: there is none */
    cr_assert_eq(corio_loop_dump_tasks(NULL, stdout), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_dump_tasks_fd(NULL, 1), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_dump_on_signal(NULL, SIGUSR1, -1), CORIO_ENOLOOP);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_dump_tasks(loop, NULL), -EINVAL);
    cr_assert_eq(corio_loop_dump_tasks_fd(loop, -1), -EBADF, "a negative fd");
    cr_assert_eq(corio_loop_dump_on_signal(loop, SIGKILL, -1), -EINVAL);
    cr_assert_eq(corio_loop_dump_on_signal(loop, SIGSEGV, -1), -EINVAL);
    cr_assert_eq(corio_loop_dump_on_signal(loop, -3, -1), -EINVAL);
    cr_assert_eq(corio_loop_dump_on_signal(loop, 100000, -1), -EINVAL);
    cr_assert_eq(corio_loop_dump_on_signal(loop, 0, -1), 0, "0: off (already)");
    corio_loop_free(loop);
}

/* ---- on a signal ---- */

static void raise_usr1(void *arg)
{
    (void)arg;
    raise(SIGUSR1);
}

static int pipe_fds[2];
static char *read_all(int fd)
{
    static char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

Test(dump_tasks, signal_dumps_at_the_next_iteration, .timeout = 10)
{
    corio_loop *loop = new_vt_loop();
    cr_assert_eq(pipe(pipe_fds), 0);
    cr_assert_eq(corio_loop_dump_on_signal(loop, SIGUSR1, pipe_fds[1]), 0);
    corio_task *t = spawn(loop, sleeper, NULL, "sig");
    corio_loop_call_soon(NULL, loop, raise_usr1, NULL);
    run_once(loop); /* the handler only counts */
    run_once(loop); /* the dump */
    const char *out = read_all(pipe_fds[0]);
    cr_assert(strstr(out, "(T) sig [waiting] awaits sleep") != NULL, "%s", out);
    finish(loop, t);
    corio_loop_free(loop);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static pthread_t loop_thread;
static double dumped_after;
static void *signal_then_read(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double t0 = now_s();
    pthread_kill(loop_thread, SIGUSR1);
    char buf[256];
    if (read(pipe_fds[0], buf, sizeof buf) > 0)
        dumped_after = now_s() - t0;
    return NULL;
}

Test(dump_tasks, signal_wakes_a_loop_waiting_for_a_timer, .timeout = 20)
{
    /* Real time: the loop sleeps 3 s in epoll_wait; the signal interrupts it and the dump is
     * written long before the timer. */
    corio_loop *loop = new_loop();
    cr_assert_eq(pipe(pipe_fds), 0);
    cr_assert_eq(corio_loop_dump_on_signal(loop, SIGUSR1, pipe_fds[1]), 0);
    corio_task *t = spawn(loop, sleeper, NULL, "zz");
    run_once(loop);
    corio_loop_call_later(NULL, loop, 3.0, stop_cb, loop);
    loop_thread = pthread_self();
    pthread_t th;
    pthread_create(&th, NULL, signal_then_read, NULL);
    cr_assert_eq(corio_loop_run_forever(loop), 0);
    pthread_join(th, NULL);
    cr_assert_gt(dumped_after, 0.0);
    cr_assert_lt(dumped_after, 2.5, "dumped %f s after the signal", dumped_after);
    finish(loop, t);
    corio_loop_free(loop);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static volatile sig_atomic_t mine;
static void my_handler(int s)
{
    (void)s;
    mine++;
}

Test(dump_tasks, previous_handler_comes_back_at_close, .timeout = 10)
{
    struct sigaction sa = {0}, now;
    sa.sa_handler = my_handler;
    sigaction(SIGUSR2, &sa, NULL);
    corio_loop *a = new_loop(), *b = new_loop();
    cr_assert_eq(corio_loop_dump_on_signal(a, SIGUSR2, -1), 0);
    cr_assert_eq(corio_loop_dump_on_signal(b, SIGUSR2, -1), 0);
    cr_assert_eq(corio_loop_close(a), 0);
    sigaction(SIGUSR2, NULL, &now);
    cr_assert_neq(now.sa_handler, my_handler, "b still listens");
    cr_assert_eq(corio_loop_free(a), 0);
    cr_assert_eq(corio_loop_dump_on_signal(b, 0, -1), 0);
    sigaction(SIGUSR2, NULL, &now);
    cr_assert_eq(now.sa_handler, my_handler);
    raise(SIGUSR2);
    cr_assert_eq(mine, 1);
    corio_loop_free(b);
}

static void *gathers_gathers(void *arg)
{
    (void)arg;
    corio_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = spawn(corio_get_running_loop(), sleeper, NULL, i == 0 ? "n0" : i == 1 ? "n1" : "n2");
    corio_future *inner_fs[2] = {corio_task_future(t[0]), corio_task_future(t[1])};
    corio_future *inner;
    cr_expect_eq(corio_gather_new(&inner, inner_fs, 2, 0), 0);
    corio_future *outer_fs[2] = {inner, corio_task_future(t[2])};
    corio_gather(outer_fs, 2, 0, NULL, NULL);
    corio_future_unref(inner);
    for (int i = 0; i < 3; i++)
        corio_task_unref(t[i]);
    return NULL;
}

Test(dump_tasks, nested_gathers_show_their_tasks, .timeout = 10)
{
    corio_loop *loop = quiet_loop();
    corio_task *m = spawn(loop, gathers_gathers, NULL, "outer");
    run_once(loop);
    run_once(loop);
    int n = 0;
    const char *out = dump(loop, &n);
    cr_assert_eq(n, 4, "%s", out);
    for (int i = 0; i < 3; i++) {
        char name[4] = {'n', (char)('0' + i), 0, 0};
        cr_assert_gt(column_of(out, name), column_of(out, "outer"), "%s", out);
        cr_assert_lt(line_of(out, "outer"), line_of(out, name), "%s", out);
    }
    cr_assert(strstr(out, "└── (T) n2") != NULL, "in argument order: %s", out);
    finish(loop, m);
    corio_loop_free(loop);
}
