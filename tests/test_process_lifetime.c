/* A process's life: a cancelled wait leaves the child running (asyncio's rule); a child that
 * ignores SIGTERM is still killed by SIGKILL; freeing a running child's object leaves it running
 * and it is reaped when it exits; the loop's close reports, kills and reaps what still runs;
 * several waiters; SIGCHLD beside a user's own SIGCHLD handler. */
#include "process_helpers.h"
#include "signal_helpers.h"

static void *cancelled_wait(void *arg)
{
    (void)arg;
    const char *const argv[] = {"sleep", "30", NULL};
    corio_process *p = spawn_ok(argv, NULL);
    corio_timeout *tm;
    cr_assert_eq(corio_timeout_enter(&tm, 0.1), 0);
    int code = 1234;
    int rc = corio_timeout_exit(tm, corio_process_wait(p, &code));
    cr_expect_eq(rc, -ETIMEDOUT);
    cr_expect_eq(code, 0);
    cr_expect_eq(corio_process_get_returncode(p, NULL), 0, "still running");
    cr_expect_eq(kill(corio_process_get_pid(p), 0), 0);
    cr_expect_eq(corio_process_kill(p), 0);
    cr_expect_eq(corio_process_wait(p, &code), 0);
    cr_expect_eq(code, -SIGKILL);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_lifetime, a_cancelled_wait_leaves_the_child_running, .timeout = 20)
{
    run_in_loop(cancelled_wait, NULL);
}

static void *ignores_term(void *arg)
{
    (void)arg;
    const char *const sh[] = {"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 30", NULL};
    corio_process *p = spawn_ok(sh, PIPE_OUT);
    const char *line = NULL;
    cr_expect_eq(corio_reader_readline(corio_process_get_stdout(p), &line), 6);
    cr_expect_eq(corio_process_terminate(p), 0);
    cr_expect_eq(corio_sleep(0.2), 0);
    cr_expect_eq(corio_process_get_returncode(p, NULL), 0, "SIGTERM was ignored");
    cr_expect_eq(corio_process_kill(p), 0);
    int code = 0;
    cr_expect_eq(corio_process_wait(p, &code), 0);
    cr_expect_eq(code, -SIGKILL);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_lifetime, a_child_that_ignores_sigterm, .timeout = 20)
{
    run_in_loop(ignores_term, NULL);
}

static void *free_running(void *arg)
{
    pid_t *pid = arg;
    const char *const argv[] = {"sleep", "0.2", NULL};
    corio_process *p = spawn_ok(argv, NULL);
    *pid = corio_process_get_pid(p);
    cr_expect_eq(corio_process_free(p), 0);
    cr_expect_eq(kill(*pid, 0), 0, "freeing the object killed the child");
    for (int i = 0; i < 100 && !reaped(*pid); i++)
        cr_expect_eq(corio_sleep(0.05), 0);
    return NULL;
}

Test(process_lifetime, a_freed_running_child_is_reaped_when_it_exits, .timeout = 20)
{
    pid_t pid = 0;
    run_in_loop(free_running, &pid);
    cr_expect(reaped(pid), "a zombie was left");
}

static corio_process *kept;

static void *leave_running(void *arg)
{
    pid_t *pid = arg;
    const char *const argv[] = {"sleep", "30", NULL};
    corio_process *p = kept = spawn_ok(argv, NULL);
    pid[0] = corio_process_get_pid(p);
    p = spawn_ok(argv, NULL);
    pid[1] = corio_process_get_pid(p);
    cr_expect_eq(corio_process_free(p), 0); /* freed and running: the close still kills it */
    return NULL;
}

Test(process_lifetime, close_reports_kills_and_reaps_running_children, .timeout = 20)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    pid_t pid[2];
    cr_assert_eq(run_main(loop, leave_running, pid, NULL), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_expect(reaped(pid[0]) && reaped(pid[1]), "a child was left behind");
    int code = 0;
    cr_expect_eq(corio_process_get_returncode(kept, &code), 1);
    cr_expect_eq(code, -SIGKILL);
    cr_expect_eq(corio_process_free(kept), 0); /* still the owner's after the close */
    cr_expect_eq(cap.n, 2);
    char want[96];
    snprintf(want, sizeof want, "process %d still running when its loop closed: killed",
             (int)pid[0]);
    cr_expect(strstr(cap.message[0], want) || strstr(cap.message[1], want), "got: %s / %s",
              cap.message[0], cap.message[1]);
}

static void *two_waiters_main(void *arg)
{
    corio_process *p = arg;
    int code = -1;
    cr_expect_eq(corio_process_wait(p, &code), 0);
    return IV(code);
}

static void *two_waiters(void *arg)
{
    (void)arg;
    const char *const sh[] = {"/bin/sh", "-c", "sleep 0.1; exit 5", NULL};
    corio_process *p = spawn_ok(sh, NULL);
    corio_task *t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(corio_create_task(&t[i], NULL, two_waiters_main, p, NULL), 0);
    cr_expect_eq(corio_sleep(0.01), 0);
    cr_expect_eq(corio_process_free(p), -EBUSY);
    for (int i = 0; i < 2; i++) {
        void *res = NULL;
        cr_expect_eq(corio_await(corio_task_future(t[i]), &res), 0);
        cr_expect_eq(VI(res), 5);
        corio_task_unref(t[i]);
    }
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_lifetime, several_tasks_wait_for_one_child, .timeout = 20)
{
    run_in_loop(two_waiters, NULL);
}

/* A user's SIGCHLD handler runs, and corio's processes still learn of their exits (with pidfds
 * or without). */
static int sigchld_calls;
static void on_sigchld(int signo, void *arg)
{
    (void)signo;
    (void)arg;
    sigchld_calls++;
}

static void *with_user_sigchld(void *arg)
{
    (void)arg;
    cr_assert_eq(corio_loop_add_signal_handler(NULL, SIGCHLD, on_sigchld, NULL), 0);
    const char *const t[] = {"true", NULL};
    for (int i = 0; i < 5; i++) {
        corio_process *p = spawn_ok(t, NULL);
        int code = -1;
        cr_expect_eq(corio_process_wait(p, &code), 0);
        cr_expect_eq(code, 0);
        cr_expect_eq(corio_process_free(p), 0);
    }
    for (int i = 0; i < 100 && !sigchld_calls; i++)
        corio_sleep(0.01);
    cr_expect_gt(sigchld_calls, 0);
    cr_expect_eq(corio_loop_remove_signal_handler(NULL, SIGCHLD), 1);
    return NULL;
}

Test(process_lifetime, a_user_sigchld_handler_works_beside_processes, .timeout = 20)
{
    run_in_loop(with_user_sigchld, NULL);
    cr_expect_eq(action_of(SIGCHLD), SIG_DFL);
}

/* A child's pidfd is closed when it exits; the next fd to get its number (here the pipe of the
 * next child) must be waited on as a new one. On epoll a plain close left the number's
 * registration behind and the read below never woke (found by stress_process). */
static void *fd_number_reused(void *arg)
{
    (void)arg;
    const char *const t[] = {"true", NULL};
    const char *const sh[] = {"/bin/sh", "-c", "sleep 0.1; echo hi", NULL};
    for (int i = 0; i < 3; i++) {
        corio_process *a = spawn_ok(t, NULL);
        cr_expect_eq(corio_process_wait(a, NULL), 0);
        cr_expect_eq(corio_process_free(a), 0);
        corio_process *b = spawn_ok(sh, PIPE_OUT);
        corio_timeout *tm;
        cr_assert_eq(corio_timeout_enter(&tm, 5.0), 0);
        const char *line = NULL;
        ssize_t n = corio_reader_readline(corio_process_get_stdout(b), &line);
        cr_expect_eq(corio_timeout_exit(tm, (int)n), 3, "round %d: %s", i, corio_strerror((int)n));
        cr_expect_eq(corio_process_wait(b, NULL), 0);
        cr_expect_eq(corio_process_free(b), 0);
    }
    return NULL;
}

Test(process_lifetime, an_fd_number_reused_after_a_childs_exit, .timeout = 30)
{
    run_in_loop(fd_number_reused, NULL);
}
