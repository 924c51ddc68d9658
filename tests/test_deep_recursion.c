/* Deep recursion inside a task: a coroutine chain using ~100 KiB of stack runs on a task with a
 * 1 MiB stack (per task or as the loop's default), and can suspend at the bottom of it while
 * other tasks run. (The guard-page overflow report belongs to the fiber layer's own tests.) */
#include "core_helpers.h"

#define FRAME 1024

/* Each level keeps FRAME bytes live on the stack; the checksum keeps the compiler honest. */
__attribute__((noinline)) static unsigned long recurse(int depth, int await_at_bottom)
{
    volatile unsigned char buf[FRAME];
    for (int i = 0; i < FRAME; i += 64)
        buf[i] = (unsigned char)(depth + i);
    unsigned long sum;
    if (depth == 0) {
        if (await_at_bottom) {
            ev(1);
            if (corio_sleep(0.01) != 0)
                return 0;
            ev(3);
        }
        sum = 1;
    } else {
        sum = recurse(depth - 1, await_at_bottom);
    }
    for (int i = 0; i < FRAME; i += 64)
        sum += buf[i]; /* the frame survived the calls (and the suspension) below */
    return sum;
}

static unsigned long expected_sum(int depth)
{
    unsigned long sum = 1;
    for (int d = 0; d <= depth; d++)
        for (int i = 0; i < FRAME; i += 64)
            sum += (unsigned char)(d + i);
    return sum;
}

static void *deep(void *arg)
{
    int depth = VI(arg);
    return (void *)(uintptr_t)recurse(depth, 0);
}

static void *deep_and_await(void *arg)
{
    int depth = VI(arg);
    return (void *)(uintptr_t)recurse(depth, 1);
}

static void *meanwhile(void *arg)
{
    (void)arg;
    ev(2);
    return NULL;
}

/* Runs a task fn(depth), which recurses `depth` levels, to completion, checks the sum it
 * computed on its stack, and drops it. */
static void expect_deep_result(corio_loop *loop, corio_coro_fn fn, int depth,
                               const corio_task_opts *opts)
{
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, fn, IV(depth), opts), 0);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq((unsigned long)(uintptr_t)res, expected_sum(depth));
    corio_task_unref(t);
}

Test(deep_recursion, hundred_kib_on_one_mib_task_stack, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task_opts opts = {.name = "deep", .stack_size = 1u << 20};
    expect_deep_result(loop, deep, 100, &opts);
    corio_loop_free(loop);
}

Test(deep_recursion, suspend_at_the_bottom, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task_opts opts = {.name = "deep", .stack_size = 1u << 20};
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, deep_and_await, IV(100), &opts), 0);
    corio_task *m;
    cr_assert_eq(corio_create_task(&m, loop, meanwhile, NULL, NULL), 0);
    void *res = NULL;
    cr_assert_eq(run_task(loop, t, &res), 0);
    cr_assert_eq((unsigned long)(uintptr_t)res, expected_sum(100));
    EV_EXPECT(1, 2, 3);
    corio_task_unref(t);
    corio_task_unref(m);
    corio_loop_free(loop);
}

Test(deep_recursion, loop_default_stack_size, .timeout = 10)
{
    corio_loop *loop = NULL;
    corio_loop_opts lo = {.stack_size = 1u << 20, .debug = -1};
    cr_assert_eq(corio_loop_new(&loop, &lo), 0);
    expect_deep_result(loop, deep, 100, NULL);
    corio_loop_free(loop);
}

Test(deep_recursion, several_deep_tasks_interleaved, .timeout = 10)
{
    /* Four tasks each suspended ~100 KiB deep at the same time: their stacks are separate. */
    corio_loop *loop = new_loop();
    corio_task_opts opts = {.name = NULL, .stack_size = 1u << 20};
    corio_task *t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, deep_and_await, IV(90 + i), &opts), 0);
    for (int i = 0; i < 4; i++) {
        void *res = NULL;
        cr_assert_eq(run_task(loop, t[i], &res), 0);
        cr_assert_eq((unsigned long)(uintptr_t)res, expected_sum(90 + i));
    }
    for (int i = 0; i < 4; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

Test(deep_recursion, moderate_depth_on_default_stack, .timeout = 10)
{
    /* ~16 KiB of frames fit the 64 KiB default. */
    corio_loop *loop = new_loop();
    expect_deep_result(loop, deep_and_await, 16, NULL);
    corio_loop_free(loop);
}

Test(deep_recursion, deep_tasks_reuse_stacks, .timeout = 10)
{
    /* Big stacks come back to the pool and are reused: many in sequence stay cheap. */
    corio_loop *loop = new_loop();
    corio_task_opts opts = {.name = NULL, .stack_size = 1u << 20};
    int n = under_valgrind() ? 20 : 500;
    for (int i = 0; i < n; i++)
        expect_deep_result(loop, deep, 100, &opts);
    corio_loop_free(loop);
}

Test(deep_recursion, stack_size_from_environment, .timeout = 10)
{
    /* stack_size 0 in the loop's options: CORIO_STACK_SIZE from the environment. */
    setenv("CORIO_STACK_SIZE", "1048576", 1);
    corio_loop *loop = NULL;
    corio_loop_opts lo = {.stack_size = 0, .debug = -1};
    cr_assert_eq(corio_loop_new(&loop, &lo), 0);
    expect_deep_result(loop, deep, 100, NULL);
    corio_loop_free(loop);
    unsetenv("CORIO_STACK_SIZE");
}
