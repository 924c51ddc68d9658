/* corio__poller_wake, the poller's cross-thread wake-up (internal: the loop's inbox relies on it):
 * a wake before the wait makes the next wait return at once; a burst of wakes costs one wake-up
 * (the wait after the one that consumed it sleeps); it works from another thread and from a
 * signal handler. */
#include "core_helpers.h"

#include "loop/loop.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

static corio__poller *poller;
static corio_loop *loop;

/* The poller of a fresh loop, on the backend ctest chose (CORIO_BACKEND). */
static void open_poller(void)
{
    cr_assert_eq(corio_loop_new(&loop, NULL), 0);
    poller = corio__loop_poller(loop);
    /* Valgrind 3.19 runs no other thread while one is in io_uring_enter, so the io_uring poller
     * sleeps in 10 ms slices there (src/poll/uring.c) and a wait returns early by design. */
    if (under_valgrind() && strcmp(corio_loop_get_backend(loop), "io_uring") == 0) {
        corio_loop_free(loop);
        cr_skip_test("io_uring under Valgrind: waits are sliced, see src/poll/uring.c");
    }
}

static void close_poller(void) { corio_loop_free(loop); }

Test(poller_wake, a_wake_before_the_wait_is_kept_and_bursts_coalesce, .timeout = 10)
{
    open_poller();
    for (int i = 0; i < 5; i++)
        cr_assert_eq(corio__poller_wake(poller), 0);
    double t0 = now_s();
    cr_assert_geq(corio__poller_wait(poller, -1), 1); /* the five wakes: one event */
    cr_assert_lt(now_s() - t0, 5.0);
    cr_assert_eq(corio__poller_wait(poller, 0), 0); /* nothing left */
    t0 = now_s();
    cr_assert_eq(corio__poller_wait(poller, 20 * 1000 * 1000), 0); /* sleeps the timeout */
    cr_assert_geq(now_s() - t0, 0.015);
    close_poller();
}

static void *waker(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    cr_expect_eq(corio__poller_wake(poller), 0);
    return NULL;
}

Test(poller_wake, from_another_thread, .timeout = 10)
{
    open_poller();
    for (int round = 0; round < 3; round++) {
        pthread_t th;
        pthread_create(&th, NULL, waker, NULL);
        cr_assert_geq(corio__poller_wait(poller, -1), 1);
        pthread_join(th, NULL);
    }
    close_poller();
}

static void on_alarm(int sig)
{
    (void)sig;
    corio__poller_wake(poller);
}

Test(poller_wake, from_a_signal_handler, .timeout = 10)
{
    open_poller();
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {.it_value = {0, 20000}};
    cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    /* The handler interrupts epoll_wait (EINTR: 0 events) or runs before it: either way the wake
     * is pending, and the wait after returns it at once. */
    int n = corio__poller_wait(poller, -1);
    if (n == 0)
        n = corio__poller_wait(poller, -1);
    cr_assert_geq(n, 1);
    close_poller();
}
