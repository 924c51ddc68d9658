/* Each request's system call, as an executor's thread makes it (blocking is its job). */
#define _GNU_SOURCE /* copy_file_range, renameat2, statx, preadv2 */
#include "fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* io_uring's -1 offset is "the file position", as preadv2's. */
static ssize_t rw(const corio__io_file *f) {
    struct iovec one = {.iov_base = f->buf, .iov_len = f->len};
    int vec = f->op == CORIO__FOP_READV || f->op == CORIO__FOP_WRITEV;
    const struct iovec *iov = vec ? f->iov : &one;
    int n = vec ? f->iovcnt : 1;
    if (f->op == CORIO__FOP_READ || f->op == CORIO__FOP_READV)
        return preadv2(f->fd, iov, n, (off_t)f->off, 0);
    return pwritev2(f->fd, iov, n, (off_t)f->off, 0);
}

static ssize_t call(corio__fs_req *r) {
    const corio__io_file *f = &r->f;
    switch (f->op) {
    case CORIO__FOP_READ: case CORIO__FOP_WRITE: case CORIO__FOP_READV: case CORIO__FOP_WRITEV:
        return rw(f);
    case CORIO__FOP_FSYNC: return f->flags ? fdatasync(f->fd) : fsync(f->fd);
    case CORIO__FOP_OPENAT: return openat(f->fd, f->path, f->flags, (mode_t)f->mode);
    case CORIO__FOP_STATX: return statx(f->fd, f->path, f->flags, f->mode, f->buf);
    case CORIO__FOP_FALLOCATE: return fallocate(f->fd, (int)f->mode, f->off, (off_t)f->len);
    case CORIO__FOP_RENAMEAT:
        return renameat2(f->fd, f->path, f->fd2, f->path2, (unsigned)f->flags);
    case CORIO__FOP_UNLINKAT: return unlinkat(f->fd, f->path, f->flags);
    case CORIO__FOP_MKDIRAT: return mkdirat(f->fd, f->path, (mode_t)f->mode);
    case CORIO__FOP_SYMLINKAT: return symlinkat(f->path, f->fd, f->path2);
    case CORIO__FS_FTRUNCATE: return ftruncate(f->fd, f->off);
    case CORIO__FS_READLINKAT: return readlinkat(f->fd, f->path, f->buf, f->len);
    case CORIO__FS_COPY_RANGE:
        return copy_file_range(f->fd, r->off_in, f->fd2, r->off_out, f->len, (unsigned)f->flags);
    case CORIO__FS_SENDFILE: return sendfile(f->fd2, f->fd, r->off_in, f->len);
    default: errno = EINVAL; return -1;
    }
}

ssize_t corio__fs_syscall(corio__fs_req *r) {
    if (r->f.op == CORIO__FS_SCANDIR)
        return corio__fs_scandir(r);
    ssize_t n;
    do
        n = call(r);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}
