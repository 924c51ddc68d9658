/* Preloaded into a Criterion test program that scripts/valgrind.sh runs (make valgrind).
 *
 * Criterion's runner starts every test by re-executing the program (BoxFort's exec of
 * /proc/self/exe) and only collects their reports itself. Under Valgrind the runner would pay
 * memcheck's start-up and slowness too, for Criterion's code, not corio's: about a tenth of the
 * whole run. So the runner runs natively with this shim, which turns each exec it makes into an
 * exec of Valgrind running that program: CORIO_VALGRIND_ARGS holds Valgrind's command line, one
 * argument per line. The test's process gets neither the shim nor that variable back; its own
 * children are Valgrind's to trace (--trace-children).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int real_execve(const char *path, char *const argv[], char *const envp[])
{
    return (int)syscall(SYS_execve, path, argv, envp);
}

static size_t count(char *const v[])
{
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    const char *vg = getenv("CORIO_VALGRIND_ARGS");
    if (!vg || !*vg)
        return real_execve(path, argv, envp);
    size_t argc = count(argv), envc = count(envp), nvg = 1;
    for (const char *c = vg; *c; c++)
        nvg += *c == '\n';
    char *words = strdup(vg);
    char **nargv = calloc(nvg + argc + 1, sizeof *nargv);
    char **nenvp = calloc(envc + 1, sizeof *nenvp);
    if (!words || !nargv || !nenvp) {
        free(words);
        free(nargv);
        free(nenvp);
        errno = ENOMEM;
        return -1;
    }
    size_t i = 0, j = 0;
    char *save = NULL;
    for (char *w = strtok_r(words, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
        nargv[i++] = w;
    nargv[i++] = (char *)path;
    for (size_t k = 1; k < argc; k++)
        nargv[i++] = argv[k];
    for (size_t k = 0; k < envc; k++)
        if (strncmp(envp[k], "LD_PRELOAD=", 11) != 0 &&
            strncmp(envp[k], "CORIO_VALGRIND_ARGS=", 20) != 0)
            nenvp[j++] = envp[k];
    int rc = real_execve(nargv[0], nargv, nenvp);
    int err = errno;
    free(words);
    free(nargv);
    free(nenvp);
    errno = err;
    return rc;
}

int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}
