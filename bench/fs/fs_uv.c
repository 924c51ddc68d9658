/* The file-I/O benchmark on libuv: the same contract as every other program of bench/fs.
 *
 *   cc -O2 -Wall -Wextra -o fs_uv bench/fs/fs_uv.c $(pkg-config --cflags --libs libuv)
 *   fs_uv files|seq|rand N INFLIGHT PATH
 *
 * MODE files: PATH is a directory of 4096-byte files f00000, f00001, ... Files 0..N-1 are each
 *   uv_fs_open'ed, read with one uv_fs_read into a 4097-byte buffer (one byte of room, so that a
 *   file longer than 4096 bytes is caught as a wrong count rather than read in part; we do not
 *   read again until 0) and uv_fs_close'd, chained in callbacks, INFLIGHT files at a time: the
 *   next file starts from the close callback of the one before.
 * MODE seq: PATH is one file of N MiB, read from start to end with 1 MiB uv_fs_reads at an
 *   explicit running offset, one at a time, each issued from the callback of the one before, into
 *   one reused 1 MiB buffer, until a read returns 0; the total must be N * 1048576 bytes.
 *   INFLIGHT is parsed but not used.
 * MODE rand: PATH is one file of S bytes (a multiple of 4096). N positional 4096-byte uv_fs_reads
 *   at offsets drawn from xorshift64 (state 42; next_offset below), INFLIGHT at a time, each
 *   request re-issued from its own callback until N have been started. Every read must return
 *   4096 bytes.
 *
 * Everything runs on libuv's default threadpool (UV_THREADPOOL_SIZE not set: 4 threads). In seq
 * and rand the file is opened (and in rand sized with fstat) before the clock starts and closed
 * after it stops: only the reads are timed. In files the open and close of every file are timed.
 *
 * Prints one line "libuv <mode> <n> <seconds>" (CLOCK_MONOTONIC, from just before the first
 * request to the return of uv_run; the loop is initialised before). Exits 1 on any failure: an
 * error from any request, a short or long read, a wrong total; 2 on bad arguments.
 *
 * Not part of the CMake build: it does not use corio.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#define BLOCK 4096           /* the size of every file of the files mode, and of every rand read */
#define CHUNK (1024 * 1024)  /* one seq read */

/* One request in flight: a file being read (files) or one positional read (rand). The same
 * uv_fs_t is reused for every step, as each step starts from the callback of the one before. */
typedef struct slot {
    uv_fs_t req;
    uv_buf_t buf;
    long index; /* files: the file number; rand: the read number */
    uv_file fd;  /* files: the file open in this slot */
    char data[BLOCK + 1];
} slot;

static uv_loop_t *loop;
static const char *mode_name;
static const char *path;
static long n_total, started, done;
static int failed;

/* rand */
static uv_file rand_fd;
static uint64_t rand_state = 42;
static uint64_t rand_blocks; /* S / 4096 */

/* seq */
static uv_fs_t seq_req;
static uv_file seq_fd;
static char *seq_buf;
static int64_t seq_off;

static void fail(long index, const char *what, ssize_t err) {
    if (!failed) { /* the first failure is the one to read; the others follow from it */
        fprintf(stderr, "fs_uv %s: #%ld: %s%s%s\n", mode_name, index, what, err ? ": " : "",
                err ? uv_strerror((int)err) : "");
    }
    failed = 1;
}

/* ---- files ---------------------------------------------------------------------------- */

static void start_file(slot *s);

static void on_file_close(uv_fs_t *req) {
    slot *s = req->data;
    if (req->result < 0) fail(s->index, "close", req->result);
    uv_fs_req_cleanup(req);
    done++;
    if (!failed) start_file(s);
}

static void close_file(slot *s) {
    int r = uv_fs_close(loop, &s->req, s->fd, on_file_close);
    if (r < 0) fail(s->index, "uv_fs_close", r);
}

static void on_file_read(uv_fs_t *req) {
    slot *s = req->data;
    ssize_t got = req->result;
    uv_fs_req_cleanup(req);
    if (got < 0) {
        fail(s->index, "read", got);
    } else if (got != BLOCK) {
        char what[64];
        snprintf(what, sizeof what, "read %zd bytes, not %d", got, BLOCK);
        fail(s->index, what, 0);
    }
    close_file(s); /* even after a failure: the descriptor is ours */
}

static void on_file_open(uv_fs_t *req) {
    slot *s = req->data;
    ssize_t fd = req->result;
    uv_fs_req_cleanup(req); /* frees libuv's copy of the path */
    if (fd < 0) {
        fail(s->index, "open", fd);
        return;
    }
    s->fd = (uv_file)fd;
    /* Offset 0: the file was just opened, so this is the same read as at the current position. */
    int r = uv_fs_read(loop, &s->req, s->fd, &s->buf, 1, 0, on_file_read);
    if (r < 0) {
        fail(s->index, "uv_fs_read", r);
        close_file(s);
    }
}

static void start_file(slot *s) {
    if (started >= n_total) return;
    s->index = started++;
    char name[PATH_MAX];
    if (snprintf(name, sizeof name, "%s/f%05ld", path, s->index) >= (int)sizeof name) {
        fail(s->index, "path too long", 0);
        return;
    }
    s->buf = uv_buf_init(s->data, BLOCK + 1);
    int r = uv_fs_open(loop, &s->req, name, O_RDONLY, 0, on_file_open);
    if (r < 0) fail(s->index, "uv_fs_open", r);
}

/* ---- rand ----------------------------------------------------------------------------- */

/* xorshift64 (13, 7, 17) from state 42: the same sequence of offsets in every program. */
static int64_t next_offset(void) {
    uint64_t x = rand_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rand_state = x;
    return (int64_t)((x % rand_blocks) * BLOCK);
}

static void start_rand(slot *s);

static void on_rand_read(uv_fs_t *req) {
    slot *s = req->data;
    ssize_t got = req->result;
    uv_fs_req_cleanup(req);
    if (got < 0) {
        fail(s->index, "read", got);
    } else if (got != BLOCK) {
        char what[64];
        snprintf(what, sizeof what, "read %zd bytes, not %d", got, BLOCK);
        fail(s->index, what, 0);
    }
    done++;
    if (!failed) start_rand(s);
}

static void start_rand(slot *s) {
    if (started >= n_total) return;
    s->index = started++;
    /* Offsets are drawn here, as reads start, so they are used in the order they are drawn. */
    int64_t off = next_offset();
    s->buf = uv_buf_init(s->data, BLOCK);
    int r = uv_fs_read(loop, &s->req, rand_fd, &s->buf, 1, off, on_rand_read);
    if (r < 0) fail(s->index, "uv_fs_read", r);
}

/* ---- seq ------------------------------------------------------------------------------ */

static void start_seq(void);

static void on_seq_read(uv_fs_t *req) {
    ssize_t got = req->result;
    uv_fs_req_cleanup(req);
    if (got < 0) {
        fail(started, "read", got);
        return;
    }
    if (got == 0) return; /* end of file: the total is checked in main */
    seq_off += got;
    start_seq();
}

static void start_seq(void) {
    uv_buf_t b = uv_buf_init(seq_buf, CHUNK);
    started++;
    int r = uv_fs_read(loop, &seq_req, seq_fd, &b, 1, seq_off, on_seq_read);
    if (r < 0) fail(started, "uv_fs_read", r);
}

/* ---- setup ---------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr, "usage: fs_uv files|seq|rand N INFLIGHT PATH\n");
    exit(2);
}

static long parse_count(const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1) usage();
    return v;
}

/* Opens PATH read-only, synchronously (no callback), before the clock starts. */
static uv_file open_sync(void) {
    uv_fs_t req;
    int r = uv_fs_open(loop, &req, path, O_RDONLY, 0, NULL);
    uv_fs_req_cleanup(&req);
    if (r < 0) {
        fprintf(stderr, "fs_uv %s: open %s: %s\n", mode_name, path, uv_strerror(r));
        exit(1);
    }
    return r;
}

static void close_sync(uv_file fd) {
    uv_fs_t req;
    int r = uv_fs_close(loop, &req, fd, NULL);
    uv_fs_req_cleanup(&req);
    if (r < 0) {
        fprintf(stderr, "fs_uv %s: close %s: %s\n", mode_name, path, uv_strerror(r));
        exit(1);
    }
}

static slot *make_slots(long count) {
    slot *slots = calloc((size_t)count, sizeof *slots);
    if (!slots) {
        perror("fs_uv: calloc");
        exit(1);
    }
    for (long i = 0; i < count; i++) slots[i].req.data = &slots[i];
    return slots;
}

int main(int argc, char **argv) {
    if (argc != 5) usage();
    mode_name = argv[1];
    int files = strcmp(mode_name, "files") == 0;
    int seq = strcmp(mode_name, "seq") == 0;
    int rnd = strcmp(mode_name, "rand") == 0;
    if (!files && !seq && !rnd) usage();
    n_total = parse_count(argv[2]);
    long inflight = parse_count(argv[3]);
    path = argv[4];
    if (seq && n_total > INT64_MAX / CHUNK) usage(); /* the expected total must fit */

    loop = uv_default_loop();

    /* Everything the timed part needs is allocated and opened here, before the clock starts. */
    long nslots = inflight < n_total ? inflight : n_total;
    slot *slots = NULL;
    if (files || rnd) slots = make_slots(nslots);
    if (seq) {
        seq_buf = malloc(CHUNK);
        if (!seq_buf) {
            perror("fs_uv: malloc");
            return 1;
        }
        seq_fd = open_sync();
    }
    if (rnd) {
        rand_fd = open_sync();
        uv_fs_t req;
        int r = uv_fs_fstat(loop, &req, rand_fd, NULL);
        uint64_t size = req.statbuf.st_size;
        uv_fs_req_cleanup(&req);
        if (r < 0) {
            fprintf(stderr, "fs_uv rand: fstat %s: %s\n", path, uv_strerror(r));
            return 1;
        }
        if (size < BLOCK || size % BLOCK != 0) {
            fprintf(stderr, "fs_uv rand: %s: size %" PRIu64 " is not a positive multiple of %d\n",
                    path, size, BLOCK);
            return 1;
        }
        rand_blocks = size / BLOCK;
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (files) {
        for (long i = 0; i < nslots; i++) start_file(&slots[i]);
    } else if (rnd) {
        for (long i = 0; i < nslots; i++) start_rand(&slots[i]);
    } else {
        start_seq();
    }
    uv_run(loop, UV_RUN_DEFAULT);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    if (seq) close_sync(seq_fd);
    if (rnd) close_sync(rand_fd);
    if (failed) return 1;
    if (seq && seq_off != (int64_t)n_total * CHUNK) {
        fprintf(stderr, "fs_uv seq: %s: read %" PRId64 " bytes, not %" PRId64 "\n", path, seq_off,
                (int64_t)n_total * CHUNK);
        return 1;
    }
    if (!seq && done != n_total) {
        fprintf(stderr, "fs_uv %s: %ld done of %ld\n", mode_name, done, n_total);
        return 1;
    }
    uv_loop_close(loop);
    free(slots);
    free(seq_buf);
    printf("libuv %s %ld %.6f\n", mode_name, n_total,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
