/* Runs a function in a child process and collects what it wrote to stderr and how it ended: for
 * tests of behaviour that ends the process (a stack overflow aborts). */
#ifndef CORIO_TESTS_IN_CHILD_H
#define CORIO_TESTS_IN_CHILD_H

#include <criterion/criterion.h>
#include <sys/wait.h>
#include <unistd.h>

static void in_child(void (*fn)(void), char *out, size_t cap, int *status)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fds[0], out + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    cr_assert_eq(waitpid(pid, status, 0), pid);
}

#endif
