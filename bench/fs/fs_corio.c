/* The file benchmark on corio (bench/fs/run.sh; bench/fs/README.md has the comparison).
 *
 *   cmake --build build-bench --target fs_corio
 *   build-bench/bench/fs/fs_corio files|seq|rand N INFLIGHT PATH   (CORIO_BACKEND: the backend)
 *
 * MODE files: read PATH/f00000 .. f<N-1>, each 4096 bytes (corio_open, corio_read, corio_close),
 * INFLIGHT files at a time. MODE seq: read the N MiB file PATH from start to end, 1 MiB per
 * corio_read. MODE rand: N corio_preads of 4096 bytes at offsets drawn from xorshift64 (state 42,
 * the same sequence in every system's program), INFLIGHT at a time, from the file PATH.
 *
 * Prints one line "corio-<backend> <mode> <n> <seconds>" (CLOCK_MONOTONIC, from the first call to
 * the last result; the loop exists before). Exits 1 on any error or short read.
 */
#include "../bench_util.h"

#include <corio.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define PAGE 4096
#define MIB ((size_t)1 << 20)

typedef struct bench {
    const char *mode, *path;
    long n, inflight;
    long next;     /* the next file or read to start */
    uint64_t rng;  /* xorshift64 state (rand) */
    off_t blocks;  /* the file's 4 KiB blocks (rand) */
    int fd;        /* the file (seq, rand) */
    int failed;
} bench;

static void fail(bench *b, const char *what, ssize_t rc) {
    if (!b->failed)
        fprintf(stderr, "fs_corio: %s: %s\n", what, rc < 0 ? corio_strerror((int)rc) : "short");
    b->failed = 1;
}

static void *files_worker(void *arg) {
    bench *b = arg;
    char path[4096], buf[PAGE + 1];
    while (!b->failed && b->next < b->n) {
        snprintf(path, sizeof path, "%s/f%05ld", b->path, b->next++);
        int fd = corio_open(path, O_RDONLY, 0);
        ssize_t n = fd < 0 ? fd : corio_read(fd, buf, sizeof buf);
        if (fd >= 0)
            corio_close(fd);
        if (n != PAGE)
            fail(b, path, n);
    }
    return NULL;
}

static uint64_t next_offset(bench *b) {
    uint64_t x = b->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b->rng = x;
    return (x % (uint64_t)b->blocks) * PAGE;
}

static void *rand_worker(void *arg) {
    bench *b = arg;
    char buf[PAGE];
    while (!b->failed && b->next < b->n) {
        b->next++;
        ssize_t n = corio_pread(b->fd, buf, PAGE, (off_t)next_offset(b));
        if (n != PAGE)
            fail(b, "pread", n);
    }
    return NULL;
}

static void seq_read(bench *b) {
    char *buf = malloc(MIB);
    size_t total = 0;
    ssize_t n;
    while ((n = corio_read(b->fd, buf, MIB)) > 0)
        total += (size_t)n;
    if (n < 0 || total != (size_t)b->n * MIB)
        fail(b, "read", n);
    free(buf);
}

static void run_workers(bench *b, corio_coro_fn fn) {
    corio_task **t = calloc((size_t)b->inflight, sizeof *t);
    for (long i = 0; i < b->inflight; i++)
        if (corio_create_task(&t[i], NULL, fn, b, NULL) < 0)
            BENCH_DIE("fs_corio: corio_create_task failed");
    for (long i = 0; i < b->inflight; i++) {
        corio_await(corio_task_future(t[i]), NULL);
        corio_task_unref(t[i]);
    }
    free(t);
}

static void *bench_main(void *arg) {
    bench *b = arg;
    if (strcmp(b->mode, "files") != 0) {
        b->fd = corio_open(b->path, O_RDONLY, 0);
        struct stat st;
        if (b->fd < 0 || fstat(b->fd, &st) < 0)
            BENCH_DIE("fs_corio: %s: %s", b->path, corio_strerror(b->fd < 0 ? b->fd : -errno));
        b->blocks = st.st_size / PAGE;
        if (b->blocks == 0)
            BENCH_DIE("fs_corio: %s is smaller than 4 KiB", b->path);
    }
    double t0 = bench_now();
    if (strcmp(b->mode, "files") == 0)
        run_workers(b, files_worker);
    else if (strcmp(b->mode, "seq") == 0)
        seq_read(b);
    else
        run_workers(b, rand_worker);
    double secs = bench_now() - t0;
    if (b->fd > 0)
        corio_close(b->fd);
    if (!b->failed)
        printf("corio-%s %s %ld %.6f\n", corio_loop_get_backend(NULL), b->mode, b->n, secs);
    return NULL;
}

int main(int argc, char **argv) {
    int known = argc == 5 && (!strcmp(argv[1], "files") || !strcmp(argv[1], "seq") ||
                              !strcmp(argv[1], "rand"));
    if (!known)
        BENCH_DIE("usage: %s files|seq|rand N INFLIGHT PATH", argv[0]);
    bench b = {.mode = argv[1], .n = atol(argv[2]), .inflight = atol(argv[3]), .path = argv[4],
               .rng = 42, .fd = -1};
    if (b.n <= 0 || b.inflight <= 0)
        BENCH_DIE("fs_corio: N and INFLIGHT must be > 0");
    if (b.inflight > b.n)
        b.inflight = b.n;
    if (corio_run(bench_main, &b, NULL, NULL) != 0 || b.failed)
        return 1;
    return 0;
}
