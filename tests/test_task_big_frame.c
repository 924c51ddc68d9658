/* A task whose frame is far larger than its stack's guard (200 KiB and 1 MiB, against 32 KiB, or
 * 64 KiB on aarch64) still ends in the named overflow report, never in another task's stack: this
 * file is built as a user's code is, with the options the corio target passes on
 * (-fstack-clash-protection), which make the frame touch its pages from the top down so that the
 * guard is hit first. Without them the first write below lands 200 KiB or 1 MiB down, in a
 * neighbouring stack of the slab or in unmapped memory, and the test sees a corrupted neighbour or
 * a plain SIGSEGV instead of the report. */
#include "core_helpers.h"
#include "in_child.h"

#include <signal.h>

#define KIB 1024

/* Writes the frame's lowest byte first, as code that fills an array from index 0 does; the
 * neighbour check below then reads whether that write went anywhere else. The index is read at
 * run time: with constant ones, clang keeps only the two bytes written, and the frame is tiny. */
static volatile size_t first_index;
#define BIG_FRAME_FN(name, size)                                                                   \
    __attribute__((noinline)) static long name(void)                                               \
    {                                                                                              \
        volatile char buf[size];                                                                   \
        size_t lo = first_index, hi = sizeof buf - 1 - first_index;                                \
        buf[lo] = 1;                                                                               \
        buf[hi] = 2;                                                                               \
        return buf[lo] + buf[hi];                                                                  \
    }
BIG_FRAME_FN(frame_200k, 200 * KIB)
BIG_FRAME_FN(frame_1m, 1024 * KIB)

static long (*frame_fn)(void);
static corio_task_opts big_opts;

static void *big_task(void *arg)
{
    (void)arg;
    return IV(frame_fn());
}

/* Neighbours on both sides of the big task in its slab, asleep with a pattern on their stacks
 * that must survive whatever the big task does. */
static void *neighbour(void *arg)
{
    volatile unsigned char pattern[8 * KIB];
    memset((void *)pattern, 0xA5, sizeof pattern);
    corio_sleep(3600);
    for (size_t i = 0; i < sizeof pattern; i++)
        if (pattern[i] != 0xA5) {
            fprintf(stderr, "neighbour's stack was overwritten\n");
            abort();
        }
    (void)arg;
    return NULL;
}

static void *spawn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 8; i++)
        corio_create_task(NULL, NULL, neighbour, NULL, &(corio_task_opts){.name = "neighbour"});
    corio_task *t;
    if (corio_create_task(&t, NULL, big_task, NULL, &big_opts) < 0)
        return NULL;
    for (int i = 0; i < 8; i++)
        corio_create_task(NULL, NULL, neighbour, NULL, &(corio_task_opts){.name = "neighbour"});
    corio_await(corio_task_future(t), NULL);
    corio_task_unref(t);
    return NULL;
}

static void run_spawner(void)
{
    corio_run(spawn, NULL, NULL, NULL);
}

static void expect_report(long (*fn)(void), corio_task_opts opts)
{
    SKIP_UNDER_VALGRIND("a guard-page fault");
    frame_fn = fn;
    big_opts = opts;
    char out[2048], want[128];
    int status;
    in_child(run_spawner, out, sizeof out, &status);
    snprintf(want, sizeof want, "corio: stack overflow in task '%s'", opts.name);
    cr_assert(strstr(out, want) != NULL, "status %#x, stderr: %s", status, out);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              out);
}

Test(task_big_frame, frame_of_200k_on_a_64k_stack, .timeout = 30)
{
    expect_report(frame_200k, (corio_task_opts){.name = "big-200k", .stack_size = 64 * KIB});
}

Test(task_big_frame, frame_of_1m_on_a_64k_stack, .timeout = 30)
{
    expect_report(frame_1m, (corio_task_opts){.name = "big-1m", .stack_size = 64 * KIB});
}

Test(task_big_frame, frame_of_1m_on_the_default_stack, .timeout = 30)
{
    expect_report(frame_1m, (corio_task_opts){.name = "big-default"});
}

Test(task_big_frame, frame_of_1m_in_a_compact_task, .timeout = 30)
{
    expect_report(frame_1m, (corio_task_opts){.name = "big-compact", .flags = CORIO_TASK_COMPACT});
}
