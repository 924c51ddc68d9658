/* Stack overflow: a fiber recursing past its guard page is stopped with a message naming it;
 * deep recursion that fits works; faults that are not guard hits keep their old behaviour. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx/fiber.h"
#include "in_child.h"
#include "under_valgrind.h"

TestSuite(stack_overflow, .timeout = 10);

static corio__stack_pool *pool;
static corio__fiber home, task;
static corio__stack *task_stack;

static const char *describe_deep(corio__fiber *self)
{
    (void)self;
    return "deep-one";
}

/* Each level keeps ~1 KiB live on the stack; the volatile buffer and the use of the result after
 * the call stop the compiler from turning the recursion into a loop. */
__attribute__((noinline)) static long recurse(long depth)
{
    volatile char buf[1000];
    buf[0] = (char)depth;
    buf[sizeof buf - 1] = (char)depth;
    if (depth == 0)
        return buf[0];
    return recurse(depth - 1) + buf[sizeof buf - 1];
}

static long result;

static void deep_main(void *arg)
{
    result = recurse((long)(intptr_t)arg);
    corio__fiber_exit(&task, &home);
}

static void run_task(size_t stack_size, long depth)
{
    cr_assert_eq(corio__overflow_handler_install(), 0);
    cr_assert_eq(corio__stack_pool_init(&pool, stack_size), 0);
    corio__fiber_init_home(&home);
    cr_assert_eq(corio__stack_get(pool, 0, &task_stack), 0);
    task_stack->describe = describe_deep;
    corio__fiber_init(&task, task_stack, deep_main, (void *)(intptr_t)depth);
    corio__fiber_switch(&home, &task);
}

Test(stack_overflow, deep_recursion_that_fits)
{
    run_task(1 << 20, 200); /* ~200 KiB of a 1 MiB stack */
    cr_assert_eq(result, recurse(200)); /* the same on the thread's own stack */
    corio__stack_put(pool, task_stack);
    corio__stack_pool_destroy(pool);
}

static void overflow_16k(void)
{
    run_task(16 * 1024, 1000000);
}

/* A fiber recursing past its guard: abort, with a message naming it. */
Test(stack_overflow, message_names_the_task)
{
    SKIP_UNDER_VALGRIND("a guard-page fault");
    char out[512];
    int status;
    in_child(overflow_16k, out, sizeof out, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x", status);
    static const char want[] = "corio: stack overflow in task 'deep-one' (stack of 16384 bytes)\n";
    /* Compare the first line only: an emulator may add its own report of the abort. */
    cr_assert(strncmp(out, want, sizeof want - 1) == 0, "stderr: %s", out);
}

static void overflow_unguarded(void)
{
    setenv("CORIO_STACK_GUARD", "canary", 1);
    cr_assert_eq(corio__stack_pool_init(&pool, 0), 0);
    corio__fiber_init_home(&home);
    cr_assert_eq(corio__stack_get(pool, 0, &task_stack), 0);
    task_stack->describe = describe_deep;
    corio__fiber_init(&task, task_stack, deep_main, (void *)0);
    /* What an overflow that ran into the unguarded space below leaves at the low end. */
    memset(task_stack->lo, 0x5a, 16);
    corio__fiber_switch(&home, &task);
}

Test(stack_overflow, canary_names_the_task_on_exit)
{
    char out[512];
    int status;
    in_child(overflow_unguarded, out, sizeof out, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x", status);
    cr_assert(strstr(out, "stack overflow in task 'deep-one'") != NULL, "stderr: %s", out);
}

static void fault(void)
{
    volatile int *volatile bad = (volatile int *)(uintptr_t)16;
    *bad = 1;
}

/* A fault that is not a guard hit gets the default action (here: death by SIGSEGV)... */
static void default_action_child(void)
{
    signal(SIGSEGV, SIG_DFL); /* the default even where a sanitizer installed a handler */
    if (corio__overflow_handler_install() == 0)
        fault();
}

Test(stack_overflow, other_faults_keep_default_action)
{
    SKIP_UNDER_VALGRIND("a fault");
    char out[512];
    int status;
    in_child(default_action_child, out, sizeof out, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
    cr_assert_null(strstr(out, "stack overflow"), "stderr: %s", out);
}

/* ...or the handler installed before ours. */
static void previous_handler(int sig)
{
    (void)sig;
    _exit(42);
}

static void previous_handler_child(void)
{
    signal(SIGSEGV, previous_handler);
    if (corio__overflow_handler_install() == 0)
        fault();
}

Test(stack_overflow, other_faults_reach_previous_handler)
{
    SKIP_UNDER_VALGRIND("a fault");
    char out[512];
    int status;
    in_child(previous_handler_child, out, sizeof out, &status);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 42, "status %#x", status);
}

static void *thread_installs(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)corio__overflow_handler_install();
}

Test(stack_overflow, install_per_thread)
{
    cr_assert_eq(corio__overflow_handler_install(), 0);
    cr_assert_eq(corio__overflow_handler_install(), 0); /* idempotent */
    for (int i = 0; i < 4; i++) {
        pthread_t t;
        void *r;
        cr_assert_eq(pthread_create(&t, NULL, thread_installs, NULL), 0);
        cr_assert_eq(pthread_join(t, &r), 0);
        cr_assert_null(r);
    }
}
