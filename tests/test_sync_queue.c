/* corio_queue: asyncio.Queue, LifoQueue, PriorityQueue and 3.13's shutdown (CPython
 * test_queues.py: test_order, test_maxsize, test_blocking_get, test_get_with_putters,
 * test_blocking_put, test_nonblocking_*, test_get_cancelled_race, test_put_cancelled_race,
 * test_cancelled_getters_not_being_held_in_self_getters, test_task_done*, test_join_*,
 * test_shutdown_*). */
#include "sync_helpers.h"

static corio_queue *q;

static void *getter(void *arg)
{
    void *item = IV(-99);
    int rc = corio_queue_get(q, &item);
    ev(rc == 0 ? VI(item) : -VI(arg));
    return IV(rc);
}

static void *putter(void *arg)
{
    int rc = corio_queue_put(q, arg);
    ev(rc == 0 ? 100 + VI(arg) : -100 - VI(arg));
    return IV(rc);
}

static corio_queue *make(corio_queue_kind kind, size_t maxsize, void (*drop)(void *))
{
    corio_queue *x = NULL;
    corio_queue_opts o = {.kind = kind, .maxsize = maxsize, .drop = drop};
    cr_expect_eq(corio_queue_new(&x, NULL, &o), 0);
    return x;
}

static int get_now(corio_queue *x)
{
    void *item = NULL;
    int rc = corio_queue_get_nowait(x, &item);
    return rc < 0 ? rc : VI(item);
}

static void *order_main(void *arg)
{
    (void)arg;
    const int in[] = {1, 3, 2};
    const corio_queue_kind kinds[] = {CORIO_QUEUE_FIFO, CORIO_QUEUE_LIFO, CORIO_QUEUE_PRIORITY};
    const int want[3][3] = {{1, 3, 2}, {2, 3, 1}, {1, 2, 3}};
    for (int k = 0; k < 3; k++) {
        q = make(kinds[k], 0, NULL);
        for (int i = 0; i < 3; i++)
            CHECK(kinds[k] == CORIO_QUEUE_PRIORITY ? corio_queue_put_prio(q, IV(in[i]), in[i]) == 0
                                                   : corio_queue_put(q, IV(in[i])) == 0);
        CHECK(corio_queue_qsize(q) == 3 && !corio_queue_full(q));
        for (int i = 0; i < 3; i++)
            CHECK(get_now(q) == want[k][i]);
        CHECK(get_now(q) == -EAGAIN && corio_queue_empty(q));
        CHECK(corio_queue_free(q) == 0);
    }
    /* Equal priorities come out in arrival order; the heap survives growth. */
    q = make(CORIO_QUEUE_PRIORITY, 0, NULL);
    for (int i = 0; i < 1000; i++)
        CHECK(corio_queue_put_prio_nowait(q, IV(i), (i * 7) % 10) == 0);
    int64_t last_prio = -1, last = -1;
    for (int i = 0; i < 1000; i++) {
        int v = get_now(q);
        int64_t prio = (v * 7) % 10;
        CHECK(prio > last_prio || (prio == last_prio && v > last));
        last_prio = prio;
        last = v;
    }
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, fifo_lifo_priority_order, .timeout = 10) { run_sync_test(order_main); }

/* The ring buffer grows while wrapped around and keeps the order. */
static void *ring_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 0, NULL);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < round + 7; i++)
            CHECK(corio_queue_put_nowait(q, IV(next_in++)) == 0);
        for (int i = 0; i < round + 3; i++)
            CHECK(get_now(q) == next_out++);
    }
    while (!corio_queue_empty(q))
        CHECK(get_now(q) == next_out++);
    CHECK(next_out == next_in);
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, ring_keeps_order_across_growth, .timeout = 10) { run_sync_test(ring_main); }

static void *maxsize_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 2, NULL);
    CHECK(corio_queue_maxsize(q) == 2);
    CHECK(corio_queue_put_nowait(q, IV(1)) == 0 && corio_queue_put_nowait(q, IV(2)) == 0);
    CHECK(corio_queue_full(q) && corio_queue_put_nowait(q, IV(3)) == -EAGAIN);
    corio_task *p3 = spawn(putter, 3), *p4 = spawn(putter, 4);
    yield_n(2);
    CHECK(ev_n == 0);
    CHECK(get_now(q) == 1); /* frees a slot: p3 goes in, p4 still waits */
    yield_n(2);
    CHECK(ev_n == 1 && ev_log[0] == 103 && corio_queue_qsize(q) == 2);
    CHECK(get_now(q) == 2);
    yield_n(2);
    CHECK(ev_n == 2 && ev_log[1] == 104);
    CHECK(get_now(q) == 3 && get_now(q) == 4);
    CHECK(outcome(p3) == 0 && outcome(p4) == 0);
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, bounded_put_waits_for_room, .timeout = 10) { run_sync_test(maxsize_main); }

static void *blocking_get_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 0, NULL);
    corio_task *g1 = spawn(getter, 1), *g2 = spawn(getter, 2);
    yield_n(2);
    CHECK(ev_n == 0);
    CHECK(corio_queue_put(q, IV(7)) == 0 && corio_queue_put(q, IV(8)) == 0);
    yield_n(2);
    CHECK(ev_n == 2 && ev_log[0] == 7 && ev_log[1] == 8);
    CHECK(outcome(g1) == 0 && outcome(g2) == 0);
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, get_waits_for_an_item, .timeout = 10) { run_sync_test(blocking_get_main); }

/* test_get_cancelled_race: the getter woken for an item, cancelled before it runs, passes the
 * item's wake-up to the next getter: no item is stranded. */
static void *get_race_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 0, NULL);
    corio_task *g1 = spawn(getter, 1), *g2 = spawn(getter, 2);
    yield_n(2);
    CHECK(corio_queue_put(q, IV(5)) == 0); /* wakes g1 */
    corio_task_cancel(g1, NULL);
    yield_n(3);
    CHECK(outcome(g1) == -ECANCELED);
    CHECK(outcome(g2) == 0);
    CHECK(ev_n == 2 && ev_log[0] == -1 && ev_log[1] == 5);
    CHECK(corio_queue_empty(q));
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, woken_getter_cancelled_passes_item_on, .timeout = 10)
{
    run_sync_test(get_race_main);
}

static void *put_race_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 1, NULL);
    CHECK(corio_queue_put(q, IV(1)) == 0);
    corio_task *p2 = spawn(putter, 2), *p3 = spawn(putter, 3);
    yield_n(2);
    CHECK(get_now(q) == 1); /* wakes p2 */
    corio_task_cancel(p2, NULL);
    yield_n(3);
    CHECK(outcome(p2) == -ECANCELED && outcome(p3) == 0);
    CHECK(get_now(q) == 3 && corio_queue_empty(q));
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, woken_putter_cancelled_passes_slot_on, .timeout = 10)
{
    run_sync_test(put_race_main);
}

/* Cancelled while waiting (not woken): leaves the queue of getters; later puts are not lost. */
static void *cancel_waiting_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 0, NULL);
    corio_task *g1 = spawn(getter, 1);
    yield_n(1);
    CHECK(corio_queue_free(q) == -EBUSY);
    corio_task_cancel(g1, NULL);
    yield_n(2);
    CHECK(outcome(g1) == -ECANCELED);
    CHECK(corio_queue_put(q, IV(9)) == 0);
    CHECK(corio_queue_qsize(q) == 1 && get_now(q) == 9);
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, cancelled_getter_is_not_held, .timeout = 10)
{
    run_sync_test(cancel_waiting_main);
}

static void *joiner(void *arg)
{
    int rc = corio_queue_join(q);
    ev(rc == 0 ? VI(arg) : -VI(arg));
    return IV(rc);
}

static void *join_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 0, NULL);
    CHECK(corio_queue_join(q) == 0); /* nothing unfinished */
    CHECK(corio_queue_task_done(q) == CORIO_EINVALSTATE);
    for (int i = 0; i < 3; i++)
        CHECK(corio_queue_put(q, IV(i)) == 0);
    corio_task *j = spawn(joiner, 50), *jc = spawn(joiner, 51);
    yield_n(2);
    corio_task_cancel(jc, NULL);
    for (int i = 0; i < 3; i++) {
        CHECK(get_now(q) == i);
        yield_n(1);
        CHECK(ev_n == 1 && ev_log[0] == -51); /* only the cancelled one is back */
        CHECK(corio_queue_task_done(q) == 0);
    }
    yield_n(2);
    CHECK(ev_n == 2 && ev_log[1] == 50);
    CHECK(outcome(j) == 0 && outcome(jc) == -ECANCELED);
    CHECK(corio_queue_task_done(q) == CORIO_EINVALSTATE);
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, join_waits_for_task_done, .timeout = 10) { run_sync_test(join_main); }

static int dropped;
static void drop_item(void *item)
{
    (void)item;
    dropped++;
}

static void *shutdown_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 2, drop_item);
    corio_task *g = spawn(getter, 1);
    yield_n(1);
    CHECK(corio_queue_shutdown(q, 0) == 0 && corio_queue_is_shutdown(q));
    yield_n(2);
    CHECK(outcome(g) == CORIO_ESHUTDOWN);
    CHECK(corio_queue_put(q, IV(1)) == CORIO_ESHUTDOWN);
    CHECK(corio_queue_put_nowait(q, IV(1)) == CORIO_ESHUTDOWN);
    CHECK(corio_queue_free(q) == 0);

    /* Not immediate: what is queued can still be taken, then get fails. */
    q = make(CORIO_QUEUE_FIFO, 2, drop_item);
    CHECK(corio_queue_put(q, IV(1)) == 0 && corio_queue_put(q, IV(2)) == 0);
    corio_task *p = spawn(putter, 3);
    yield_n(1);
    CHECK(corio_queue_shutdown(q, 0) == 0);
    yield_n(2);
    CHECK(outcome(p) == CORIO_ESHUTDOWN);
    CHECK(get_now(q) == 1);
    void *item = IV(5);
    CHECK(corio_queue_get(q, &item) == 0 && item == IV(2));
    CHECK(corio_queue_get(q, &item) == CORIO_ESHUTDOWN && item == NULL);
    CHECK(get_now(q) == CORIO_ESHUTDOWN);
    CHECK(dropped == 0);
    CHECK(corio_queue_free(q) == 0);

    /* Immediate: items dropped, counted done, join returns. */
    q = make(CORIO_QUEUE_FIFO, 0, drop_item);
    CHECK(corio_queue_put(q, IV(1)) == 0 && corio_queue_put(q, IV(2)) == 0);
    corio_task *j = spawn(joiner, 7);
    yield_n(1);
    CHECK(corio_queue_shutdown(q, 1) == 0);
    CHECK(dropped == 2 && corio_queue_empty(q));
    yield_n(2);
    CHECK(outcome(j) == 0);
    CHECK(corio_queue_free(q) == 0);

    /* Free drops what is left. */
    q = make(CORIO_QUEUE_LIFO, 0, drop_item);
    CHECK(corio_queue_put(q, IV(1)) == 0);
    CHECK(corio_queue_free(q) == 0 && dropped == 3);
    return NULL;
}

Test(sync_queue, shutdown_wakes_waiters_and_refuses_puts, .timeout = 10)
{
    run_sync_test(shutdown_main);
}

/* Producers and consumers through a small bounded queue, with some consumers cancelled on the
 * way: every item is received exactly once. */
enum { PRODUCERS = 4, PER_PRODUCER = 500 };
static long received_sum, received_n;

static void *producer(void *arg)
{
    for (int i = 0; i < PER_PRODUCER; i++)
        if (corio_queue_put(q, IV(VI(arg) * PER_PRODUCER + i + 1)) < 0)
            return IV(-1);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        void *item;
        int rc = corio_queue_get(q, &item);
        if (rc < 0)
            return IV(rc);
        received_sum += VI(item);
        received_n++;
        if (received_n % 7 == 0)
            corio_sleep(0);
    }
}

static unsigned task_flags;

static void *pipeline_main(void *arg)
{
    (void)arg;
    q = make(CORIO_QUEUE_FIFO, 3, NULL);
    corio_task *p[PRODUCERS], *c[6];
    corio_task_opts opts = {.flags = task_flags};
    for (int i = 0; i < PRODUCERS; i++)
        CHECK(corio_create_task(&p[i], NULL, producer, IV(i), &opts) == 0);
    for (int i = 0; i < 6; i++)
        CHECK(corio_create_task(&c[i], NULL, consumer, IV(i), &opts) == 0);
    yield_n(5);
    corio_task_cancel(c[0], NULL);
    corio_task_cancel(c[3], NULL);
    CHECK(corio_gather((corio_future **)p, PRODUCERS, 0, NULL, NULL) == 0);
    while (!corio_queue_empty(q))
        yield_n(1);
    CHECK(corio_queue_shutdown(q, 0) == 0);
    CHECK(corio_gather((corio_future **)c, 6, CORIO_GATHER_RETURN_ERRORS, NULL, NULL) == 0);
    long n = (long)PRODUCERS * PER_PRODUCER;
    CHECK(received_n == n && received_sum == n * (n + 1) / 2);
    for (int i = 0; i < PRODUCERS; i++)
        CHECK(outcome(p[i]) == 0);
    for (int i = 0; i < 6; i++) {
        int rc = outcome(c[i]);
        CHECK(rc == ((i == 0 || i == 3) ? -ECANCELED : CORIO_ESHUTDOWN));
    }
    CHECK(corio_queue_free(q) == 0);
    return NULL;
}

Test(sync_queue, pipeline_loses_and_repeats_nothing, .timeout = 20)
{
    run_sync_test(pipeline_main);
}

/* The same with compact tasks, whose stacks are copied away while they wait. */
Test(sync_queue, pipeline_of_compact_tasks, .timeout = 20)
{
    task_flags = CORIO_TASK_COMPACT;
    run_sync_test(pipeline_main);
}

/* Loop close with a getter and a putter waiting: both unwind with -ECANCELED, the queue keeps
 * its items and can be freed after (its items go to drop). */
Test(sync_queue, loop_close_unwinds_waiters, .timeout = 10)
{
    corio_loop *loop = new_loop();
    corio_queue_opts o = {.maxsize = 1, .drop = drop_item};
    cr_assert_eq(corio_queue_new(&q, loop, &o), 0);
    cr_assert_eq(corio_queue_put_nowait(q, IV(1)), 0);
    corio_task *p;
    cr_assert_eq(corio_create_task(&p, loop, putter, IV(2), NULL), 0);
    corio_queue *full = q;
    run_once(loop);
    cr_assert_eq(corio_queue_new(&q, loop, NULL), 0);
    corio_task *g;
    cr_assert_eq(corio_create_task(&g, loop, getter, IV(3), NULL), 0);
    run_once(loop);
    corio_loop_set_error_handler(loop, capture_handler, NULL);
    cr_assert_eq(corio_loop_close(loop), 0);
    cr_assert_eq(outcome(p), -ECANCELED);
    cr_assert_eq(outcome(g), -ECANCELED);
    cr_assert_eq(corio_queue_free(q), 0, "no waiter left after the close");
    cr_assert_eq(corio_queue_qsize(full), 1);
    cr_assert_eq(corio_queue_free(full), 0);
    cr_assert_eq(dropped, 1);
    cr_assert_eq(corio_loop_free(loop), 0);
}

Test(sync_queue, bad_input, .timeout = 10)
{
    corio_queue *x = (corio_queue *)1;
    cr_assert_eq(corio_queue_new(NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(corio_queue_new(&x, NULL, NULL), CORIO_ENOLOOP);
    cr_assert_null(x);
    corio_loop *loop = new_loop();
    corio_queue_opts bad = {.kind = (corio_queue_kind)7};
    cr_assert_eq(corio_queue_new(&x, loop, &bad), -EINVAL);
    void *item = IV(1);
    cr_assert_eq(corio_queue_put(NULL, NULL), -EINVAL);
    cr_assert_eq(corio_queue_put_nowait(NULL, NULL), -EINVAL);
    cr_assert_eq(corio_queue_get(NULL, &item), -EINVAL);
    cr_assert_null(item);
    cr_assert_eq(corio_queue_get_nowait(NULL, &item), -EINVAL);
    cr_assert_eq(corio_queue_task_done(NULL), -EINVAL);
    cr_assert_eq(corio_queue_join(NULL), -EINVAL);
    cr_assert_eq(corio_queue_shutdown(NULL, 0), -EINVAL);
    cr_assert_eq(corio_queue_qsize(NULL), 0);
    cr_assert_eq(corio_queue_free(NULL), 0);
    cr_assert_eq(corio_queue_new(&x, loop, NULL), 0, "NULL opts: unbounded FIFO");
    cr_assert_eq(corio_queue_get(x, NULL), -EINVAL);
    cr_assert_eq(corio_queue_get_nowait(x, NULL), -EINVAL);
    cr_assert_eq(corio_queue_put_prio(x, NULL, 1), -EINVAL, "not a priority queue");
    cr_assert_eq(corio_queue_put_prio_nowait(x, NULL, 1), -EINVAL);
    cr_assert_eq(corio_queue_put(x, NULL), CORIO_ENOTASK);
    cr_assert_eq(corio_queue_get(x, &item), CORIO_ENOTASK);
    cr_assert_eq(corio_queue_join(x), CORIO_ENOTASK);
    cr_assert_eq(corio_queue_put_nowait(x, NULL), 0, "nowait needs no task");
    cr_assert_eq(corio_queue_get_nowait(x, &item), 0);
    cr_assert_eq(corio_queue_free(x), 0);
    cr_assert_str_eq(corio_err_name(CORIO_ESHUTDOWN), "CORIO_ESHUTDOWN");
    cr_assert_str_eq(corio_strerror(CORIO_ESHUTDOWN), "queue is shut down");
    cr_assert_eq(corio_loop_free(loop), 0);
}
