/* The floor of bench/fs: the same reads with plain blocking calls on one thread, no runtime. What
 * a runtime's figure is measured against, and how the destination buffer alone moves (b).
 *
 *   cc -O2 -o read_floor bench/fs/read_floor.c
 *   read_floor files DIR N          open + read (4097-byte buffer) + close of DIR/f00000 .. N-1
 *   read_floor seq FILE BUF reuse|new   FILE in reads of BUF bytes, into one buffer or a new one
 *                                   (malloc'd, then freed) each time
 *   read_floor rand FILE N          N preads of 4 KiB at bench/fs's xorshift64 offsets
 *
 * Prints "floor <mode> <seconds>"; exits 1 on a short read.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int files(const char *dir, long n) {
    char path[4096], buf[4097];
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%05ld", dir, i);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t got = fd < 0 ? -1 : read(fd, buf, sizeof buf);
        if (fd >= 0)
            close(fd);
        if (got != 4096)
            return 1;
    }
    return 0;
}

static int seq(const char *path, size_t size, int fresh) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *keep = malloc(size);
    ssize_t n;
    do {
        char *buf = fresh ? malloc(size) : keep;
        n = read(fd, buf, size);
        if (fresh)
            free(buf);
    } while (n > 0);
    free(keep);
    close(fd);
    return n < 0;
}

static int rand_reads(const char *path, long n) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 4096)
        return 1;
    uint64_t x = 42, blocks = (uint64_t)st.st_size / 4096;
    char buf[4096];
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (pread(fd, buf, sizeof buf, (off_t)((x % blocks) * 4096)) != 4096)
            return 1;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "seq") == 0 && argc < 5)) {
        fprintf(stderr, "usage: %s files DIR N | seq FILE BUF reuse|new | rand FILE N\n", argv[0]);
        return 2;
    }
    double t0 = now();
    int bad;
    if (strcmp(argv[1], "files") == 0)
        bad = files(argv[2], atol(argv[3]));
    else if (strcmp(argv[1], "seq") == 0)
        bad = seq(argv[2], (size_t)atol(argv[3]), strcmp(argv[4], "new") == 0);
    else
        bad = rand_reads(argv[2], atol(argv[3]));
    if (bad) {
        fprintf(stderr, "read_floor: a read failed or was short\n");
        return 1;
    }
    printf("floor %s %.6f\n", argv[1], now() - t0);
    return 0;
}
