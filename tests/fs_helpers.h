/* Helpers for the file tests (tests/test_fs_*.c), which ctest runs once per backend: a scratch
 * directory per test, and running the same body in an own-stack task and in a compact one (whose
 * calls go through copies, see <corio/fs.h>). */
#ifndef CORIO_TESTS_FS_HELPERS_H
#define CORIO_TESTS_FS_HELPERS_H

#define _GNU_SOURCE
#include "io_helpers.h"

#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

static inline int fs_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A scratch directory's path fits in this. */
#define FS_DIR_MAX 64

/* A new empty directory /tmp/corio-fs-XXXXXX, path in dir (FS_DIR_MAX). */
static inline void fs_tmpdir(char *dir)
{
    strcpy(dir, "/tmp/corio-fs-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static inline void fs_rmtree(const char *dir) { nftw(dir, fs_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* dir/name into out (PATH_MAX). */
static inline const char *fs_join(char *out, const char *dir, const char *name)
{
    size_t d = strlen(dir), n = strlen(name);
    if (d + 1 + n >= PATH_MAX)
        n = 0; /* never, with the tests' short names */
    memcpy(out, dir, d);
    out[d] = '/';
    memcpy(out + d + 1, name, n);
    out[d + 1 + n] = 0;
    return out;
}

/* Makes file `path` hold len bytes of data (plain calls, outside the loop). */
static inline void fs_put(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* Byte i of the sendfile tests' files: no run of equal bytes, so that a byte out of place shows. */
static inline unsigned char fs_pat(size_t i) { return (unsigned char)(i * 131 + i / 7); }

/* Makes file `path` hold `size` bytes of fs_pat. */
static inline void fs_put_pattern(const char *path, size_t size)
{
    unsigned char *b = malloc(size);
    cr_assert_not_null(b);
    for (size_t i = 0; i < size; i++)
        b[i] = fs_pat(i);
    fs_put(path, b, size);
    free(b);
}

/* Takes a file's pages out of the page cache (written back first, then dropped), so that the
 * next read waits for the disk. */
static inline void fs_make_cold(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(fdatasync(fd), 0);
    cr_assert_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    close(fd);
}

/* Root passes every permission check; a test of EACCES runs as nobody (this test's process
 * only: Criterion runs each test in its own), or skips the test. */
static inline void fs_drop_root(void)
{
    if (geteuid() != 0)
        return;
    if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0)
        cr_skip_test("cannot become nobody to test permissions: %s", strerror(errno));
}

/* Runs fn(arg) to completion in a task of a new loop, own-stack or compact. */
static inline void fs_run_in(corio_coro_fn fn, void *arg, unsigned flags)
{
    corio_loop *loop;
    cr_assert_eq(corio_loop_new(&loop, NULL), 0);
    corio_task_opts o = {.flags = flags};
    corio_task *t;
    cr_assert_eq(corio_create_task(&t, loop, fn, arg, &o), 0);
    cr_assert_eq(corio_loop_run_until_complete(loop, corio_task_future(t), NULL), 0);
    corio_task_unref(t);
    cr_assert_eq(corio_loop_free(loop), 0);
}

/* The body in an own-stack task, then in a compact one. */
static inline void fs_run_both(corio_coro_fn fn, void *arg)
{
    fs_run_in(fn, arg, 0);
    fs_run_in(fn, arg, CORIO_TASK_COMPACT);
}

/* The usual test: body fn(arg) in an own-stack task, then in a compact one, in a new scratch
 * directory `dirbuf` (FS_DIR_MAX, part of arg), which goes afterwards; no fd may be left open. */
#define FS_CASE_BOTH(dirbuf, fn, arg)                                                              \
    do {                                                                                           \
        FD_CHECK_BEGIN();                                                                          \
        fs_tmpdir(dirbuf);                                                                         \
        fs_run_both(fn, arg);                                                                      \
        fs_rmtree(dirbuf);                                                                         \
        FD_CHECK_END();                                                                            \
    } while (0)

#endif
