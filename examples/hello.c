/* The README's example: tasks on their own stacks, sleep, gather, and a timeout. */
#include <corio.h>
#include <stdint.h>
#include <stdio.h>

static void *greet(void *arg) {
    int rc = corio_sleep(0.1 * (double)(intptr_t)arg);  /* suspends this task only */
    if (rc < 0)
        return corio_raise(rc);                /* cancelled: the task ends CANCELLED */
    printf("hello from %s\n", corio_task_get_name(corio_current_task()));
    return arg;
}

static void *main_task(void *arg) {
    (void)arg;
    corio_future *t[3];
    for (intptr_t i = 0; i < 3; i++) {
        corio_task *task;                                   /* NULL loop: the running one */
        corio_create_task(&task, NULL, greet, (void *)(3 - i), NULL);
        t[i] = corio_task_future(task);
    }
    void *v[3];
    int rc = corio_gather(t, 3, 0, v, NULL);      /* results in argument order */
    printf("gathered %d: [%ld, %ld, %ld]\n", rc, (long)(intptr_t)v[0], (long)(intptr_t)v[1],
           (long)(intptr_t)v[2]);
    corio_task *slow;
    corio_create_task(&slow, NULL, greet, (void *)(intptr_t)50, NULL);
    rc = corio_wait_for(corio_task_future(slow), 0.2, NULL);  /* cancels it after 0.2 s */
    printf("wait_for: %s\n", corio_err_name(rc));
    corio_task_unref(slow);
    for (int i = 0; i < 3; i++)
        corio_future_unref(t[i]);
    return NULL;
}

int main(void) { return corio_run(main_task, NULL, NULL, NULL) < 0; }
