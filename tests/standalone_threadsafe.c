/* call_soon_threadsafe and run_coroutine_threadsafe across threads: a plain program (it runs under
 * ThreadSanitizer, where Criterion cannot), returning 0 when every check held.
 *
 *  - wake-ups are never lost: many threads post while the loop sleeps in the poller with nothing
 *    else to do (no timer), in bursts with pauses so that the loop goes back to sleep between
 *    them; a lost wake-up leaves the loop asleep and the test's time limit fails it;
 *  - each thread's callbacks run in the order it posted them, all on the loop's thread;
 *  - run_coroutine_threadsafe: results and errors cross intact, a wait times out and can be
 *    repeated, cancellation before the task starts (fn never runs) and while it runs;
 *  - posting to a closed loop's inbox is refused and a handle whose task never started completes
 *    with CORIO_ECLOSED;
 *  - a NULL loop is the calling thread's own (its running loop), else CORIO_ENOLOOP.
 */
#include <corio.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "standalone.h"

static void pause_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* ---- the loop thread ---- */

typedef struct loop_thread {
    corio_loop *loop;
    pthread_t th;
    pthread_t loop_tid;
    atomic_int started;
} loop_thread;

static void mark_started(void *arg) {
    loop_thread *lt = arg;
    lt->loop_tid = pthread_self();
    atomic_store(&lt->started, 1);
}

static void *loop_main(void *arg) {
    loop_thread *lt = arg;
    corio_set_event_loop(lt->loop);
    corio_loop_call_soon(NULL, lt->loop, mark_started, lt);
    corio_loop_run_forever(lt->loop);
    /* Closed by its own thread: destroying a pending task resumes it here. */
    if (corio_loop_free(lt->loop) != 0)
        failures++;
    return NULL;
}

static void loop_start(loop_thread *lt) {
    memset(lt, 0, sizeof *lt);
    CHECK(corio_loop_new(&lt->loop, &(corio_loop_opts){.debug = -1}) == 0); /* debug off */
    pthread_create(&lt->th, NULL, loop_main, lt);
    while (!atomic_load(&lt->started))
        pause_us(100);
}

static void stop_cb(void *arg) { corio_loop_stop(arg); }

static void loop_join(loop_thread *lt) {
    CHECK(corio_loop_call_soon_threadsafe(lt->loop, stop_cb, lt->loop) == 0);
    pthread_join(lt->th, NULL);
}

/* ---- wake-up stress ---- */

#define POSTERS 8
#define POSTS 4000

static loop_thread stress_lt;
static int seen[POSTERS];       /* loop thread only */
static int out_of_order, off_thread;
static atomic_int remaining;

static void count_cb(void *arg) {
    intptr_t v = (intptr_t)arg;
    int t = (int)(v / POSTS), seq = (int)(v % POSTS);
    if (seq != seen[t])
        out_of_order++;
    seen[t] = seq + 1;
    if (!pthread_equal(pthread_self(), stress_lt.loop_tid))
        off_thread++;
    if (atomic_fetch_sub(&remaining, 1) == 1)
        corio_loop_stop(stress_lt.loop);
}

static void *poster(void *arg) {
    intptr_t t = (intptr_t)arg;
    unsigned seed = (unsigned)t * 2654435761u;
    for (int i = 0; i < POSTS; i++) {
        if (corio_loop_call_soon_threadsafe(stress_lt.loop, count_cb, IV(t * POSTS + i)) != 0)
            failures++;
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 64 == 0)
            pause_us((seed >> 8) % 200); /* lets the loop fall asleep again */
    }
    return NULL;
}

static void test_wake_stress(void) {
    /* No loop_start here: the loop runs on this thread, asleep with no timer, until the last
     * callback stops it. */
    CHECK(corio_loop_new(&stress_lt.loop, NULL) == 0);
    stress_lt.loop_tid = pthread_self();
    atomic_store(&remaining, POSTERS * POSTS);
    pthread_t th[POSTERS];
    for (intptr_t t = 0; t < POSTERS; t++)
        pthread_create(&th[t], NULL, poster, IV(t));
    CHECK(corio_loop_run_forever(stress_lt.loop) == 0);
    for (int t = 0; t < POSTERS; t++)
        pthread_join(th[t], NULL);
    CHECK(atomic_load(&remaining) == 0);
    CHECK(out_of_order == 0);
    CHECK(off_thread == 0);
    for (int t = 0; t < POSTERS; t++)
        CHECK(seen[t] == POSTS);
    CHECK(corio_loop_free(stress_lt.loop) == 0);
}

/* One poster, one sleeping loop, strictly alternating: each post must wake the loop from a fresh
 * sleep (the previous wake was drained), thousands of times. */
static loop_thread pingpong_lt;
static atomic_int pong;

static void ping_cb(void *arg) {
    (void)arg;
    atomic_fetch_add(&pong, 1);
}

static void test_wake_pingpong(void) {
    loop_start(&pingpong_lt);
    for (int i = 1; i <= 3000; i++) {
        CHECK(corio_loop_call_soon_threadsafe(pingpong_lt.loop, ping_cb, NULL) == 0);
        while (atomic_load(&pong) != i)
            sched_yield();
    }
    loop_join(&pingpong_lt);
}

/* ---- run_coroutine_threadsafe ---- */

static loop_thread coro_lt;
static atomic_int fn_ran;

static void *add_one(void *arg) {
    corio_sleep(0);
    return IV((intptr_t)arg + 1);
}

static void *fail_with(void *arg) {
    corio_sleep(0.001);
    return corio_raise((int)(intptr_t)arg);
}

static void *sleeper(void *arg) {
    atomic_fetch_add(&fn_ran, 1);
    int rc = corio_sleep((double)(intptr_t)arg);
    return IV(rc == 0 ? 1 : rc);
}

/* A coroutine on the loop thread: NULL is the loop running there. */
static atomic_int null_posted;
static void null_post_cb(void *arg) { atomic_store(&null_posted, (int)VI(arg)); }

static void *posts_to_null_loop(void *arg) {
    return IV(corio_loop_call_soon_threadsafe(NULL, null_post_cb, arg));
}

static void *wait_from_loop(void *arg) {
    corio_concurrent *h = arg;
    void *r;
    return IV(corio_concurrent_wait(h, 0, &r));
}

static void test_coroutine_threadsafe(void) {
    loop_start(&coro_lt);
    corio_loop *loop = coro_lt.loop;
    enum { N = 64 };
    corio_concurrent *h[N];
    for (intptr_t i = 0; i < N; i++)
        CHECK(corio_run_coroutine_threadsafe(&h[i], loop, add_one, IV(i)) == 0);
    for (intptr_t i = 0; i < N; i++) {
        void *r = NULL;
        CHECK(corio_concurrent_wait(h[i], CORIO_FOREVER, &r) == 0);
        CHECK(r == IV(i + 1));
        CHECK(corio_concurrent_done(h[i]));
        CHECK(corio_concurrent_cancel(h[i]) == 0); /* already done */
        CHECK(corio_concurrent_free(h[i]) == 0);
    }

    corio_concurrent *e;
    CHECK(corio_run_coroutine_threadsafe(&e, loop, fail_with, IV(-EPIPE)) == 0);
    void *r = IV(7);
    CHECK(corio_concurrent_wait(e, 10.0, &r) == -EPIPE);
    CHECK(r == NULL);
    CHECK(corio_concurrent_free(e) == 0);

    /* A wait that times out, then one that gets the result. */
    corio_concurrent *s;
    CHECK(corio_run_coroutine_threadsafe(&s, loop, sleeper, IV(1)) == 0);
    CHECK(corio_concurrent_wait(s, 0.01, &r) == -ETIMEDOUT);
    CHECK(corio_concurrent_wait(s, 30.0, &r) == 0);
    CHECK(r == IV(1));
    CHECK(corio_concurrent_free(s) == 0);

    /* Cancelled while it runs: the handle is cancelled at once, the task shortly after. */
    atomic_store(&fn_ran, 0);
    CHECK(corio_run_coroutine_threadsafe(&s, loop, sleeper, IV(3600)) == 0);
    while (!atomic_load(&fn_ran))
        pause_us(100);
    CHECK(corio_concurrent_cancel(s) == 1);
    CHECK(corio_concurrent_cancel(s) == 0);
    CHECK(corio_concurrent_wait(s, 0, &r) == -ECANCELED);
    CHECK(corio_concurrent_free(s) == 0);

    /* A NULL loop on the loop's thread is that loop. */
    CHECK(corio_run_coroutine_threadsafe(&s, loop, posts_to_null_loop, IV(5)) == 0);
    CHECK(corio_concurrent_wait(s, 30.0, &r) == 0);
    CHECK(r == IV(0));
    CHECK(corio_concurrent_free(s) == 0);
    for (int i = 0; i < 100000 && atomic_load(&null_posted) != 5; i++)
        pause_us(100);
    CHECK(atomic_load(&null_posted) == 5);

    /* Waiting on the loop's own thread would deadlock. */
    CHECK(corio_run_coroutine_threadsafe(&s, loop, sleeper, IV(0)) == 0);
    corio_concurrent *w;
    CHECK(corio_run_coroutine_threadsafe(&w, loop, wait_from_loop, s) == 0);
    CHECK(corio_concurrent_wait(w, 30.0, &r) == 0);
    CHECK(r == IV(-EDEADLK));
    CHECK(corio_concurrent_free(w) == 0);
    CHECK(corio_concurrent_free(s) == 0);

    loop_join(&coro_lt);
}

/* On another thread: what a closed loop answers. */
static void *posts_to_closed_loop(void *arg) {
    corio_concurrent *h = (void *)1;
    CHECK(corio_run_coroutine_threadsafe(&h, arg, sleeper, IV(0)) == CORIO_ECLOSED);
    CHECK(h == NULL);
    CHECK(corio_loop_call_soon_threadsafe(arg, stop_cb, arg) == CORIO_ECLOSED);
    return NULL;
}

/* Cancelled before its task starts: the loop is not running, so the start is still queued. */
static void test_cancel_before_start(void) {
    corio_loop *loop;
    CHECK(corio_loop_new(&loop, NULL) == 0);
    atomic_store(&fn_ran, 0);
    corio_concurrent *h;
    CHECK(corio_run_coroutine_threadsafe(&h, loop, sleeper, IV(0)) == 0);
    CHECK(!corio_concurrent_done(h));
    CHECK(corio_concurrent_cancel(h) == 1);
    corio_loop_call_soon(NULL, loop, stop_cb, loop);
    corio_loop_run_forever(loop);
    CHECK(atomic_load(&fn_ran) == 0);
    void *r;
    CHECK(corio_concurrent_wait(h, 0, &r) == -ECANCELED);
    CHECK(corio_concurrent_free(h) == 0);

    /* A loop closed before it ever ran the start: the waiter learns it. */
    CHECK(corio_run_coroutine_threadsafe(&h, loop, sleeper, IV(0)) == 0);
    CHECK(corio_loop_close(loop) == 0);
    CHECK(corio_concurrent_wait(h, 0, &r) == CORIO_ECLOSED);
    CHECK(atomic_load(&fn_ran) == 0);
    CHECK(corio_concurrent_free(h) == 0);
    /* The closed loop, valid until freed, refuses what other threads post. */
    pthread_t th;
    pthread_create(&th, NULL, posts_to_closed_loop, loop);
    pthread_join(th, NULL);
    CHECK(corio_loop_free(loop) == 0);
}

/* A task still pending when its loop closes is destroyed; its handle completes (cancelled). */
static void *wait_forever(void *arg) {
    (void)arg;
    atomic_fetch_add(&fn_ran, 1);
    corio_future *f;
    int rc = corio_future_new(&f, NULL);
    if (rc == 0)
        rc = corio_await(f, NULL);
    corio_future_unref(f);
    return IV(rc);
}

static void silent(corio_loop *loop, const corio_error_context *ctx, void *arg) {
    (void)loop, (void)ctx, (void)arg;
}

static void test_close_with_pending_task(void) {
    loop_thread lt;
    loop_start(&lt);
    corio_loop_set_error_handler(lt.loop, silent, NULL);
    atomic_store(&fn_ran, 0);
    corio_concurrent *h;
    CHECK(corio_run_coroutine_threadsafe(&h, lt.loop, wait_forever, NULL) == 0);
    while (!atomic_load(&fn_ran))
        pause_us(100);
    loop_join(&lt);
    void *r;
    int rc = corio_concurrent_wait(h, 0, &r);
    CHECK(rc == -ECANCELED || (rc == 0 && r == IV(-ECANCELED)));
    CHECK(corio_concurrent_free(h) == 0);
}

static void test_bad_input(void) {
    /* NULL: this thread's loop, and it has none */
    corio_concurrent *h = (void *)1;
    CHECK(corio_loop_call_soon_threadsafe(NULL, stop_cb, NULL) == CORIO_ENOLOOP);
    CHECK(corio_run_coroutine_threadsafe(&h, NULL, add_one, NULL) == CORIO_ENOLOOP);
    CHECK(h == NULL);
    corio_loop *loop;
    CHECK(corio_loop_new(&loop, NULL) == 0);
    CHECK(corio_loop_call_soon_threadsafe(loop, NULL, NULL) == -EINVAL);
    h = (void *)1;
    CHECK(corio_run_coroutine_threadsafe(&h, loop, NULL, NULL) == -EINVAL);
    CHECK(h == NULL);
    CHECK(corio_run_coroutine_threadsafe(NULL, loop, add_one, NULL) == -EINVAL);
    CHECK(corio_loop_free(loop) == 0);
    CHECK(corio_concurrent_wait(NULL, 0, NULL) == -EINVAL);
    CHECK(corio_concurrent_cancel(NULL) == -EINVAL);
    CHECK(corio_concurrent_done(NULL) == 0);
    CHECK(corio_concurrent_free(NULL) == 0);
}

int main(void) {
    test_bad_input();
    test_wake_stress();
    test_wake_pingpong();
    test_coroutine_threadsafe();
    test_cancel_before_start();
    test_close_with_pending_task();
    printf("standalone_threadsafe: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
