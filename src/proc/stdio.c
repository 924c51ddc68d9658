/* What a child gets as stdin, stdout and stderr: posix_spawn file actions (dup2 onto 0, 1 and 2)
 * and the fds they need. Every fd the actions read from is kept at 3 or above, so that no dup2
 * onto 0, 1 or 2 overwrites the source of a later one (a parent whose own stdio is closed gets
 * low numbers from socketpair and open). */
#define _GNU_SOURCE
#include "proc/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* fd moved to a number >= 3 if it is below (the original closed); -errno on failure. */
static int above_stdio(int fd) {
    if (fd < 0 || fd >= 3)
        return fd < 0 ? -errno : fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int err = errno;
    close(fd);
    return moved < 0 ? -err : moved;
}

static int check_modes(const corio_process_stdio mode[3]) {
    for (int i = 0; i < 3; i++)
        if ((unsigned)mode[i] > CORIO_PROCESS_FD || (mode[i] == CORIO_PROCESS_STDOUT && i != 2))
            return -EINVAL;
    return 0;
}

/* The fd the child's stdio i is dup2'd from, opening what it needs; -1 for nothing to do. */
static int source_of(corio__stdio *io, int i, corio_process_stdio mode, int fd) {
    int sv[2];
    switch (mode) {
    case CORIO_PROCESS_PIPE:
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            return -errno;
        io->parent[i] = sv[0];
        return io->temp[i] = above_stdio(sv[1]);
    case CORIO_PROCESS_DEVNULL:
        return io->temp[i] = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));
    case CORIO_PROCESS_FD:
        if (fd < 0 || fcntl(fd, F_GETFD) < 0)
            return -EBADF;
        if (fd >= 3)
            return fd;
        io->temp[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return io->temp[i] < 0 ? -errno : io->temp[i];
    case CORIO_PROCESS_STDOUT:
        return 1; /* after stdout's own dup2, which came first */
    default:
        return -1;
    }
}

int corio__stdio_prepare(corio__stdio *io, posix_spawn_file_actions_t *fa,
                         const corio_process_opts *o) {
    for (int i = 0; i < 3; i++)
        io->parent[i] = io->temp[i] = -1;
    const corio_process_stdio mode[3] = {o->stdin_mode, o->stdout_mode, o->stderr_mode};
    const int fd[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
    int rc = check_modes(mode);
    for (int i = 0; i < 3 && rc == 0; i++) {
        int src = source_of(io, i, mode[i], fd[i]);
        if (src < -1)
            rc = src;
        else if (src >= 0)
            rc = -posix_spawn_file_actions_adddup2(fa, src, i);
    }
    if (rc == 0 && o->keep_fds <= 0)
        rc = -posix_spawn_file_actions_addclosefrom_np(fa, 3);
    if (rc < 0)
        corio__stdio_finish(io, 1);
    return rc;
}

void corio__stdio_finish(corio__stdio *io, int failed) {
    for (int i = 0; i < 3; i++) {
        if (io->temp[i] >= 0)
            close(io->temp[i]);
        io->temp[i] = -1;
        if (failed && io->parent[i] >= 0) {
            close(io->parent[i]);
            io->parent[i] = -1;
        }
    }
}
