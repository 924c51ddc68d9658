/* copy_file_range: the kernel copies between two files, at their positions or at offsets that
 * it advances; on each backend, own-stack and compact tasks. */
#include "fs_helpers.h"

typedef struct copy_case {
    char dir[FS_DIR_MAX];
} copy_case;

static void *copy_main(void *arg)
{
    copy_case *c = arg;
    char src[PATH_MAX], dst[PATH_MAX];
    int in = corio_open(fs_join(src, c->dir, "src"), O_RDONLY, 0);
    int out = corio_open(fs_join(dst, c->dir, "dst"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_expect(in >= 0 && out >= 0);
    off_t off_in = 2, off_out = 0;
    cr_expect_eq(corio_copy_file_range(in, &off_in, out, &off_out, 5, 0), 5);
    cr_expect_eq(off_in, 7, "the input offset advanced");
    cr_expect_eq(off_out, 5, "the output offset advanced");
    cr_expect_eq(lseek(in, 0, SEEK_CUR), 0, "the file position did not");
    ssize_t n = corio_copy_file_range(in, NULL, out, &off_out, 100, 0);
    cr_expect_eq(n, 10, "from the input's position to its end: %zd", n);
    cr_expect_eq(lseek(in, 0, SEEK_CUR), 10);
    cr_expect_eq(corio_copy_file_range(in, NULL, out, NULL, 100, 0), 0, "at the end: 0");
    char buf[32] = {0};
    cr_expect_eq(corio_pread(out, buf, sizeof buf, 0), 15);
    cr_expect_str_eq(buf, "234560123456789");
    cr_expect_eq(corio_copy_file_range(-1, NULL, out, NULL, 1, 0), -EBADF);
    cr_expect_eq(corio_copy_file_range(in, NULL, 999999, NULL, 1, 0), -EBADF);
    cr_expect_eq(corio_copy_file_range(out, NULL, in, NULL, 1, 0), -EBADF, "into a read-only fd");
    cr_expect_eq(corio_copy_file_range(in, NULL, out, NULL, 1, 1), -EINVAL, "unknown flags");
    corio_close(in);
    corio_close(out);
    return NULL;
}

Test(fs_copy_range, offsets_and_positions, .timeout = 20)
{
    FD_CHECK_BEGIN();
    copy_case c;
    fs_tmpdir(c.dir);
    char path[PATH_MAX];
    fs_put(fs_join(path, c.dir, "src"), "0123456789", 10);
    fs_run_both(copy_main, &c);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}
