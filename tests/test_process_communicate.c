/* communicate: large input and outputs never deadlock (the child may write megabytes to stderr
 * before it reads its stdin); the output limit; a child that exits without reading its input;
 * cancellation leaves the child running and the call's helpers gone. */
#include "process_helpers.h"

#define BIG (6u << 20)

static unsigned char *pattern(size_t n)
{
    unsigned char *b = malloc(n);
    cr_assert_not_null(b);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (unsigned char)x;
    }
    return b;
}

static void *big_both_ways(void *arg)
{
    (void)arg;
    /* 4 MiB to stderr before a byte of stdin is read, then stdin echoed to stdout. */
    const char *const sh[] = {"/bin/sh", "-c", "head -c 4194304 /dev/zero >&2; exec cat", NULL};
    corio_process_opts o = {.stdin_mode = CORIO_PROCESS_PIPE,
                            .stdout_mode = CORIO_PROCESS_PIPE,
                            .stderr_mode = CORIO_PROCESS_PIPE};
    corio_process *p = spawn_ok(sh, &o);
    unsigned char *in = pattern(BIG);
    char *out = NULL, *err = NULL;
    size_t olen = 0, elen = 0;
    int code = -1;
    cr_expect_eq(corio_process_communicate(p, in, BIG, &out, &olen, &err, &elen, &code), 0);
    cr_expect_eq(code, 0);
    cr_expect_eq(olen, BIG);
    cr_expect(out && memcmp(out, in, BIG) == 0, "stdout differs from stdin");
    cr_expect_eq(elen, 4194304);
    free(in);
    free(out);
    free(err);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_communicate, large_input_and_outputs_at_once, .timeout = 60)
{
    run_in_loop(big_both_ways, NULL);
}

static void *over_the_limit(void *arg)
{
    (void)arg;
    const char *const yes[] = {"yes", NULL};
    corio_process_opts o = {.stdout_mode = CORIO_PROCESS_PIPE, .max_output = 1000};
    corio_process *p = spawn_ok(yes, &o);
    char *out = NULL;
    size_t olen = 0;
    int code = 0;
    cr_expect_eq(corio_process_communicate(p, NULL, 0, &out, &olen, NULL, NULL, &code),
                 CORIO_ELIMIT);
    cr_expect_eq(olen, 1000);
    cr_expect(out && strncmp(out, "y\ny\n", 4) == 0);
    cr_expect_eq(code, -SIGKILL, "the child is killed and reaped");
    free(out);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_communicate, an_output_over_the_limit, .timeout = 20)
{
    run_in_loop(over_the_limit, NULL);
}

static void *unread_input(void *arg)
{
    (void)arg;
    const char *const t[] = {"true", NULL};
    corio_process_opts o = {.stdin_mode = CORIO_PROCESS_PIPE};
    corio_process *p = spawn_ok(t, &o);
    unsigned char *in = pattern(BIG);
    int code = -1;
    cr_expect_eq(corio_process_communicate(p, in, BIG, NULL, NULL, NULL, NULL, &code), 0);
    cr_expect_eq(code, 0);
    free(in);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_communicate, a_child_that_reads_no_input_is_fine, .timeout = 20)
{
    run_in_loop(unread_input, NULL);
}

static void *outputs_dropped(void *arg)
{
    (void)arg;
    const char *const sh[] = {"/bin/sh", "-c", "head -c 3000000 /dev/zero; echo e >&2", NULL};
    corio_process_opts o = {.stdout_mode = CORIO_PROCESS_PIPE,
                            .stderr_mode = CORIO_PROCESS_PIPE, .max_output = 10};
    corio_process *p = spawn_ok(sh, &o);
    char *err = NULL;
    int code = -1;
    /* stdout is read and dropped (not kept, so not limited); stderr kept. */
    cr_expect_eq(corio_process_communicate(p, NULL, 0, NULL, NULL, &err, NULL, &code), 0);
    cr_expect_str_eq(err, "e\n");
    cr_expect_eq(code, 0);
    free(err);
    cr_expect_eq(corio_process_free(p), 0);
    return NULL;
}

Test(process_communicate, an_output_not_asked_for_is_drained, .timeout = 20)
{
    run_in_loop(outputs_dropped, NULL);
}

static void *cancel_communicate(void *arg)
{
    (void)arg;
    const char *const sh[] = {"/bin/sh", "-c", "echo partial; exec sleep 30", NULL};
    corio_process_opts o = {.stdin_mode = CORIO_PROCESS_PIPE,
                            .stdout_mode = CORIO_PROCESS_PIPE};
    corio_process *p = spawn_ok(sh, &o);
    corio_timeout *tm;
    cr_assert_eq(corio_timeout_enter(&tm, 0.2), 0);
    char *out = SENTINEL;
    int rc = corio_process_communicate(p, "in", 2, &out, NULL, NULL, NULL, NULL);
    cr_expect_eq(corio_timeout_exit(tm, rc), -ETIMEDOUT);
    cr_expect_null(out);
    cr_expect_eq(corio_process_get_returncode(p, NULL), 0, "cancelling killed the child");
    cr_expect_eq(corio_process_kill(p), 0);
    int code = 0;
    cr_expect_eq(corio_process_wait(p, &code), 0);
    cr_expect_eq(code, -SIGKILL);
    cr_expect_eq(corio_process_free(p), 0);
    /* Nothing of the call is left: the loop has no task but this one. */
    cr_expect_eq(corio_all_tasks(NULL, NULL, 0), 1);
    return NULL;
}

Test(process_communicate, cancellation_leaves_the_child_and_no_helper, .timeout = 20)
{
    run_in_loop(cancel_communicate, NULL);
}
