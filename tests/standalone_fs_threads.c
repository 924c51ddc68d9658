/* File calls from many tasks at once, own-stack and compact, half of them cancelled while their
 * calls are in the executor's threads or the ring: under ThreadSanitizer this checks the hand-off
 * of bound jobs (a worker writing into a task's buffer, the loop taking the result, a cancel
 * racing the worker). Every task that finishes must read back what it wrote. */
#define _GNU_SOURCE
#include "standalone.h"

#include <corio.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TASKS 16
#define ROUNDS 20
#define LEN 4096

static char dir[64];

typedef struct worker {
    int i;
    int finished;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    char path[128], buf[LEN], back[LEN];
    snprintf(path, sizeof path, "%s/f%d", dir, w->i);
    for (int r = 0; r < ROUNDS; r++) {
        int fd = corio_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd == -ECANCELED)
            return NULL;
        CHECK(fd >= 0);
        if (fd < 0)
            return NULL;
        memset(buf, 'a' + (w->i + r) % 26, sizeof buf);
        ssize_t n = corio_pwrite(fd, buf, sizeof buf, 0);
        if (n == sizeof buf)
            n = corio_pread(fd, back, sizeof back, 0);
        if (n == sizeof back)
            CHECK(memcmp(buf, back, sizeof buf) == 0);
        else
            CHECK(n == -ECANCELED);
        struct stat st;
        int rc = n < 0 ? (int)n : corio_fstat(fd, &st);
        if (rc == 0)
            rc = corio_ftruncate(fd, 1);
        corio_dirent *e = NULL;
        if (rc == 0)
            rc = corio_scandir(dir, &e);
        free(e);
        corio_close(fd);
        if (rc < 0) {
            CHECK(rc == -ECANCELED);
            return NULL;
        }
    }
    w->finished = 1;
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    worker ws[TASKS];
    corio_task *ts[TASKS];
    for (int i = 0; i < TASKS; i++) {
        ws[i] = (worker){.i = i};
        corio_task_opts o = {.flags = i % 4 == 3 ? CORIO_TASK_COMPACT : 0};
        CHECK(corio_create_task(&ts[i], NULL, work, &ws[i], &o) == 0);
    }
    corio_sleep(0.002);
    for (int i = 0; i < TASKS; i += 2)
        corio_task_cancel(ts[i], NULL);
    for (int i = 0; i < TASKS; i++) {
        corio_await(corio_task_future(ts[i]), NULL);
        if (i % 2)
            CHECK(ws[i].finished);
        corio_task_unref(ts[i]);
    }
    return NULL;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

int main(void)
{
    strcpy(dir, "/tmp/corio-fs-threads-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    for (int run = 0; run < 3; run++)
        CHECK(corio_run(main_task, NULL, NULL, NULL) == 0);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    printf("standalone_fs_threads (%s): %d failures\n",
           getenv("CORIO_BACKEND") ? getenv("CORIO_BACKEND") : "default", failures);
    return failures != 0;
}
