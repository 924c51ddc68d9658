/* Internal: the file layer (rank 6, on io/ and thread/). Each public call fills in a request and
 * corio__fs_run carries it out where it can run without blocking the loop: on the io_uring
 * backend when the kernel has the operation, else on the loop's default executor; for a compact
 * task, on the executor through copies (its frames move while it waits). */
#ifndef CORIO_FS_FS_H
#define CORIO_FS_FS_H

#include "io/io.h"

#include <sys/types.h>

/* Operations only the executor runs, after io/io.h's CORIO__FOP_*. */
enum {
    CORIO__FS_FTRUNCATE = CORIO__FOP_COUNT, /* ftruncate(fd, off) */
    CORIO__FS_READLINKAT,                   /* readlinkat(fd, path, buf, len) */
    CORIO__FS_COPY_RANGE,                   /* copy_file_range(fd, off_in, fd2, off_out, len,
                                               flags) */
    CORIO__FS_SCANDIR,                      /* path's entries into `entries`, their count */
    CORIO__FS_SENDFILE                      /* sendfile(fd2, fd, off_in, len) */
};

typedef struct corio__fs_req {
    corio__io_file f;
    off_t *off_in, *off_out;      /* copy_file_range; sendfile's offset is off_in */
    struct corio_dirent *entries; /* scandir's result */
} corio__fs_req;

/* Awaits the request (from a task): its result (bytes, an fd, a count, 0) or -errno,
 * CORIO_ENOTASK, -ECANCELED (see <corio/fs.h> for what a cancelled call has done). */
ssize_t corio__fs_run(corio__fs_req *r);

/* The system call of a request, blocking, on an executor's thread: result or -errno. */
ssize_t corio__fs_syscall(corio__fs_req *r);

/* A directory's entries, for scandir (fs/scandir.c): the count, or -errno. */
ssize_t corio__fs_scandir(corio__fs_req *r);

/* Runs the request on the executor through copies of everything it reads or writes in the
 * caller's memory (fs/copied.c), for compact tasks. */
ssize_t corio__fs_run_copied(corio__fs_req *r);
/* Runs it on the executor with the caller's memory (the task's frames do not move). */
ssize_t corio__fs_run_thread(corio__fs_req *r);

/* Reads and writes move at most this much per call through a compact task's copy. */
#define CORIO__FS_COPY_MAX ((size_t)256 * 1024)

#endif
