/* Where a file request runs: the ring, the executor, or the executor through copies. */
#include "fs/fs.h"

#include "thread/executor.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static void *fs_job(void *arg, int *err) {
    corio__fs_req *r = arg;
    ssize_t n = corio__fs_syscall(r);
    if (n < 0)
        *err = (int)n;
    return (void *)(intptr_t)n;
}

/* A result that nobody will get (loop close destroyed the task while the job ran) must not
 * leak: an fd is closed, a directory listing freed. */
static void open_result_drop(void *res) { close((int)(intptr_t)res); }

ssize_t corio__fs_run_thread(corio__fs_req *r) {
    corio_result_dtor_fn dtor = r->f.op == CORIO__FOP_OPENAT ? open_result_drop : NULL;
    void *res = NULL;
    int rc = corio__to_thread_bound(fs_job, r, dtor, &res);
    if (rc < 0) {
        if (r->f.op == CORIO__FS_SCANDIR) {
            free(r->entries); /* written by the job, which ran if it got that far */
            r->entries = NULL;
        }
        return rc;
    }
    return (ssize_t)(intptr_t)res;
}

/* pread(2) on a pipe or a socket is -ESPIPE; io_uring's read at an offset would read it. A
 * file (remembered once known) has offsets: only other fds cost an lseek. */
static int at_offset_without_one(corio_loop *loop, const corio__io_file *f) {
    if (f->op > CORIO__FOP_WRITEV || f->off < 0 || corio__io_is_file(loop, f->fd))
        return 0;
    return lseek(f->fd, 0, SEEK_CUR) < 0 && errno == ESPIPE;
}

ssize_t corio__fs_run(corio__fs_req *r) {
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    if (corio__task_destroying(t))
        return -ECANCELED;
    if (corio__task_is_compact(t))
        return corio__fs_run_copied(r);
    corio_loop *loop = corio__task_loop_of(t);
    if (r->f.op < CORIO__FOP_COUNT && corio__io_file_native(loop, r->f.op)) {
        if (at_offset_without_one(loop, &r->f))
            return -ESPIPE;
        ssize_t n = corio__io_file_submit(loop, &r->f);
        /* io_uring honours O_NONBLOCK: a file opened so says EAGAIN where the disk would be
         * waited for, and a thread waits for it instead. */
        if (n != -EAGAIN || r->f.op > CORIO__FOP_WRITEV)
            return n;
    }
    return corio__fs_run_thread(r);
}
