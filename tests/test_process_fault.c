/* Spawning when resources run out: each allocation failing in turn (ENOMEM), the fd limit
 * reached while the pipes are made (EMFILE), and the process limit (EAGAIN). Each must give a
 * clear error from the create call or a clean run, and leave no fd and no child behind. */
#include "fault_helpers.h"
#include "in_child.h"
#include "process_helpers.h"

#include <pwd.h>
#include <sys/resource.h>

static void *echo_main(void *arg)
{
    (void)arg;
    const char *const cat[] = {"cat", NULL};
    corio_process_opts o = {.stdin_mode = CORIO_PROCESS_PIPE, .stdout_mode = CORIO_PROCESS_PIPE,
                            .stderr_mode = CORIO_PROCESS_PIPE};
    corio_process *p;
    int rc = corio_create_subprocess_exec(&p, NULL, cat, &o);
    if (rc < 0)
        return corio_raise(rc);
    char *out = NULL;
    int code = -1;
    rc = corio_process_communicate(p, "hello", 5, &out, NULL, NULL, NULL, &code);
    if (rc == 0 && (code != 0 || strcmp(out, "hello") != 0))
        rc = -EPROTO;
    free(out);
    if (rc < 0) {
        corio_process_kill(p);
        corio_process_wait(p, NULL);
    }
    corio_process_free(p);
    return rc < 0 ? corio_raise(rc) : NULL;
}

static int base_fds;

static int echo_scenario(void)
{
    corio_loop *loop;
    int rc = corio_loop_new(&loop, &(corio_loop_opts){.debug = -1, .virtual_time = -1,
                                                      .backend = process_test_backend()});
    if (rc < 0)
        return rc;
    corio_task *t;
    rc = corio_create_task(&t, loop, echo_main, NULL, NULL);
    if (rc == 0) {
        rc = corio_loop_run_until_complete(loop, corio_task_future(t), NULL);
        corio_task_unref(t);
    }
    corio_loop_set_error_handler(loop, capture_handler, NULL); /* a child killed at close */
    corio_loop_free(loop);
    cr_assert_eq(open_fds(), base_fds, "fds left behind");
    cr_assert(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "a child left behind");
    return rc;
}

Test(process_fault, each_allocation_failing_in_turn, .timeout = 120)
{
    base_fds = open_fds();
    fault_sweep_report("spawn + communicate", echo_scenario, 5);
}

static void *spawn_at_limit(void *arg)
{
    int *results = arg;
    warm_up();
    int fds = open_fds();
    struct rlimit saved;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
    /* Room for 0, 1, ... 7 more fds: three socket pairs and a pidfd need 7. */
    for (int k = 0; k <= 7; k++) {
        struct rlimit lim = {(rlim_t)(fds + 3 + k), saved.rlim_max}; /* 3: 0, 1, 2 counted */
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
        const char *const cat[] = {"cat", NULL};
        corio_process_opts o = {.stdin_mode = CORIO_PROCESS_PIPE,
                                .stdout_mode = CORIO_PROCESS_PIPE,
                                .stderr_mode = CORIO_PROCESS_PIPE};
        corio_process *p = SENTINEL;
        int rc = corio_create_subprocess_exec(&p, NULL, cat, &o);
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
        results[k] = rc;
        cr_expect(rc == 0 || rc == -EMFILE, "room for %d fds: %s", k, corio_strerror(rc));
        if (rc == 0) {
            char *out = NULL;
            cr_expect_eq(corio_process_communicate(p, "x", 1, &out, NULL, NULL, NULL, NULL), 0);
            cr_expect_str_eq(out, "x");
            free(out);
            cr_expect_eq(corio_process_free(p), 0);
        } else {
            cr_expect_null(p);
        }
        cr_expect_eq(open_fds(), fds, "room for %d fds: fds left behind", k);
        cr_expect(waitpid(-1, NULL, WNOHANG) < 0, "room for %d fds: a child left behind", k);
    }
    return NULL;
}

Test(process_fault, the_fd_limit_reached_while_making_pipes, .timeout = 30)
{
    if (under_valgrind())
        cr_skip_test("Valgrind keeps fds of its own under RLIMIT_NOFILE");
    int results[8];
    run_in_loop(spawn_at_limit, results);
    cr_expect_eq(results[0], -EMFILE);
    cr_expect_eq(results[7], 0, "7 free fds were not enough");
}

/* The process limit: as an unprivileged user (root is not held to RLIMIT_NPROC) with a limit
 * already reached. In a child process, which gives up root. */
static void *spawn_over_nproc(void *arg)
{
    (void)arg;
    const char *const t[] = {"true", NULL};
    corio_process *p = SENTINEL;
    int rc = corio_create_subprocess_exec(&p, NULL, t, NULL);
    return IV(rc == -EAGAIN && p == NULL ? 0 : 1);
}

static void nproc_child(void)
{
    struct passwd *pw = getpwnam("nobody");
    if (!pw || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        _exit(77);
    struct rlimit lim = {0, 0};
    if (setrlimit(RLIMIT_NPROC, &lim) != 0)
        _exit(78);
    void *res = NULL;
    int rc = corio_run(spawn_over_nproc, NULL, &res, NULL);
    _exit(rc == 0 ? VI(res) : 2);
}

Test(process_fault, the_process_limit_is_eagain, .timeout = 20)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to become another user with a process limit");
    int status;
    char out[1024];
    in_child(nproc_child, out, sizeof out, &status);
    cr_assert(WIFEXITED(status), "child: status %#x: %s", status, out);
    if (WEXITSTATUS(status) == 77)
        cr_skip_test("cannot become user nobody here");
    cr_expect_eq(WEXITSTATUS(status), 0, "child exit %d: %s", WEXITSTATUS(status), out);
}
