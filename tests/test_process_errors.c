/* Bad input and failed execs: each a clear error at the create call (never a child exiting 127),
 * with nothing left behind (no fd, no child). */
#include "process_helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

static int before;

static void expect_create(int want, const char *const *argv, const corio_process_opts *o)
{
    corio_process *p = SENTINEL;
    int rc = corio_create_subprocess_exec(&p, NULL, argv, o);
    cr_expect_eq(rc, want, "%s: got %s, want %s", argv ? argv[0] : "(null)", corio_err_name(rc),
                 corio_err_name(want));
    cr_expect_null(p);
}

static void *exec_failures(void *arg)
{
    (void)arg;
    warm_up();
    before = open_fds();

    const char *const missing[] = {"corio-no-such-program", NULL};
    expect_create(-ENOENT, missing, NULL);
    const char *const missing_path[] = {"/nonexistent/dir/prog", NULL};
    expect_create(-ENOENT, missing_path, NULL);
    char path[] = "/tmp/corio_noexec_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
    close(fd);
    cr_assert_eq(chmod(path, 0644), 0);
    const char *const noexec[] = {path, NULL};
    /* root may read anything but still cannot run a file without an execute bit */
    expect_create(-EACCES, noexec, NULL);
    /* With pipes asked for, a failed exec leaves none of them open. */
    corio_process_opts pipes = {.stdin_mode = CORIO_PROCESS_PIPE,
                                .stdout_mode = CORIO_PROCESS_PIPE,
                                .stderr_mode = CORIO_PROCESS_PIPE};
    expect_create(-ENOENT, missing, &pipes);
    unlink(path);
    cr_expect_eq(open_fds(), before, "fds leaked by failed execs");
    cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was left behind");
    return NULL;
}

Test(process_errors, a_failed_exec_is_the_create_calls_error, .timeout = 20)
{
    run_in_loop(exec_failures, NULL);
}

static void *bad_input(void *arg)
{
    (void)arg;
    warm_up();
    before = open_fds();
    const char *const empty[] = {NULL};
    const char *const blank[] = {"", NULL};
    const char *const t[] = {"true", NULL};
    expect_create(-EINVAL, NULL, NULL);
    expect_create(-EINVAL, empty, NULL);
    expect_create(-EINVAL, blank, NULL);
    expect_create(-EINVAL, t, &(corio_process_opts){.stdin_mode = CORIO_PROCESS_STDOUT});
    expect_create(-EINVAL, t, &(corio_process_opts){.stdout_mode = CORIO_PROCESS_STDOUT});
    expect_create(-EINVAL, t, &(corio_process_opts){.stderr_mode = (corio_process_stdio)99});
    expect_create(-EINVAL, t, &(corio_process_opts){.process_group = -2});
    corio_stream_opts nan_opts = {.idle_timeout = NAN};
    expect_create(-EINVAL, t, &(corio_process_opts){.stream = &nan_opts});
    /* An fd that is not open. */
    int fd = open("/dev/null", O_RDONLY);
    close(fd);
    expect_create(-EBADF, t, &(corio_process_opts){.stdout_mode = CORIO_PROCESS_FD,
                                                  .stdout_fd = fd});
    expect_create(-EBADF, t, &(corio_process_opts){.stdin_mode = CORIO_PROCESS_FD,
                                                  .stdin_fd = -1});
    corio_process *p = SENTINEL;
    cr_expect_eq(corio_create_subprocess_shell(&p, NULL, NULL, NULL), -EINVAL);
    cr_expect_null(p);
    cr_expect_eq(corio_create_subprocess_exec(NULL, NULL, t, NULL), -EINVAL);
    cr_expect_eq(open_fds(), before, "fds leaked by refused calls");
    cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was left behind");
    /* Calls on a process that need a task, or a pipe it does not have. */
    p = spawn_ok(t, NULL);
    cr_expect_eq(corio_process_communicate(p, "x", 1, NULL, NULL, NULL, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_process_communicate(p, NULL, 1, NULL, NULL, NULL, NULL, NULL), -EINVAL);
    cr_expect_eq(corio_process_wait(p, NULL), 0);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_errors, bad_input_is_refused_with_nothing_left, .timeout = 20)
{
    run_in_loop(bad_input, NULL);
}

Test(process_errors, outside_a_task_and_without_a_loop, .timeout = 20)
{
    const char *const t[] = {"true", NULL};
    corio_process *p = SENTINEL;
    cr_expect_eq(corio_create_subprocess_exec(&p, NULL, t, NULL), CORIO_ENOLOOP);
    cr_expect_null(p);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_create_subprocess_exec(&p, loop, t, NULL), 0);
    cr_expect_eq(corio_process_wait(p, NULL), CORIO_ENOTASK);
    cr_expect_eq(corio_process_communicate(p, NULL, 0, NULL, NULL, NULL, NULL, NULL),
                 CORIO_ENOTASK);
    cr_expect_eq(corio_loop_close(loop), 0); /* reaps it, or kills and reaps it */
    cr_expect_eq(corio_process_get_returncode(p, NULL), 1);
    cr_expect_eq(corio_process_free(p), 0);
    cr_expect_eq(corio_create_subprocess_exec(&p, loop, t, NULL), CORIO_ECLOSED);
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was left behind");
}

/* Closed pipes: a child that closes its stdout gives EOF at once; writing to the stdin of a child
 * that has exited is -EPIPE (never SIGPIPE); communicate after the caller closed stdin itself
 * feeds nothing and still collects the output. */
static void *closed_pipes(void *arg)
{
    (void)arg;
    const char *const shut[] = {"/bin/sh", "-c", "exec >&-; sleep 0.2", NULL};
    corio_process *p = spawn_ok(shut, PIPE_OUT);
    char buf[16];
    cr_expect_eq(corio_reader_read(corio_process_get_stdout(p), buf, sizeof buf), 0);
    int code = -1;
    cr_expect_eq(corio_process_wait(p, &code), 0);
    cr_expect_eq(code, 0);
    cr_expect_eq(corio_process_free(p), 0);

    const char *const t[] = {"true", NULL};
    corio_process_opts in = {.stdin_mode = CORIO_PROCESS_PIPE};
    p = spawn_ok(t, &in);
    cr_expect_eq(corio_process_wait(p, NULL), 0);
    corio_writer *w = corio_process_get_stdin(p);
    static char big[1 << 20];
    int rc = corio_writer_write(w, big, sizeof big);
    if (rc == 0)
        rc = corio_writer_drain(w);
    cr_expect(rc == -EPIPE || rc == -ECONNRESET, "write to an exited child: %s",
              corio_strerror(rc));
    cr_expect_eq(corio_process_free(p), 0);

    const char *const echo[] = {"/bin/sh", "-c", "cat; echo done", NULL};
    corio_process_opts both = {.stdin_mode = CORIO_PROCESS_PIPE,
                               .stdout_mode = CORIO_PROCESS_PIPE};
    p = spawn_ok(echo, &both);
    cr_expect_eq(corio_writer_write(corio_process_get_stdin(p), "x\n", 2), 0);
    cr_expect_eq(corio_writer_close(corio_process_get_stdin(p)), 0);
    char *out = NULL;
    cr_expect_eq(corio_process_communicate(p, NULL, 0, &out, NULL, NULL, NULL, &code), 0);
    cr_expect_str_eq(out, "x\ndone\n");
    cr_expect_eq(code, 0);
    free(out);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_errors, closed_pipes, .timeout = 20) { run_in_loop(closed_pipes, NULL); }
