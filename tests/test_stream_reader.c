/* The reader: read, readexactly, readuntil, readline against asyncio's StreamReader semantics:
 * EOF, partial data, the limit, bad input, a second reader, a peer reset, and a task cancelled
 * in each call (nothing received is lost). */
#include "stream_helpers.h"

static void *read_then_eof(void *arg)
{
    (void)arg;
    pair_open(NULL);
    peer_send("abc");
    corio_sock_shutdown(peer, SHUT_WR);
    char buf[8];
    cr_expect_eq(corio_reader_read(R, buf, 2), 2);
    cr_expect(memcmp(buf, "ab", 2) == 0);
    cr_expect_eq(corio_reader_at_eof(R), 0);
    cr_expect_eq(corio_reader_read(R, buf, sizeof buf), 1);
    cr_expect_eq(buf[0], 'c');
    cr_expect_eq(corio_reader_read(R, buf, sizeof buf), 0);
    cr_expect_eq(corio_reader_read(R, buf, sizeof buf), 0, "EOF stays");
    cr_expect_eq(corio_reader_at_eof(R), 1);
    pair_close();
    return NULL;
}
Test(stream_reader, read_returns_buffered_bytes_then_eof, .timeout = 10) { RUN_CHECKED(read_then_eof, NULL); }

static void *read_bad_input(void *arg)
{
    (void)arg;
    pair_open(NULL);
    char buf[4];
    cr_expect_eq(corio_reader_read(NULL, buf, 4), -EINVAL);
    cr_expect_eq(corio_reader_read(R, NULL, 4), -EINVAL);
    cr_expect_eq(corio_reader_read(R, buf, 0), 0, "n == 0 does not wait");
    cr_expect_eq(corio_reader_readexactly(NULL, buf, 4, NULL), -EINVAL);
    cr_expect_eq(corio_reader_readexactly(R, NULL, 4, NULL), -EINVAL);
    size_t part = 99;
    cr_expect_eq(corio_reader_readexactly(R, buf, 0, &part), 0);
    cr_expect_eq(part, 0);
    const char *c;
    size_t len = 9;
    cr_expect_eq(corio_reader_readuntil(R, NULL, 1, &c, &len), -EINVAL);
    cr_expect_eq(len, 0);
    cr_expect_eq(corio_reader_readuntil(R, "x", 0, &c, &len), -EINVAL);
    cr_expect_eq(corio_reader_readuntil(R, "x", 1, NULL, &len), -EINVAL);
    cr_expect_eq(corio_reader_readuntil(NULL, "x", 1, &c, &len), -EINVAL);
    cr_expect_eq(corio_reader_readline(R, NULL), -EINVAL);
    cr_expect_eq(corio_reader_readline(NULL, &c), -EINVAL);
    cr_expect_eq(corio_reader_get_limit(R), 65536);
    cr_expect_eq(corio_reader_at_eof(NULL), 0);
    pair_close();
    return NULL;
}
Test(stream_reader, bad_input_is_einval, .timeout = 10) { RUN_CHECKED(read_bad_input, NULL); }

static char *big;
static size_t big_n = 300000;

static void *send_big_then_close(void *arg)
{
    (void)arg;
    cr_expect_eq(corio_sock_sendall(peer, big, big_n, 0), (ssize_t)big_n);
    corio_sock_shutdown(peer, SHUT_WR);
    return NULL;
}

static void *large_reads(void *arg)
{
    (void)arg;
    pair_open(NULL);
    big = malloc(big_n);
    for (size_t i = 0; i < big_n; i++)
        big[i] = (char)(i * 7 + i / 251);
    corio_task *t = spawn(send_big_then_close, NULL);
    char *got = malloc(big_n);
    size_t n = 0;
    /* Mixed sizes: small reads go through the buffer, large ones straight into ours. */
    for (int i = 0;; i++) {
        size_t want = i % 2 ? 65536 : 1000;
        if (n + want > big_n)
            want = big_n - n;
        if (!want) {
            char extra;
            cr_expect_eq(corio_reader_read(R, &extra, 1), 0, "EOF after the last byte");
            break;
        }
        ssize_t k = corio_reader_read(R, got + n, want);
        cr_expect_gt(k, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    cr_expect_eq(n, big_n);
    cr_expect(memcmp(got, big, big_n) == 0, "bytes arrive intact and in order");
    cr_expect_eq(join(t, NULL), 0);
    free(got);
    free(big);
    pair_close();
    return NULL;
}
Test(stream_reader, large_reads_get_every_byte_in_order, .timeout = 20) { RUN_CHECKED(large_reads, NULL); }

static void *send_later(void *arg)
{
    corio_sleep(0.05);
    peer_send(arg);
    return NULL;
}

static void *readexactly_chunks(void *arg)
{
    (void)arg;
    pair_open(NULL);
    peer_send("hel");
    corio_task *t = spawn(send_later, "lo world");
    char buf[16] = {0};
    size_t part = 0;
    cr_expect_eq(corio_reader_readexactly(R, buf, 5, &part), 5);
    cr_expect_eq(part, 5);
    cr_expect_str_eq(buf, "hello");
    memset(buf, 0, sizeof buf);
    cr_expect_eq(corio_reader_readexactly(R, buf, 6, NULL), 6);
    cr_expect_str_eq(buf, " world");
    join(t, NULL);
    pair_close();
    return NULL;
}
Test(stream_reader, readexactly_gathers_across_receives, .timeout = 10) { RUN_CHECKED(readexactly_chunks, NULL); }

static void *readexactly_eof(void *arg)
{
    (void)arg;
    pair_open(NULL);
    peer_send("abc");
    corio_sock_shutdown(peer, SHUT_WR);
    char buf[8] = {0};
    size_t part = 0;
    cr_expect_eq(corio_reader_readexactly(R, buf, 5, &part), CORIO_EINCOMPLETE);
    cr_expect_eq(part, 3, "the partial data is handed back");
    cr_expect(memcmp(buf, "abc", 3) == 0);
    cr_expect_eq(corio_reader_at_eof(R), 1);
    cr_expect_eq(corio_reader_readexactly(R, buf, 1, &part), CORIO_EINCOMPLETE);
    cr_expect_eq(part, 0);
    cr_expect_str_eq(corio_err_name(CORIO_EINCOMPLETE), "CORIO_EINCOMPLETE");
    pair_close();
    return NULL;
}
Test(stream_reader, readexactly_early_eof_gives_partial, .timeout = 10) { RUN_CHECKED(readexactly_eof, NULL); }

static void expect_line(const char *want)
{
    const char *line = NULL;
    ssize_t n = corio_reader_readline(R, &line);
    cr_expect_eq(n, (ssize_t)strlen(want), "readline: %zd (%s), want \"%s\"", n,
                 corio_err_name((int)n), want);
    if (n > 0)
        cr_expect(memcmp(line, want, (size_t)n) == 0, "line \"%.*s\", want \"%s\"", (int)n, line, want);
}

static void *readline_basic(void *arg)
{
    (void)arg;
    pair_open(NULL);
    peer_send("one\ntwo\nthr");
    corio_task *t = spawn(send_later, "ee");
    expect_line("one\n");
    expect_line("two\n");
    join(t, NULL);
    corio_sock_shutdown(peer, SHUT_WR);
    expect_line("three"); /* the last line without its newline, at EOF */
    expect_line("");
    cr_expect_eq(corio_reader_at_eof(R), 1);
    pair_close();
    return NULL;
}
Test(stream_reader, readline_splits_lines_and_returns_the_last_at_eof, .timeout = 10) { RUN_CHECKED(readline_basic, NULL); }

static void *readline_limit(void *arg)
{
    (void)arg;
    corio_stream_opts o = {.limit = 16};
    pair_open(&o);
    char *x = repeat('x', 40);
    /* Separator beyond the limit: the long line is dropped up to its newline. */
    peer_send(x);
    peer_send("\nok\n");
    const char *line = (const char *)1;
    while (corio_reader_buffered(R) < 44) { /* make sure all of it is here first */
        cr_expect_eq(corio_reader_readuntil(R, "#", 1, &line, NULL), CORIO_ELIMIT);
        corio_sleep(0.01);
    }
    cr_expect_eq(corio_reader_readline(R, &line), CORIO_ELIMIT);
    cr_expect_null(line);
    expect_line("ok\n");
    /* No separator within the limit: everything buffered is dropped, the rest of the line comes
     * as the next one (as asyncio). */
    peer_send(x);
    cr_expect_eq(corio_reader_readline(R, &line), CORIO_ELIMIT);
    cr_expect_eq(corio_reader_buffered(R), 0);
    peer_send("tail\n");
    expect_line("tail\n");
    cr_expect_str_eq(corio_err_name(CORIO_ELIMIT), "CORIO_ELIMIT");
    free(x);
    pair_close();
    return NULL;
}
Test(stream_reader, readline_longer_than_limit_is_elimit_and_consumed, .timeout = 10) { RUN_CHECKED(readline_limit, NULL); }

static void *readuntil_cases(void *arg)
{
    (void)arg;
    corio_stream_opts o = {.limit = 8};
    pair_open(&o);
    peer_send("GET / HTTP/1.1\r\n\r\nab");
    const char *c;
    size_t len = 0;
    /* 18 bytes before the separator: over the limit of 8, and the data stays. */
    cr_expect_eq(corio_reader_readuntil(R, "\r\n\r\n", 4, &c, &len), CORIO_ELIMIT);
    cr_expect_eq(len, 14, "consumed: where the separator starts");
    cr_expect_geq(corio_reader_buffered(R), 18);
    char buf[32];
    cr_expect_eq(corio_reader_read(R, buf, 18), 18);
    peer_send("cd||ef");
    corio_sock_shutdown(peer, SHUT_WR);
    cr_expect_eq(corio_reader_readuntil(R, "||", 2, &c, &len), 6);
    cr_expect_eq(len, 6);
    cr_expect(memcmp(c, "abcd||", 6) == 0);
    cr_expect_eq(corio_reader_readuntil(R, "||", 2, &c, &len), CORIO_EINCOMPLETE);
    cr_expect_eq(len, 2);
    cr_expect(memcmp(c, "ef", 2) == 0, "the partial chunk at EOF");
    cr_expect_eq(corio_reader_readuntil(R, "||", 2, &c, &len), CORIO_EINCOMPLETE);
    cr_expect_eq(len, 0);
    pair_close();
    return NULL;
}
Test(stream_reader, readuntil_limit_keeps_data_and_eof_gives_partial, .timeout = 10) { RUN_CHECKED(readuntil_cases, NULL); }

/* Found by fuzz/fuzz_stream_reader.c: readuntil's first look at a reader with no buffer yet
 * computed NULL + 0 (undefined; clang's UBSan reports it, gcc's does not). */
static void *eof_before_any_byte(void *arg)
{
    (void)arg;
    pair_open(NULL);
    corio_sock_shutdown(peer, SHUT_WR);
    const char *c = "x";
    size_t len = 9;
    cr_expect_eq(corio_reader_readuntil(R, "ab", 2, &c, &len), CORIO_EINCOMPLETE);
    cr_expect_eq(len, 0);
    cr_expect_eq(corio_reader_readline(R, &c), 0);
    cr_expect_eq(corio_reader_at_eof(R), 1);
    pair_close();
    return NULL;
}
Test(stream_reader, eof_before_any_byte_gives_an_empty_chunk, .timeout = 10) { RUN_CHECKED(eof_before_any_byte, NULL); }

static void *blocked_read(void *arg)
{
    (void)arg;
    char buf[4];
    ev(1);
    ssize_t n = corio_reader_read(R, buf, sizeof buf);
    ev(3);
    return IV(n);
}

static void *second_reader(void *arg)
{
    (void)arg;
    pair_open(NULL);
    corio_task *t = spawn(blocked_read, NULL);
    corio_sleep(0);
    char buf[4];
    const char *c;
    ev(2);
    cr_expect_eq(corio_reader_read(R, buf, 4), -EBUSY, "one reading task at a time");
    cr_expect_eq(corio_reader_readline(R, &c), -EBUSY);
    peer_send("z");
    void *res;
    cr_expect_eq(join(t, &res), 0);
    cr_expect_eq(VI(res), 1);
    EV_EXPECT(1, 2, 3);
    pair_close();
    return NULL;
}
Test(stream_reader, second_reading_task_gets_ebusy, .timeout = 10) { RUN_CHECKED(second_reader, NULL); }

static void *peer_reset_mid_read(void *arg)
{
    (void)arg;
    pair_open(NULL);
    corio_task *t = spawn(blocked_read, NULL);
    corio_sleep(0.02);
    peer_reset();
    void *res;
    cr_expect_eq(join(t, &res), 0);
    cr_expect_eq(VI(res), -ECONNRESET, "read: %s", corio_err_name(VI(res)));
    char buf[4];
    cr_expect_eq(corio_reader_read(R, buf, 4), -ECONNRESET, "the error is sticky");
    cr_expect_eq(corio_writer_write(W, "x", 1), -ECONNRESET, "and the writer sees it");
    cr_expect_eq(corio_writer_is_closing(W), 1);
    cr_expect_eq(corio_writer_wait_closed(W), -ECONNRESET);
    pair_close();
    return NULL;
}
Test(stream_reader, peer_reset_mid_read_is_econnreset, .timeout = 10) { RUN_CHECKED(peer_reset_mid_read, NULL); }

/* ---- cancellation in each call: the bytes received so far stay for the next call ---- */

enum { C_READ, C_EXACTLY, C_LINE, C_UNTIL };

static void *blocked_call(void *arg)
{
    char buf[16];
    const char *c;
    switch (VI(arg)) {
    case C_READ: return IV(corio_reader_read(R, buf, sizeof buf));
    case C_EXACTLY: return IV(corio_reader_readexactly(R, buf, 7, NULL));
    case C_LINE: return IV(corio_reader_readline(R, &c));
    default: return IV(corio_reader_readuntil(R, "!!", 2, &c, NULL));
    }
}

static void *cancel_each(void *arg)
{
    pair_open(NULL);
    int which = VI(arg);
    if (which != C_READ)
        peer_send("par");
    corio_task *t = spawn(blocked_call, arg);
    corio_sleep(0.05);
    cr_expect_eq(corio_task_cancel(t, NULL), 1);
    cr_expect_eq(join(t, NULL), -ECANCELED);
    /* The connection is still usable and nothing was lost. */
    char buf[16] = {0};
    const char *c;
    size_t len;
    switch (which) {
    case C_READ:
        peer_send("x");
        cr_expect_eq(corio_reader_read(R, buf, sizeof buf), 1);
        break;
    case C_EXACTLY:
        peer_send("tial");
        cr_expect_eq(corio_reader_readexactly(R, buf, 7, NULL), 7);
        cr_expect_str_eq(buf, "partial");
        break;
    case C_LINE:
        peer_send("tial\n");
        expect_line("partial\n");
        break;
    default:
        peer_send("tial!!");
        cr_expect_eq(corio_reader_readuntil(R, "!!", 2, &c, &len), 9);
        cr_expect(memcmp(c, "partial!!", 9) == 0);
    }
    pair_close();
    return NULL;
}
Test(stream_reader, cancel_in_read_leaves_stream_usable, .timeout = 10) { RUN_CHECKED(cancel_each, IV(C_READ)); }
Test(stream_reader, cancel_in_readexactly_loses_nothing, .timeout = 10) { RUN_CHECKED(cancel_each, IV(C_EXACTLY)); }
Test(stream_reader, cancel_in_readline_loses_nothing, .timeout = 10) { RUN_CHECKED(cancel_each, IV(C_LINE)); }
Test(stream_reader, cancel_in_readuntil_loses_nothing, .timeout = 10) { RUN_CHECKED(cancel_each, IV(C_UNTIL)); }

static void *release_while_reading(void *arg)
{
    (void)arg;
    pair_open(NULL);
    corio_task *t = spawn(blocked_read, NULL);
    corio_sleep(0.02);
    /* The connection is closed under the reading task: it sees EOF, and the object stays valid
     * until its call returns. */
    corio_stream_free(R, W);
    void *res;
    cr_expect_eq(join(t, &res), 0);
    cr_expect_eq(VI(res), 0, "read: %s", corio_err_name(VI(res)));
    corio_close(peer);
    return NULL;
}
Test(stream_reader, release_while_a_task_reads_gives_it_eof, .timeout = 10) { RUN_CHECKED(release_while_reading, NULL); }

static void *after_close(void *arg)
{
    (void)arg;
    pair_open(NULL);
    peer_send("left\n");
    const char *c;
    cr_expect_eq(corio_reader_readuntil(R, "e", 1, &c, NULL), 2);
    corio_writer_close(W);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    expect_line("ft\n"); /* what was buffered is still there */
    expect_line("");
    pair_close();
    return NULL;
}
Test(stream_reader, reads_after_close_return_buffered_then_eof, .timeout = 10) { RUN_CHECKED(after_close, NULL); }

static void *invalid_fds(void *arg)
{
    (void)arg;
    corio_reader *r = (corio_reader *)1;
    corio_writer *w = (corio_writer *)1;
    cr_expect_eq(corio_stream_new(&r, &w, NULL, -1, NULL), -EBADF);
    cr_expect_null(r);
    cr_expect_null(w);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    close(fds[1]);
    cr_expect_eq(corio_stream_new(&r, &w, NULL, fds[1], NULL), -EBADF, "a closed fd");
    cr_expect_eq(corio_stream_new(&r, &w, NULL, fds[0], NULL), -ENOTSOCK, "a pipe");
    close(fds[0]);
    int u = corio_socket(AF_INET, SOCK_DGRAM, 0);
    cr_expect_eq(corio_stream_new(&r, &w, NULL, u, NULL), -EINVAL, "a datagram socket");
    cr_expect_eq(corio_stream_new(NULL, &w, NULL, u, NULL), -EINVAL);
    corio_close(u);
    return NULL;
}
Test(stream_reader, invalid_fd_is_refused, .timeout = 10) { RUN_CHECKED(invalid_fds, NULL); }
