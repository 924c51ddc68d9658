/* create_subprocess_exec / create_subprocess_shell: posix_spawn with the child's stdio, working
 * directory, session and group, signal mask and actions, and closed fds as the options say. */
#define _GNU_SOURCE
#include "proc/proc.h"

#include <errno.h>
#include <math.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The attributes every child gets (an empty mask; SIGPIPE and SIGXFSZ at their defaults) and
 * those the options ask for. Returns 0 or -errno. */
static int attrs(posix_spawnattr_t *at, const corio_process_opts *o) {
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGXFSZ);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (o->new_session > 0)
        flags |= POSIX_SPAWN_SETSID;
    if (o->process_group != 0)
        flags |= POSIX_SPAWN_SETPGROUP;
    int rc = posix_spawnattr_setsigmask(at, &none);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(at, &dfl);
    if (!rc && o->process_group != 0)
        rc = posix_spawnattr_setpgroup(at, o->process_group > 0 ? o->process_group : 0);
    if (!rc)
        rc = posix_spawnattr_setflags(at, flags);
    return -rc;
}

static int check_opts(const corio_process_opts *o) {
    if (o->process_group < CORIO_PROCESS_NEW_GROUP)
        return -EINVAL;
    const corio_stream_opts *so = o->stream;
    if (so && (isnan(so->header_timeout) || isnan(so->idle_timeout) ||
               isnan(so->write_timeout) || isnan(so->connect_timeout)))
        return -EINVAL;
    return 0;
}

/* posix_spawn of the program found in PATH (path.c) with what the options ask for; *pid on 0.
 * The parent's pipe ends in io. */
static int spawn(pid_t *pid, const char *const *argv, const corio_process_opts *o,
                 corio__stdio *io) {
    char path[PATH_MAX];
    int found = corio__proc_check_cwd(o->cwd);
    if (found == 0)
        found = corio__proc_find(argv[0], o, path, sizeof path);
    if (found < 0)
        return found;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -ENOMEM;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -ENOMEM;
    }
    int rc = corio__stdio_prepare(io, &fa, o);
    if (rc == 0 && o->cwd)
        rc = -posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    if (rc == 0)
        rc = attrs(&at, o);
    if (rc == 0)
        rc = -(found == 0 ? posix_spawn : posix_spawnp)(pid, found == 0 ? path : argv[0], &fa,
                                                         &at, (char *const *)argv,
                                                         o->env ? (char *const *)o->env
                                                                : environ);
    corio__stdio_finish(io, rc < 0); /* after a failed prepare: nothing left, a no-op */
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Kills and reaps a child that was started but cannot be handed over. */
static void undo_spawn(pid_t pid) {
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* The parent's pipe ends as streams: stdin's writer, stdout's and stderr's readers. */
static int wrap_streams(corio_process *p, corio__stdio *io, const corio_process_opts *o) {
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        if (io->parent[i] < 0)
            continue;
        corio_reader *r;
        corio_writer *w;
        rc = corio_stream_new(&r, &w, p->loop, io->parent[i], o->stream);
        if (rc < 0)
            break;
        io->parent[i] = -1; /* the stream's now */
        if (i == 0)
            p->in = w;
        else if (i == 1)
            p->out = r;
        else
            p->err = r;
    }
    if (rc < 0) {
        corio__stdio_finish(io, 1);
        corio_stream_free(NULL, p->in);
        corio_stream_free(p->out, NULL);
        corio_stream_free(p->err, NULL);
        p->in = NULL;
        p->out = p->err = NULL;
    }
    return rc;
}

static int create(corio_process *p, const char *const *argv, const corio_process_opts *o) {
    int rc = corio_event_new(&p->exit_ev, p->loop);
    int use_pidfd = rc < 0 ? rc : corio__proc_prepare(p->loop);
    if (use_pidfd < 0)
        return use_pidfd;
    corio__stdio io;
    if ((rc = spawn(&p->pid, argv, o, &io)) < 0)
        return rc;
    if ((rc = wrap_streams(p, &io, o)) < 0) {
        undo_spawn(p->pid);
        return rc;
    }
    p->max_output = o->max_output ? o->max_output : (size_t)64 << 20;
    corio__proc_watch(p, use_pidfd);
    return 0;
}

int corio_create_subprocess_exec(corio_process **out, corio_loop *loop, const char *const *argv,
                                 const corio_process_opts *opts) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    static const corio_process_opts defaults;
    const corio_process_opts *o = opts ? opts : &defaults;
    if (!argv || !argv[0] || !argv[0][0] || check_opts(o) < 0)
        return -EINVAL;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    corio_process *p = corio__calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->loop = loop;
    p->pidfd = -1;
    corio__loop_ref(loop);
    int rc = create(p, argv, o);
    if (rc < 0) {
        corio_event_free(p->exit_ev);
        free(p);
        corio__loop_unref(loop);
        return rc;
    }
    p->magic = CORIO__MAGIC_LIVE(CORIO__KIND_PROCESS);
    *out = p;
    return 0;
}

int corio_create_subprocess_shell(corio_process **out, corio_loop *loop, const char *cmd,
                                  const corio_process_opts *opts) {
    if (out)
        *out = NULL;
    if (!cmd)
        return -EINVAL;
    const char *const argv[] = {"/bin/sh", "-c", cmd, NULL};
    return corio_create_subprocess_exec(out, loop, argv, opts);
}
