/* The seed's example: two tasks sleep 1 s and 2 s concurrently and are gathered, so the whole
 * program takes 2 s, not 3. Written the pre-3.7 way the seed walks through: a loop of the
 * thread's own, run_until_complete, close. (get_event_loop no longer makes that loop, as in
 * asyncio 3.14: new_event_loop and set_event_loop do.) */
#include <corio.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static void *sleeper(void *arg) {
    intptr_t sec = (intptr_t)arg;
    corio_sleep((double)sec);
    return (void *)sec;
}

static void *main_coro(void *arg) {
    intptr_t *results = arg;
    intptr_t secs[] = {1, 2};
    corio_future *tasks[2];
    for (int i = 0; i < 2; i++) {
        corio_task *t;
        corio_create_task(&t, NULL, sleeper, (void *)secs[i], NULL); /* NULL: on the running loop */
        tasks[i] = corio_task_future(t);
    }
    void *values[2] = {NULL, NULL};
    int rc = corio_gather(tasks, 2, 0, values, NULL);
    for (int i = 0; i < 2; i++) {
        results[i] = (intptr_t)values[i];
        corio_future_unref(tasks[i]);
    }
    return rc < 0 ? corio_raise(rc) : NULL;
}

int main(void) {
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);

    intptr_t results[2] = {0, 0};
    corio_loop *loop;
    int rc = corio_loop_new(&loop, NULL);
    if (rc == 0)
        rc = corio_set_event_loop(loop);
    if (rc == 0) {
        corio_task *main_task;
        rc = corio_create_task(&main_task, corio_get_event_loop(), main_coro, results, NULL);
        if (rc == 0)
            rc = corio_loop_run_until_complete(loop, corio_task_future(main_task), NULL);
        corio_task_unref(main_task);
    }
    corio_loop_free(loop);

    clock_gettime(CLOCK_MONOTONIC, &end);
    if (rc < 0) {
        fprintf(stderr, "seed_demo: %s\n", corio_strerror(rc));
        return 1;
    }
    double elapsed = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("result : [%ld, %ld]\n", (long)results[0], (long)results[1]);
    printf("total time : %.2f sec\n", elapsed);
    return 0;
}
