/* Error codes have names and descriptions; bad input (NULL, NaN, wrong state) gets a clear code
 * or a documented no-op, never a crash. */
#include "core_helpers.h"

#include <limits.h>

struct named {
    int code;
    const char *name;
};

/* Every CORIO_E* code, made from the one list in <corio/errors.h>. */
struct mapped {
    int code;  /* the constant CORIO_<NAME> */
    int value; /* the value the list gives it */
    const char *name;
    const char *text;
};
static const struct mapped corio_map[] = {
#define MAPPED(name, value, text) {CORIO_##name, value, "CORIO_" #name, text},
    CORIO_ERROR_MAP(MAPPED)
#undef MAPPED
};
#define N_MAP (sizeof corio_map / sizeof corio_map[0])

static const struct named corio_codes[] = {
    {CORIO_EINVALSTATE, "CORIO_EINVALSTATE"}, {CORIO_ENOTASK, "CORIO_ENOTASK"},
    {CORIO_ECLOSED, "CORIO_ECLOSED"},         {CORIO_ERUNNING, "CORIO_ERUNNING"},
    {CORIO_ESTOPPED, "CORIO_ESTOPPED"},       {CORIO_ENOLOOP, "CORIO_ENOLOOP"},
    {CORIO_EBROKEN, "CORIO_EBROKEN"},         {CORIO_ESHUTDOWN, "CORIO_ESHUTDOWN"},
    {CORIO_EINCOMPLETE, "CORIO_EINCOMPLETE"}, {CORIO_ELIMIT, "CORIO_ELIMIT"},
    {CORIO_EAI_NONAME, "CORIO_EAI_NONAME"},   {CORIO_EAI_AGAIN, "CORIO_EAI_AGAIN"},
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

Test(errors, zero_is_ok, .timeout = 10)
{
    cr_assert_str_eq(corio_err_name(0), "OK");
    cr_assert_str_eq(corio_strerror(0), "success");
}

Test(errors, unknown_code_name, .timeout = 10)
{
    cr_assert_str_eq(corio_err_name(-99999), "UNKNOWN");
    cr_assert_str_eq(corio_err_name(-20999), "UNKNOWN");
    cr_assert_str_eq(corio_err_name(-20000), "UNKNOWN");
    cr_assert_str_eq(corio_err_name(-20007), "UNKNOWN");
    cr_assert_str_eq(corio_err_name(-21001), "UNKNOWN", "getaddrinfo's range starts at -21002");
    cr_assert_str_eq(corio_err_name(-21012), "UNKNOWN");
    cr_assert_not_null(corio_err_name(12345));
    cr_assert_not_null(corio_err_name(INT_MIN));
    cr_assert_not_null(corio_err_name(INT_MAX));
}

/* ---- CORIO_ERROR_MAP: the one list the constants, names and descriptions come from ---- */

Test(errors, error_map_values_are_distinct, .timeout = 10)
{
    cr_assert_geq(N_MAP, 20, "the map lists every corio code");
    for (size_t i = 0; i < N_MAP; i++) {
        cr_assert_eq(corio_map[i].code, corio_map[i].value, "%s", corio_map[i].name);
        cr_assert_lt(corio_map[i].value, -20000, "%s lies outside errno's range",
                     corio_map[i].name);
        for (size_t j = i + 1; j < N_MAP; j++)
            cr_assert_neq(corio_map[i].value, corio_map[j].value, "%s and %s share %d",
                          corio_map[i].name, corio_map[j].name, corio_map[i].value);
    }
}

Test(errors, error_map_names, .timeout = 10)
{
    for (size_t i = 0; i < N_MAP; i++) {
        const char *n = corio_err_name(corio_map[i].value);
        cr_assert_not_null(n);
        cr_assert_str_eq(n, corio_map[i].name);
    }
}

Test(errors, error_map_descriptions, .timeout = 10)
{
    for (size_t i = 0; i < N_MAP; i++) {
        cr_assert_not_null(corio_map[i].text);
        cr_assert_gt(strlen(corio_map[i].text), 0, "%s has no description", corio_map[i].name);
        const char *s = corio_strerror(corio_map[i].value);
        cr_assert_not_null(s);
        cr_assert_str_eq(s, corio_map[i].text, "corio_strerror(%s)", corio_map[i].name);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(corio_map[i].text, corio_map[j].text,
                              "%s and %s share a description", corio_map[i].name,
                              corio_map[j].name);
    }
}

Test(errors, name_lookup_codes_are_fixed, .timeout = 10)
{
    /* They no longer depend on the C library's EAI_* numbers. */
    cr_assert_eq(CORIO_EAI_AGAIN, -21002);
    cr_assert_eq(CORIO_EAI_NONAME, -21006);
    cr_assert_eq(CORIO_EAI_OVERFLOW, -21011);
    cr_assert_str_eq(corio_err_name(CORIO_EAI_NONAME), "CORIO_EAI_NONAME");
    cr_assert_str_eq(corio_err_name(CORIO_EAI_SERVICE), "CORIO_EAI_SERVICE");
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
    int odd[] = {0, 1, -1, -99999, 99999, INT_MIN, INT_MAX, -20000, -20007, -21001};
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
    cr_assert_eq(corio_loop_free(NULL), 0, "free(NULL) does nothing");
    corio_future_unref(NULL);
    corio_handle_unref(NULL);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_call_soon(NULL, loop, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_loop_call_later(NULL, loop, 1.0, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_loop_call_at(NULL, loop, 1.0, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_loop_call_later(NULL, loop, NAN, noop, NULL), -EINVAL);
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_set_error(f, 0), -EINVAL);
    cr_assert_eq(corio_future_set_error(f, 1), -EINVAL);
    cr_assert_null(corio_raise(-EIO), "outside a task: does nothing");
    cr_assert_null(corio_raise(1));
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(errors, null_loop_without_loop_in_call_soon, .timeout = 10)
{
    /* A NULL loop is the running or current loop; with neither: CORIO_ENOLOOP (tests/
     * test_null_loop.c checks every function that takes a loop). */
    corio_handle *h = SENTINEL;
    cr_assert_eq(corio_loop_call_soon(&h, NULL, noop, NULL), CORIO_ENOLOOP);
    cr_assert_null(h);
    cr_assert_eq(corio_loop_call_later(NULL, NULL, 0.1, noop, NULL), CORIO_ENOLOOP);
    cr_assert_eq(corio_loop_call_at(NULL, NULL, 0.1, noop, NULL), CORIO_ENOLOOP);
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
    corio_task_unref(NULL);
    corio_handle_cancel(NULL);
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_add_done_callback(f, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_loop_run_until_complete(loop, NULL, NULL), -EINVAL);
    corio_task *t = SENTINEL;
    cr_assert_eq(corio_create_task(&t, loop, NULL, NULL, NULL), -EINVAL);
    cr_assert_null(t);
    corio_future_unref(f);
    corio_loop_free(loop);
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
    corio_loop_free(loop);
}

Test(errors, gather_new_null_array, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    corio_future *g = SENTINEL;
    cr_assert_eq(corio_gather_new(&g, NULL, 3, 0), -EINVAL);
    cr_assert_null(g);
    corio_future *fs[2] = {NULL, NULL};
    cr_assert_eq(corio_future_new(&fs[0], loop), 0);
    g = SENTINEL;
    cr_assert_eq(corio_gather_new(&g, fs, 2, 0), -EINVAL, "a NULL child");
    cr_assert_null(g);
    corio_future_unref(fs[0]);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_loop_free(loop);
}

Test(errors, run_with_null_fn, .timeout = 10)
{
    cr_assert_eq(corio_run(NULL, NULL, NULL, NULL), -EINVAL);
}
