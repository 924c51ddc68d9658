/* corio files: awaitable file-system calls that never block the loop.
 *
 * Included by <corio.h>; docs/conventions.md holds. Every call here awaits (a task only:
 * CORIO_ENOTASK elsewhere), keeps the name and the parameters of the system call it stands for,
 * and returns what that call returns, or -errno where it would set errno (-ENOENT, -EACCES,
 * -EISDIR, -EBADF, ...). asyncio has no file API; aiofiles and libuv's uv_fs_* run each call on a
 * thread, and so does corio where it must.
 *
 * How a call runs:
 *  - On the io_uring backend, the kernel carries out reads, writes, fsync, open, statx,
 *    fallocate, rename, unlink, mkdir and symlink itself, when it has the operation (probed once
 *    per loop). The other calls (ftruncate, readlink, copy_file_range, scandir) run on the loop's
 *    default executor (<corio/thread.h>), as does everything on the epoll backend, the way libuv
 *    and Tokio do it.
 *    (Reads are not first tried in place with RWF_NOWAIT: on a cold file such a try still starts
 *    the readahead on the caller's thread, and steps of the loop took 10-37 ms doing it.)
 *  - A task that is compact (CORIO_TASK_COMPACT) has frames that move while it waits, so no
 *    kernel or thread may hold a pointer into them: its calls run on a thread through copies (of
 *    the path, of the bytes read or written, at most 256 KiB per read or write call: a larger one
 *    is short, as read(2) may be).
 *
 * Cancellation: a call whose operation has not started (still queued for a thread) returns
 * -ECANCELED having done nothing. Once the kernel or a thread has the operation, the call waits
 * for it: on io_uring the kernel is asked to cancel it, which stops an operation that is waiting
 * (a read of an empty pipe: then -ECANCELED, nothing was done); a thread's call, or one the kernel
 * cannot stop, runs to its end, and the call returns its result (bytes read, a new fd, a file made
 * or removed) with the cancellation delivered at the task's next await. So a cancelled call has
 * either done nothing and said -ECANCELED, or done its work and said so: an fd from corio_open is
 * never lost. A task destroyed by loop close waits for its operation right there (an fd it
 * opened then is closed).
 *
 * fds: an fd opened here is an ordinary fd (O_CLOEXEC is added); close it with corio_close().
 * corio_read / corio_write (<corio/io.h>) on a regular file or block device also never block the
 * loop: they are corio_pread / corio_pwrite at the file position.
 */
#ifndef CORIO_FS_H
#define CORIO_FS_H

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "corio/base.h"

#ifdef __cplusplus
extern "C" {
#endif

struct statx;

/* open(2) / openat(2) with O_CLOEXEC added (mode: for O_CREAT and O_TMPFILE, else ignored).
 * Returns the new fd, or -errno. dirfd may be AT_FDCWD. */
int corio_open(const char *path, int flags, mode_t mode);
int corio_openat(int dirfd, const char *path, int flags, mode_t mode);

/* pread(2) / pwrite(2) at `offset`; readv / writev at the file position; preadv / pwritev at
 * `offset`. Return the bytes read (0 at end of file; fewer than asked near it) or written, or
 * -errno. A count above the kernel's limit (about 2 GiB) is cut to it, as by the system calls. */
ssize_t corio_pread(int fd, void *buf, size_t count, off_t offset);
ssize_t corio_pwrite(int fd, const void *buf, size_t count, off_t offset);
ssize_t corio_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t corio_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t corio_preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset);
ssize_t corio_pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset);

/* fsync(2) / fdatasync(2). 0 or -errno. */
int corio_fsync(int fd);
int corio_fdatasync(int fd);

/* stat(2), lstat(2), fstat(2), statx(2) (mask: STATX_* wanted; struct statx comes with
 * _GNU_SOURCE and <sys/stat.h>, as for statx(2) itself). 0 or -errno; *st is filled in on
 * success only. */
int corio_stat(const char *path, struct stat *st);
int corio_lstat(const char *path, struct stat *st);
int corio_fstat(int fd, struct stat *st);
int corio_statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx);

/* ftruncate(2), fallocate(2). 0 or -errno. */
int corio_ftruncate(int fd, off_t length);
int corio_fallocate(int fd, int mode, off_t offset, off_t len);

/* rename(2), unlink(2), mkdir(2), rmdir(2), symlink(2). 0 or -errno. */
int corio_rename(const char *oldpath, const char *newpath);
int corio_unlink(const char *path);
int corio_mkdir(const char *path, mode_t mode);
int corio_rmdir(const char *path);
int corio_symlink(const char *target, const char *linkpath);

/* readlink(2): at most bufsiz bytes of the link's target, not NUL-terminated (as readlink(2)).
 * Returns the count or -errno. */
ssize_t corio_readlink(const char *path, char *buf, size_t bufsiz);

/* copy_file_range(2): the kernel copies up to len bytes between two files (reflinks where the
 * file system can). off_in / off_out: NULL for the file position, else read and advanced.
 * Returns the bytes copied (0 at the end of the input) or -errno. */
ssize_t corio_copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
                              unsigned int flags);

/* Flags of corio_sock_sendfile: never read and send through a buffer; where sendfile(2) cannot
 * serve the file, fail with its error instead (asyncio's fallback=False). */
#define CORIO_SENDFILE_NO_FALLBACK 1u

/* Awaits sending the bytes of file fd from `offset` over socket `sock` with sendfile(2) (asyncio's
 * loop.sock_sendfile): `count` of them, or with count 0 up to the end the file has when the call
 * begins. offset -1 starts at the file position, which ends past the bytes sent (whatever
 * happens); any other offset leaves the position alone. Returns the bytes sent: count, or fewer
 * when the file ends first.
 *
 * The loop never waits for the disk: a chunk (1 MiB at most) whose pages are all in the page
 * cache goes from the loop's thread, any other from an executor's thread (cachestat(2) tells
 * them apart; where the kernel lacks it, every chunk takes a thread). Where sendfile cannot read
 * fd (a pipe, a character device, a file system without it) the bytes are read and sent through
 * a 256 KiB buffer instead, a pipe at its position, unless flags has CORIO_SENDFILE_NO_FALLBACK:
 * then sendfile's error (-EINVAL, -ESPIPE for a pipe).
 *
 * `sent` (may be NULL) is set on every return to the bytes that went, so that a caller can go
 * on after an error or a cancellation, and is kept current while the call runs (another task on
 * the loop may watch the progress). Errors: the send's or the read's -errno (-EPIPE,
 * -ECONNRESET, -EBADF, ...), -ESPIPE for an offset on an fd that has none, -EINVAL for an offset
 * below -1 or an unknown flag, -ENOMEM, CORIO_ENOTASK, -ECANCELED. It writes to sock as a send
 * does: one writing task per socket (<corio/io.h>); sock must be non-blocking. */
ssize_t corio_sock_sendfile(int sock, int fd, off_t offset, size_t count, unsigned flags,
                            size_t *sent);

/* A directory entry, as readdir(3) gives it. */
typedef struct corio_dirent {
    const char *name;   /* NUL-terminated, in the same allocation as the array */
    ino_t ino;
    unsigned char type; /* DT_REG, DT_DIR, DT_LNK, ...; DT_UNKNOWN where the file system does
                           not say (then ask corio_lstat) */
} corio_dirent;

/* The entries of directory `path` but "." and "..", sorted by name (strcmp), in one allocation
 * that the caller frees with free(). Returns their count (*entries is NULL for 0 entries), or
 * -errno (-ENOENT, -ENOTDIR, -EACCES, -ENOMEM); *entries is set on every return (NULL on
 * failure). -EINVAL for a NULL path or entries. */
int corio_scandir(const char *path, corio_dirent **entries);

#ifdef __cplusplus
}
#endif
#endif
