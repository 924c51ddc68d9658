/* The streams' name lookup thread and its hand-off to the loop, as a plain program so that
 * ThreadSanitizer runs it: lookups that finish, and lookups cancelled at once or while the
 * worker is running (the worker then frees its result alone). Returns 0 when every lookup gave
 * the expected outcome and no worker is left. */
#include <corio.h>

#include "stream/resolve.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOOKUPS 40

static int failures;

static void *lookup(void *arg)
{
    (void)arg;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = corio__stream_resolve("localhost", "80", &hints, &res);
    if (rc == 0) {
        if (!res)
            failures++;
        freeaddrinfo(res);
    }
    return (void *)(intptr_t)rc;
}

static void *main_task(void *arg)
{
    (void)arg;
    corio_task *t[LOOKUPS];
    for (int i = 0; i < LOOKUPS; i++) {
        int rc = corio_create_task(&t[i], NULL, lookup, NULL, NULL);
        if (rc != 0) {
            fprintf(stderr, "corio_create_task: %s\n", corio_err_name(rc));
            return corio_raise(rc);
        }
    }
    corio_sleep(0); /* every lookup is waiting for its worker now (some may be done) */
    int cancelled[LOOKUPS] = {0};
    for (int i = 0; i < LOOKUPS; i += 2)
        cancelled[i] = corio_task_cancel(t[i], NULL);
    for (int i = 0; i < LOOKUPS; i++) {
        void *v = NULL;
        int rc = corio_await(corio_task_future(t[i]), &v);
        int want = cancelled[i] ? -ECANCELED : 0;
        if (rc == 0)
            rc = (int)(intptr_t)v;
        if (rc != want) {
            fprintf(stderr, "lookup %d: %s, want %s\n", i, corio_err_name(rc),
                    corio_err_name(want));
            failures++;
        }
        corio_task_unref(t[i]);
    }
    return NULL;
}

int main(void)
{
    for (int round = 0; round < 3; round++)
        if (corio_run(main_task, NULL, NULL, NULL) != 0)
            failures++;
    for (int i = 0; i < 1000 && corio__stream_resolve_pending(); i++)
        usleep(10000);
    if (corio__stream_resolve_pending()) {
        fprintf(stderr, "%d lookup threads left\n", corio__stream_resolve_pending());
        failures++;
    }
    printf("%s\n", failures ? "FAIL" : "ok");
    return failures != 0;
}
