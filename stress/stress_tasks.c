/* Stress: a million tasks per run, in waves, each doing one of five things (return at once,
 * yield a few times, sleep, await an earlier task, fail), a third of them cancelled at random
 * moments (before they start, while they run), all awaited in a random order. Checks each task's
 * outcome against what was done to it, and that RSS stays flat across rounds. */
#include "stress_util.h"

enum { ACT_RETURN, ACT_YIELD, ACT_SLEEP, ACT_AWAIT, ACT_FAIL, ACT_COUNT };

typedef struct job {
    corio_task *t;
    int idx, act, arg;
    uint8_t cancel_took; /* corio_task_cancel returned 1 */
    uint8_t may_cancel;  /* awaited by a cancelled task, which cancels what it awaits (asyncio) */
} job;

static job *jobs;
static long wave_size;
static long n_by_outcome[3]; /* finished, failed, cancelled */

static void *worker(void *arg) {
    job *j = arg;
    switch (j->act) {
    case ACT_YIELD:
        for (int k = 0; k < j->arg; k++)
            if (corio_sleep(0) < 0)
                break;
        break;
    case ACT_SLEEP:
        corio_sleep((double)j->arg / 1e6);
        break;
    case ACT_AWAIT: {
        /* The awaited task's outcome does not matter here; only that the await returns. */
        corio_task *other = jobs[j->arg].t;
        corio_await(corio_task_future(other), NULL);
        break;
    }
    case ACT_FAIL:
        return corio_raise(-EIO);
    }
    return (void *)(intptr_t)j->idx;
}

static void *canceller(void *arg) {
    long n = (long)(intptr_t)arg;
    for (long k = 0; k < n / 6; k++) {
        job *j = &jobs[rng_below((uint64_t)n)];
        if (corio_task_cancel(j->t, NULL) == 1)
            j->cancel_took = 1;
        if ((k & 63) == 0)
            corio_sleep(0);
    }
    return NULL;
}

static void check_outcome(job *j) {
    void *v = NULL;
    int rc = corio_future_result(corio_task_future(j->t), &v);
    if (j->may_cancel && !j->cancel_took && rc == -ECANCELED) {
        n_by_outcome[2]++;
    } else if (j->cancel_took) {
        CHECK(rc == -ECANCELED, "task %d (act %d) cancelled but ended with %s", j->idx, j->act,
              corio_strerror(rc));
        n_by_outcome[2]++;
    } else if (j->act == ACT_FAIL) {
        CHECK(rc == -EIO, "task %d should fail with -EIO, got %s", j->idx, corio_strerror(rc));
        n_by_outcome[1]++;
    } else {
        CHECK(rc == 0 && (intptr_t)v == j->idx, "task %d: rc %s value %ld", j->idx,
              corio_strerror(rc), (long)(intptr_t)v);
        n_by_outcome[0]++;
    }
}

static void run_wave(long n) {
    for (long i = 0; i < n; i++) {
        job *j = &jobs[i];
        j->idx = (int)i;
        j->act = (int)rng_below(ACT_COUNT);
        j->cancel_took = j->may_cancel = 0;
        j->arg = j->act == ACT_YIELD ? (int)rng_below(4) : j->act == ACT_SLEEP ? (int)rng_below(2000)
                 : j->act == ACT_AWAIT && i > 0 ? (int)rng_below((uint64_t)i) : 0;
        if (j->act == ACT_AWAIT && i == 0)
            j->act = ACT_RETURN;
        corio_task_opts o = {.flags = (i & 1) ? CORIO_TASK_COMPACT : 0};
        int rc = corio_create_task(&j->t, NULL, worker, j, &o);
        CHECK(rc == 0, "create_task %ld: %s", i, corio_strerror(rc));
        /* Some are cancelled before they ever run. */
        if (rng_below(12) == 0 && corio_task_cancel(j->t, "early") == 1)
            j->cancel_took = 1;
    }
    corio_task *c;
    int rc = corio_create_task(&c, NULL, canceller, (void *)(intptr_t)n, NULL);
    CHECK(rc == 0, "create_task (canceller): %s", corio_strerror(rc));
    /* Await every task in a random order (a shuffled index permutation). */
    long *order = malloc((size_t)n * sizeof *order);
    for (long i = 0; i < n; i++)
        order[i] = i;
    for (long i = n - 1; i > 0; i--) {
        long k = (long)rng_below((uint64_t)i + 1), tmp = order[i];
        order[i] = order[k];
        order[k] = tmp;
    }
    corio_await(corio_task_future(c), NULL);
    for (long i = 0; i < n; i++)
        corio_await(corio_task_future(jobs[order[i]].t), NULL);
    corio_task_unref(c);
    /* A task cancelled while it awaits another cancels that one too: mark those, following the
     * chains from the last task down (a task awaits only earlier ones). */
    for (long i = n - 1; i >= 0; i--) {
        job *j = &jobs[i];
        if (j->act == ACT_AWAIT && (j->cancel_took || j->may_cancel))
            jobs[j->arg].may_cancel = 1;
    }
    for (long i = 0; i < n; i++) {
        check_outcome(&jobs[i]);
        corio_task_unref(jobs[i].t);
    }
    free(order);
}

static void *main_task(void *arg) {
    long total = (long)(intptr_t)arg;
    enum { ROUNDS = 5 };
    long waves_per_round = total / ROUNDS / wave_size;
    if (waves_per_round < 1)
        waves_per_round = 1;
    long rss[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        for (long w = 0; w < waves_per_round; w++)
            run_wave(wave_size);
        rss[r] = rss_kib();
        printf("round %d: %ld tasks, RSS %ld KiB\n", r + 1, waves_per_round * wave_size, rss[r]);
    }
    check_rss_flat(rss, ROUNDS);
    return NULL;
}

int main(void) {
    rng_seed();
    long total = scaled(1000000);
    wave_size = total < 50000 ? total : 50000;
    jobs = calloc((size_t)wave_size, sizeof *jobs);
    if (!jobs)
        return 2;
    double t = now_s();
    int rc = corio_run(main_task, (void *)(intptr_t)total, NULL, NULL);
    CHECK(rc == 0, "corio_run: %s", corio_strerror(rc));
    free(jobs);
    printf("stress_tasks: %ld tasks in %.1f s: %ld finished, %ld failed, %ld cancelled\n",
           n_by_outcome[0] + n_by_outcome[1] + n_by_outcome[2], now_s() - t, n_by_outcome[0],
           n_by_outcome[1], n_by_outcome[2]);
    return stress_result("stress_tasks");
}
