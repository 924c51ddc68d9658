/* A task that overflows its stack ends the program with a message naming the task (by its name,
 * or its default "Task-N"), for tasks with their own stack and for compact tasks. */
#include "core_helpers.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static long runaway(long depth)
{
    volatile char buf[512];
    buf[0] = (char)depth;
    return runaway(depth + 1) + buf[0];
}

static void *runaway_task(void *arg)
{
    (void)arg;
    return IV(runaway(0));
}

static corio_task_opts child_opts;

static void *spawn_runaway(void *arg)
{
    (void)arg;
    corio_task *t = corio_create_task(runaway_task, NULL, &child_opts);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    return NULL;
}

/* Runs the program in a child; returns its stderr and how it ended. */
static void run_child(char *out, size_t cap, int *status)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        corio_run(spawn_runaway, NULL, NULL);
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

static void expect_report(const char *name)
{
    char out[1024], want[128];
    int status;
    run_child(out, sizeof out, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              out);
    snprintf(want, sizeof want, "corio: stack overflow in task '%s'", name);
    cr_assert(strstr(out, want) != NULL, "stderr: %s", out);
}

Test(task_overflow, named_task_is_named, .timeout = 20)
{
    child_opts = (corio_task_opts){.name = "runaway", .stack_size = 32 * 1024};
    expect_report("runaway");
}

Test(task_overflow, unnamed_task_gets_its_default_name, .timeout = 20)
{
    child_opts = (corio_task_opts){.stack_size = 32 * 1024};
    expect_report("Task-2"); /* Task-1 is corio_run's main task, named "main" */
}

Test(task_overflow, compact_task_is_named, .timeout = 20)
{
    child_opts = (corio_task_opts){.name = "compact-runaway", .flags = CORIO_TASK_COMPACT};
    expect_report("compact-runaway");
}
