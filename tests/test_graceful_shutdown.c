/* examples/graceful_server under SIGTERM, driven by real clients: an idle keep-alive connection
 * is closed, a slow request in progress is answered (with Connection: close), a new connection
 * after the signal is refused, and the server exits 0; past the grace period the request in
 * progress is aborted instead. The server runs as a child, through corio's own process API. */
#include "process_helpers.h"

#ifndef CORIO_EXAMPLES_DIR
#define CORIO_EXAMPLES_DIR "build/examples"
#endif

typedef struct server {
    corio_process *p;
    int port;
} server;

extern char **environ;

/* The example's argv; under qemu-user without binfmt_misc (make check-aarch64) an aarch64
 * program is spawned through qemu itself, as cmake/qemu_exec_shim.c does for exec, with the
 * guest's LD_PRELOAD and LD_LIBRARY_PATH kept out of qemu's environment. */
static const char *const *example_argv(const char *grace, const char **argv, const char **env,
                                       size_t cap)
{
    const char *exe = CORIO_EXAMPLES_DIR "/graceful_server";
    const char *qemu = getenv("CORIO_QEMU");
    size_t i = 0;
    if (qemu && *qemu) {
        argv[i++] = qemu;
        argv[i++] = "-0";
        argv[i++] = exe;
    }
    argv[i++] = exe;
    argv[i++] = "0";
    argv[i++] = grace;
    argv[i] = NULL;
    size_t j = 0;
    for (char **e = environ; *e && j + 1 < cap; e++)
        if (!qemu || (strncmp(*e, "LD_PRELOAD=", 11) != 0 &&
                      strncmp(*e, "LD_LIBRARY_PATH=", 16) != 0))
            env[j++] = *e;
    env[j] = NULL;
    return argv;
}

static int start(server *s, const char *grace)
{
    const char *argv[8], *env[512];
    example_argv(grace, argv, env, 512);
    corio_process_opts o = {.stdout_mode = CORIO_PROCESS_PIPE, .env = env};
    s->p = spawn_ok(argv, &o);
    if (!s->p)
        return -1;
    const char *line = NULL;
    ssize_t n = corio_reader_readline(corio_process_get_stdout(s->p), &line);
    cr_expect(n > 0 && sscanf(line, "serving on port %d", &s->port) == 1, "server said %.*s",
              (int)(n > 0 ? n : 0), line ? line : "");
    return s->port > 0 ? 0 : -1;
}

static void expect_line(server *s, const char *want)
{
    const char *line = NULL;
    ssize_t n = corio_reader_readline(corio_process_get_stdout(s->p), &line);
    cr_expect(n == (ssize_t)strlen(want) && memcmp(line, want, (size_t)n) == 0,
              "server said '%.*s', want '%s'", (int)(n > 0 ? n : 0), line ? line : "", want);
}

/* Reads until EOF (or an error) into buf; returns the bytes read, or the error. */
static ssize_t read_to_end(corio_reader *r, char *buf, size_t cap)
{
    size_t got = 0;
    ssize_t n = 0;
    while (got < cap - 1 && (n = corio_reader_read(r, buf + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    return n < 0 && got == 0 ? n : (ssize_t)got;
}

static const char get_root[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

static void *graceful(void *arg)
{
    (void)arg;
    server s;
    if (start(&s, "5") < 0)
        return NULL;
    corio_reader *ra, *rb, *rc;
    corio_writer *wa, *wb, *wc;
    cr_assert_eq(corio_open_connection(&ra, &wa, "127.0.0.1", s.port, NULL), 0);
    cr_expect_eq(corio_writer_write(wa, get_root, sizeof get_root - 1), 0);
    const char *end = NULL;
    cr_expect_gt(corio_reader_readuntil(ra, "hello\n", 6, &end, NULL), 0, "A's first answer");
    cr_assert_eq(corio_open_connection(&rb, &wb, "127.0.0.1", s.port, NULL), 0);
    const char slow[] = "GET /slow/3000 HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_expect_eq(corio_writer_write(wb, slow, sizeof slow - 1), 0);
    /* The slow request is in progress by then, even with the server under Valgrind. */
    cr_expect_eq(corio_sleep(1.0), 0);
    cr_expect_eq(corio_process_terminate(s.p), 0);
    expect_line(&s, "draining\n");
    cr_expect_eq(corio_open_connection(&rc, &wc, "127.0.0.1", s.port, NULL), -ECONNREFUSED,
                 "a new connection after SIGTERM");
    char buf[1024];
    cr_expect_eq(read_to_end(ra, buf, sizeof buf), 0, "the idle connection got: %s", buf);
    cr_expect_gt(read_to_end(rb, buf, sizeof buf), 0);
    cr_expect(strstr(buf, "HTTP/1.1 200 OK\r\n") && strstr(buf, "Connection: close\r\n") &&
                  strstr(buf, "slow done\n"),
              "the slow request got: %s", buf);
    int code = -1;
    cr_expect_eq(corio_process_wait(s.p, &code), 0);
    cr_expect_eq(code, 0);
    expect_line(&s, "stopped: 2 finished, 0 aborted\n");
    corio_stream_free(ra, wa);
    corio_stream_free(rb, wb);
    cr_expect_eq(corio_process_free(s.p), 0);
    return NULL;
}

Test(graceful_shutdown, idle_closed_slow_finished_new_refused_exit_0, .timeout = 30)
{
    run_in_loop(graceful, NULL);
}

static void *grace_passes(void *arg)
{
    (void)arg;
    server s;
    if (start(&s, "0.3") < 0)
        return NULL;
    corio_reader *r;
    corio_writer *w;
    cr_assert_eq(corio_open_connection(&r, &w, "127.0.0.1", s.port, NULL), 0);
    const char slow[] = "GET /slow/20000 HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_expect_eq(corio_writer_write(w, slow, sizeof slow - 1), 0);
    cr_expect_eq(corio_sleep(1.0), 0);
    double t0 = corio_loop_time(NULL);
    cr_expect_eq(corio_process_terminate(s.p), 0);
    char buf[1024];
    ssize_t n = read_to_end(r, buf, sizeof buf);
    cr_expect(n <= 0, "the aborted request got an answer: %s", buf);
    int code = -1;
    cr_expect_eq(corio_process_wait(s.p, &code), 0);
    cr_expect_eq(code, 0);
    cr_expect_lt(corio_loop_time(NULL) - t0, 10.0, "the server waited for the slow request");
    expect_line(&s, "draining\n");
    expect_line(&s, "stopped: 0 finished, 1 aborted\n");
    corio_stream_free(r, w);
    cr_expect_eq(corio_process_free(s.p), 0);
    return NULL;
}

Test(graceful_shutdown, past_the_grace_period_the_rest_is_aborted, .timeout = 30)
{
    run_in_loop(grace_passes, NULL);
}
