/* A file sent over a socket (asyncio's sock_sendfile). sendfile(2) runs on the loop thread for
 * a chunk whose pages are all in the page cache and hold their data (cachestat(2) and a one-byte
 * RWF_NOWAIT read say so), and on an executor's thread for any other, so that a cold file never
 * stalls the loop on the disk. Where sendfile cannot read the file (a pipe, a file system
 * without it), the bytes go through a buffer: read, then send. */
#define _GNU_SOURCE
#include "fs/fs.h"

#include "base/alloc.h"
#include "corio/fs.h"
#include "corio/io.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* Linux 6.5: the same number on every architecture */
#endif

/* At most this much per sendfile: a chunk from the loop thread stays a short step. */
#define CHUNK ((size_t)1 << 20)
/* The buffer of the read-and-send path, as asyncio's (SENDFILE_FALLBACK_READBUFFER_SIZE). */
#define COPY_BUF ((size_t)256 * 1024)

typedef struct sendfile_state {
    int sock, fd;
    off_t off;   /* the file's next byte to send */
    size_t left; /* bytes still to send (SIZE_MAX: up to the end of a stream) */
    size_t *sent; /* the caller's count, current as bytes go: another task may watch it */
} sendfile_state;

struct cachestat_range {
    uint64_t off, len;
};
struct cachestat_counts {
    uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

/* 1 once cachestat has failed for want of the call (an older kernel, a seccomp filter): then
 * every chunk goes to a thread. */
static atomic_int no_cachestat;

/* Whether [off, off + len) can be read without waiting for the disk: every page is in the
 * page cache (cachestat), and the last one holds its data already (a readahead puts pages in the
 * cache before their data arrives; RWF_NOWAIT says -EAGAIN then, and reads pages in order). */
static int cached(int fd, off_t off, size_t len) {
    if (atomic_load_explicit(&no_cachestat, memory_order_relaxed))
        return 0;
    struct cachestat_range range = {(uint64_t)off, len};
    struct cachestat_counts cs;
    if (syscall(__NR_cachestat, fd, &range, &cs, 0) < 0) {
        if (errno == ENOSYS || errno == EPERM)
            atomic_store_explicit(&no_cachestat, 1, memory_order_relaxed);
        return 0;
    }
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t first = (uint64_t)off / page, last = ((uint64_t)off + len - 1) / page;
    if (cs.nr_cache < last - first + 1)
        return 0;
    char byte;
    struct iovec one = {&byte, 1};
    return preadv2(fd, &one, 1, off + (off_t)len - 1, RWF_NOWAIT) == 1;
}

/* One sendfile of the next chunk: bytes sent, 0 if the file ended, -EAGAIN if the socket is
 * full, or -errno. */
static ssize_t chunk_send(sendfile_state *s) {
    size_t len = s->left < CHUNK ? s->left : CHUNK;
    if (cached(s->fd, s->off, len)) {
        ssize_t n = sendfile(s->sock, s->fd, &s->off, len);
        return n < 0 ? -errno : n;
    }
    corio__fs_req r = {.f = {.op = CORIO__FS_SENDFILE, .fd = s->fd, .fd2 = s->sock, .len = len},
                       .off_in = &s->off};
    return corio__fs_run(&r);
}

/* sendfile until nothing is left: 0, or the first error (a short file just stops). */
static ssize_t zero_copy(sendfile_state *s, corio_task *t) {
    while (s->left) {
        ssize_t n = chunk_send(s);
        if (n == -EAGAIN) {
            int rc = corio_wait_writable(s->sock, CORIO_FOREVER);
            if (rc < 0)
                return rc;
            continue;
        }
        if (n <= 0)
            return n;
        *s->sent += (size_t)n;
        s->left -= (size_t)n;
        /* A peer that always takes more must not keep every other task waiting. */
        int rc = corio__task_spend(t);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Sends all n bytes of buf, counting them into s->sent as they go. */
static ssize_t send_all(sendfile_state *s, const char *buf, size_t n) {
    for (size_t done = 0; done < n;) {
        ssize_t k = corio_sock_send(s->sock, buf + done, n - done, 0);
        if (k < 0)
            return k;
        done += (size_t)k;
        *s->sent += (size_t)k;
    }
    return 0;
}

/* Reads and sends through a buffer; at_position: reads at (and moves) the position of an fd
 * that has no offsets (a pipe), else at s->off. */
static ssize_t copy_send(sendfile_state *s, int at_position) {
    size_t size = s->left < COPY_BUF ? s->left : COPY_BUF;
    char *buf = corio__malloc(size);
    if (!buf)
        return -ENOMEM;
    ssize_t rc = 0;
    while (s->left && rc == 0) {
        size_t len = s->left < size ? s->left : size;
        ssize_t n = at_position ? corio_read(s->fd, buf, len) : corio_pread(s->fd, buf, len, s->off);
        if (n <= 0) {
            rc = n;
            break;
        }
        s->off += n;
        if (s->left != SIZE_MAX)
            s->left -= (size_t)n;
        rc = send_all(s, buf, (size_t)n);
    }
    free(buf);
    return rc;
}

/* What sendfile cannot serve, so that the bytes go through a buffer instead. */
static int needs_copy(ssize_t err) {
    return err == -EINVAL || err == -ENOSYS || err == -EOPNOTSUPP || err == -ESPIPE;
}

/* The file from its offset: by sendfile where it can, else through a buffer. */
static ssize_t send_file(sendfile_state *s, corio_task *t, unsigned flags) {
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return -errno;
    ssize_t rc = -EINVAL; /* what sendfile says of a file it cannot read */
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        if (S_ISREG(st.st_mode)) { /* up to the end it has now */
            size_t rest = st.st_size > s->off ? (size_t)(st.st_size - s->off) : 0;
            s->left = s->left < rest ? s->left : rest;
        }
        rc = zero_copy(s, t);
        if (rc == 0 || *s->sent || !needs_copy(rc))
            return rc;
    }
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) /* an offset, as pread(2) */
        return -ESPIPE;
    if (flags & CORIO_SENDFILE_NO_FALLBACK)
        return rc;
    return copy_send(s, 0);
}

ssize_t corio_sock_sendfile(int sock, int fd, off_t offset, size_t count, unsigned flags,
                            size_t *sent) {
    size_t none;
    sent = sent ? sent : &none;
    *sent = 0;
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (sock < 0 || fd < 0)
        return -EBADF;
    if (offset < -1 || (flags & ~CORIO_SENDFILE_NO_FALLBACK))
        return -EINVAL;
    sendfile_state s = {.sock = sock, .fd = fd, .off = offset, .left = count ? count : SIZE_MAX,
                        .sent = sent};
    if (offset == -1)
        s.off = lseek(fd, 0, SEEK_CUR);
    off_t start = s.off;
    ssize_t rc;
    if (s.off < 0 && errno == ESPIPE) /* a pipe or a socket: read at its position */
        rc = flags & CORIO_SENDFILE_NO_FALLBACK ? -ESPIPE : copy_send(&s, 1);
    else if (s.off < 0)
        rc = -errno;
    else {
        rc = send_file(&s, t, flags);
        /* As asyncio: the position ends past what was sent, whatever happened. */
        if (offset == -1 && lseek(fd, start + (off_t)*sent, SEEK_SET) < 0 && rc >= 0)
            rc = -errno;
    }
    return rc < 0 ? rc : (ssize_t)*sent;
}
