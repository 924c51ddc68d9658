/* Stack high-water marks in debug mode: how deep each task's stack has been used, while it runs,
 * while it is suspended and after it is done; bad input. */
#include "core_helpers.h"

/* Uses about `kib` KiB of stack below this frame (a recursion the compiler cannot fold). */
__attribute__((noinline)) static int dig(int kib)
{
    volatile char page[1024];
    page[0] = (char)kib;
    page[sizeof page - 1] = (char)kib;
    if (kib <= 1)
        return page[0];
    return dig(kib - 1) + page[sizeof page - 1];
}

static ssize_t self_hwm;
static void *deep(void *arg)
{
    dig(VI(arg));
    self_hwm = corio_task_stack_high_water(corio_current_task());
    corio_sleep(0);
    return arg;
}

static void *shallow(void *arg) { return arg; }

static corio_task *run_one(corio_loop *loop, corio_coro_fn fn, int kib)
{
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, fn, IV(kib), NULL), 0);
    run_task(loop, t, NULL);
    return t;
}

Test(stack_high_water, deep_task_measures_deeper_than_shallow_one, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_task *d = run_one(loop, deep, 24);
    ssize_t dh = corio_task_stack_high_water(d);
    cr_assert_geq(dh, 24 * 1024, "24 KiB of frames, measured %zd", dh);
    cr_assert_lt(dh, 64 * 1024, "within the 64 KiB stack: %zd", dh);
    cr_assert_geq(self_hwm, 24 * 1024, "asked from inside: %zd", self_hwm);
    /* the next task reuses the same stack: it is cleared first */
    corio_task *s = run_one(loop, shallow, 0);
    ssize_t sh = corio_task_stack_high_water(s);
    cr_assert_gt(sh, 0);
    cr_assert_lt(sh, 8 * 1024, "a task that returns at once: %zd", sh);
    corio_task_unref(d);
    corio_task_unref(s);
    corio_loop_free(loop);
}

static void *dig_then_wait(void *arg)
{
    dig(VI(arg));
    corio_sleep(10);
    return NULL;
}

Test(stack_high_water, suspended_task_keeps_its_mark, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, dig_then_wait, IV(16), NULL), 0);
    run_once(loop);
    ssize_t h = corio_task_stack_high_water(t);
    cr_assert_geq(h, 16 * 1024, "%zd", h);
    cr_assert_eq(corio_task_stack_high_water(t), h, "measuring changes nothing");
    corio_task_cancel(t, NULL);
    run_task(loop, t, NULL);
    cr_assert_geq(corio_task_stack_high_water(t), h, "done: the figure it reached");
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(stack_high_water, large_stacks_too, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_task *t;
    corio_task_opts big = {.stack_size = 1 << 20};
    cr_assert_eq(corio_create_task(&t, loop, deep, IV(200), &big), 0);
    run_task(loop, t, NULL);
    ssize_t h = corio_task_stack_high_water(t);
    cr_assert_geq(h, 200 * 1024, "%zd", h);
    cr_assert_lt(h, 1 << 20);
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(stack_high_water, only_in_debug_mode_and_after_start, .timeout = 10)
{
    cr_assert_eq(corio_task_stack_high_water(NULL), -EINVAL);
    corio_loop *loop = new_loop();
    corio_task *t = run_one(loop, shallow, 0);
    cr_assert_eq(corio_task_stack_high_water(t), CORIO_EINVALSTATE, "not measured outside debug");
    corio_task_unref(t);
    cr_assert_eq(corio_loop_set_debug(loop, 1), 0);
    cr_assert_eq(corio_create_task(&t, loop, shallow, NULL, NULL), 0);
    cr_assert_eq(corio_task_stack_high_water(t), CORIO_EINVALSTATE, "not started");
    run_task(loop, t, NULL);
    cr_assert_gt(corio_task_stack_high_water(t), 0);
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(stack_high_water, compact_tasks_are_not_measured, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_task *t;
    corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};
    cr_assert_eq(corio_create_task(&t, loop, deep, IV(4), &compact), 0);
    run_task(loop, t, NULL);
    ssize_t h = corio_task_stack_high_water(t);
    /* where compact tasks are not supported (ASan, ucontext) the task has its own stack */
    cr_assert(h == -ENOTSUP || h >= 4 * 1024, "%zd", h);
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(stack_high_water, dump_shows_the_mark, .timeout = 10)
{
    corio_loop *loop = new_debug_loop();
    corio_task_opts named = {.name = "d"};
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, dig_then_wait, IV(8), &named), 0);
    run_once(loop);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(corio_loop_dump_tasks(loop, f), 1);
    fclose(f);
    cr_assert(strstr(buf, "(T) d [waiting] awaits sleep") != NULL, "%s", buf);
    long shown = atol(strstr(buf, " stack ") + 7);
    cr_assert_geq(shown, 8 * 1024, "%s", buf);
    free(buf);
    corio_task_cancel(t, NULL);
    run_task(loop, t, NULL);
    corio_task_unref(t);
    corio_loop_free(loop);
}
