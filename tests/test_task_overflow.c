/* A task that overflows its stack ends the program with a message naming the task (by its name,
 * or its default "Task-N"), for tasks with their own stack and for compact tasks. */
#include "core_helpers.h"
#include "in_child.h"

#include <signal.h>

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
    corio_task *t;
    cr_expect_eq(corio_create_task(&t, NULL, runaway_task, NULL, &child_opts), 0);
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    return NULL;
}

static void run_spawner(void)
{
    corio_run(spawn_runaway, NULL, NULL, NULL);
}

static void expect_report(const char *name)
{
    SKIP_UNDER_VALGRIND("a guard-page fault");
    char out[1024], want[128];
    int status;
    in_child(run_spawner, out, sizeof out, &status);
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
