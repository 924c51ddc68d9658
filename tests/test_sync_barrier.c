/* corio_barrier: asyncio.Barrier (CPython test_locks.py BarrierTests: test_barrier,
 * test_barrier_parties, test_draining_state, test_blocking_tasks_while_draining,
 * test_reset_barrier*, test_abort_barrier*, test_filling_task_by_task, cancellation). */
#include "sync_helpers.h"

static corio_barrier *bar;
static int seen[16];

/* 0.2: the arrival index or an error code, as an int (it was an int64_t). */
_Static_assert(_Generic(corio_barrier_wait((corio_barrier *)0), int: 1, default: 0),
               "corio_barrier_wait returns int");

/* Waits once; logs its index (or the error) in seen[id]. */
static void *party(void *arg)
{
    int r = corio_barrier_wait(bar);
    seen[VI(arg)] = r;
    ev(r >= 0 ? VI(arg) : -VI(arg));
    return IV(r);
}

static void *pass_main(void *arg)
{
    (void)arg;
    CHECK(corio_barrier_new(&bar, NULL, 3) == 0);
    CHECK(corio_barrier_parties(bar) == 3);
    for (int round = 0; round < 2; round++) {
        ev_n = 0;
        corio_task *t[3];
        for (int i = 0; i < 2; i++)
            t[i] = spawn(party, i + 1);
        yield_n(2);
        CHECK(ev_n == 0 && corio_barrier_n_waiting(bar) == 2);
        t[2] = spawn(party, 3);
        yield_n(4);
        CHECK(ev_n == 3);
        int mask = 0;
        for (int i = 0; i < 3; i++) {
            CHECK(outcome(t[i]) >= 0);
            mask |= 1 << seen[i + 1];
        }
        CHECK(mask == 7); /* indexes 0, 1, 2, each once */
        CHECK(corio_barrier_n_waiting(bar) == 0 && !corio_barrier_broken(bar));
    }
    CHECK(corio_barrier_free(bar) == 0);
    return NULL;
}

Test(sync_barrier, lets_parties_through_each_pass, .timeout = 10) { run_sync_test(pass_main); }

static void *filling_main(void *arg)
{
    (void)arg;
    CHECK(corio_barrier_new(&bar, NULL, 3) == 0);
    corio_task *a = spawn(party, 1);
    yield_n(2);
    CHECK(corio_barrier_n_waiting(bar) == 1);
    corio_task *b = spawn(party, 2);
    yield_n(2);
    CHECK(corio_barrier_n_waiting(bar) == 2 && ev_n == 0);
    /* Cancelled while filling: it leaves, and the barrier waits for a third again. */
    corio_task_cancel(a, NULL);
    yield_n(3);
    CHECK(outcome(a) == -ECANCELED && corio_barrier_n_waiting(bar) == 1);
    corio_task *c = spawn(party, 3);
    yield_n(3);
    CHECK(ev_n == 1 && corio_barrier_n_waiting(bar) == 2);
    corio_task *d = spawn(party, 4);
    yield_n(5);
    CHECK(outcome(b) >= 0 && outcome(c) >= 0 && outcome(d) >= 0);
    CHECK(corio_barrier_free(bar) == 0);
    return NULL;
}

Test(sync_barrier, cancelled_while_filling_leaves_it_usable, .timeout = 10)
{
    run_sync_test(filling_main);
}

/* Arriving while the previous pass drains: waits for it to finish; cancelled there, it leaves
 * without counting. */
static void *draining_main(void *arg)
{
    (void)arg;
    CHECK(corio_barrier_new(&bar, NULL, 2) == 0);
    corio_task *a = spawn(party, 1);
    yield_n(2);
    corio_task *b = spawn(party, 2);
    corio_task *c = spawn(party, 3), *d = spawn(party, 4);
    yield_n(1); /* b fills the barrier: draining until a has left */
    CHECK(corio_barrier_n_waiting(bar) == 0);
    corio_task_cancel(c, NULL); /* blocked by the draining */
    yield_n(6);
    CHECK(outcome(a) >= 0 && outcome(b) >= 0 && outcome(c) == -ECANCELED);
    CHECK(corio_barrier_n_waiting(bar) == 1); /* d, in the next pass */
    corio_task *e = spawn(party, 5);
    yield_n(5);
    CHECK(outcome(d) >= 0 && outcome(e) >= 0);
    CHECK(corio_barrier_free(bar) == 0);
    return NULL;
}

Test(sync_barrier, cancelled_while_draining_does_not_count, .timeout = 10)
{
    run_sync_test(draining_main);
}

static void *abort_main(void *arg)
{
    (void)arg;
    CHECK(corio_barrier_new(&bar, NULL, 3) == 0);
    corio_task *a = spawn(party, 1), *b = spawn(party, 2);
    yield_n(2);
    CHECK(corio_barrier_abort(bar) == 0);
    CHECK(corio_barrier_broken(bar));
    yield_n(4);
    CHECK(outcome(a) == CORIO_EBROKEN && outcome(b) == CORIO_EBROKEN);
    CHECK(corio_barrier_wait(bar) == CORIO_EBROKEN);
    CHECK(corio_barrier_reset(bar) == 0 && !corio_barrier_broken(bar));
    corio_task *c = spawn(party, 3), *d = spawn(party, 4);
    yield_n(1);
    CHECK(corio_barrier_wait(bar) >= 0);
    yield_n(3);
    CHECK(outcome(c) >= 0 && outcome(d) >= 0);
    CHECK(corio_barrier_free(bar) == 0);
    return NULL;
}

Test(sync_barrier, abort_breaks_until_reset, .timeout = 10) { run_sync_test(abort_main); }

static void *reset_main(void *arg)
{
    (void)arg;
    CHECK(corio_barrier_new(&bar, NULL, 3) == 0);
    corio_task *a = spawn(party, 1), *b = spawn(party, 2);
    yield_n(2);
    CHECK(corio_barrier_reset(bar) == 0);
    CHECK(!corio_barrier_broken(bar));
    yield_n(4);
    CHECK(outcome(a) == CORIO_EBROKEN && outcome(b) == CORIO_EBROKEN);
    CHECK(corio_barrier_n_waiting(bar) == 0);
    corio_task *c = spawn(party, 3), *d = spawn(party, 4), *e = spawn(party, 5);
    yield_n(5);
    CHECK(outcome(c) >= 0 && outcome(d) >= 0 && outcome(e) >= 0);
    CHECK(corio_barrier_free(bar) == 0);
    return NULL;
}

Test(sync_barrier, reset_sends_waiters_away_then_works, .timeout = 10)
{
    run_sync_test(reset_main);
}

static void *busy_main(void *arg)
{
    (void)arg;
    CHECK(corio_barrier_new(&bar, NULL, 2) == 0);
    corio_task *a = spawn(party, 1);
    yield_n(2);
    CHECK(corio_barrier_free(bar) == -EBUSY);
    corio_task_cancel(a, NULL);
    yield_n(3);
    CHECK(outcome(a) == -ECANCELED);
    CHECK(corio_barrier_free(bar) == 0);
    return NULL;
}

Test(sync_barrier, free_with_waiters_is_refused, .timeout = 10) { run_sync_test(busy_main); }

Test(sync_barrier, bad_input, .timeout = 10)
{
    corio_barrier *b = (corio_barrier *)1;
    cr_assert_eq(corio_barrier_new(NULL, NULL, 1), -EINVAL);
    cr_assert_eq(corio_barrier_new(&b, NULL, 1), CORIO_ENOLOOP);
    cr_assert_null(b);
    corio_loop *loop = new_loop();
    cr_assert_eq(corio_barrier_new(&b, loop, 0), -EINVAL);
    cr_assert_eq(corio_barrier_wait(NULL), -EINVAL);
    cr_assert_eq(corio_barrier_reset(NULL), -EINVAL);
    cr_assert_eq(corio_barrier_abort(NULL), -EINVAL);
    cr_assert_eq(corio_barrier_parties(NULL), 0);
    cr_assert_eq(corio_barrier_n_waiting(NULL), 0);
    cr_assert_eq(corio_barrier_broken(NULL), 0);
    cr_assert_eq(corio_barrier_free(NULL), 0);
    cr_assert_eq(corio_barrier_new(&b, loop, 1), 0);
    cr_assert_eq(corio_barrier_wait(b), CORIO_ENOTASK);
    cr_assert_eq(corio_barrier_free(b), 0);
    cr_assert_eq(corio_set_event_loop(loop), 0);
    cr_assert_eq(corio_barrier_new(&b, NULL, 1), 0, "NULL: the current loop");
    cr_assert_str_eq(corio_err_name(CORIO_EBROKEN), "CORIO_EBROKEN");
    cr_assert_str_eq(corio_strerror(CORIO_EBROKEN), "barrier is broken");
    cr_assert_eq(corio_barrier_free(b), 0);
    cr_assert_eq(corio_loop_free(loop), 0);
}
