/* What a file is and how it is kept: stat and statx, fsync, ftruncate, fallocate. */
#define _GNU_SOURCE /* statx */
#include "fs/fs.h"

#include "corio/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static ssize_t fd_call(corio__fs_req *r) {
    if (r->f.fd < 0)
        return corio__current_task() ? -EBADF : CORIO_ENOTASK;
    return corio__fs_run(r);
}

int corio_statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx) {
    if (!path || !stx)
        return corio__current_task() ? -EFAULT : CORIO_ENOTASK;
    corio__fs_req r = {.f = {.op = CORIO__FOP_STATX, .fd = dirfd, .path = path, .flags = flags,
                             .mode = mask, .buf = stx}};
    return (int)corio__fs_run(&r);
}

static void statx_to_stat(const struct statx *x, struct stat *st) {
    memset(st, 0, sizeof *st);
    st->st_dev = makedev(x->stx_dev_major, x->stx_dev_minor);
    st->st_ino = x->stx_ino;
    st->st_mode = x->stx_mode;
    st->st_nlink = x->stx_nlink;
    st->st_uid = x->stx_uid;
    st->st_gid = x->stx_gid;
    st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
    st->st_size = (off_t)x->stx_size;
    st->st_blksize = x->stx_blksize;
    st->st_blocks = (blkcnt_t)x->stx_blocks;
    st->st_atim = (struct timespec){x->stx_atime.tv_sec, x->stx_atime.tv_nsec};
    st->st_mtim = (struct timespec){x->stx_mtime.tv_sec, x->stx_mtime.tv_nsec};
    st->st_ctim = (struct timespec){x->stx_ctime.tv_sec, x->stx_ctime.tv_nsec};
}

/* stat, lstat and fstat are statx with the basic fields, which io_uring can do. */
static int stat_call(int dirfd, const char *path, int flags, struct stat *st) {
    if (!path || !st)
        return corio__current_task() ? -EFAULT : CORIO_ENOTASK;
    struct statx x;
    int rc = corio_statx(dirfd, path, flags, STATX_BASIC_STATS, &x);
    if (rc == 0)
        statx_to_stat(&x, st);
    return rc;
}

int corio_stat(const char *path, struct stat *st) { return stat_call(AT_FDCWD, path, 0, st); }

int corio_lstat(const char *path, struct stat *st) {
    return stat_call(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, st);
}

int corio_fstat(int fd, struct stat *st) {
    if (fd < 0)
        return corio__current_task() ? -EBADF : CORIO_ENOTASK;
    return stat_call(fd, "", AT_EMPTY_PATH, st);
}

int corio_fsync(int fd) {
    corio__fs_req r = {.f = {.op = CORIO__FOP_FSYNC, .fd = fd}};
    return (int)fd_call(&r);
}

int corio_fdatasync(int fd) {
    /* The flag means fdatasync to io_uring (IORING_FSYNC_DATASYNC) and to fs/syscall.c. */
    corio__fs_req r = {.f = {.op = CORIO__FOP_FSYNC, .fd = fd, .flags = 1}};
    return (int)fd_call(&r);
}

int corio_ftruncate(int fd, off_t length) {
    if (length < 0)
        return corio__current_task() ? -EINVAL : CORIO_ENOTASK;
    corio__fs_req r = {.f = {.op = CORIO__FS_FTRUNCATE, .fd = fd, .off = length}};
    return (int)fd_call(&r);
}

int corio_fallocate(int fd, int mode, off_t offset, off_t len) {
    if (offset < 0 || len <= 0)
        return corio__current_task() ? -EINVAL : CORIO_ENOTASK;
    corio__fs_req r = {.f = {.op = CORIO__FOP_FALLOCATE, .fd = fd, .mode = (unsigned)mode,
                             .off = offset, .len = (size_t)len}};
    return (int)fd_call(&r);
}
