/* Requests of compact tasks: the kernel and the executor's threads must hold no pointer into a
 * compact task's frames, which are copied off the shared stack while it waits. The request, its
 * paths and its bytes are copied into one heap block that the job uses, and what the job wrote
 * is copied back once the task runs again. */
#include "fs/fs.h"

#include "base/alloc.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#ifndef STATX_BASIC_STATS
#include <linux/stat.h>
#endif

/* What the job reads or writes in the caller's memory, besides the paths. */
static size_t data_size(const corio__io_file *f) {
    size_t n = 0;
    switch (f->op) {
    case CORIO__FOP_READ: case CORIO__FOP_WRITE: case CORIO__FS_READLINKAT: n = f->len; break;
    case CORIO__FOP_READV: case CORIO__FOP_WRITEV:
        for (int i = 0; i < f->iovcnt && n < CORIO__FS_COPY_MAX; i++)
            n += f->iov[i].iov_len;
        break;
    case CORIO__FOP_STATX: return f->buf ? sizeof(struct statx) : 0;
    default: return 0;
    }
    return n < CORIO__FS_COPY_MAX ? n : CORIO__FS_COPY_MAX;
}

/* Gathers an iovec's bytes into dst (n of them). */
static void gather(char *dst, const struct iovec *iov, size_t n) {
    for (int i = 0; n; i++) {
        size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
        if (k)
            memcpy(dst, iov[i].iov_base, k);
        dst += k;
        n -= k;
    }
}

static void scatter(const struct iovec *iov, const char *src, size_t n) {
    for (int i = 0; n; i++) {
        size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
        if (k)
            memcpy(iov[i].iov_base, src, k);
        src += k;
        n -= k;
    }
}

/* The copy's own block: the request, the offsets, the data, the paths. */
typedef struct copy {
    corio__fs_req r;
    off_t off_in, off_out;
    char data[];
} copy;

static char *put_path(char **p, const char *path) {
    if (!path)
        return NULL;
    size_t len = strlen(path) + 1;
    char *at = memcpy(*p, path, len);
    *p += len;
    return at;
}

static copy *copy_make(const corio__fs_req *r, size_t data) {
    const corio__io_file *f = &r->f;
    size_t paths = (f->path ? strlen(f->path) + 1 : 0) + (f->path2 ? strlen(f->path2) + 1 : 0);
    copy *c = corio__malloc(sizeof *c + data + paths);
    if (!c)
        return NULL;
    c->r = *r;
    char *p = c->data + data;
    c->r.f.path = put_path(&p, f->path);
    c->r.f.path2 = put_path(&p, f->path2);
    if (f->op == CORIO__FOP_READV || f->op == CORIO__FOP_WRITEV) /* now one buffer */
        c->r.f.op = f->op == CORIO__FOP_READV ? CORIO__FOP_READ : CORIO__FOP_WRITE;
    if (data || f->op == CORIO__FOP_READ || f->op == CORIO__FOP_WRITE)
        c->r.f.buf = c->data;
    int len_not_memory = f->op == CORIO__FOP_FALLOCATE || f->op == CORIO__FS_COPY_RANGE ||
                  f->op == CORIO__FS_SENDFILE;
    c->r.f.len = len_not_memory ? f->len : data;
    if (f->op == CORIO__FOP_WRITE && data)
        memcpy(c->data, f->buf, data);
    else if (f->op == CORIO__FOP_WRITEV)
        gather(c->data, f->iov, data);
    if (r->off_in)
        c->off_in = *r->off_in, c->r.off_in = &c->off_in;
    if (r->off_out)
        c->off_out = *r->off_out, c->r.off_out = &c->off_out;
    return c;
}

/* Back into the caller's memory: what the call produced, n being its result. */
static void copy_back(const copy *c, corio__fs_req *r, ssize_t n) {
    const corio__io_file *f = &r->f;
    if (n > 0 && (f->op == CORIO__FOP_READ || f->op == CORIO__FS_READLINKAT))
        memcpy(f->buf, c->data, (size_t)n);
    else if (n > 0 && f->op == CORIO__FOP_READV)
        scatter(f->iov, c->data, (size_t)n);
    else if (n == 0 && f->op == CORIO__FOP_STATX && f->buf)
        memcpy(f->buf, c->data, sizeof(struct statx));
    if (n >= 0 && r->off_in)
        *r->off_in = c->off_in;
    if (n >= 0 && r->off_out)
        *r->off_out = c->off_out;
    r->entries = c->r.entries;
}

ssize_t corio__fs_run_copied(corio__fs_req *r) {
    copy *c = copy_make(r, data_size(&r->f));
    if (!c)
        return -ENOMEM;
    ssize_t n = corio__fs_run_thread(&c->r);
    copy_back(c, r, n);
    free(c);
    return n;
}
