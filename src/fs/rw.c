/* Reads and writes of files: pread/pwrite and their vector forms, corio_read/corio_write on
 * files, copy_file_range. */
#define _GNU_SOURCE /* IOV_MAX */
#include "fs/fs.h"

#include "corio/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/uio.h>

static ssize_t rw(corio__fs_req *r) {
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (r->f.fd < 0)
        return -EBADF;
    return corio__fs_run(r);
}

static ssize_t buf_rw(int op, int fd, void *buf, size_t count, off_t offset) {
    if (!buf && count)
        return -EFAULT;
    if (offset < -1)
        return -EINVAL;
    corio__fs_req r = {.f = {.op = op, .fd = fd, .buf = buf, .len = count, .off = offset}};
    return rw(&r);
}

static ssize_t vec_rw(int op, int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    if (iovcnt < 0 || iovcnt > IOV_MAX || (!iov && iovcnt))
        return iovcnt < 0 || iovcnt > IOV_MAX ? -EINVAL : -EFAULT;
    if (offset < -1)
        return -EINVAL;
    corio__fs_req r = {.f = {.op = op, .fd = fd, .iov = iov, .iovcnt = iovcnt, .off = offset}};
    return rw(&r);
}

ssize_t corio_pread(int fd, void *buf, size_t count, off_t offset) {
    return offset < 0 ? -EINVAL : buf_rw(CORIO__FOP_READ, fd, buf, count, offset);
}

ssize_t corio_pwrite(int fd, const void *buf, size_t count, off_t offset) {
    return offset < 0 ? -EINVAL : buf_rw(CORIO__FOP_WRITE, fd, (void *)buf, count, offset);
}

ssize_t corio_readv(int fd, const struct iovec *iov, int iovcnt) {
    return vec_rw(CORIO__FOP_READV, fd, iov, iovcnt, -1);
}

ssize_t corio_writev(int fd, const struct iovec *iov, int iovcnt) {
    return vec_rw(CORIO__FOP_WRITEV, fd, iov, iovcnt, -1);
}

ssize_t corio_preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    return offset < 0 ? -EINVAL : vec_rw(CORIO__FOP_READV, fd, iov, iovcnt, offset);
}

ssize_t corio_pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    return offset < 0 ? -EINVAL : vec_rw(CORIO__FOP_WRITEV, fd, iov, iovcnt, offset);
}

/* On a socket, pipe or terminal, the I/O layer's call; a file it cannot wait for comes back
 * here, to be read at its position without blocking the loop. */
ssize_t corio_read(int fd, void *buf, size_t len) {
    ssize_t n = corio__io_read(fd, buf, len);
    return n == CORIO__IO_EFILE ? buf_rw(CORIO__FOP_READ, fd, buf, len, -1) : n;
}

ssize_t corio_write(int fd, const void *buf, size_t len) {
    ssize_t n = corio__io_write(fd, buf, len);
    return n == CORIO__IO_EFILE ? buf_rw(CORIO__FOP_WRITE, fd, (void *)buf, len, -1) : n;
}

ssize_t corio_copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
                              unsigned int flags) {
    if (fd_in < 0 || fd_out < 0)
        return corio__current_task() ? -EBADF : CORIO_ENOTASK;
    corio__fs_req r = {.f = {.op = CORIO__FS_COPY_RANGE, .fd = fd_in, .fd2 = fd_out, .len = len,
                             .flags = (int)flags},
                       .off_in = off_in, .off_out = off_out};
    return corio__fs_run(&r);
}
