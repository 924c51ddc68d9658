/* What a file is and how it is kept: stat, lstat, fstat, statx, fsync, fdatasync, ftruncate,
 * fallocate, with their errors, on each backend, in own-stack and compact tasks. */
#include "fs_helpers.h"

#include <linux/falloc.h>
#include <sys/syscall.h>

typedef struct meta_case {
    char dir[FS_DIR_MAX];
} meta_case;

static void *stat_main(void *arg)
{
    meta_case *c = arg;
    char path[PATH_MAX], link[PATH_MAX];
    fs_join(path, c->dir, "f");
    fs_join(link, c->dir, "l");
    struct stat st, ref;
    cr_expect_eq(corio_stat(path, &st), 0);
    cr_expect_eq(stat(path, &ref), 0);
    cr_expect_eq(st.st_size, 10);
    cr_expect_eq(st.st_ino, ref.st_ino);
    cr_expect_eq(st.st_dev, ref.st_dev);
    cr_expect_eq(st.st_mode, ref.st_mode);
    cr_expect_eq(st.st_nlink, ref.st_nlink);
    cr_expect_eq(st.st_mtim.tv_sec, ref.st_mtim.tv_sec);
    cr_expect_eq(st.st_mtim.tv_nsec, ref.st_mtim.tv_nsec);
    cr_expect(S_ISREG(st.st_mode));
    cr_expect_eq(corio_stat(link, &st), 0, "stat follows the link");
    cr_expect(S_ISREG(st.st_mode));
    cr_expect_eq(corio_lstat(link, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "lstat does not");
    int fd = corio_open(path, O_RDONLY, 0);
    cr_expect_eq(corio_fstat(fd, &st), 0);
    cr_expect_eq(st.st_ino, ref.st_ino);
    struct statx x;
    cr_expect_eq(corio_statx(AT_FDCWD, path, 0, STATX_SIZE | STATX_INO, &x), 0);
    cr_expect_eq(x.stx_size, 10);
    cr_expect_eq(x.stx_ino, ref.st_ino);
    cr_expect_eq(corio_statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &x), 0);
    cr_expect_eq(x.stx_size, 10);
    corio_close(fd);
    cr_expect_eq(corio_stat(c->dir, &st), 0);
    cr_expect(S_ISDIR(st.st_mode));
    return NULL;
}

static void *stat_errors_main(void *arg)
{
    meta_case *c = arg;
    char path[PATH_MAX];
    struct stat st;
    cr_expect_eq(corio_stat(fs_join(path, c->dir, "missing"), &st), -ENOENT);
    cr_expect_eq(corio_lstat(path, &st), -ENOENT);
    cr_expect_eq(corio_stat(fs_join(path, c->dir, "f/below"), &st), -ENOTDIR);
    cr_expect_eq(corio_stat("", &st), -ENOENT);
    cr_expect_eq(corio_fstat(-1, &st), -EBADF);
    cr_expect_eq(corio_fstat(999999, &st), -EBADF);
    cr_expect_eq(corio_stat(NULL, &st), -EFAULT);
    cr_expect_eq(corio_stat(path, NULL), -EFAULT);
    cr_expect_eq(corio_statx(AT_FDCWD, path, 0, STATX_SIZE, NULL), -EFAULT);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    cr_expect_eq(corio_stat(longname, &st), -ENAMETOOLONG);
    return NULL;
}

static void setup(meta_case *c)
{
    fs_tmpdir(c->dir);
    char path[PATH_MAX], link[PATH_MAX];
    fs_put(fs_join(path, c->dir, "f"), "0123456789", 10);
    cr_assert_eq(symlink(path, fs_join(link, c->dir, "l")), 0);
}

Test(fs_meta, stat_lstat_fstat_statx, .timeout = 20)
{
    FD_CHECK_BEGIN();
    meta_case c;
    setup(&c);
    fs_run_both(stat_main, &c);
    fs_run_both(stat_errors_main, &c);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}

static void *size_main(void *arg)
{
    meta_case *c = arg;
    char path[PATH_MAX];
    int fd = corio_open(fs_join(path, c->dir, "g"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_expect_geq(fd, 0);
    cr_expect_eq(corio_pwrite(fd, "abcdef", 6, 0), 6);
    cr_expect_eq(corio_fsync(fd), 0);
    cr_expect_eq(corio_fdatasync(fd), 0);
    cr_expect_eq(corio_ftruncate(fd, 3), 0);
    struct stat st;
    cr_expect_eq(corio_fstat(fd, &st), 0);
    cr_expect_eq(st.st_size, 3, "truncated");
    cr_expect_eq(corio_ftruncate(fd, 1 << 20), 0);
    cr_expect_eq(corio_fstat(fd, &st), 0);
    cr_expect_eq(st.st_size, 1 << 20, "extended");
    char b[4] = {1, 1, 1, 1};
    cr_expect_eq(corio_pread(fd, b, 4, 3), 4);
    cr_expect_eq(b[0] | b[1] | b[2] | b[3], 0, "the extension reads as zeros");
    int rc = corio_fallocate(fd, 0, 0, 4 << 20);
    cr_expect(rc == 0 || rc == -EOPNOTSUPP, "fallocate: %s", corio_strerror(rc));
    if (rc == 0) {
        cr_expect_eq(corio_fstat(fd, &st), 0);
        cr_expect_eq(st.st_size, 4 << 20, "allocated up to the new size");
    }
    rc = corio_fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 8 << 20);
    cr_expect(rc == 0 || rc == -EOPNOTSUPP);
    cr_expect_eq(corio_ftruncate(fd, -1), -EINVAL);
    cr_expect_eq(corio_fallocate(fd, 0, -1, 10), -EINVAL);
    cr_expect_eq(corio_fallocate(fd, 0, 0, 0), -EINVAL);
    cr_expect_eq(corio_fsync(-1), -EBADF);
    cr_expect_eq(corio_fdatasync(999999), -EBADF);
    cr_expect_eq(corio_ftruncate(999999, 0), -EBADF);
    corio_close(fd);
    fd = corio_open(path, O_RDONLY, 0);
    cr_expect_eq(corio_ftruncate(fd, 0), -EINVAL, "a read-only fd");
    cr_expect_eq(corio_fallocate(fd, 0, 0, 10), -EBADF);
    corio_close(fd);
    return NULL;
}

Test(fs_meta, fsync_ftruncate_fallocate, .timeout = 20)
{
    FD_CHECK_BEGIN();
    meta_case c;
    setup(&c);
    fs_run_both(size_main, &c);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}
