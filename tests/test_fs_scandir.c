/* Listing a directory: every entry but "." and "..", sorted, with its type, in one allocation;
 * empty directories, many entries, errors; on each backend, own-stack and compact tasks. */
#include "fs_helpers.h"

typedef struct dir_case {
    char dir[FS_DIR_MAX];
    int many;
} dir_case;

static void *list_main(void *arg)
{
    dir_case *c = arg;
    corio_dirent *e = (corio_dirent *)1;
    int n = corio_scandir(c->dir, &e);
    cr_expect_eq(n, 3, "entries: %d (%s)", n, corio_strerror(n));
    if (n == 3) {
        cr_expect_str_eq(e[0].name, "a-file");
        cr_expect_eq(e[0].type, DT_REG);
        cr_expect_str_eq(e[1].name, "b-dir");
        cr_expect_eq(e[1].type, DT_DIR);
        cr_expect_str_eq(e[2].name, "c-link");
        cr_expect_eq(e[2].type, DT_LNK);
        char path[PATH_MAX];
        struct stat st;
        cr_expect_eq(lstat(fs_join(path, c->dir, "a-file"), &st), 0);
        cr_expect_eq(e[0].ino, st.st_ino);
    }
    free(e);
    char path[PATH_MAX];
    cr_expect_eq(corio_scandir(fs_join(path, c->dir, "b-dir"), &e), 0, "an empty directory");
    cr_expect_null(e);
    cr_expect_eq(corio_scandir(fs_join(path, c->dir, "missing"), &e), -ENOENT);
    cr_expect_null(e);
    cr_expect_eq(corio_scandir(fs_join(path, c->dir, "a-file"), &e), -ENOTDIR);
    cr_expect_eq(corio_scandir(NULL, &e), -EINVAL);
    cr_expect_eq(corio_scandir(c->dir, NULL), -EINVAL);
    return NULL;
}

Test(fs_scandir, entries_types_errors, .timeout = 20)
{
    FD_CHECK_BEGIN();
    dir_case c;
    fs_tmpdir(c.dir);
    char path[PATH_MAX];
    fs_put(fs_join(path, c.dir, "a-file"), "x", 1);
    cr_assert_eq(mkdir(fs_join(path, c.dir, "b-dir"), 0700), 0);
    cr_assert_eq(symlink("a-file", fs_join(path, c.dir, "c-link")), 0);
    fs_run_both(list_main, &c);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}

static void *many_main(void *arg)
{
    dir_case *c = arg;
    corio_dirent *e;
    int n = corio_scandir(c->dir, &e);
    cr_expect_eq(n, c->many);
    for (int i = 1; i < n; i++)
        cr_expect_lt(strcmp(e[i - 1].name, e[i].name), 0, "sorted at %d", i);
    free(e);
    return NULL;
}

Test(fs_scandir, two_thousand_entries, .timeout = 30)
{
    FD_CHECK_BEGIN();
    dir_case c = {.many = 2000};
    fs_tmpdir(c.dir);
    char path[PATH_MAX], name[32];
    for (int i = 0; i < c.many; i++) {
        snprintf(name, sizeof name, "entry-%d", (i * 7919) % c.many);
        fs_put(fs_join(path, c.dir, name), "", 0);
    }
    fs_run_both(many_main, &c);
    fs_rmtree(c.dir);
    FD_CHECK_END();
}
