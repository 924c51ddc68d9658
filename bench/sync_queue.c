/* Sync benchmark (queue): a producer/consumer pipeline through a bounded FIFO queue.
 *
 * Same work in bench/py/sync.py --bench queue and bench/go (-bench queue): 4 producer tasks each
 * put N/4 items (the integers 1..N between them) into one queue of maxsize 128; 4 consumer tasks
 * each get N/4 items and add them up; the total is checked against N(N+1)/2. Timed: from before
 * the 8 tasks are created to after all of them are gathered. Reported: items per second (N / wall
 * time) and ns per item.
 *
 * Prints: RESULT bench=queue impl=corio n=N items_per_s=... ns_per_op=... cpu_ns_per_op=...
 * Usage: sync_queue [N]   (default 1,000,000; a multiple of 4)
 */
#include <corio.h>
#include <stdint.h>

#include "sync_util.h"

enum { PRODUCERS = 4, CONSUMERS = 4, MAXSIZE = 128 };

static corio_queue *queue;
static long per_task;
static unsigned long long sums[CONSUMERS];

static void *producer(void *arg)
{
    uintptr_t first = (uintptr_t)arg * (uintptr_t)per_task + 1;
    for (uintptr_t i = 0; i < (uintptr_t)per_task; i++) {
        int rc = corio_queue_put(queue, (void *)(first + i));
        if (rc < 0)
            BENCH_DIE("corio_queue_put: %s", corio_strerror(rc));
    }
    return NULL;
}

static void *consumer(void *arg)
{
    unsigned long long sum = 0;
    for (long i = 0; i < per_task; i++) {
        void *item;
        int rc = corio_queue_get(queue, &item);
        if (rc < 0)
            BENCH_DIE("corio_queue_get: %s", corio_strerror(rc));
        sum += (uintptr_t)item;
    }
    sums[(uintptr_t)arg] = sum;
    return NULL;
}

static void check_sum(long n)
{
    unsigned long long sum = 0;
    for (int i = 0; i < CONSUMERS; i++)
        sum += sums[i];
    if (sum != (unsigned long long)n * (unsigned long long)(n + 1) / 2)
        BENCH_DIE("wrong sum of items: %llu", sum);
}

static void *bench_main(void *arg)
{
    long n = *(long *)arg;
    corio_queue_opts opts = {.kind = CORIO_QUEUE_FIFO, .maxsize = MAXSIZE};
    int rc = corio_queue_new(&queue, NULL, &opts);
    if (rc < 0)
        BENCH_DIE("corio_queue_new: %s", corio_strerror(rc));
    per_task = n / PRODUCERS;
    double t0 = bench_now(), c0 = bench_cpu_now();
    corio_future *tasks[PRODUCERS + CONSUMERS];
    for (uintptr_t i = 0; i < PRODUCERS + CONSUMERS; i++) {
        corio_task *t;
        rc = i < PRODUCERS ? corio_create_task(&t, NULL, producer, (void *)i, NULL)
                           : corio_create_task(&t, NULL, consumer, (void *)(i - PRODUCERS), NULL);
        if (rc < 0)
            BENCH_DIE("corio_create_task: %s", corio_strerror(rc));
        tasks[i] = corio_task_future(t);
    }
    bench_sync_finish("queue", n, tasks, PRODUCERS + CONSUMERS, t0, c0, check_sum);
    corio_queue_free(queue);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = bench_n(argc, argv);
    if (n % PRODUCERS)
        BENCH_DIE("N must be a multiple of %d", PRODUCERS);
    return corio_run(bench_main, &n, NULL, NULL) < 0;
}
