/* Futures: states, outcomes, cancel, ownership (CPython test_futures.py: test_initial_state,
 * test_result, test_exception, test_cancel, test_set_result_twice, ...). */
#include "core_helpers.h"

Test(future_state, initial_state_is_pending, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_PENDING);
    cr_assert_eq(corio_future_done(f), 0);
    cr_assert_eq(corio_future_cancelled(f), 0);
    cr_assert_eq(corio_future_get_loop(f), loop);
    cr_assert_null(corio_future_cancel_message(f));
    corio_future_unref(f);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(future_state, result_of_pending_future_is_invalid_state, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    void *v = IV(77);
    cr_assert_eq(corio_future_result(f, &v), CORIO_EINVALSTATE);
    cr_assert_eq(corio_future_error(f), CORIO_EINVALSTATE);
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_PENDING);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, set_result, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_set_result(f, IV(42)), 0);
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_FINISHED);
    cr_assert(corio_future_done(f));
    cr_assert_eq(corio_future_cancelled(f), 0);
    void *v = NULL;
    cr_assert_eq(corio_future_result(f, &v), 0);
    cr_assert_eq(v, IV(42));
    /* Asking twice gives the same outcome. */
    v = NULL;
    cr_assert_eq(corio_future_result(f, &v), 0);
    cr_assert_eq(v, IV(42));
    cr_assert_eq(corio_future_error(f), 0);
    /* value may be NULL */
    cr_assert_eq(corio_future_result(f, NULL), 0);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, null_result_value, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_set_result(f, NULL), 0);
    void *v = IV(5);
    cr_assert_eq(corio_future_result(f, &v), 0);
    cr_assert_null(v);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, set_result_twice_is_invalid_state, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_set_result(f, IV(1)), 0);
    cr_assert_eq(corio_future_set_result(f, IV(2)), CORIO_EINVALSTATE);
    cr_assert_eq(corio_future_set_error(f, -EIO), CORIO_EINVALSTATE);
    cr_assert_eq(corio_future_cancel(f, "late"), 0, "cancel of a done future returns 0");
    void *v = NULL;
    cr_assert_eq(corio_future_result(f, &v), 0);
    cr_assert_eq(v, IV(1), "the first outcome stays");
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_FINISHED);
    cr_assert_null(corio_future_cancel_message(f));
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, set_error, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_set_error(f, -EIO), 0);
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_FINISHED, "an error is still FINISHED");
    cr_assert(corio_future_done(f));
    cr_assert_eq(corio_future_cancelled(f), 0);
    cr_assert_eq(corio_future_error(f), -EIO);
    void *v = IV(9);
    cr_assert_eq(corio_future_result(f, &v), -EIO);
    cr_assert_eq(corio_future_set_result(f, IV(1)), CORIO_EINVALSTATE);
    cr_assert_eq(corio_future_set_error(f, -EPIPE), CORIO_EINVALSTATE);
    cr_assert_eq(corio_future_error(f), -EIO);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, set_error_with_own_code, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_set_error(f, CORIO_ESTOPPED), 0);
    cr_assert_eq(corio_future_error(f), CORIO_ESTOPPED);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, set_error_rejects_non_negative, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_set_error(f, 0), -EINVAL);
    cr_assert_eq(corio_future_set_error(f, 5), -EINVAL);
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_PENDING,
                 "a rejected set_error leaves it pending");
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, set_error_ecanceled_cancels, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_set_error(f, -ECANCELED), 0);
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_CANCELLED);
    cr_assert(corio_future_cancelled(f));
    cr_assert_eq(corio_future_error(f), -ECANCELED);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, cancel, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_cancel(f, NULL), 1);
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_CANCELLED);
    cr_assert(corio_future_done(f));
    cr_assert(corio_future_cancelled(f));
    cr_assert_null(corio_future_cancel_message(f));
    void *v = IV(3);
    cr_assert_eq(corio_future_result(f, &v), -ECANCELED);
    cr_assert_eq(corio_future_error(f), -ECANCELED);
    cr_assert_eq(corio_future_cancel(f, NULL), 0, "cancel of a done future returns 0");
    cr_assert_eq(corio_future_set_result(f, IV(1)), CORIO_EINVALSTATE);
    cr_assert_eq(corio_future_set_error(f, -EIO), CORIO_EINVALSTATE);
    cr_assert_eq(corio_future_get_state(f), CORIO_FUTURE_CANCELLED);
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, cancel_with_message_is_copied, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    char msg[32];
    strcpy(msg, "my message");
    cr_assert_eq(corio_future_cancel(f, msg), 1);
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = 0;
    cr_assert_not_null(corio_future_cancel_message(f));
    cr_assert_str_eq(corio_future_cancel_message(f), "my message");
    /* A second cancel does not replace the message. */
    cr_assert_eq(corio_future_cancel(f, "other"), 0);
    cr_assert_str_eq(corio_future_cancel_message(f), "my message");
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, cancel_with_empty_message, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_cancel(f, ""), 1);
    cr_assert_not_null(corio_future_cancel_message(f));
    cr_assert_str_eq(corio_future_cancel_message(f), "");
    corio_future_unref(f);
    corio_loop_free(loop);
}

Test(future_state, references, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, loop), 0);
    cr_assert_eq(corio_future_ref(f), f);
    cr_assert_eq(corio_future_ref(f), f);
    corio_future_unref(f);
    corio_future_unref(f);
    /* still alive: one reference left */
    cr_assert_eq(corio_future_set_result(f, IV(1)), 0);
    cr_assert(corio_future_done(f));
    corio_future_unref(f);
    corio_future_unref(NULL); /* ignored */
    corio_loop_free(loop);
}

Test(future_state, future_new_uses_current_loop, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_set_event_loop(loop), 0);
    corio_future *f;
    cr_assert_eq(corio_future_new(&f, NULL), 0);
    cr_assert_eq(corio_future_get_loop(f), loop);
    corio_future_unref(f);
    cr_assert_eq(corio_set_event_loop(NULL), 0);
    corio_loop_free(loop);
}

Test(future_state, future_new_without_any_loop_is_enoloop, .timeout = 10)
{
    /* A NULL loop with no running and no current loop: CORIO_ENOLOOP, *out set to NULL. */
    corio_future *f = SENTINEL;
    cr_assert_eq(corio_future_new(&f, NULL), CORIO_ENOLOOP);
    cr_assert_null(f);
    cr_assert_null(corio_get_event_loop(), "no loop was created on the way");
}

Test(future_state, future_new_null_out_is_einval, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_future_new(NULL, loop), -EINVAL);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(future_state, future_new_on_closed_loop_is_eclosed, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_close(loop), 0);
    corio_future *f = SENTINEL;
    cr_assert_eq(corio_future_new(&f, loop), CORIO_ECLOSED);
    cr_assert_null(f);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(future_state, many_futures_independent, .timeout = 10)
{
    corio_loop *loop = new_loop();
    enum { N = 1000 };
    static corio_future *fs[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(corio_future_new(&fs[i], loop), 0);
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0)
            corio_future_set_result(fs[i], IV(i));
        else if (i % 3 == 1)
            corio_future_set_error(fs[i], -(1 + i % 100));
        else
            corio_future_cancel(fs[i], NULL);
    }
    for (int i = 0; i < N; i++) {
        void *v = NULL;
        int rc = corio_future_result(fs[i], &v);
        if (i % 3 == 0) {
            cr_assert_eq(rc, 0);
            cr_assert_eq(v, IV(i));
        } else if (i % 3 == 1) {
            cr_assert_eq(rc, -(1 + i % 100));
        } else {
            cr_assert_eq(rc, -ECANCELED);
        }
        corio_future_unref(fs[i]);
    }
    corio_loop_free(loop);
}
