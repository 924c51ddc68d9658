/* Compact tasks (CORIO_TASK_COMPACT) under load: frames copied off the shared stack while
 * suspended come back intact when compact and ordinary tasks interleave, deep frames are copied
 * whole, and a pending compact task unwinds at loop close. tests/test_compact_task_semantics.c
 * checks that compact tasks keep every ordinary task semantic. */
#include "core_helpers.h"

static const corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};

/* Fills a local buffer with a per-task pattern, yields many times, checks it. */
static void *pattern_keeper(void *arg)
{
    int id = VI(arg);
    unsigned char buf[3000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + id);
    for (int round = 0; round < 50; round++) {
        if (corio_sleep(0) < 0)
            return IV(-1);
        for (size_t i = 0; i < sizeof buf; i += 97)
            if (buf[i] != (unsigned char)(i * 7 + id))
                return IV(-2);
    }
    return IV(id);
}

static void *gather_main(void *arg)
{
    int n = VI(arg);
    corio_future *f[64] = {0};
    for (int i = 0; i < n; i++) {
        /* every third task is an ordinary one: both kinds interleave on the loop */
        corio_task_opts o = {.flags = i % 3 ? CORIO_TASK_COMPACT : 0};
        corio_task *t;
        cr_expect_eq(corio_create_task(&t, NULL, pattern_keeper, IV(i + 1), &o), 0);
        f[i] = corio_task_future(t);
    }
    void *v[64];
    int rc = corio_gather(f, (size_t)n, 0, v, NULL);
    for (int i = 0; i < n; i++) {
        cr_expect_eq(VI(v[i]), i + 1, "task %d came back with %d", i + 1, VI(v[i]));
        corio_future_unref(f[i]);
    }
    return IV(rc);
}

Test(task_compact, frames_survive_interleaved_switches, .timeout = 10)
{
    void *r = NULL;
    cr_assert_eq(corio_run(gather_main, IV(40), &r, NULL), 0);
    cr_assert_eq(VI(r), 0);
}

/* ~100 KiB of frames copied out and back. */
static int deep(int n, volatile char *prev)
{
    volatile char pad[1000];
    pad[0] = (char)n;
    pad[999] = prev ? prev[0] : 0;
    if (n == 0)
        return corio_sleep(0.001) < 0 ? -1000000 : 0;
    int r = deep(n - 1, pad);
    return r + (pad[0] == (char)n ? 1 : -1000000);
}

static void *deep_task(void *arg)
{
    (void)arg;
    return IV(deep(100, NULL));
}

static void *deep_main(void *arg)
{
    (void)arg;
    corio_future *f[3];
    for (int i = 0; i < 3; i++) {
        corio_task *t;
        cr_expect_eq(corio_create_task(&t, NULL, deep_task, NULL, &compact), 0);
        f[i] = corio_task_future(t);
    }
    void *v[3];
    cr_expect_eq(corio_gather(f, 3, 0, v, NULL), 0);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(VI(v[i]), 100);
        corio_future_unref(f[i]);
    }
    return NULL;
}

Test(task_compact, deep_frames_are_copied_whole, .timeout = 10)
{
    cr_assert_eq(corio_run(deep_main, NULL, NULL, NULL), 0);
}

static int cleanup_ran;

static void *sleeper_with_cleanup(void *arg)
{
    (void)arg;
    char *mem = malloc(100);
    int rc = corio_sleep(100);
    free(mem);
    cleanup_ran++;
    return IV(rc);
}

static void count_reports(corio_loop *loop, const corio_error_context *ctx, void *arg)
{
    (void)loop;
    (void)ctx;
    (*(int *)arg)++;
}

Test(task_compact, loop_close_unwinds_pending_compact_tasks, .timeout = 10)
{
    corio_loop *loop = new_loop();
    int reports = 0;
    corio_loop_set_error_handler(loop, count_reports, &reports);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(corio_create_task(NULL, loop, sleeper_with_cleanup, NULL, &compact), 0);
    corio_task *done;
    cr_assert_eq(corio_create_task(&done, loop, pattern_keeper, IV(3), &compact), 0);
    /* Runs until `done` is (however slow the machine), leaving the five asleep for 100 s. */
    cr_assert_eq(corio_loop_run_until_complete(loop, corio_task_future(done), NULL), 0);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cleanup_ran, 5, "each pending compact task released what it held");
    cr_assert_eq(reports, 5, "only the five pending tasks are reported");
    cr_assert_eq(corio_loop_free(loop), 0);
    cr_assert_eq(reports, 5, "free after close reports nothing more");
    void *r = NULL;
    cr_assert_eq(corio_future_result(corio_task_future(done), &r), 0);
    cr_assert_eq(VI(r), 3);
    corio_task_unref(done);
}
