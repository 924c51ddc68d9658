/* Preloaded into test programs that run under qemu-user without binfmt_misc (make check-aarch64).
 *
 * Criterion starts every test by re-executing the test program (BoxFort's execl of
 * /proc/self/exe). Under qemu-user that execve goes to the host kernel, which cannot run an
 * aarch64 binary unless binfmt_misc is set up, and in containers it usually cannot be. This shim
 * turns an exec of a foreign ELF file into an exec of qemu itself (CORIO_QEMU) running that file.
 * The guest's LD_PRELOAD and LD_LIBRARY_PATH are dropped from the host process's environment:
 * qemu hands them to the guest again through QEMU_SET_ENV, which stays in the environment.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int is_own_arch_elf(const char *path)
{
    Elf64_Ehdr eh;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, &eh, sizeof eh);
    close(fd);
    return n == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
           eh.e_machine == EM_AARCH64;
}

static int real_execve(const char *path, char *const argv[], char *const envp[])
{
    return (int)syscall(SYS_execve, path, argv, envp);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    const char *qemu = getenv("CORIO_QEMU");
    if (!qemu || !*qemu || !is_own_arch_elf(path))
        return real_execve(path, argv, envp);

    size_t argc = 0, envc = 0;
    while (argv[argc])
        argc++;
    while (envp[envc])
        envc++;
    char **nargv = calloc(argc + 5, sizeof *nargv);
    char **nenvp = calloc(envc + 1, sizeof *nenvp);
    if (!nargv || !nenvp) {
        errno = ENOMEM;
        return -1;
    }
    size_t i = 0;
    nargv[i++] = (char *)qemu;
    nargv[i++] = "-0";
    nargv[i++] = argc ? argv[0] : (char *)path;
    nargv[i++] = (char *)path;
    for (size_t k = 1; k < argc; k++)
        nargv[i++] = argv[k];
    size_t j = 0;
    for (size_t k = 0; k < envc; k++)
        if (strncmp(envp[k], "LD_PRELOAD=", 11) != 0 && strncmp(envp[k], "LD_LIBRARY_PATH=", 16) != 0)
            nenvp[j++] = envp[k];
    int rc = real_execve(qemu, nargv, nenvp);
    free(nargv);
    free(nenvp);
    return rc;
}

int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

int execl(const char *path, const char *arg, ...)
{
    const char *args[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return execve(path, (char *const *)args, environ);
}
