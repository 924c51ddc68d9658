/* Executor benchmark, libuv's side: N trivial calls through uv_queue_work in batches of BATCH
 * (the next batch is queued when the last after_work callback of the previous one has run), the
 * same work as bench/executor.c. libuv's pool has UV_THREADPOOL_SIZE threads (default 4); the
 * THREADS argument sets it.
 *
 * Prints: RESULT bench=executor impl=libuv n=N batch=B threads=T calls_per_s=... ...
 * Usage: executor_uv [N [BATCH [THREADS]]]   (default 100,000, 1,000, libuv's default)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#include "bench_util.h"

struct call {
    uv_work_t req;
    uintptr_t arg, result;
};

static long n_total, batch_size, submitted, done_in_batch, batch_len;
static unsigned long long sum;
static struct call *calls;

static void work(uv_work_t *req)
{
    struct call *c = req->data;
    c->result = c->arg; /* the trivial call */
}

static void submit_batch(uv_loop_t *loop);

static void after_work(uv_work_t *req, int status)
{
    struct call *c = req->data;
    if (status != 0)
        BENCH_DIE("uv_queue_work: %s", uv_strerror(status));
    sum += c->result;
    if (++done_in_batch == batch_len && submitted < n_total)
        submit_batch(req->loop);
}

static void submit_batch(uv_loop_t *loop)
{
    batch_len = n_total - submitted < batch_size ? n_total - submitted : batch_size;
    done_in_batch = 0;
    for (long i = 0; i < batch_len; i++) {
        struct call *c = &calls[i];
        c->req.data = c;
        c->arg = (uintptr_t)(submitted + i);
        int rc = uv_queue_work(loop, &c->req, work, after_work);
        if (rc != 0)
            BENCH_DIE("uv_queue_work: %s", uv_strerror(rc));
    }
    submitted += batch_len;
}

#define USAGE "[N [BATCH [THREADS]]]"

int main(int argc, char **argv)
{
    n_total = bench_arg_long(argc, argv, 1, 100000, USAGE);
    batch_size = bench_arg_long(argc, argv, 2, 1000, USAGE);
    long threads = bench_arg_long(argc, argv, 3, 0, USAGE);
    if (threads > 0) {
        char v[32];
        snprintf(v, sizeof v, "%ld", threads);
        setenv("UV_THREADPOOL_SIZE", v, 1); /* read when the pool starts, at the first work */
    } else {
        const char *v = getenv("UV_THREADPOOL_SIZE");
        threads = v ? atol(v) : 4;
    }
    calls = calloc((size_t)batch_size, sizeof *calls);
    if (!calls)
        BENCH_DIE("out of memory");
    uv_loop_t *loop = uv_default_loop();
    double t0 = bench_now(), c0 = bench_cpu_now();
    submit_batch(loop);
    uv_run(loop, UV_RUN_DEFAULT);
    double wall = bench_now() - t0, cpu = bench_cpu_now() - c0;
    if (sum != (unsigned long long)n_total * (unsigned long long)(n_total - 1) / 2)
        BENCH_DIE("wrong sum of results: %llu", sum);
    uv_loop_close(loop);
    free(calls);
    printf("RESULT bench=executor impl=libuv n=%ld batch=%ld threads=%ld calls_per_s=%.0f "
           "ns_per_call=%.1f cpu_ns_per_call=%.1f wall_s=%.4f\n",
           n_total, batch_size, threads, (double)n_total / wall, wall * 1e9 / (double)n_total,
           cpu * 1e9 / (double)n_total, wall);
    return 0;
}
