/* Reading and writing files: pread/pwrite and the vector forms, corio_read/corio_write at the
 * file position, short reads at the end, errors, on each backend, in own-stack and compact
 * tasks. */
#include "fs_helpers.h"

#include "under_valgrind.h"

#include <sys/uio.h>

typedef struct rw_case {
    char dir[FS_DIR_MAX];
} rw_case;

static void *pread_pwrite_main(void *arg)
{
    rw_case *c = arg;
    char path[PATH_MAX];
    int fd = corio_open(fs_join(path, c->dir, "a"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_expect_geq(fd, 0, "open: %s", corio_strerror(fd));
    cr_expect_eq(corio_pwrite(fd, "hello world", 11, 0), 11);
    cr_expect_eq(corio_pwrite(fd, "W", 1, 6), 1);
    char buf[32] = {0};
    cr_expect_eq(corio_pread(fd, buf, sizeof buf, 0), 11, "the whole file, short of the count");
    cr_expect_str_eq(buf, "hello World");
    cr_expect_eq(corio_pread(fd, buf, 5, 6), 5);
    cr_expect_eq(memcmp(buf, "World", 5), 0);
    cr_expect_eq(corio_pread(fd, buf, sizeof buf, 11), 0, "at the end: 0");
    cr_expect_eq(corio_pread(fd, buf, sizeof buf, 1000), 0, "past the end: 0");
    cr_expect_eq(corio_pread(fd, buf, 0, 0), 0, "a count of 0");
    off_t pos = lseek(fd, 0, SEEK_CUR);
    cr_expect_eq(pos, 0, "pread and pwrite leave the position alone");
    cr_expect_eq(corio_close(fd), 0);
    return NULL;
}

Test(fs_rw, pread_pwrite, .timeout = 20)
{
    rw_case c;
    FS_CASE_BOTH(c.dir, pread_pwrite_main, &c);
}

static void *position_main(void *arg)
{
    rw_case *c = arg;
    char path[PATH_MAX];
    int fd = corio_open(fs_join(path, c->dir, "b"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_expect_geq(fd, 0);
    cr_expect_eq(corio_write(fd, "abc", 3), 3);
    cr_expect_eq(corio_write(fd, "def", 3), 3, "at the position the first left");
    cr_expect_eq(lseek(fd, 0, SEEK_CUR), 6);
    lseek(fd, 1, SEEK_SET);
    char buf[8] = {0};
    cr_expect_eq(corio_read(fd, buf, 2), 2);
    cr_expect_eq(memcmp(buf, "bc", 2), 0);
    cr_expect_eq(corio_read(fd, buf, sizeof buf), 3);
    cr_expect_eq(memcmp(buf, "def", 3), 0);
    cr_expect_eq(corio_read(fd, buf, sizeof buf), 0, "end of file");
    corio_close(fd);
    return NULL;
}

Test(fs_rw, read_write_at_the_position, .timeout = 20)
{
    rw_case c;
    FS_CASE_BOTH(c.dir, position_main, &c);
}

static void *vector_main(void *arg)
{
    rw_case *c = arg;
    char path[PATH_MAX];
    int fd = corio_open(fs_join(path, c->dir, "v"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_expect_geq(fd, 0);
    struct iovec out[3] = {{"one ", 4}, {"", 0}, {"two", 3}};
    cr_expect_eq(corio_writev(fd, out, 3), 7);
    struct iovec tail[1] = {{"!", 1}};
    cr_expect_eq(corio_pwritev(fd, tail, 1, 7), 1);
    cr_expect_eq(lseek(fd, 0, SEEK_CUR), 7, "pwritev leaves the position");
    char a[3], b[8] = {0};
    struct iovec in[2] = {{a, 3}, {b, sizeof b}};
    cr_expect_eq(corio_preadv(fd, in, 2, 0), 8);
    cr_expect_eq(memcmp(a, "one", 3), 0);
    cr_expect_str_eq(b, " two!");
    lseek(fd, 4, SEEK_SET);
    memset(b, 0, sizeof b);
    struct iovec in2[1] = {{b, sizeof b}};
    cr_expect_eq(corio_readv(fd, in2, 1), 4);
    cr_expect_str_eq(b, "two!");
    cr_expect_eq(corio_readv(fd, in2, 0), 0, "no buffers");
    corio_close(fd);
    return NULL;
}

Test(fs_rw, vectors, .timeout = 20)
{
    rw_case c;
    FS_CASE_BOTH(c.dir, vector_main, &c);
}

/* A file larger than a compact task's copy (256 KiB per call): reads are short, never wrong. */
static void *large_main(void *arg)
{
    rw_case *c = arg;
    size_t len = 3u << 20;
    unsigned char *data = malloc(len), *back = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 131 + (i >> 12));
    char path[PATH_MAX];
    int fd = corio_open(fs_join(path, c->dir, "big"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    size_t done = 0;
    while (done < len) {
        ssize_t n = corio_pwrite(fd, data + done, len - done, (off_t)done);
        cr_expect_gt(n, 0, "pwrite: %s", corio_strerror((int)n));
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    done = 0;
    for (ssize_t n; done < len && (n = corio_read(fd, back + done, len - done)) > 0;)
        done += (size_t)n;
    cr_expect_eq(done, len);
    cr_expect_eq(memcmp(data, back, len), 0, "every byte as written");
    corio_close(fd);
    free(data);
    free(back);
    return NULL;
}

Test(fs_rw, large_file_every_byte, .timeout = 30)
{
    rw_case c;
    FS_CASE_BOTH(c.dir, large_main, &c);
}

/* A count far beyond the file and beyond 32 bits (io_uring's field): the file's bytes. */
static void *huge_count_main(void *arg)
{
    rw_case *c = arg;
    char path[PATH_MAX];
    int fd = corio_open(fs_join(path, c->dir, "h"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_expect_eq(corio_pwrite(fd, "12345", 5, 0), 5);
    char buf[16] = {0};
    ssize_t n = corio_pread(fd, buf, ((size_t)1 << 32) + 1, 0);
    cr_expect_eq(n, 5, "a count of 4 GiB + 1: %zd", n);
    cr_expect_eq(memcmp(buf, "12345", 5), 0);
    lseek(fd, 0, SEEK_SET);
    n = corio_read(fd, buf, SIZE_MAX / 2);
    cr_expect_eq(n, 5, "a count of SIZE_MAX / 2: %zd", n);
    corio_close(fd);
    return NULL;
}

static void *errors_main(void *arg)
{
    rw_case *c = arg;
    char buf[8] = {0}; /* written by the pwrite tests below: defined bytes for Valgrind */
    cr_expect_eq(corio_pread(-1, buf, 1, 0), -EBADF);
    cr_expect_eq(corio_pread(999999, buf, 1, 0), -EBADF, "a number that is no fd");
    cr_expect_eq(corio_pread(0, buf, 1, -5), -EINVAL, "a negative offset");
    cr_expect_eq(corio_pwrite(0, buf, 1, -5), -EINVAL);
    cr_expect_eq(corio_pread(0, NULL, 1, 0), -EFAULT);
    cr_expect_eq(corio_readv(0, NULL, 1), -EFAULT);
    struct iovec iov = {buf, 1};
    cr_expect_eq(corio_readv(0, &iov, -1), -EINVAL);
    cr_expect_eq(corio_writev(0, &iov, IOV_MAX + 1), -EINVAL);
    int dfd = corio_open(c->dir, O_RDONLY | O_DIRECTORY, 0);
    cr_expect_geq(dfd, 0);
    cr_expect_eq(corio_pread(dfd, buf, sizeof buf, 0), -EISDIR);
    cr_expect_eq(corio_read(dfd, buf, sizeof buf), -EISDIR);
    corio_close(dfd);
    char path[PATH_MAX];
    int fd = corio_open(fs_join(path, c->dir, "ro"), O_RDONLY | O_CREAT, 0600);
    cr_expect_eq(corio_pwrite(fd, "x", 1, 0), -EBADF, "writing a read-only fd");
    cr_expect_eq(corio_write(fd, "x", 1), -EBADF);
    corio_close(fd);
    fd = corio_open(path, O_WRONLY, 0);
    cr_expect_eq(corio_pread(fd, buf, 1, 0), -EBADF, "reading a write-only fd");
    corio_close(fd);
    /* A pipe has no offsets (io_uring's read at an offset would read it, and wait). */
    int p[2];
    cr_expect_eq(pipe2(p, O_CLOEXEC), 0);
    cr_expect_eq(corio_pread(p[0], buf, 1, 0), -ESPIPE);
    cr_expect_eq(corio_preadv(p[0], &iov, 1, 0), -ESPIPE);
    cr_expect_eq(corio_pwrite(p[1], "x", 1, 0), -ESPIPE);
    cr_expect_eq(corio_pwritev(p[1], &iov, 1, 0), -ESPIPE);
    corio_close(p[0]);
    corio_close(p[1]);
    return NULL;
}

Test(fs_rw, errors, .timeout = 20)
{
    FD_CHECK_BEGIN();
    rw_case c;
    fs_tmpdir(c.dir);
    fs_run_both(errors_main, &c);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}

/* The loop remembers which fds are files (no fstat or lseek per call); corio_close forgets. A
 * pipe that takes a closed file's number is a pipe: -ESPIPE at an offset (on io_uring, a
 * remembered "file" would send the read to the ring, which would wait on the empty pipe), and a
 * read at its position that waits for a writer. */
static void *reused_number_main(void *arg)
{
    rw_case *c = arg;
    char path[PATH_MAX], buf[8];
    int fd = corio_open(fs_join(path, c->dir, "f"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_expect_eq(corio_pwrite(fd, "data", 4, 0), 4);
    cr_expect_eq(corio_pread(fd, buf, 4, 0), 4);
    cr_expect_eq(corio_read(fd, buf, 4), 4, "at the position: a file");
    cr_expect_eq(corio_close(fd), 0);
    int p[2];
    cr_expect_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    cr_expect_eq(p[0], fd, "the pipe took the file's number");
    cr_expect_eq(corio_pread(p[0], buf, 4, 0), -ESPIPE);
    cr_expect_eq(corio_wait_readable(p[0], 0.01), -ETIMEDOUT, "an empty pipe, polled as one");
    cr_expect_eq(write(p[1], "x", 1), 1);
    cr_expect_eq(corio_read(p[0], buf, sizeof buf), 1);
    corio_close(p[0]);
    corio_close(p[1]);
    return NULL;
}

Test(fs_rw, a_closed_files_number_taken_by_a_pipe, .timeout = 20)
{
    rw_case c;
    FS_CASE_BOTH(c.dir, reused_number_main, &c);
}

Test(fs_rw, huge_counts, .timeout = 20)
{
    if (under_valgrind() || getenv("CORIO_QEMU"))
        cr_skip_test("Valgrind and qemu-user check the whole range a huge count names (EFAULT), "
                     "where the kernel reads only what the file has");
    rw_case c;
    FS_CASE_BOTH(c.dir, huge_count_main, &c);
}

Test(fs_rw, outside_a_task, .timeout = 10)
{
    char buf[4];
    cr_expect_eq(corio_pread(0, buf, 1, 0), CORIO_ENOTASK);
    cr_expect_eq(corio_pwrite(1, buf, 1, 0), CORIO_ENOTASK);
    struct iovec iov = {buf, 1};
    cr_expect_eq(corio_preadv(0, &iov, 1, 0), CORIO_ENOTASK);
    cr_expect_eq(corio_open("/", O_RDONLY, 0), CORIO_ENOTASK);
    cr_expect_eq(corio_fsync(1), CORIO_ENOTASK);
}
