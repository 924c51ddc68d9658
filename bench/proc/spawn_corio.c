/* The subprocess benchmark on corio (bench/proc/run.sh; see bench/proc/README.md).
 *
 *   spawn_corio true|cat N INFLIGHT
 *
 * MODE true: corio_create_subprocess_exec of /bin/true (stdio inherited) and
 * corio_process_wait, N times, INFLIGHT tasks each spawning one child after another. MODE cat:
 * cat with stdin and stdout as pipes, 64 KiB through corio_process_communicate, every echo
 * checked byte for byte. The same input scheme as the other programs: child i echoes the 64 KiB
 * window at (i * 4099) mod 64 KiB of one 128 KiB random pattern, and cat's path is looked up
 * once, before the clock starts.
 *
 * Prints "corio <mode> <n> <seconds>" (CLOCK_MONOTONIC, from the first spawn to the last exit);
 * exits 1 on any failure. */
#include <corio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define SIZE (64 * 1024)
#define STRIDE 4099

static const char *mode, *prog;
static long n, next;
static int failures;
static unsigned char pattern[2 * SIZE];

static int one(long i) {
    const char *const argv[] = {prog, NULL};
    int cat = prog != NULL && strcmp(mode, "cat") == 0;
    corio_process_opts o = {.stdin_mode = cat ? CORIO_PROCESS_PIPE : CORIO_PROCESS_INHERIT,
                            .stdout_mode = cat ? CORIO_PROCESS_PIPE : CORIO_PROCESS_INHERIT};
    corio_process *p;
    int rc = corio_create_subprocess_exec(&p, NULL, argv, &o);
    if (rc < 0)
        return rc;
    int code = -1;
    if (!cat) {
        rc = corio_process_wait(p, &code);
    } else {
        const unsigned char *in = pattern + (i * STRIDE) % SIZE;
        char *out = NULL;
        size_t len = 0;
        rc = corio_process_communicate(p, in, SIZE, &out, &len, NULL, NULL, &code);
        if (rc == 0 && (len != SIZE || memcmp(out, in, SIZE) != 0))
            rc = -EPROTO;
        free(out);
    }
    corio_process_free(p);
    return rc < 0 ? rc : code != 0 ? -ECHILD : 0;
}

static void *worker(void *arg) {
    (void)arg;
    while (next < n && !failures) {
        long i = next++;
        int rc = one(i);
        if (rc < 0 && failures++ == 0)
            fprintf(stderr, "spawn_corio (%s): child %ld: %s\n", mode, i, corio_strerror(rc));
    }
    return NULL;
}

static void *main_task(void *arg) {
    long inflight = *(long *)arg;
    corio_task **t = calloc((size_t)inflight, sizeof *t);
    for (long i = 0; t && i < inflight; i++)
        if (corio_create_task(&t[i], NULL, worker, NULL, NULL) < 0)
            failures++;
    for (long i = 0; t && i < inflight; i++) {
        corio_await(corio_task_future(t[i]), NULL);
        corio_task_unref(t[i]);
    }
    free(t);
    return NULL;
}

/* cat's path, found in PATH once (as exec.LookPath and shutil.which). */
static const char *find_cat(void) {
    static char path[4096];
    const char *dirs = getenv("PATH");
    for (const char *d = dirs ? dirs : "/usr/bin:/bin"; *d;) {
        size_t len = strcspn(d, ":");
        snprintf(path, sizeof path, "%.*s/cat", (int)len, d);
        if (access(path, X_OK) == 0)
            return path;
        d += len + (d[len] == ':');
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "true") && strcmp(argv[1], "cat"))) {
        fprintf(stderr, "usage: spawn_corio true|cat N INFLIGHT\n");
        return 2;
    }
    mode = argv[1];
    n = atol(argv[2]);
    long inflight = atol(argv[3]);
    prog = strcmp(mode, "cat") == 0 ? find_cat() : "/bin/true";
    if (!prog || n < 1 || inflight < 1 ||
        getrandom(pattern, sizeof pattern, 0) != (ssize_t)sizeof pattern) {
        fprintf(stderr, "spawn_corio: bad arguments, no cat, or no random bytes\n");
        return 2;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = corio_run(main_task, &inflight, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (rc < 0 || failures) {
        fprintf(stderr, "spawn_corio (%s): %d failed (%s)\n", mode, failures, corio_strerror(rc));
        return 1;
    }
    printf("corio %s %ld %.6f\n", mode, n, (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
