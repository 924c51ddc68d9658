/* call_soon_threadsafe (CPython test_events.py: test_call_soon_threadsafe and friends): a callback
 * posted from another thread runs on the loop's thread and wakes a loop sleeping without timers;
 * from the loop's own thread it keeps FIFO order with call_soon; a closed loop refuses; a NULL
 * loop is the calling thread's own (running, else current), else CORIO_ENOLOOP. The many-thread
 * stress test is tests/standalone_threadsafe.c (it runs under TSan). */
#include "core_helpers.h"

#include <pthread.h>
#include <stdatomic.h>

static corio_loop *the_loop;
static pthread_t loop_tid;

static void log_cb(void *arg)
{
    cr_expect(pthread_equal(pthread_self(), loop_tid));
    ev(VI(arg));
}

static void log_and_stop(void *arg)
{
    log_cb(arg);
    corio_loop_stop(the_loop);
}

static void *poster(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* the loop is asleep by now, with nothing to wake it but us */
    for (int i = 1; i <= 3; i++)
        cr_expect_eq(corio_loop_call_soon_threadsafe(the_loop, log_cb, IV(i)), 0);
    cr_expect_eq(corio_loop_call_soon_threadsafe(the_loop, log_and_stop, IV(4)), 0);
    return NULL;
}

Test(call_soon_threadsafe, wakes_a_sleeping_loop, .timeout = 10)
{
    the_loop = new_loop();
    loop_tid = pthread_self();
    pthread_t th;
    pthread_create(&th, NULL, poster, NULL);
    cr_assert_eq(corio_loop_run_forever(the_loop), 0);
    pthread_join(th, NULL);
    EV_EXPECT(1, 2, 3, 4);
    cr_assert_eq(corio_loop_free(the_loop), 0);
}

static void *late_poster(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_loop_call_soon_threadsafe(the_loop, log_and_stop, IV(2)), 0);
    return NULL;
}

Test(call_soon_threadsafe, wakes_a_loop_sleeping_until_a_far_timer, .timeout = 10)
{
    the_loop = new_loop();
    loop_tid = pthread_self();
    corio_handle *far = NULL;
    cr_assert_eq(corio_loop_call_later(&far, the_loop, 3600, log_cb, IV(1)), 0);
    pthread_t th;
    pthread_create(&th, NULL, late_poster, NULL);
    double t0 = now_s();
    cr_assert_eq(corio_loop_run_forever(the_loop), 0);
    cr_assert_lt(now_s() - t0, 5.0);
    pthread_join(th, NULL);
    EV_EXPECT(2);
    corio_handle_unref(far);
    cr_assert_eq(corio_loop_free(the_loop), 0);
}

static void mixed(void *arg)
{
    (void)arg;
    corio_loop_call_soon(NULL, the_loop, log_cb, IV(1));
    corio_loop_call_soon_threadsafe(the_loop, log_cb, IV(2));
    corio_loop_call_soon(NULL, the_loop, log_cb, IV(3));
    corio_loop_call_soon_threadsafe(the_loop, log_and_stop, IV(4));
}

Test(call_soon_threadsafe, from_the_loop_thread_keeps_fifo_with_call_soon, .timeout = 10)
{
    the_loop = new_loop();
    loop_tid = pthread_self();
    cr_assert_eq(corio_loop_call_soon(NULL, the_loop, mixed, NULL), 0);
    cr_assert_eq(corio_loop_run_forever(the_loop), 0);
    EV_EXPECT(1, 2, 3, 4);
    cr_assert_eq(corio_loop_free(the_loop), 0);
}

Test(call_soon_threadsafe, before_the_loop_runs_and_after_close, .timeout = 10)
{
    the_loop = new_loop();
    loop_tid = pthread_self();
    /* posted before the loop ever runs: the first iteration picks it up */
    cr_assert_eq(corio_loop_call_soon_threadsafe(the_loop, log_and_stop, IV(1)), 0);
    cr_assert_eq(corio_loop_run_forever(the_loop), 0);
    EV_EXPECT(1);
    /* posted and never run: dropped (freed) by close */
    cr_assert_eq(corio_loop_call_soon_threadsafe(the_loop, log_cb, IV(2)), 0);
    cr_assert_eq(corio_loop_close(the_loop), 0);
    EV_EXPECT(1);
    /* the closed loop, still a valid object until freed, refuses posts */
    cr_assert_eq(corio_loop_call_soon_threadsafe(the_loop, log_cb, IV(3)), CORIO_ECLOSED);
    cr_assert_eq(corio_loop_free(the_loop), 0);
    EV_EXPECT(1);
}

/* ---- a NULL loop: the calling thread's own ---- */

static atomic_int other_thread_rc = 1;

static void *posts_to_null(void *arg)
{
    (void)arg;
    atomic_store(&other_thread_rc, corio_loop_call_soon_threadsafe(NULL, log_cb, IV(9)));
    return NULL;
}

/* A callback of the running loop: NULL is that loop. */
static void posts_from_the_loop(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_loop_call_soon_threadsafe(NULL, log_cb, IV(3)), 0);
    cr_expect_eq(corio_loop_call_soon_threadsafe(NULL, log_and_stop, IV(4)), 0);
}

Test(call_soon_threadsafe, null_loop_is_the_callers_own, .timeout = 10)
{
    the_loop = new_loop();
    loop_tid = pthread_self();
    cr_assert_eq(corio_loop_call_soon_threadsafe(NULL, log_cb, IV(1)), CORIO_ENOLOOP,
                 "no loop running or current on this thread");
    /* the current loop */
    cr_assert_eq(corio_set_event_loop(the_loop), 0);
    cr_assert_eq(corio_loop_call_soon_threadsafe(NULL, log_and_stop, IV(2)), 0);
    cr_assert_eq(corio_loop_run_forever(the_loop), 0);
    EV_EXPECT(2);
    /* another thread's NULL is its own loop, not this one: it has none */
    pthread_t th;
    pthread_create(&th, NULL, posts_to_null, NULL);
    pthread_join(th, NULL);
    cr_assert_eq(atomic_load(&other_thread_rc), CORIO_ENOLOOP);
    /* the running loop */
    cr_assert_eq(corio_loop_call_soon(NULL, the_loop, posts_from_the_loop, NULL), 0);
    cr_assert_eq(corio_loop_run_forever(the_loop), 0);
    EV_EXPECT(2, 3, 4);
    cr_assert_eq(corio_loop_free(the_loop), 0);
}

Test(call_soon_threadsafe, bad_input, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_call_soon_threadsafe(loop, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_loop_free(loop), 0);
}
