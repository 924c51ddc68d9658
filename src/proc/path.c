/* Finding the program to run before spawning it, as execvp would in the child.
 *
 * glibc's posix_spawn reports a failed exec through memory it shares with the child
 * (CLONE_VM): where that sharing is emulated away (Valgrind, qemu-user turn the vfork into a
 * fork), a missing program would come back as a child exiting 127. Looking the program up here
 * gives ENOENT and EACCES in every environment, and spawning the path found spares the child the
 * execve calls that fail along PATH. The exec's own report still covers what only the exec can
 * tell (ENOEXEC, a file removed meanwhile). PATH is the child's environment's, else the
 * parent's, as CPython's subprocess does. The working directory is checked the same way.
 */
#include "proc/proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 0 if path is a file this process may execute; else ENOENT, EACCES, ENOTDIR, ... as exec. */
static int runnable(const char *path) {
    struct stat st;
    if (stat(path, &st) < 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return EACCES;
    return access(path, X_OK) < 0 ? errno : 0;
}

static const char *path_of(const char *const *env) {
    if (env) {
        for (; *env; env++)
            if (strncmp(*env, "PATH=", 5) == 0)
                return *env + 5;
        return "/bin:/usr/bin"; /* no PATH: glibc's default search */
    }
    const char *p = getenv("PATH");
    return p ? p : "/bin:/usr/bin";
}

int corio__proc_find(const char *prog, const corio_process_opts *o, char *buf, size_t cap) {
    if (strchr(prog, '/')) {
        if (o->cwd && prog[0] != '/')
            return 1; /* relative to the child's directory: the exec tells */
        int err = runnable(prog);
        return err ? -err : (snprintf(buf, cap, "%s", prog) < (int)cap ? 0 : -ENAMETOOLONG);
    }
    int seen_eacces = 0;
    for (const char *d = path_of(o->env);;) {
        size_t len = strcspn(d, ":");
        if (o->cwd && (len == 0 || d[0] != '/'))
            return 1; /* a directory relative to the child's: the exec tells */
        int n = snprintf(buf, cap, "%.*s%s%s", (int)len, len ? d : ".", "/", prog);
        if (n >= 0 && (size_t)n < cap) {
            int err = runnable(buf);
            if (err == 0)
                return 0;
            seen_eacces |= err == EACCES;
        }
        if (!d[len])
            break;
        d += len + 1;
    }
    return seen_eacces ? -EACCES : -ENOENT;
}

int corio__proc_check_cwd(const char *cwd) {
    struct stat st;
    if (!cwd)
        return 0;
    if (stat(cwd, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    return access(cwd, X_OK) < 0 ? -errno : 0;
}
