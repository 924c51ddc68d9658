/* create_subprocess_exec / _shell and what the child gets: CPython's test_subprocess.py cases
 * that apply (stdin to stdout, the shell, returncodes, stderr merged, /dev/null, a given fd,
 * cwd, env, sessions and groups, closed fds) and corio's own (the child's signal mask and
 * SIGPIPE action). */
#include "process_helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

static void *exit_codes(void *arg)
{
    (void)arg;
    const char *const t[] = {"true", NULL};
    const char *const f[] = {"/bin/sh", "-c", "exit 7", NULL};
    corio_process *p = spawn_ok(t, NULL), *q = spawn_ok(f, NULL);
    cr_expect_gt(corio_process_get_pid(p), 0);
    int code = -1;
    cr_expect_eq(corio_process_get_returncode(p, &code), 0);
    cr_expect_eq(corio_process_wait(p, &code), 0);
    cr_expect_eq(code, 0);
    cr_expect_eq(corio_process_wait(q, &code), 0);
    cr_expect_eq(code, 7);
    cr_expect_eq(corio_process_get_returncode(q, &code), 1);
    cr_expect_eq(code, 7);
    cr_expect_eq(corio_process_wait(q, &code), 0, "a second wait");
    cr_expect_eq(code, 7);
    pid_t pid = corio_process_get_pid(q);
    cr_expect(reaped(pid));
    cr_expect_eq(corio_process_free(p), 0);
    cr_expect_eq(corio_process_free(q), 0);
    return NULL;
}

Test(process_exec, returncodes, .timeout = 20) { run_in_loop(exit_codes, NULL); }

static void *killed(void *arg)
{
    (void)arg;
    const char *const argv[] = {"sleep", "30", NULL};
    corio_process *p = spawn_ok(argv, NULL), *q = spawn_ok(argv, NULL);
    int code;
    cr_expect_eq(corio_process_kill(p), 0);
    cr_expect_eq(corio_process_terminate(q), 0);
    cr_expect_eq(corio_process_wait(p, &code), 0);
    cr_expect_eq(code, -SIGKILL);
    cr_expect_eq(corio_process_wait(q, &code), 0);
    cr_expect_eq(code, -SIGTERM);
    cr_expect_eq(corio_process_send_signal(p, SIGTERM), -ESRCH);
    cr_expect_eq(corio_process_send_signal(p, -1), -EINVAL);
    cr_expect_eq(corio_process_free(p), 0);
    cr_expect_eq(corio_process_free(q), 0);
    return NULL;
}

Test(process_exec, killed_by_a_signal_is_minus_the_signal, .timeout = 20)
{
    run_in_loop(killed, NULL);
}

static void *cat_lines(void *arg)
{
    (void)arg;
    const char *const argv[] = {"cat", NULL};
    corio_process_opts o = {.stdin_mode = CORIO_PROCESS_PIPE, .stdout_mode = CORIO_PROCESS_PIPE};
    corio_process *p = spawn_ok(argv, &o);
    corio_writer *in = corio_process_get_stdin(p);
    corio_reader *out = corio_process_get_stdout(p);
    cr_assert(in && out);
    cr_expect_null(corio_process_get_stderr(p));
    for (int i = 0; i < 100; i++) {
        char line[32];
        int n = snprintf(line, sizeof line, "line %d\n", i);
        cr_expect_eq(corio_writer_write(in, line, (size_t)n), 0);
        cr_expect_eq(corio_writer_drain(in), 0);
        const char *got = NULL;
        cr_expect_eq(corio_reader_readline(out, &got), n);
        cr_expect(got && memcmp(got, line, (size_t)n) == 0);
    }
    cr_expect_eq(corio_writer_write_eof(in), 0);
    const char *rest = NULL;
    cr_expect_eq(corio_reader_readline(out, &rest), 0, "EOF after stdin's end");
    int code = -1;
    cr_expect_eq(corio_process_wait(p, &code), 0);
    cr_expect_eq(code, 0);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_exec, stdin_and_stdout_are_streams, .timeout = 20) { run_in_loop(cat_lines, NULL); }

static void *shell(void *arg)
{
    (void)arg;
    corio_process_opts o = {.stdout_mode = CORIO_PROCESS_PIPE,
                            .stderr_mode = CORIO_PROCESS_PIPE};
    corio_process *p;
    cr_assert_eq(corio_create_subprocess_shell(&p, NULL, "echo out; echo err >&2; exit 3", &o), 0);
    char *out = NULL, *err = NULL;
    size_t olen = 0, elen = 0;
    int code = -1;
    cr_expect_eq(corio_process_communicate(p, NULL, 0, &out, &olen, &err, &elen, &code), 0);
    cr_expect_str_eq(out, "out\n");
    cr_expect_eq(olen, 4);
    cr_expect_str_eq(err, "err\n");
    cr_expect_eq(elen, 4);
    cr_expect_eq(code, 3);
    free(out);
    free(err);
    cr_expect_eq(corio_process_free(p), 0);

    o.stderr_mode = CORIO_PROCESS_STDOUT;
    cr_assert_eq(corio_create_subprocess_shell(&p, NULL, "echo out; echo err >&2", &o), 0);
    cr_expect_null(corio_process_get_stderr(p));
    cr_expect_eq(run_capture(p, &out), 0);
    cr_expect_str_eq(out, "out\nerr\n");
    free(out);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_exec, shell_stdout_stderr_and_stderr_merged, .timeout = 20)
{
    run_in_loop(shell, NULL);
}

static void *devnull_and_fd(void *arg)
{
    (void)arg;
    /* stdin from /dev/null: cat ends at once, with nothing. */
    const char *const cat[] = {"cat", NULL};
    corio_process_opts o = {.stdin_mode = CORIO_PROCESS_DEVNULL,
                            .stdout_mode = CORIO_PROCESS_PIPE};
    corio_process *p = spawn_ok(cat, &o);
    char *out = NULL;
    cr_expect_eq(run_capture(p, &out), 0);
    cr_expect_str_eq(out, "");
    free(out);
    cr_expect_eq(corio_process_free(p), 0);
    /* stdout to a file the caller gives; the fd stays the caller's. */
    char path[] = "/tmp/corio_proc_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *const echo[] = {"echo", "to a file", NULL};
    corio_process_opts f = {.stdout_mode = CORIO_PROCESS_FD, .stdout_fd = fd,
                            .stderr_mode = CORIO_PROCESS_DEVNULL};
    p = spawn_ok(echo, &f);
    int code = -1;
    cr_expect_eq(corio_process_wait(p, &code), 0);
    cr_expect_eq(code, 0);
    cr_expect_eq(corio_process_free(p), 0);
    char buf[64] = "";
    cr_expect_eq(pread(fd, buf, sizeof buf - 1, 0), 10, "the fd is still open and has the line");
    cr_expect_str_eq(buf, "to a file\n");
    close(fd);
    unlink(path);
    return NULL;
}

Test(process_exec, devnull_and_a_given_fd, .timeout = 20) { run_in_loop(devnull_and_fd, NULL); }

static void *cwd_env(void *arg)
{
    (void)arg;
    const char *const pwd[] = {"pwd", NULL};
    corio_process_opts o = {.stdout_mode = CORIO_PROCESS_PIPE, .cwd = "/usr"};
    corio_process *p = spawn_ok(pwd, &o);
    char *out = NULL;
    cr_expect_eq(run_capture(p, &out), 0);
    cr_expect_str_eq(out, "/usr\n");
    free(out);
    cr_expect_eq(corio_process_free(p), 0);

    const char *const env[] = {"CORIO_A=one", "CORIO_B=two", NULL};
    const char *const sh[] = {"/bin/sh", "-c", "echo $CORIO_A $CORIO_B ${HOME:-nohome}", NULL};
    corio_process_opts e = {.stdout_mode = CORIO_PROCESS_PIPE, .env = env};
    p = spawn_ok(sh, &e);
    cr_expect_eq(run_capture(p, &out), 0);
    cr_expect_str_eq(out, "one two nohome\n");
    free(out);
    cr_expect_eq(corio_process_free(p), 0);

    corio_process_opts bad = {.cwd = "/nonexistent/corio"};
    p = SENTINEL;
    cr_expect_eq(corio_create_subprocess_exec(&p, NULL, pwd, &bad), -ENOENT);
    cr_expect_null(p);
    return NULL;
}

Test(process_exec, cwd_and_environment, .timeout = 20) { run_in_loop(cwd_env, NULL); }

/* The child's pid, process group and session, from /proc/self/stat as the shell sees it. */
static void stat_of_child(const corio_process_opts *base, long v[3])
{
    const char *const sh[] = {"/bin/sh", "-c",
                              "read -r pid comm state ppid pgrp sid rest < /proc/self/stat; "
                              "echo $pid $pgrp $sid",
                              NULL};
    corio_process_opts o = *base;
    o.stdout_mode = CORIO_PROCESS_PIPE;
    corio_process *p = spawn_ok(sh, &o);
    char *out = NULL;
    cr_expect_eq(run_capture(p, &out), 0);
    cr_expect_eq(sscanf(out, "%ld %ld %ld", &v[0], &v[1], &v[2]), 3, "got %s", out);
    free(out);
    cr_expect_eq(corio_process_free(p), 0);
}

static void *session_group(void *arg)
{
    (void)arg;
    long v[3];
    stat_of_child(&(corio_process_opts){0}, v);
    cr_expect_eq(v[1], getpgrp());
    cr_expect_eq(v[2], getsid(0));
    stat_of_child(&(corio_process_opts){.process_group = CORIO_PROCESS_NEW_GROUP}, v);
    cr_expect_eq(v[1], v[0], "a group of its own");
    cr_expect_eq(v[2], getsid(0));
    stat_of_child(&(corio_process_opts){.new_session = 1}, v);
    cr_expect_eq(v[1], v[0]);
    cr_expect_eq(v[2], v[0], "a session of its own");
    return NULL;
}

Test(process_exec, new_session_and_process_group, .timeout = 20)
{
    run_in_loop(session_group, NULL);
}

static void *fds_and_signals(void *arg)
{
    (void)arg;
    int fd = open("/dev/null", O_RDONLY); /* inheritable: no O_CLOEXEC */
    cr_assert_geq(fd, 3);
    char cmd[160];
    snprintf(cmd, sizeof cmd,
             "test -e /proc/self/fd/%d && echo open || echo closed; "
             "grep SigBlk /proc/self/status",
             fd);
    const char *const sh[] = {"/bin/sh", "-c", cmd, NULL};
    corio_process *p = spawn_ok(sh, PIPE_OUT);
    char *out = NULL;
    cr_expect_eq(run_capture(p, &out), 0);
    cr_expect_str_eq(out, "closed\nSigBlk:\t0000000000000000\n");
    free(out);
    cr_expect_eq(corio_process_free(p), 0);
    corio_process_opts keep = {.stdout_mode = CORIO_PROCESS_PIPE, .keep_fds = 1};
    p = spawn_ok(sh, &keep);
    cr_expect_eq(run_capture(p, &out), 0);
    cr_expect(strncmp(out, "open\n", 5) == 0, "got %s", out);
    free(out);
    cr_expect_eq(corio_process_free(p), 0);
    close(fd);

    /* SIGPIPE is back at its default in the child (the loop ignores it, and an ignored signal
     * survives exec): a writer into a closed pipe dies of it (status 141 in the shell) instead
     * of failing with EPIPE (status 1). */
    const char *const sh2[] = {"/bin/sh", "-c", "(yes; echo $? >&2) | head -c 1 >/dev/null",
                               NULL};
    corio_process_opts err = {.stderr_mode = CORIO_PROCESS_PIPE};
    p = spawn_ok(sh2, &err);
    char *e = NULL;
    int code = -1;
    cr_expect_eq(corio_process_communicate(p, NULL, 0, NULL, NULL, &e, NULL, &code), 0);
    cr_expect_str_eq(e, "141\n");
    cr_expect_eq(code, 0);
    free(e);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_exec, inherited_fds_closed_empty_mask_default_sigpipe, .timeout = 20)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* not for the child */
    run_in_loop(fds_and_signals, NULL);
}

/* A name without a slash is searched in the child's PATH when an environment is given. */
static void *path_search(void *arg)
{
    (void)arg;
    char dir[] = "/tmp/corio_path_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char prog[64], env_path[80];
    snprintf(prog, sizeof prog, "%s/corio-hello", dir);
    FILE *f = fopen(prog, "w");
    cr_assert_not_null(f);
    fputs("#!/bin/sh\necho hello from PATH\n", f);
    fclose(f);
    cr_assert_eq(chmod(prog, 0755), 0);
    snprintf(env_path, sizeof env_path, "PATH=/nonexistent:%s", dir);
    const char *const env[] = {env_path, NULL};
    const char *const argv[] = {"corio-hello", NULL};
    corio_process_opts o = {.stdout_mode = CORIO_PROCESS_PIPE, .env = env};
    corio_process *p = spawn_ok(argv, &o);
    char *out = NULL;
    cr_expect_eq(run_capture(p, &out), 0);
    cr_expect_str_eq(out, "hello from PATH\n");
    free(out);
    cr_expect_eq(corio_process_free(p), 0);
    p = SENTINEL;
    cr_expect_eq(corio_create_subprocess_exec(&p, NULL, argv, NULL), -ENOENT,
                 "found outside the parent's PATH");
    /* A directory of the program's name is not run. */
    const char *const d[] = {dir, NULL};
    cr_expect_eq(corio_create_subprocess_exec(&p, NULL, d, NULL), -EACCES);
    unlink(prog);
    rmdir(dir);
    return NULL;
}

Test(process_exec, the_childs_path_is_searched, .timeout = 20) { run_in_loop(path_search, NULL); }
