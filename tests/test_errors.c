/* Error codes have names and descriptions; bad input (NULL, NaN, wrong state) gets a clear code
 * or a documented no-op, never a crash. */
#include "core_helpers.h"

struct named {
    int code;
    const char *name;
};

static const struct named corio_codes[] = {
    {CORIO_EINVALSTATE, "CORIO_EINVALSTATE"}, {CORIO_ENOTASK, "CORIO_ENOTASK"},
    {CORIO_ECLOSED, "CORIO_ECLOSED"},         {CORIO_ERUNNING, "CORIO_ERUNNING"},
    {CORIO_ESTOPPED, "CORIO_ESTOPPED"},       {CORIO_ENOLOOP, "CORIO_ENOLOOP"},
};

static const struct named errno_codes[] = {
    {-ECANCELED, "ECANCELED"}, {-ETIMEDOUT, "ETIMEDOUT"}, {-EINVAL, "EINVAL"},
    {-ENOMEM, "ENOMEM"},       {-EDEADLK, "EDEADLK"},     {-EMFILE, "EMFILE"},
    {-EIO, "EIO"},             {-EPIPE, "EPIPE"},         {-EAGAIN, "EAGAIN"},
};

Test(errors, corio_codes_have_names, .timeout = 10)
{
    for (size_t i = 0; i < sizeof corio_codes / sizeof corio_codes[0]; i++) {
        const char *n = corio_err_name(corio_codes[i].code);
        cr_assert_not_null(n);
        cr_assert_str_eq(n, corio_codes[i].name);
    }
}

Test(errors, errno_codes_have_names, .timeout = 10)
{
    for (size_t i = 0; i < sizeof errno_codes / sizeof errno_codes[0]; i++) {
        const char *n = corio_err_name(errno_codes[i].code);
        cr_assert_not_null(n);
        cr_assert_str_eq(n, errno_codes[i].name);
    }
}

Test(errors, unknown_code_name, .timeout = 10)
{
    cr_assert_str_eq(corio_err_name(-99999), "UNKNOWN");
    cr_assert_str_eq(corio_err_name(-20999), "UNKNOWN");
    cr_assert_str_eq(corio_err_name(-20000), "UNKNOWN");
    cr_assert_str_eq(corio_err_name(-20007), "UNKNOWN");
    cr_assert_not_null(corio_err_name(0));
    cr_assert_not_null(corio_err_name(12345));
    cr_assert_not_null(corio_err_name(-2147483647 - 1));
}

Test(errors, strerror_describes_every_code, .timeout = 10)
{
    const char *seen[32];
    int n = 0;
    for (size_t i = 0; i < sizeof corio_codes / sizeof corio_codes[0]; i++) {
        const char *s = corio_strerror(corio_codes[i].code);
        cr_assert_not_null(s);
        cr_assert_gt(strlen(s), 0);
        for (int j = 0; j < n; j++)
            cr_assert_str_neq(s, seen[j], "two codes share the description \"%s\"", s);
        seen[n++] = s;
    }
    for (size_t i = 0; i < sizeof errno_codes / sizeof errno_codes[0]; i++) {
        const char *s = corio_strerror(errno_codes[i].code);
        cr_assert_not_null(s);
        cr_assert_gt(strlen(s), 0);
        for (int j = 0; j < n; j++)
            cr_assert_str_neq(s, seen[j], "two codes share the description \"%s\"", s);
        seen[n++] = s;
    }
}

Test(errors, strerror_never_null, .timeout = 10)
{
    int odd[] = {0, 1, -1, -99999, 99999, -2147483647 - 1, 2147483647, -20000, -20007};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        const char *s = corio_strerror(odd[i]);
        cr_assert_not_null(s, "corio_strerror(%d)", odd[i]);
    }
}

Test(errors, strerror_is_static, .timeout = 10)
{
    /* "A static ... description": the pointer stays valid and unchanged across calls. */
    const char *a = corio_strerror(-ECANCELED);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", a);
    corio_strerror(-ETIMEDOUT);
    corio_strerror(CORIO_ENOTASK);
    cr_assert_str_eq(a, copy);
}

Test(errors, codes_are_distinct_and_outside_errno, .timeout = 10)
{
    for (size_t i = 0; i < sizeof corio_codes / sizeof corio_codes[0]; i++) {
        cr_assert_lt(corio_codes[i].code, -4095, "outside the errno range");
        for (size_t j = i + 1; j < sizeof corio_codes / sizeof corio_codes[0]; j++)
            cr_assert_neq(corio_codes[i].code, corio_codes[j].code);
    }
}

/* ---- documented bad input ---- */

static void noop(void *arg) { (void)arg; }

Test(errors, documented_null_and_bad_arguments, .timeout = 10)
{
    cr_assert_eq(corio_loop_close(NULL), -EINVAL);
    corio_future_unref(NULL);
    corio_handle_release(NULL);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_call_soon(loop, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_call_later(loop, 1.0, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_call_at(loop, 1.0, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_call_later(loop, NAN, noop, NULL, NULL), -EINVAL);
    corio_future *f = corio_future_new(loop);
    cr_assert_eq(corio_future_set_error(f, 0), -EINVAL);
    cr_assert_eq(corio_future_set_error(f, 1), -EINVAL);
    cr_assert_null(corio_raise(-EIO), "outside a task: does nothing");
    cr_assert_null(corio_raise(1));
    corio_future_unref(f);
    corio_loop_close(loop);
}

Test(errors, null_loop_in_call_soon, .timeout = 10)
{
    cr_assert_eq(corio_call_soon(NULL, noop, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_call_later(NULL, 0.1, noop, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_call_at(NULL, 0.1, noop, NULL, NULL), -EINVAL);
}

Test(errors, null_out_in_loop_new, .timeout = 10)
{
    cr_assert_eq(corio_loop_new(NULL, NULL), -EINVAL);
}

/* Functions whose header comment says nothing about NULL: the brief asks for a clear error code
 * and never a crash, so int-returning ones give -EINVAL and the others do nothing. */
Test(errors, undocumented_null_arguments, .timeout = 10)
{
    cr_assert_eq(corio_future_set_result(NULL, NULL), -EINVAL);
    cr_assert_eq(corio_future_set_error(NULL, -EIO), -EINVAL);
    cr_assert_eq(corio_future_cancel(NULL, NULL), -EINVAL);
    cr_assert_eq(corio_future_result(NULL, NULL), -EINVAL);
    cr_assert_eq(corio_future_error(NULL), -EINVAL);
    cr_assert_eq(corio_future_add_done_callback(NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_loop_run_forever(NULL), -EINVAL);
    cr_assert_eq(corio_loop_run_until_complete(NULL, NULL, NULL), -EINVAL);
    corio_task_unref(NULL);
    corio_loop_stop(NULL);
    corio_handle_cancel(NULL);
    corio_loop *loop = new_loop();
    corio_future *f = corio_future_new(loop);
    cr_assert_eq(corio_future_add_done_callback(f, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_loop_run_until_complete(loop, NULL, NULL), -EINVAL);
    cr_assert_null(corio_loop_create_task(loop, NULL, NULL, NULL));
    corio_future_unref(f);
    corio_loop_close(loop);
}

static void *await_null(void *arg)
{
    (void)arg;
    return IV(corio_await(NULL, NULL));
}

static void *gather_null(void *arg)
{
    (void)arg;
    return IV(corio_gather(NULL, 2, 0, NULL, NULL));
}

static void *wait_for_null(void *arg)
{
    (void)arg;
    return IV(corio_wait_for(NULL, 1.0, NULL));
}

Test(errors, awaiting_null_is_einval, .timeout = 10)
{
    corio_loop *loop = new_loop();
    void *res = NULL;
    cr_assert_eq(run_main(loop, await_null, NULL, &res), 0);
    cr_assert_eq(VI(res), -EINVAL);
    cr_assert_eq(run_main(loop, gather_null, NULL, &res), 0);
    cr_assert_eq(VI(res), -EINVAL);
    cr_assert_eq(run_main(loop, wait_for_null, NULL, &res), 0);
    cr_assert_eq(VI(res), -EINVAL);
    corio_loop_close(loop);
}

Test(errors, gather_future_null_array, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_set_event_loop(loop);
    cr_assert_null(corio_gather_future(NULL, 3, 0));
    corio_future *fs[2] = {corio_future_new(loop), NULL};
    cr_assert_null(corio_gather_future(fs, 2, 0), "a NULL child");
    corio_future_unref(fs[0]);
    corio_loop_close(loop);
}

Test(errors, run_with_null_fn, .timeout = 10)
{
    cr_assert_eq(corio_run(NULL, NULL, NULL), -EINVAL);
}
