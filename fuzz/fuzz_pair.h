/* What the fuzz targets share: two tasks on the two ends of a socketpair, run to their end in
 * a fresh loop, with every fd of the run checked closed afterwards. */
#ifndef CORIO_FUZZ_PAIR_H
#define CORIO_FUZZ_PAIR_H

#include <corio.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#define FUZZ_CHECK(name, cond)                                                                    \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s: check failed at %s:%d: %s\n", name, __FILE__, __LINE__, #cond);  \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

typedef struct fuzz_pair {
    corio_coro_fn a, b; /* the two tasks, given `arg` */
    void *arg;
} fuzz_pair;

static void *fuzz_pair_main(void *arg) {
    fuzz_pair *p = arg;
    corio_task *t[2];
    FUZZ_CHECK("fuzz", corio_create_task(&t[0], NULL, p->a, p->arg, NULL) == 0);
    FUZZ_CHECK("fuzz", corio_create_task(&t[1], NULL, p->b, p->arg, NULL) == 0);
    for (int i = 0; i < 2; i++) {
        FUZZ_CHECK("fuzz", corio_await(corio_task_future(t[i]), NULL) == 0);
        corio_task_unref(t[i]);
    }
    return NULL;
}

static inline int fuzz_count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* A socketpair's ends in *fd_a and *fd_b (inside arg, for the tasks), then a and b run to
 * their end. Every fd of the run is closed once corio_run returns: counted around the run every
 * so often (not against a fixed baseline: libFuzzer starts llvm-symbolizer, with pipes, when it
 * reports new functions). */
static inline void fuzz_pair_run(int *fd_a, int *fd_b, corio_coro_fn a, corio_coro_fn b,
                                 void *arg) {
    static unsigned long runs;
    int fds_before = runs++ % 64 == 0 ? fuzz_count_fds() : -1;
    int sv[2];
    FUZZ_CHECK("fuzz", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    *fd_a = sv[0];
    *fd_b = sv[1];
    fuzz_pair p = {a, b, arg};
    FUZZ_CHECK("fuzz", corio_run(fuzz_pair_main, &p, NULL, NULL) == 0);
    FUZZ_CHECK("fuzz", fds_before < 0 || fuzz_count_fds() == fds_before);
}

#endif
