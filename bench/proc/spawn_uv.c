/* The subprocess benchmark on libuv (bench/proc/run.sh): see bench/proc/README.md.
 *
 *   cc -O2 -o spawn_uv bench/proc/spawn_uv.c $(pkg-config --cflags --libs libuv)
 *   spawn_uv true|cat N INFLIGHT
 *
 * MODE true: uv_spawn /bin/true and wait for its exit callback, N times, INFLIGHT children at a
 * time. MODE cat: uv_spawn cat with a pipe on its stdin and one on its stdout, uv_write 64 KiB
 * into the first and close it once written, read the second to EOF (uv_read_start) while that
 * goes on, and wait for the exit callback; every echo is checked byte for byte. A child counts as
 * done once all its handles are closed; the next one is spawned from there, so that INFLIGHT
 * children are in flight until the last N.
 *
 * Prints one line "libuv <mode> <n> <seconds>" (CLOCK_MONOTONIC, from the first spawn to the
 * last child done; the loop is initialised before). Exits 1 on any failure: a spawn error, a
 * child exiting non-zero or killed, an echo that differs from its input.
 *
 * Built by bench/proc/run.sh with cc directly (not CMake): it does not use corio.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define SIZE (64 * 1024) /* bytes through each cat */

/* Child i of the cat mode gets the 64 KiB window of one 128 KiB random pattern starting at
 * (i * STRIDE) mod 64 KiB: every child echoes different bytes, with no random numbers drawn
 * inside the timed run. Same scheme in spawn_asyncio.py and go/main.go. */
#define STRIDE 4099

/* Room for twice the input: a cat that sends back more than it got is caught as a mismatch
 * instead of running out of buffer. */
#define OUTCAP (2 * SIZE)

typedef struct child {
    uv_process_t proc;
    uv_pipe_t in;  /* the child's stdin: we write */
    uv_pipe_t out; /* the child's stdout: we read */
    uv_write_t wreq;
    long index;
    int open; /* handles not closed yet; the child is done at 0 */
    const unsigned char *input;
    unsigned char *output;
    size_t got;
} child;

static uv_loop_t *loop;
static int cat_mode;
static long n_total, started, done;
static int failed;
static char prog[4096];
static unsigned char *pattern;

static void start_child(void);

static void fail(const child *c, const char *what, int err) {
    if (!failed) { /* the first failure is the one to read; the others follow from it */
        fprintf(stderr, "spawn_uv: child %ld: %s%s%s\n", c->index, what, err ? ": " : "",
                err ? uv_strerror(err) : "");
    }
    failed = 1;
}

static void child_done(child *c) {
    if (cat_mode && !failed && (c->got != SIZE || memcmp(c->output, c->input, SIZE) != 0)) {
        fprintf(stderr, "spawn_uv: child %ld: echo mismatch: %zu bytes back of %d\n", c->index,
                c->got, SIZE);
        failed = 1;
    }
    free(c->output);
    free(c);
    done++;
    if (!failed && started < n_total) start_child();
}

static void on_close(uv_handle_t *h) {
    child *c = h->data;
    if (--c->open == 0) child_done(c);
}

static void on_child_exit(uv_process_t *p, int64_t status, int term_signal) {
    child *c = p->data;
    if (status != 0 || term_signal != 0) {
        char what[64];
        snprintf(what, sizeof what, "exit status %lld, signal %d", (long long)status, term_signal);
        fail(c, what, 0);
    }
    uv_close((uv_handle_t *)p, on_close);
}

static void on_written(uv_write_t *w, int status) {
    child *c = w->data;
    if (status < 0) fail(c, "write to stdin", status);
    uv_close((uv_handle_t *)&c->in, on_close); /* EOF for cat */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    child *c = h->data;
    (void)suggested;
    buf->base = (char *)c->output + c->got;
    buf->len = OUTCAP - c->got;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    child *c = s->data;
    (void)buf;
    if (nread > 0) {
        c->got += (size_t)nread;
        if (c->got < OUTCAP) return;
        fail(c, "echo mismatch: more bytes back than sent", 0);
    } else if (nread == 0) {
        return; /* EAGAIN */
    } else if (nread != UV_EOF) {
        fail(c, "read from stdout", (int)nread);
    }
    uv_close((uv_handle_t *)s, on_close);
}

static void start_child(void) {
    child *c = calloc(1, sizeof *c);
    if (!c) {
        perror("spawn_uv: calloc");
        exit(1);
    }
    c->index = started++;
    c->proc.data = c;
    c->in.data = c;
    c->out.data = c;
    c->wreq.data = c;

    char *args[] = {prog, NULL};
    uv_stdio_container_t stdio[3];
    uv_process_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.file = prog;
    opts.args = args;
    opts.exit_cb = on_child_exit;
    opts.stdio = stdio;
    opts.stdio_count = 3;
    if (cat_mode) {
        uv_pipe_init(loop, &c->in, 0);
        uv_pipe_init(loop, &c->out, 0);
        /* READABLE / WRITABLE as the child sees them. */
        stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
        stdio[0].data.stream = (uv_stream_t *)&c->in;
        stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[1].data.stream = (uv_stream_t *)&c->out;
        stdio[2].flags = UV_INHERIT_FD;
        stdio[2].data.fd = 2;
        c->open = 3;
    } else {
        /* Inherited, no pipes, as in the other programs (UV_IGNORE would make the child open
         * /dev/null for each of them). */
        for (int fd = 0; fd < 3; fd++) {
            stdio[fd].flags = UV_INHERIT_FD;
            stdio[fd].data.fd = fd;
        }
        c->open = 1;
    }

    int r = uv_spawn(loop, &c->proc, &opts);
    if (r < 0) {
        fail(c, "uv_spawn", r);
        /* The handles were initialised: they are closed as usual, and the child counts as done
         * from on_close. */
        uv_close((uv_handle_t *)&c->proc, on_close);
        if (cat_mode) {
            uv_close((uv_handle_t *)&c->in, on_close);
            uv_close((uv_handle_t *)&c->out, on_close);
        }
        return;
    }
    if (!cat_mode) return;

    c->input = pattern + (size_t)(c->index * STRIDE) % SIZE;
    c->output = malloc(OUTCAP);
    if (!c->output) {
        perror("spawn_uv: malloc");
        exit(1);
    }
    uv_buf_t b = uv_buf_init((char *)c->input, SIZE);
    r = uv_write(&c->wreq, (uv_stream_t *)&c->in, &b, 1, on_written);
    if (r < 0) {
        fail(c, "uv_write", r);
        uv_close((uv_handle_t *)&c->in, on_close);
    }
    r = uv_read_start((uv_stream_t *)&c->out, on_alloc, on_read);
    if (r < 0) {
        fail(c, "uv_read_start", r);
        uv_close((uv_handle_t *)&c->out, on_close);
    }
}

/* The first executable "name" in PATH, into prog: resolved once, so that no child searches PATH
 * (libuv's execvp would), as in the other programs. */
static int resolve(const char *name) {
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && len + 1 + strlen(name) < sizeof prog) {
            snprintf(prog, sizeof prog, "%.*s/%s", (int)len, path, name);
            if (access(prog, X_OK) == 0) return 0;
        }
        path += len;
        if (*path == ':') path++;
    }
    return -1;
}

static void usage(void) {
    fprintf(stderr, "usage: spawn_uv true|cat N INFLIGHT\n");
    exit(2);
}

static long parse_count(const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1) usage();
    return v;
}

int main(int argc, char **argv) {
    if (argc != 4) usage();
    if (strcmp(argv[1], "true") == 0) {
        cat_mode = 0;
        snprintf(prog, sizeof prog, "/bin/true");
    } else if (strcmp(argv[1], "cat") == 0) {
        cat_mode = 1;
        if (resolve("cat") < 0) {
            fprintf(stderr, "spawn_uv: cat not found in PATH\n");
            return 1;
        }
    } else {
        usage();
    }
    n_total = parse_count(argv[2]);
    long inflight = parse_count(argv[3]);

    /* A cat that dies before reading all its input must fail the run with EPIPE, not kill it. */
    signal(SIGPIPE, SIG_IGN);

    pattern = malloc(2 * SIZE);
    if (!pattern) {
        perror("spawn_uv: malloc");
        return 1;
    }
    for (size_t have = 0; have < 2 * SIZE;) {
        ssize_t r = getrandom(pattern + have, 2 * SIZE - have, 0);
        if (r < 0 && errno != EINTR) {
            perror("spawn_uv: getrandom");
            return 1;
        }
        if (r > 0) have += (size_t)r;
    }

    loop = uv_default_loop();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < inflight && i < n_total; i++) start_child();
    uv_run(loop, UV_RUN_DEFAULT);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    if (failed) return 1;
    if (done != n_total) {
        fprintf(stderr, "spawn_uv: %ld children done of %ld\n", done, n_total);
        return 1;
    }
    uv_loop_close(loop);
    printf("libuv %s %ld %.6f\n", argv[1], n_total,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
