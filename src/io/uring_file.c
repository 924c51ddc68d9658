/* File operations on the io_uring poller: the SQE of each (io/io.h's CORIO__FOP_*). The ring's
 * run of an operation (submit, await the CQE, cancel) is io/uring.c's, as for sockets. */
#ifdef CORIO_HAVE_LIBURING
#define _GNU_SOURCE /* struct statx */
#include "io/io.h"

#include "poll/uring.h"

#include <fcntl.h>
#include <sys/stat.h>

int corio__uring_file_opcode(int op) {
    static const int opcodes[CORIO__FOP_COUNT] = {
        [CORIO__FOP_READ] = IORING_OP_READ,         [CORIO__FOP_WRITE] = IORING_OP_WRITE,
        [CORIO__FOP_READV] = IORING_OP_READV,       [CORIO__FOP_WRITEV] = IORING_OP_WRITEV,
        [CORIO__FOP_FSYNC] = IORING_OP_FSYNC,       [CORIO__FOP_OPENAT] = IORING_OP_OPENAT,
        [CORIO__FOP_STATX] = IORING_OP_STATX,       [CORIO__FOP_FALLOCATE] = IORING_OP_FALLOCATE,
        [CORIO__FOP_RENAMEAT] = IORING_OP_RENAMEAT, [CORIO__FOP_UNLINKAT] = IORING_OP_UNLINKAT,
        [CORIO__FOP_MKDIRAT] = IORING_OP_MKDIRAT,   [CORIO__FOP_SYMLINKAT] = IORING_OP_SYMLINKAT,
    };
    return op >= 0 && op < CORIO__FOP_COUNT ? opcodes[op] : -1;
}

/* The most one read or write moves (Linux's MAX_RW_COUNT with 4 KiB pages): the system calls
 * cut a larger count to it, and an SQE's 32-bit length must not wrap instead. */
#define RW_MAX 0x7ffff000u

void corio__uring_prep_file(struct io_uring_sqe *sqe, const corio__io_file *f) {
    /* io_uring takes -1 as "the file position" for reads and writes, as preadv2 does. */
    uint64_t off = (uint64_t)f->off;
    unsigned len = f->len > RW_MAX ? RW_MAX : (unsigned)f->len;
    switch (f->op) {
    case CORIO__FOP_READ: io_uring_prep_read(sqe, f->fd, f->buf, len, off); break;
    case CORIO__FOP_WRITE: io_uring_prep_write(sqe, f->fd, f->buf, len, off); break;
    case CORIO__FOP_READV: io_uring_prep_readv(sqe, f->fd, f->iov, (unsigned)f->iovcnt, off); break;
    case CORIO__FOP_WRITEV:
        io_uring_prep_writev(sqe, f->fd, f->iov, (unsigned)f->iovcnt, off);
        break;
    case CORIO__FOP_FSYNC: io_uring_prep_fsync(sqe, f->fd, (unsigned)f->flags); break;
    case CORIO__FOP_OPENAT:
        io_uring_prep_openat(sqe, f->fd, f->path, f->flags, (mode_t)f->mode);
        break;
    case CORIO__FOP_STATX:
        io_uring_prep_statx(sqe, f->fd, f->path, f->flags, f->mode, f->buf);
        break;
    case CORIO__FOP_FALLOCATE:
        io_uring_prep_fallocate(sqe, f->fd, (int)f->mode, f->off, (off_t)f->len);
        break;
    case CORIO__FOP_RENAMEAT:
        io_uring_prep_renameat(sqe, f->fd, f->path, f->fd2, f->path2, (unsigned)f->flags);
        break;
    case CORIO__FOP_UNLINKAT: io_uring_prep_unlinkat(sqe, f->fd, f->path, f->flags); break;
    case CORIO__FOP_MKDIRAT: io_uring_prep_mkdirat(sqe, f->fd, f->path, (mode_t)f->mode); break;
    default: /* CORIO__FOP_SYMLINKAT */
        io_uring_prep_symlinkat(sqe, f->path, f->fd, f->path2);
        break;
    }
}

#endif /* CORIO_HAVE_LIBURING */
