/* corio_loop_add_signal_handler / remove_signal_handler: asyncio's loop.add_signal_handler, with
 * the cases of CPython's test_unix_events.py that apply to C (invalid and uncatchable signals,
 * removal, close, the previous action put back) and corio's own rules (a loop callback, never
 * signal context; the thread's mask; the executor's threads; a second add is refused). */
#include "signal_helpers.h"

static int calls, last_signo, calls_at_kill_return;
static pthread_t handler_thread;

static void count_handler(int signo, void *arg)
{
    calls++;
    last_signo = signo;
    handler_thread = pthread_self();
    if (arg)
        corio_event_set(arg);
}

static void *kill_and_wait(void *arg)
{
    kill(getpid(), SIGUSR1);
    calls_at_kill_return = calls; /* kill to oneself delivers before it returns */
    cr_expect_eq(event_wait_bounded(arg), 0);
    return NULL;
}

Test(signal_handler, runs_on_the_loop_thread_as_a_callback, .timeout = 20)
{
    corio_loop *loop = new_loop();
    corio_event *ev;
    cr_assert_eq(corio_event_new(&ev, loop), 0);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR1, count_handler, ev), 0);
    cr_assert_eq(run_main(loop, kill_and_wait, ev, NULL), 0);
    cr_expect_eq(calls_at_kill_return, 0, "the handler ran in signal context");
    cr_expect_eq(calls, 1);
    cr_expect_eq(last_signo, SIGUSR1);
    cr_expect(pthread_equal(handler_thread, pthread_self()));
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    cr_expect_eq(corio_event_free(ev), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

static void nop_handler(int signo, void *arg)
{
    (void)signo;
    (void)arg;
}

Test(signal_handler, signals_that_cannot_be_taken_are_refused, .timeout = 10)
{
    corio_loop *loop = new_loop();
    const int bad[] = {0, -1, NSIG, 65, 1000, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
                       SIGTRAP};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(corio_loop_add_signal_handler(loop, bad[i], nop_handler, NULL), -EINVAL,
                     "signal %d", bad[i]);
        cr_expect_eq(corio_loop_remove_signal_handler(loop, bad[i]), -EINVAL, "signal %d", bad[i]);
    }
    cr_expect_eq(action_of(SIGKILL), SIG_DFL);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(signal_handler, a_second_add_is_refused_and_remove_says_what_it_did, .timeout = 10)
{
    corio_loop *loop = new_loop();
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR1), 0);
    cr_expect_eq(corio_loop_add_signal_handler(loop, SIGUSR1, nop_handler, NULL), 0);
    cr_expect_eq(corio_loop_add_signal_handler(loop, SIGUSR1, count_handler, NULL), -EEXIST);
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR1), 0);
    cr_expect_eq(corio_loop_add_signal_handler(loop, SIGUSR1, count_handler, NULL), 0);
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    cr_assert_eq(corio_loop_free(loop), 0);
}

static int previous_calls;
static void previous_action(int signo)
{
    (void)signo;
    previous_calls++;
}

static void install_previous(int signo)
{
    struct sigaction sa = {0};
    sa.sa_handler = previous_action;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(signo, &sa, NULL), 0);
}

Test(signal_handler, removal_puts_the_previous_action_back, .timeout = 10)
{
    install_previous(SIGUSR2);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR2, nop_handler, NULL), 0);
    cr_expect_neq(action_of(SIGUSR2), previous_action);
    kill(getpid(), SIGUSR2);
    cr_expect_eq(previous_calls, 0, "the previous action ran while corio had the signal");
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR2), 1);
    cr_expect_eq(action_of(SIGUSR2), previous_action);
    kill(getpid(), SIGUSR2);
    cr_expect_eq(previous_calls, 1);
    /* Also with SIG_DFL and SIG_IGN before. */
    signal(SIGHUP, SIG_IGN);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGHUP, nop_handler, NULL), 0);
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGHUP), 1);
    cr_expect_eq(action_of(SIGHUP), SIG_IGN);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGWINCH, nop_handler, NULL), 0);
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGWINCH), 1);
    cr_expect_eq(action_of(SIGWINCH), SIG_DFL);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(signal_handler, close_removes_every_handler_and_puts_the_actions_back, .timeout = 10)
{
    install_previous(SIGUSR1);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR1, count_handler, NULL), 0);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR2, count_handler, NULL), 0);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGTERM, count_handler, NULL), 0);
    kill(getpid(), SIGUSR1); /* recorded, never dispatched: the loop does not run again */
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_expect_eq(action_of(SIGUSR1), previous_action);
    cr_expect_eq(action_of(SIGUSR2), SIG_DFL);
    cr_expect_eq(action_of(SIGTERM), SIG_DFL);
    cr_expect_eq(calls, 0);
    cr_expect_eq(corio_loop_add_signal_handler(loop, SIGUSR2, count_handler, NULL), CORIO_ECLOSED);
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR2), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(signal_handler, a_signal_blocked_on_the_thread_is_unblocked_then_blocked_again,
     .timeout = 10)
{
    set_blocked(SIGUSR1, 1);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR1, nop_handler, NULL), 0);
    cr_expect_not(blocked_here(SIGUSR1));
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR1), 1);
    cr_expect(blocked_here(SIGUSR1));
    /* One that was not blocked stays unblocked. */
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR2, nop_handler, NULL), 0);
    cr_expect_eq(corio_loop_remove_signal_handler(loop, SIGUSR2), 1);
    cr_expect_not(blocked_here(SIGUSR2));
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* Deliveries that arrive before the loop reads them run the handler once. */
static void *kill_three_times(void *arg)
{
    for (int i = 0; i < 3; i++)
        kill(getpid(), SIGUSR1);
    cr_expect_eq(event_wait_bounded(arg), 0);
    cr_expect_eq(corio_sleep(0.05), 0); /* room for a wrong second call */
    return NULL;
}

Test(signal_handler, deliveries_between_two_passes_are_merged, .timeout = 20)
{
    corio_loop *loop = new_loop();
    corio_event *ev;
    cr_assert_eq(corio_event_new(&ev, loop), 0);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR1, count_handler, ev), 0);
    cr_assert_eq(run_main(loop, kill_three_times, ev, NULL), 0);
    cr_expect_eq(calls, 1);
    cr_expect_eq(corio_event_free(ev), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* A handler that removes itself, and one that removes the next one before it runs. */
static corio_loop *the_loop;
static int removed_self, other_calls;
static void remove_self(int signo, void *arg)
{
    removed_self = corio_loop_remove_signal_handler(the_loop, signo);
    cr_expect_eq(corio_loop_remove_signal_handler(the_loop, SIGUSR2), 1);
    corio_event_set(arg);
}
static void other_handler(int signo, void *arg)
{
    (void)signo;
    (void)arg;
    other_calls++;
}

static void *kill_both(void *arg)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    /* Both recorded before the loop's next pass. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    cr_expect_eq(event_wait_bounded(arg), 0);
    cr_expect_eq(corio_sleep(0.05), 0);
    return NULL;
}

Test(signal_handler, a_handler_may_remove_itself_and_others, .timeout = 20)
{
    corio_loop *loop = the_loop = new_loop();
    corio_event *ev;
    cr_assert_eq(corio_event_new(&ev, loop), 0);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR1, remove_self, ev), 0);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR2, other_handler, NULL), 0);
    cr_assert_eq(run_main(loop, kill_both, ev, NULL), 0);
    cr_expect_eq(removed_self, 1);
    cr_expect_eq(other_calls, 0, "a removed handler ran");
    cr_expect_eq(action_of(SIGUSR1), SIG_DFL);
    cr_expect_eq(action_of(SIGUSR2), SIG_DFL);
    cr_expect_eq(corio_event_free(ev), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* A signal that another thread takes (a thread of the program that does not block it) still
 * reaches the loop's handler, on the loop's thread. */
static void *bystander(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

static void *signal_bystander(void *arg)
{
    pthread_t *t = arg;
    set_blocked(SIGUSR1, 1); /* only the bystander can take it */
    pthread_kill(*t, SIGUSR1);
    return NULL;
}

static corio_event *bystander_event;
static void *signal_bystander_and_wait(void *arg)
{
    signal_bystander(arg);
    cr_expect_eq(event_wait_bounded(bystander_event), 0);
    return NULL;
}

Test(signal_handler, a_signal_taken_by_another_thread_reaches_the_loop, .timeout = 20)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_event_new(&bystander_event, loop), 0);
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR1, count_handler, bystander_event), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, bystander, NULL), 0);
    cr_assert_eq(run_main(loop, signal_bystander_and_wait, &t, NULL), 0);
    cr_expect_eq(calls, 1);
    cr_expect(pthread_equal(handler_thread, pthread_self()));
    pthread_cancel(t);
    pthread_join(t, NULL);
    cr_expect_eq(corio_event_free(bystander_event), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* The executor's threads never take a signal: they block them all. */
static void *read_mask(void *arg, int *err)
{
    (void)err;
    sigset_t *set = arg;
    pthread_sigmask(SIG_BLOCK, NULL, set);
    return NULL;
}

static void *mask_of_a_worker(void *arg)
{
    cr_expect_eq(corio_to_thread(read_mask, arg, NULL), 0);
    return NULL;
}

Test(signal_handler, executor_threads_block_signals, .timeout = 20)
{
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_loop_add_signal_handler(loop, SIGUSR1, nop_handler, NULL), 0);
    sigset_t set;
    sigemptyset(&set);
    cr_assert_eq(run_main(loop, mask_of_a_worker, &set, NULL), 0);
    const int sigs[] = {SIGUSR1, SIGUSR2, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        cr_expect(sigismember(&set, sigs[i]), "signal %d not blocked in a worker", sigs[i]);
    cr_assert_eq(corio_loop_free(loop), 0);
}
