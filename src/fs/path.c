/* Calls on paths: open, rename, unlink, mkdir, rmdir, symlink, readlink, scandir. */
#include "fs/fs.h"

#include "corio/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>

/* A NULL path is -EFAULT, as the system calls say for a bad address. */
static ssize_t path_call(corio__fs_req *r) {
    if (!r->f.path || (r->f.op == CORIO__FOP_RENAMEAT && !r->f.path2) ||
        (r->f.op == CORIO__FOP_SYMLINKAT && !r->f.path2))
        return corio__current_task() ? -EFAULT : CORIO_ENOTASK;
    return corio__fs_run(r);
}

int corio_openat(int dirfd, const char *path, int flags, mode_t mode) {
    corio__fs_req r = {.f = {.op = CORIO__FOP_OPENAT, .fd = dirfd, .path = path,
                             .flags = flags | O_CLOEXEC, .mode = mode}};
    int fd = (int)path_call(&r);
    if (fd >= 0) /* a new fd: whatever an fd of that number was is forgotten */
        corio__io_fd_new(corio__task_loop_of(corio__current_task()), fd, CORIO__FD_UNKNOWN);
    return fd;
}

int corio_open(const char *path, int flags, mode_t mode) {
    return corio_openat(AT_FDCWD, path, flags, mode);
}

int corio_rename(const char *oldpath, const char *newpath) {
    corio__fs_req r = {.f = {.op = CORIO__FOP_RENAMEAT, .fd = AT_FDCWD, .path = oldpath,
                             .fd2 = AT_FDCWD, .path2 = newpath}};
    return (int)path_call(&r);
}

int corio_unlink(const char *path) {
    corio__fs_req r = {.f = {.op = CORIO__FOP_UNLINKAT, .fd = AT_FDCWD, .path = path}};
    return (int)path_call(&r);
}

int corio_rmdir(const char *path) {
    corio__fs_req r = {.f = {.op = CORIO__FOP_UNLINKAT, .fd = AT_FDCWD, .path = path,
                             .flags = AT_REMOVEDIR}};
    return (int)path_call(&r);
}

int corio_mkdir(const char *path, mode_t mode) {
    corio__fs_req r = {.f = {.op = CORIO__FOP_MKDIRAT, .fd = AT_FDCWD, .path = path,
                             .mode = mode}};
    return (int)path_call(&r);
}

int corio_symlink(const char *target, const char *linkpath) {
    corio__fs_req r = {.f = {.op = CORIO__FOP_SYMLINKAT, .fd = AT_FDCWD, .path = target,
                             .path2 = linkpath}};
    return (int)path_call(&r);
}

ssize_t corio_readlink(const char *path, char *buf, size_t bufsiz) {
    if (!buf || bufsiz == 0)
        return corio__current_task() ? (buf ? -EINVAL : -EFAULT) : CORIO_ENOTASK;
    corio__fs_req r = {.f = {.op = CORIO__FS_READLINKAT, .fd = AT_FDCWD, .path = path, .buf = buf,
                             .len = bufsiz}};
    return path_call(&r);
}

int corio_scandir(const char *path, corio_dirent **entries) {
    if (entries)
        *entries = NULL;
    if (!path || !entries)
        return corio__current_task() ? -EINVAL : CORIO_ENOTASK;
    corio__fs_req r = {.f = {.op = CORIO__FS_SCANDIR, .fd = AT_FDCWD, .path = path}};
    ssize_t n = corio__fs_run(&r);
    if (n < 0)
        return (int)n;
    if (n > INT32_MAX) {
        free(r.entries);
        return -EOVERFLOW;
    }
    *entries = r.entries;
    return (int)n;
}
