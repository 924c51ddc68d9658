/* An example program run as a child process by a test that is its client over loopback with
 * blocking sockets: plain fork and exec (no loop in the test's process), the first line the
 * example prints read to learn its port, SIGTERM to stop it. */
#ifndef CORIO_TESTS_EXAMPLE_PROC_H
#define CORIO_TESTS_EXAMPLE_PROC_H

#include "under_valgrind.h"

#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts CORIO_EXAMPLES_DIR/name with args (NULL-terminated, at most 6) and reads the first line
 * it prints into line (cap bytes). Skips the test where the example is not built, and under
 * Valgrind on io_uring: Valgrind 3.19 takes 26 s to deliver SIGTERM to a process waiting in
 * io_uring_enter (its own report comes only then; SIGKILL would leave none), too slow for every
 * test; the epoll run covers the server under Valgrind, the io_uring one every other build. */
static inline pid_t example_start(const char *name, const char *const *args, char *line,
                                  size_t cap)
{
    const char *be = getenv("CORIO_BACKEND");
    if (under_valgrind() && be && strcmp(be, "io_uring") == 0)
        cr_skip_test("the server under Valgrind on io_uring: SIGTERM takes 26 s to arrive");
    char exe[512];
    snprintf(exe, sizeof exe, "%s/%s", CORIO_EXAMPLES_DIR, name);
    if (access(exe, X_OK) != 0)
        cr_skip_test("%s is not built (CORIO_BUILD_EXAMPLES=OFF)", exe);
    char *argv[8] = {exe};
    for (int i = 0; i < 6 && args[i]; i++)
        argv[i + 1] = (char *)args[i];
    int out[2];
    cr_assert_eq(pipe(out), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        execv(exe, argv);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    line[0] = 0;
    cr_assert_not_null(fgets(line, (int)cap, f), "%s printed nothing", name);
    fclose(f);
    return pid;
}

/* SIGTERM, not SIGKILL: under Valgrind (--trace-children) the example's own report must be
 * written before it goes. SIGKILL after 30 s. */
static inline void example_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 3000; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

#endif
