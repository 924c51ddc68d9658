/* Helpers shared by the process tests: running a coroutine on a fresh loop, counting this
 * process's open fds (nothing may leak), and checking that a pid is no zombie of ours. */
#ifndef CORIO_TESTS_PROCESS_HELPERS_H
#define CORIO_TESTS_PROCESS_HELPERS_H

#include "core_helpers.h"
#include "under_valgrind.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static inline int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the DIR's own */
}

/* 1 if pid is no child of ours any more (reaped, never a zombie left behind). */
static inline int reaped(pid_t pid)
{
    return waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* Valgrind 3.19 has no pidfd_open (corio falls back to SIGCHLD there) and delivers a signal to
 * a thread waiting in io_uring_enter some 30 s late: under Valgrind the process tests run on
 * epoll, their io_uring variants skip (every other build runs them), and a test on the default
 * backend uses epoll. NULL: the environment's backend. */
static inline const char *process_test_backend(void)
{
    if (!under_valgrind())
        return NULL;
    const char *be = getenv("CORIO_BACKEND");
    if (be && strcmp(be, "io_uring") == 0)
        cr_skip_test("under Valgrind on io_uring: a child's SIGCHLD takes 30 s to arrive");
    return "epoll";
}

/* Runs fn(arg) as the main task of a new loop (debug and virtual time off), frees the loop, and
 * returns the task's result. */
static inline void *run_in_loop(corio_coro_fn fn, void *arg)
{
    host_children_env();
    corio_loop *loop = NULL;
    corio_loop_opts opts = {.debug = -1, .virtual_time = -1, .backend = process_test_backend()};
    cr_assert_eq(corio_loop_new(&loop, &opts), 0);
    void *res = NULL;
    int rc = run_main(loop, fn, arg, &res);
    cr_assert_eq(rc, 0, "main task: %s", corio_strerror(rc));
    cr_assert_eq(corio_loop_free(loop), 0);
    return res;
}

/* Spawns argv with opts (NULL: the defaults) and expects success. */
static inline corio_process *spawn_ok(const char *const *argv, const corio_process_opts *opts)
{
    host_children_env();
    corio_process *p = SENTINEL;
    int rc = corio_create_subprocess_exec(&p, NULL, argv, opts);
    cr_expect_eq(rc, 0, "spawn %s: %s", argv[0], corio_strerror(rc));
    return rc == 0 ? p : NULL;
}

/* communicate with no input, stdout kept; returns the returncode, *out the output. */
static inline int run_capture(corio_process *p, char **out)
{
    int code = -1000;
    int rc = corio_process_communicate(p, NULL, 0, out, NULL, NULL, NULL, &code);
    cr_expect_eq(rc, 0, "communicate: %s", corio_strerror(rc));
    return code;
}

/* Spawns and reaps one child, so that the loop's own lasting fds (its signal pipe where SIGCHLD
 * is used) exist before a test counts fds. */
static inline void warm_up(void)
{
    const char *const t[] = {"true", NULL};
    corio_process *p = spawn_ok(t, NULL);
    cr_expect_eq(corio_process_wait(p, NULL), 0);
    cr_expect_eq(corio_process_free(p), 0);
}

#define PIPE_OUT (&(corio_process_opts){.stdout_mode = CORIO_PROCESS_PIPE})

#endif
