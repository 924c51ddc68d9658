/* Allocation failure at every allocation site of the file calls: on the loop's thread (where
 * corio__alloc_fail_arm counts) the loop and its executor, the bound jobs and their futures, a
 * compact task's copies, the ring's records, sock_sendfile's thread and buffer. Each run ends
 * with success or -ENOMEM, no fd left open; the ASan and Valgrind runs of the suite check that
 * no memory leaks. On each backend. */
#include "fs_helpers.h"

#include "fault_helpers.h"

static char dir[FS_DIR_MAX];

/* corio_sock_sendfile of a cold file (its chunk goes to a thread) and of a pipe (through a
 * buffer): 0, or the first failure. */
static int send_both_ways(int fd)
{
    int s[2], p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s) < 0)
        return -errno;
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
        close(s[0]);
        close(s[1]);
        return -errno;
    }
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ssize_t rc = corio_sock_sendfile(s[0], fd, 0, 0, 0, NULL);
    if (rc >= 0 && write(p[1], "xyz", 3) == 3 && close(p[1]) == 0) {
        p[1] = -1;
        rc = corio_sock_sendfile(s[0], p[0], -1, 0, 0, NULL);
    }
    char buf[8];
    if (rc >= 0 && read(s[1], buf, sizeof buf) != 6) /* "abc" from the file, "xyz" from the pipe */
        rc = -EIO;
    close(s[0]);
    close(s[1]);
    close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    return rc < 0 ? (int)rc : 0;
}

/* The calls of each kind, own-stack or compact: their first failure is the task's outcome. */
static void *calls(void *arg)
{
    (void)arg;
    char path[PATH_MAX], moved[PATH_MAX];
    fs_join(path, dir, "f");
    fs_join(moved, dir, "g");
    int fd = corio_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return IV(fd);
    char buf[8];
    struct stat st;
    corio_dirent *e = NULL;
    int rc = (int)corio_pwrite(fd, "abc", 3, 0);
    if (rc >= 0)
        rc = (int)corio_pread(fd, buf, sizeof buf, 0);
    if (rc >= 0)
        rc = send_both_ways(fd);
    if (rc >= 0)
        rc = corio_fstat(fd, &st);
    if (rc >= 0)
        rc = corio_ftruncate(fd, 1);
    if (rc >= 0)
        rc = corio_rename(path, moved);
    if (rc >= 0)
        rc = corio_scandir(dir, &e);
    free(e);
    if (rc >= 0)
        rc = corio_unlink(moved);
    corio_close(fd);
    unlink(path);
    unlink(moved);
    return IV(rc < 0 ? rc : 0);
}

static void *fs_main(void *arg)
{
    (void)arg;
    corio_task_opts compact = {.flags = CORIO_TASK_COMPACT};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        corio_task *t;
        rc = corio_create_task(&t, NULL, calls, NULL, i ? &compact : NULL);
        if (rc < 0)
            break;
        void *res = NULL;
        rc = corio_await(corio_task_future(t), &res);
        corio_task_unref(t);
        if (rc == 0)
            rc = VI(res);
    }
    return IV(rc);
}

static int fs_scenario(void)
{
    void *res = NULL;
    int rc = corio_run(fs_main, NULL, &res, NULL);
    return rc < 0 ? rc : VI(res);
}

Test(fs_fault_alloc, every_file_call_allocation_fails_cleanly, .timeout = 300)
{
    FD_CHECK_BEGIN();
    fs_tmpdir(dir);
    fault_sweep_report("fs_fault_alloc (loop thread)", fs_scenario, 10);
    fs_rmtree(dir);
    FD_CHECK_END();
}
