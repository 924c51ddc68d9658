/* write_timeout watches corio_writer_sendfile: a peer that takes none of the file within the
 * limit has its connection closed and the sendfile returns -ETIMEDOUT, where it used to wait for
 * ever; a slow peer that keeps taking some is never cut, although the socket's unsent bytes do
 * not fall (sendfile refills them), so the file's progress is what counts. */
#include "fs_helpers.h"
#include "stream_helpers.h"

#include <netinet/in.h>

#define LIMIT 0.3 /* write_timeout */

static char dir[FS_DIR_MAX];
static char path[PATH_MAX];

static void put_file(size_t size)
{
    fs_tmpdir(dir);
    fs_put_pattern(fs_join(path, dir, "f"), size);
}

/* A pair with write_timeout and small socket buffers on both ends, so that the file waits for
 * the peer after a few chunks; returns the file, opened. */
static int open_pair(void)
{
    pair_open(&(corio_stream_opts){.write_timeout = LIMIT});
    int snd = 16384, rcv = 65536;
    setsockopt(corio_writer_get_fd(W), SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
    setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    return corio_open(path, O_RDONLY, 0);
}

static void run(corio_coro_fn fn, size_t size)
{
    put_file(size);
    RUN_CHECKED(fn, &size);
    fs_rmtree(dir);
}

static void *never_reads(void *arg)
{
    size_t size = *(size_t *)arg;
    int fd = open_pair();
    size_t sent = 0;
    double t0 = now_s();
    ssize_t n = corio_writer_sendfile(W, fd, 0, 0, 0, &sent);
    double dt = now_s() - t0;
    cr_expect_eq(n, -ETIMEDOUT, "%zd (%s)", n, corio_strerror((int)n));
    cr_expect_lt(sent, size, "the peer took %zu of %zu bytes", sent, size);
    cr_expect_geq(dt, LIMIT * 0.9, "closed after %.3f s, before the limit", dt);
    cr_expect_lt(dt, 20 * LIMIT, "closed after %.3f s", dt);
    cr_expect_eq(corio_writer_write(W, "x", 1), -ETIMEDOUT, "the connection stays broken");
    corio_close(fd);
    pair_close();
    return NULL;
}

Test(stream_sendfile_stall, a_peer_that_never_reads_is_closed, .timeout = 60)
{
    run(never_reads, (size_t)24 << 20);
}

/* Takes 64 KiB every LIMIT / 3 until the end, checking every byte. */
typedef struct slow {
    size_t got, bad;
} slow;

static void *slow_reader(void *arg)
{
    slow *k = arg;
    unsigned char *buf = malloc(65536);
    for (ssize_t n; (n = corio_sock_recv(peer, buf, 65536, 0)) > 0;) {
        for (ssize_t i = 0; i < n; i++)
            k->bad += buf[i] != fs_pat(k->got + (size_t)i);
        k->got += (size_t)n;
        corio_sleep(LIMIT / 3);
    }
    free(buf);
    return NULL;
}

static void *reads_slowly(void *arg)
{
    size_t size = *(size_t *)arg;
    int fd = open_pair();
    slow k = {0};
    corio_task *t = spawn(slow_reader, &k);
    double t0 = now_s();
    ssize_t n = corio_writer_sendfile(W, fd, 0, 0, 0, NULL);
    double dt = now_s() - t0;
    cr_expect_eq(n, (ssize_t)size, "%zd (%s)", n, corio_strerror((int)n));
    /* The peer held the file back for many limits, or this test showed nothing. */
    cr_expect_gt(dt, 4 * LIMIT, "the file went in %.3f s: the buffers took it", dt);
    corio_writer_close(W);
    cr_expect_eq(corio_writer_wait_closed(W), 0);
    cr_expect_eq(join(t, NULL), 0);
    cr_expect_eq(k.got, size);
    cr_expect_eq(k.bad, 0, "%zu bytes out of place", k.bad);
    corio_close(fd);
    pair_close();
    return NULL;
}

Test(stream_sendfile_stall, a_slow_peer_that_keeps_taking_is_not_cut, .timeout = 90)
{
    run(reads_slowly, (size_t)2 << 20);
}
