/* Calls on paths: open and openat, rename, unlink, mkdir, rmdir, symlink, readlink, with their
 * errors (as nobody for EACCES), on each backend, in own-stack and compact tasks. */
#include "fs_helpers.h"

typedef struct path_case {
    char dir[FS_DIR_MAX];
} path_case;

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void *open_main(void *arg)
{
    path_case *c = arg;
    char path[PATH_MAX];
    fs_join(path, c->dir, "new");
    int fd = corio_open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
    cr_expect_geq(fd, 0, "open: %s", corio_strerror(fd));
    cr_expect(fcntl(fd, F_GETFD) & FD_CLOEXEC, "close-on-exec added");
    struct stat st;
    cr_expect_eq(fstat(fd, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0640 & ~(unsigned)umask(022));
    umask(022);
    corio_close(fd);
    cr_expect_eq(corio_open(path, O_WRONLY | O_CREAT | O_EXCL, 0640), -EEXIST);
    cr_expect_eq(corio_open(fs_join(path, c->dir, "missing"), O_RDONLY, 0), -ENOENT);
    cr_expect_eq(corio_open(c->dir, O_WRONLY, 0), -EISDIR);
    cr_expect_eq(corio_open(fs_join(path, c->dir, "new/x"), O_RDONLY, 0), -ENOTDIR);
    cr_expect_eq(corio_open(NULL, O_RDONLY, 0), -EFAULT);
    int dfd = corio_open(c->dir, O_RDONLY | O_DIRECTORY, 0);
    cr_expect_geq(dfd, 0);
    fd = corio_openat(dfd, "new", O_RDONLY, 0);
    cr_expect_geq(fd, 0, "openat relative to a directory fd: %s", corio_strerror(fd));
    corio_close(fd);
    cr_expect_eq(corio_openat(999999, "new", O_RDONLY, 0), -EBADF);
    fd = corio_openat(dfd, ".", O_TMPFILE | O_RDWR, 0600);
    cr_expect(fd >= 0 || fd == -EOPNOTSUPP, "O_TMPFILE: %s", corio_strerror(fd));
    if (fd >= 0)
        corio_close(fd);
    corio_close(dfd);
    return NULL;
}

Test(fs_path, open_openat, .timeout = 20)
{
    FD_CHECK_BEGIN();
    path_case c;
    fs_tmpdir(c.dir);
    fs_run_in(open_main, &c, 0);
    fs_rmtree(c.dir);
    fs_tmpdir(c.dir);
    fs_run_in(open_main, &c, CORIO_TASK_COMPACT);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}

static void *names_main(void *arg)
{
    path_case *c = arg;
    char a[PATH_MAX], b[PATH_MAX], d[PATH_MAX], l[PATH_MAX];
    fs_join(a, c->dir, "a");
    fs_join(b, c->dir, "b");
    fs_join(d, c->dir, "d");
    fs_join(l, c->dir, "l");
    int fd = corio_open(a, O_WRONLY | O_CREAT, 0600);
    corio_close(fd);
    cr_expect_eq(corio_rename(a, b), 0);
    cr_expect(!exists(a) && exists(b));
    cr_expect_eq(corio_rename(a, b), -ENOENT);
    cr_expect_eq(corio_mkdir(d, 0700), 0);
    cr_expect_eq(corio_mkdir(d, 0700), -EEXIST);
    cr_expect_eq(corio_rename(b, d), -EISDIR, "a file over a directory");
    cr_expect_eq(corio_symlink("b", l), 0);
    char target[16] = {0};
    cr_expect_eq(corio_readlink(l, target, sizeof target), 1);
    cr_expect_str_eq(target, "b");
    cr_expect_eq(corio_readlink(l, target, 0), -EINVAL);
    cr_expect_eq(corio_readlink(b, target, sizeof target), -EINVAL, "not a link");
    cr_expect_eq(corio_symlink("b", l), -EEXIST);
    char inner[PATH_MAX];
    int kfd = corio_open(fs_join(inner, d, "k"), O_WRONLY | O_CREAT, 0600);
    corio_close(kfd);
    cr_expect_eq(corio_rmdir(d), -ENOTEMPTY);
    cr_expect_eq(corio_unlink(d), -EISDIR);
    cr_expect_eq(corio_unlink(inner), 0);
    cr_expect_eq(corio_rmdir(d), 0);
    cr_expect_eq(corio_rmdir(b), -ENOTDIR);
    cr_expect_eq(corio_unlink(l), 0);
    cr_expect(exists(b), "unlinking the link leaves its target");
    cr_expect_eq(corio_unlink(b), 0);
    cr_expect_eq(corio_unlink(b), -ENOENT);
    cr_expect_eq(corio_rename(NULL, b), -EFAULT);
    cr_expect_eq(corio_rename(a, NULL), -EFAULT);
    cr_expect_eq(corio_unlink(NULL), -EFAULT);
    cr_expect_eq(corio_mkdir(NULL, 0700), -EFAULT);
    cr_expect_eq(corio_symlink("x", NULL), -EFAULT);
    cr_expect_eq(corio_readlink(l, NULL, 4), -EFAULT);
    return NULL;
}

Test(fs_path, rename_unlink_mkdir_rmdir_symlink_readlink, .timeout = 20)
{
    path_case c;
    FS_CASE_BOTH(c.dir, names_main, &c);
}

static void *denied_main(void *arg)
{
    path_case *c = arg;
    char path[PATH_MAX], inner[PATH_MAX];
    fs_join(path, c->dir, "closed");
    cr_expect_eq(corio_mkdir(path, 0700), 0);
    fs_join(inner, path, "x");
    int fd = corio_open(inner, O_WRONLY | O_CREAT, 0600);
    cr_expect_geq(fd, 0);
    corio_close(fd);
    cr_expect_eq(chmod(path, 0), 0);
    struct stat st;
    cr_expect_eq(corio_open(inner, O_RDONLY, 0), -EACCES);
    cr_expect_eq(corio_stat(inner, &st), -EACCES);
    cr_expect_eq(corio_unlink(inner), -EACCES);
    corio_dirent *e;
    cr_expect_eq(corio_scandir(path, &e), -EACCES);
    cr_expect_null(e);
    cr_expect_eq(chmod(path, 0700), 0);
    cr_expect_eq(unlink(inner), 0);
    cr_expect_eq(rmdir(path), 0);
    return NULL;
}

Test(fs_path, permission_denied, .timeout = 20)
{
    FD_CHECK_BEGIN();
    fs_drop_root();
    path_case c;
    fs_tmpdir(c.dir);
    fs_run_both(denied_main, &c);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}
