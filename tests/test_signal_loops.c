/* Signals and several loops in one process: a signal belongs to one loop at a time
 * (CORIO_ESIGOWNED for another), is free again for any loop once its loop lets it go, and loops
 * on different threads each get their own signals on their own thread. */
#include "signal_helpers.h"

static void nop_handler(int signo, void *arg)
{
    (void)signo;
    (void)arg;
}

Test(signal_loops, a_signal_belongs_to_one_loop_at_a_time, .timeout = 10)
{
    corio_loop *a = new_loop(), *b = new_loop();
    cr_assert_eq(corio_loop_add_signal_handler(a, SIGUSR1, nop_handler, NULL), 0);
    cr_expect_eq(corio_loop_add_signal_handler(b, SIGUSR1, nop_handler, NULL), CORIO_ESIGOWNED);
    corio_signal_watcher *w = SENTINEL;
    int sigs[] = {SIGUSR2, SIGUSR1};
    cr_expect_eq(corio_signal_watcher_new(&w, b, sigs, 2), CORIO_ESIGOWNED);
    cr_expect_null(w);
    cr_expect_eq(action_of(SIGUSR2), SIG_DFL, "a refused watcher kept its first signal");
    cr_expect_eq(corio_loop_remove_signal_handler(b, SIGUSR1), 0);
    cr_expect_eq(corio_loop_remove_signal_handler(a, SIGUSR1), 1);
    cr_expect_eq(corio_loop_add_signal_handler(b, SIGUSR1, nop_handler, NULL), 0);
    cr_expect_eq(corio_loop_add_signal_handler(a, SIGUSR1, nop_handler, NULL), CORIO_ESIGOWNED);
    /* Closing b frees it for a. */
    cr_assert_eq(corio_loop_free(b), 0);
    cr_expect_eq(corio_loop_add_signal_handler(a, SIGUSR1, nop_handler, NULL), 0);
    cr_assert_eq(corio_loop_free(a), 0);
    cr_expect_eq(action_of(SIGUSR1), SIG_DFL);
}

/* Two threads, each with a loop awaiting its own signal, signalled by the main thread. */
typedef struct side {
    int signo;
    int got;
    pthread_t thread, seen_on;
    int ready;
    pthread_mutex_t mu;
    pthread_cond_t cond;
} side;

static void *side_main(void *arg)
{
    side *s = arg;
    corio_signal_watcher *w;
    cr_expect_eq(corio_signal_watcher_new(&w, NULL, &s->signo, 1), 0);
    pthread_mutex_lock(&s->mu);
    s->ready = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    s->got = watcher_wait_bounded(w);
    s->seen_on = pthread_self();
    cr_expect_eq(corio_signal_watcher_free(w), 0);
    return NULL;
}

static void *side_thread(void *arg)
{
    side *s = arg;
    int rc = corio_run(side_main, s, NULL, NULL);
    cr_expect_eq(rc, 0, "%s", corio_strerror(rc));
    return NULL;
}

Test(signal_loops, loops_on_two_threads_each_get_their_own_signal, .timeout = 20)
{
    side s[2] = {{.signo = SIGUSR1}, {.signo = SIGUSR2}};
    /* The main thread must not take the signals itself: blocked here, they go to a loop's
     * thread, which unblocked them when it took them. */
    set_blocked(SIGUSR1, 1);
    set_blocked(SIGUSR2, 1);
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&s[i].mu, NULL);
        pthread_cond_init(&s[i].cond, NULL);
        cr_assert_eq(pthread_create(&s[i].thread, NULL, side_thread, &s[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock(&s[i].mu);
        while (!s[i].ready)
            pthread_cond_wait(&s[i].cond, &s[i].mu);
        pthread_mutex_unlock(&s[i].mu);
    }
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(pthread_join(s[i].thread, NULL), 0);
        cr_expect_eq(s[i].got, s[i].signo);
        cr_expect(pthread_equal(s[i].seen_on, s[i].thread));
    }
    cr_expect_eq(action_of(SIGUSR1), SIG_DFL);
    cr_expect_eq(action_of(SIGUSR2), SIG_DFL);
}
