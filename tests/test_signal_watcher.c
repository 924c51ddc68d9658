/* corio_signal_watcher: awaiting signals in straight-line code. What matters: a delivery between
 * two waits is kept, not lost; a cancelled wait takes nothing; several waiters share deliveries;
 * a watcher and a handler of one loop both get a signal; close unregisters. */
#include "signal_helpers.h"

static corio_signal_watcher *new_watcher(corio_loop *loop, const int *sigs, size_t n)
{
    corio_signal_watcher *w = SENTINEL;
    cr_assert_eq(corio_signal_watcher_new(&w, loop, sigs, n), 0);
    cr_assert_not_null(w);
    return w;
}

static void *wait_twice(void *arg)
{
    corio_signal_watcher *w = arg;
    kill(getpid(), SIGUSR1);
    cr_expect_eq(watcher_wait_bounded(w), SIGUSR1);
    kill(getpid(), SIGUSR2); /* before the second wait: kept */
    cr_expect_eq(corio_sleep(0.01), 0);
    cr_expect_eq(corio_signal_watcher_pending(w), 1ull << (SIGUSR2 - 1));
    cr_expect_eq(watcher_wait_bounded(w), SIGUSR2);
    cr_expect_eq(corio_signal_watcher_pending(w), 0);
    return NULL;
}

Test(signal_watcher, a_delivery_between_two_waits_is_kept, .timeout = 20)
{
    corio_loop *loop = new_loop();
    const int sigs[] = {SIGUSR1, SIGUSR2, SIGUSR1};
    corio_signal_watcher *w = new_watcher(loop, sigs, 3);
    cr_expect_neq(action_of(SIGUSR1), SIG_DFL);
    cr_assert_eq(run_main(loop, wait_twice, w, NULL), 0);
    cr_expect_eq(corio_signal_watcher_free(w), 0);
    cr_expect_eq(action_of(SIGUSR1), SIG_DFL);
    cr_expect_eq(action_of(SIGUSR2), SIG_DFL);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* Several signals pending come out lowest first; repeats of one are one. */
static void *pending_order(void *arg)
{
    corio_signal_watcher *w = arg;
    kill(getpid(), SIGTERM);
    kill(getpid(), SIGHUP);
    kill(getpid(), SIGHUP);
    cr_expect_eq(corio_sleep(0.01), 0);
    cr_expect_eq(watcher_wait_bounded(w), SIGHUP);
    cr_expect_eq(watcher_wait_bounded(w), SIGTERM);
    cr_expect_eq(corio_signal_watcher_pending(w), 0);
    return NULL;
}

Test(signal_watcher, pending_signals_come_lowest_first, .timeout = 20)
{
    corio_loop *loop = new_loop();
    const int sigs[] = {SIGTERM, SIGHUP};
    corio_signal_watcher *w = new_watcher(loop, sigs, 2);
    cr_assert_eq(run_main(loop, pending_order, w, NULL), 0);
    cr_expect_eq(corio_signal_watcher_free(w), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* A cancelled wait takes nothing: the signal that comes after is there for the next wait. */
static void *waiter(void *arg)
{
    return IV(corio_signal_watcher_wait(arg));
}

static void *cancel_then_wait(void *arg)
{
    corio_signal_watcher *w = arg;
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, NULL, waiter, w, NULL), 0);
    cr_expect_eq(corio_sleep(0.01), 0);
    cr_expect_eq(corio_signal_watcher_free(w), -EBUSY);
    corio_task_cancel(t, NULL);
    void *res;
    cr_expect_eq(corio_await(corio_task_future(t), &res), -ECANCELED);
    corio_task_unref(t);
    kill(getpid(), SIGUSR1);
    cr_expect_eq(watcher_wait_bounded(w), SIGUSR1);
    return NULL;
}

Test(signal_watcher, a_cancelled_wait_takes_nothing, .timeout = 20)
{
    corio_loop *loop = new_loop();
    int sig = SIGUSR1;
    corio_signal_watcher *w = new_watcher(loop, &sig, 1);
    cr_assert_eq(run_main(loop, cancel_then_wait, w, NULL), 0);
    cr_expect_eq(corio_signal_watcher_free(w), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* Three waiters, three deliveries apart: each goes to one waiter. */
static void *share(void *arg)
{
    corio_signal_watcher *w = arg;
    corio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(corio_create_task(&t[i], NULL, waiter, w, NULL), 0);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(corio_sleep(0.01), 0);
        kill(getpid(), SIGUSR2);
    }
    for (int i = 0; i < 3; i++) {
        void *res = NULL;
        corio_timeout *tm;
        cr_assert_eq(corio_timeout_enter(&tm, SIGNAL_WAIT_LIMIT), 0);
        int rc = corio_timeout_exit(tm, corio_await(corio_task_future(t[i]), &res));
        cr_expect_eq(rc, 0, "waiter %d: %s", i, corio_strerror(rc));
        cr_expect_eq(VI(res), SIGUSR2);
        corio_task_unref(t[i]);
    }
    return NULL;
}

Test(signal_watcher, several_waiters_share_the_deliveries, .timeout = 20)
{
    corio_loop *loop = new_loop();
    int sig = SIGUSR2;
    corio_signal_watcher *w = new_watcher(loop, &sig, 1);
    cr_assert_eq(run_main(loop, share, w, NULL), 0);
    cr_expect_eq(corio_signal_watcher_free(w), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* A handler and two watchers of one loop all get one delivery. */
static int handler_calls;
static void handler(int signo, void *arg)
{
    (void)signo;
    (void)arg;
    handler_calls++;
}

static void *both(void *arg)
{
    corio_signal_watcher **w = arg;
    kill(getpid(), SIGUSR1);
    cr_expect_eq(watcher_wait_bounded(w[0]), SIGUSR1);
    cr_expect_eq(watcher_wait_bounded(w[1]), SIGUSR1);
    return NULL;
}

Test(signal_watcher, a_handler_and_watchers_of_one_loop_each_get_the_signal, .timeout = 20)
{
    corio_loop *loop = new_loop();
    int sig = SIGUSR1;
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR1, handler, NULL), 0);
    corio_signal_watcher *w[2] = {new_watcher(loop, &sig, 1), new_watcher(loop, &sig, 1)};
    cr_assert_eq(run_main(loop, both, w, NULL), 0);
    cr_expect_eq(handler_calls, 1);
    cr_expect_eq(corio_signal_watcher_free(w[0]), 0);
    cr_expect_neq(action_of(SIGUSR1), SIG_DFL, "given back while a handler and a watcher hold it");
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    cr_expect_neq(action_of(SIGUSR1), SIG_DFL, "given back while a watcher holds it");
    cr_expect_eq(corio_signal_watcher_free(w[1]), 0);
    cr_expect_eq(action_of(SIGUSR1), SIG_DFL);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* The loop's close destroys a waiting task and unregisters the watcher; the watcher object
 * stays the owner's to free. */
static void *wait_forever(void *arg)
{
    cr_expect_eq(corio_signal_watcher_wait(arg), -ECANCELED);
    return NULL;
}

Test(signal_watcher, close_unregisters_and_the_watcher_is_still_freed, .timeout = 20)
{
    corio_loop *loop = new_loop();
    int sig = SIGUSR2;
    corio_signal_watcher *w = new_watcher(loop, &sig, 1);
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, wait_forever, w, NULL), 0);
    corio_task_unref(t);
    run_once(loop);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_expect_eq(action_of(SIGUSR2), SIG_DFL);
    cr_expect_eq(corio_signal_watcher_pending(w), 0);
    cr_expect_eq(corio_signal_watcher_free(w), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(signal_watcher, bad_arguments, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_signal_watcher *w = SENTINEL;
    int sigs[] = {SIGUSR1, SIGKILL};
    cr_expect_eq(corio_signal_watcher_new(&w, loop, sigs, 0), -EINVAL);
    cr_expect_null(w);
    cr_expect_eq(corio_signal_watcher_new(&w, loop, sigs, 2), -EINVAL);
    cr_expect_eq(action_of(SIGUSR1), SIG_DFL, "a refused watcher left a signal taken");
    int zero = 0;
    cr_expect_eq(corio_signal_watcher_new(&w, loop, &zero, 1), -EINVAL);
    w = new_watcher(loop, sigs, 1);
    cr_expect_eq(corio_signal_watcher_wait(w), CORIO_ENOTASK);
    cr_expect_eq(corio_signal_watcher_free(w), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}
