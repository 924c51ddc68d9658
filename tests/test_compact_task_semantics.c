/* Compact tasks (CORIO_TASK_COMPACT): the same task semantics as tasks with their own stack —
 * results, errors, ordering, cancellation, gather, locals preserved across suspensions — while
 * their stack bytes are copied out and back in. Skipped where the header has no such flag. */
#include "core_helpers.h"

#ifdef CORIO_TASK_COMPACT

static const corio_task_opts compact = {.name = NULL, .stack_size = 0, .flags = CORIO_TASK_COMPACT};

static void *sleep_log_return(void *arg)
{
    int ms = VI(arg);
    volatile int local = ms * 3; /* lives on the (copied) stack across the suspension */
    int rc = corio_sleep(ms / 1000.0);
    if (rc)
        return corio_raise(rc);
    ev(ms);
    return IV(local);
}

Test(compact_task_semantics, result_and_wake_order, .timeout = 10)
{
    corio_loop *loop = new_vt_loop(); /* wake order by deadline, however slow the machine */
    int ms[] = {30, 10, 20};
    corio_task *t[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(corio_create_task(&t[i], loop, sleep_log_return, IV(ms[i]), &compact), 0);
    }
    for (int i = 0; i < 3; i++) {
        void *res = NULL;
        cr_assert_eq(run_task(loop, t[i], &res), 0);
        cr_assert_eq(res, IV(ms[i] * 3));
    }
    EV_EXPECT(10, 20, 30);
    for (int i = 0; i < 3; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

static void *yielder(void *arg)
{
    int id = VI(arg);
    for (int i = 1; i <= 3; i++) {
        ev(id * 10 + i);
        corio_sleep(0);
    }
    return NULL;
}

Test(compact_task_semantics, interleave_with_normal_tasks, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *a;
    cr_assert_eq(corio_create_task(&a, loop, yielder, IV(1), &compact), 0);
    corio_task *b;
    cr_assert_eq(corio_create_task(&b, loop, yielder, IV(2), NULL), 0);
    corio_task *c;
    cr_assert_eq(corio_create_task(&c, loop, yielder, IV(3), &compact), 0);
    run_task(loop, a, NULL);
    run_task(loop, b, NULL);
    run_task(loop, c, NULL);
    EV_EXPECT(11, 21, 31, 12, 22, 32, 13, 23, 33);
    corio_task_unref(a);
    corio_task_unref(b);
    corio_task_unref(c);
    corio_loop_free(loop);
}

/* Frames with data that must survive many suspensions, in several compact tasks at once. */
__attribute__((noinline)) static unsigned long frames(int depth, int seed)
{
    volatile unsigned char buf[256];
    for (int i = 0; i < 256; i++)
        buf[i] = (unsigned char)(seed + depth + i);
    unsigned long sum = 0;
    if (depth == 0) {
        for (int k = 0; k < 5; k++)
            corio_sleep(0);
    } else {
        sum = frames(depth - 1, seed);
    }
    for (int i = 0; i < 256; i++)
        sum += buf[i];
    return sum;
}

static unsigned long frames_expected(int depth, int seed)
{
    unsigned long sum = 0;
    for (int d = 0; d <= depth; d++)
        for (int i = 0; i < 256; i++)
            sum += (unsigned char)(seed + d + i);
    return sum;
}

static void *frames_task(void *arg)
{
    int seed = VI(arg);
    return (void *)(uintptr_t)frames(20, seed);
}

Test(compact_task_semantics, stack_contents_survive_suspensions, .timeout = 10)
{
    corio_loop *loop = new_loop();
    enum { N = 8 };
    corio_task *t[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, frames_task, IV(i * 7), &compact), 0);
    for (int i = 0; i < N; i++) {
        void *res = NULL;
        cr_assert_eq(run_task(loop, t[i], &res), 0);
        cr_assert_eq((unsigned long)(uintptr_t)res, frames_expected(20, i * 7));
    }
    for (int i = 0; i < N; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

/* Pointers from one frame of a compact task into another of its frames stay valid across a
 * suspension (frames come back to the same addresses). */
__attribute__((noinline)) static int fill_after_sleep(int *slots, int n, int seed)
{
    corio_sleep(0.001);
    for (int i = 0; i < n; i++)
        slots[i] = seed + i;
    corio_sleep(0);
    return n;
}

static void *pointer_task(void *arg)
{
    int seed = VI(arg);
    int slots[64];
    int *p = slots; /* a pointer into this task's own stack */
    memset(slots, 0, sizeof slots);
    fill_after_sleep(p, 64, seed);
    corio_sleep(0);
    for (int i = 0; i < 64; i++)
        if (slots[i] != seed + i)
            return IV(-1);
    return IV(seed);
}

Test(compact_task_semantics, pointers_within_own_frames_stay_valid, .timeout = 10)
{
    corio_loop *loop = new_loop();
    enum { N = 16 };
    corio_task *t[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, pointer_task, IV(i * 1000), &compact), 0);
    for (int i = 0; i < N; i++) {
        void *res = NULL;
        cr_assert_eq(run_task(loop, t[i], &res), 0);
        cr_assert_eq(res, IV(i * 1000), "task %d came back with %d", i, VI(res));
    }
    for (int i = 0; i < N; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

static void *deep_frames_task(void *arg)
{
    int seed = VI(arg);
    return (void *)(uintptr_t)frames(100, seed); /* ~30 KiB of frames, suspended at the bottom */
}

Test(compact_task_semantics, deep_frames_copied_whole, .timeout = 10)
{
    corio_loop *loop = new_loop();
    enum { N = 4 };
    corio_task *t[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(corio_create_task(&t[i], loop, deep_frames_task, IV(i * 13), &compact), 0);
    for (int i = 0; i < N; i++) {
        void *res = NULL;
        cr_assert_eq(run_task(loop, t[i], &res), 0);
        cr_assert_eq((unsigned long)(uintptr_t)res, frames_expected(100, i * 13));
    }
    for (int i = 0; i < N; i++)
        corio_task_unref(t[i]);
    corio_loop_free(loop);
}

static int sleep_rc = 1;
static int cleanup;
static void *long_sleep(void *arg)
{
    sleep_rc = corio_sleep(100);
    cleanup++;
    return arg;
}

Test(compact_task_semantics, cancel, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, long_sleep, NULL, &compact), 0);
    run_once(loop);
    cr_assert_eq(corio_task_cancel(t, "c"), 1);
    cr_assert_eq(run_task(loop, t, NULL), -ECANCELED);
    cr_assert_eq(sleep_rc, -ECANCELED);
    cr_assert_eq(cleanup, 1);
    corio_task_unref(t);
    corio_loop_free(loop);
}

Test(compact_task_semantics, destroyed_by_close, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    corio_task_opts o = compact;
    o.name = "compact-sleeper";
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, long_sleep, NULL, &o), 0);
    corio_task_unref(t);
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(cap.n, 1);
    cr_assert(cap_names(0, "compact-sleeper"));
    cr_assert_eq(sleep_rc, -ECANCELED);
    cr_assert_eq(cleanup, 1);
    cr_assert_eq(corio_loop_free(loop), 0);
}

static void *raise_after_yield(void *arg)
{
    corio_sleep(0);
    return corio_raise(VI(arg));
}

static void *gather_compact(void *arg)
{
    int n = VI(arg);
    corio_task **t = calloc((size_t)n, sizeof *t);
    corio_future **fs = calloc((size_t)n, sizeof *fs);
    void **values = calloc((size_t)n, sizeof *values);
    int *errors = calloc((size_t)n, sizeof *errors);
    int rc = 0, created = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = i % 100 == 99 ? corio_create_task(&t[i], NULL, raise_after_yield, IV(-EIO), &compact)
                           : corio_create_task(&t[i], NULL, sleep_log_return, IV(1), &compact);
        fs[i] = corio_task_future(t[i]);
        created += rc == 0;
    }
    if (rc == 0)
        rc = corio_gather(fs, (size_t)n, CORIO_GATHER_RETURN_ERRORS, values, errors);
    int wrong = rc != 0;
    for (int i = 0; i < created; i++) {
        if (i % 100 == 99)
            wrong += errors[i] != -EIO || values[i] != NULL;
        else
            wrong += errors[i] != 0 || values[i] != IV(3);
        corio_task_unref(t[i]);
    }
    free(t);
    free(fs);
    free(values);
    free(errors);
    return IV(wrong);
}

/* 100,000 compact tasks; fewer where compact tasks get a stack each (sanitizers) or everything is
 * slow (Valgrind). Speed is the benchmarks' business: this checks outcomes only. */
Test(compact_task_semantics, many_gathered, .timeout = 60)
{
#ifdef CORIO_SANITIZE
    int n = 20000;
#else
    int n = 100000;
#endif
    if (under_valgrind())
        n = 1000;
    ev_n = 0;
    void *res = IV(-1);
    cr_assert_eq(corio_run(gather_compact, IV(n), &res, NULL), 0);
    cr_assert_eq(VI(res), 0);
}

static void *child_compact(void *arg)
{
    corio_sleep(0.001);
    return arg;
}

static void *parent_compact(void *arg)
{
    /* a compact task awaiting compact children: the awaited results land in a local */
    int n = VI(arg);
    long sum = 0;
    for (int i = 0; i < n; i++) {
        corio_task *c;
        cr_expect_eq(corio_create_task(&c, NULL, child_compact, IV(i), &compact), 0);
        void *v = NULL;
        if (corio_await(corio_task_future(c), &v) != 0)
            sum = -1000000;
        sum += VI(v);
        corio_task_unref(c);
    }
    return (void *)(intptr_t)sum;
}

Test(compact_task_semantics, awaits_compact_children, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_task *p;
    cr_assert_eq(corio_create_task(&p, loop, parent_compact, IV(100), &compact), 0);
    void *res = NULL;
    cr_assert_eq(run_task(loop, p, &res), 0);
    cr_assert_eq((intptr_t)res, 99 * 100 / 2);
    corio_task_unref(p);
    corio_loop_free(loop);
}

#else

Test(compact_task_semantics, not_available, .timeout = 10)
{
    cr_skip_test("CORIO_TASK_COMPACT is not in this corio.h");
}

#endif
