/* Internal: the process layer. spawn.c starts children (stdio.c builds what they get as stdin,
 * stdout and stderr), reap.c learns of their exits (pidfd or SIGCHLD) and keeps each loop's list
 * of children for the loop's close, process.c holds the object's calls, communicate.c asyncio's
 * communicate. */
#ifndef CORIO_PROC_PROC_H
#define CORIO_PROC_PROC_H

#include "corio/process.h"
#include "signal/signal.h"

#include <spawn.h>
#include <sys/types.h>

struct corio_process {
    uint32_t magic;
    corio_loop *loop; /* held */
    pid_t pid;
    int pidfd;        /* -1: the loop learns of the exit through SIGCHLD */
    int code;         /* the returncode, once exited */
    uint8_t exited, freed;
    unsigned waiting; /* tasks in corio_process_wait or communicate */
    corio_event *exit_ev;
    corio_writer *in;
    corio_reader *out, *err;
    size_t max_output;
    corio__link link; /* in the loop's children while not reaped */
};

#define CORIO__PROC_CHECK(p) CORIO__CHECK(p, CORIO__KIND_PROCESS, (p)->loop)

/* The checks of a call that awaits on p, in the name of the public function fn: 0, -EINVAL (NULL
 * p, a task of another loop), CORIO_ENOTASK (process.c). */
int corio__process_can_wait(const corio_process *p, const char *fn);
/* Awaits the exit, as corio_process_wait after its checks (process.c). */
int corio__process_wait(corio_process *p, int *code);

/* ---- path.c ---- */

/* The path to spawn for prog (execvp's search, on the child's PATH): 0 with it in buf; 1 when
 * only the exec can tell (a relative path under another working directory); -ENOENT, -EACCES,
 * -ENAMETOOLONG as the exec would fail. */
int corio__proc_find(const char *prog, const corio_process_opts *o, char *buf, size_t cap);
/* 0 if the child could change to directory cwd (NULL: none asked), else -ENOENT, -ENOTDIR,
 * -EACCES as its chdir would fail. */
int corio__proc_check_cwd(const char *cwd);

/* ---- stdio.c ---- */

/* The parent's side of the child's stdio while it is being spawned. */
typedef struct corio__stdio {
    int parent[3]; /* the parent's end of each pipe, else -1 */
    int temp[3];   /* fds to close once the child started (child ends, /dev/null, moved fds) */
} corio__stdio;

/* Fills the file actions that give the child its stdin, stdout and stderr, and opens what they
 * need. Returns 0 or an error (everything opened is closed again). */
int corio__stdio_prepare(corio__stdio *io, posix_spawn_file_actions_t *fa,
                         const corio_process_opts *o);
/* Closes the fds the child has (or would have had) after the spawn; with `failed`, the parent's
 * ends too. */
void corio__stdio_finish(corio__stdio *io, int failed);

/* ---- reap.c ---- */

/* Makes the loop ready to learn of a child's exit: its state, and SIGCHLD where pidfds are not
 * used. Call before spawning (so that no exit is missed). 1 if pidfds are used, 0 if SIGCHLD, or
 * an error. */
int corio__proc_prepare(corio_loop *loop);
/* Starts watching a child spawned with pid p->pid (its pidfd opened here when `pidfd`). Does
 * not fail: without a pidfd, SIGCHLD does. */
void corio__proc_watch(corio_process *p, int pidfd);
/* The child exited (waitid has reaped it): the returncode is recorded, waiters woken, and a freed
 * object goes. */
void corio__proc_exited(corio_process *p, int code);
/* Frees the object's memory and its hold on the loop (the child is reaped, the object freed). */
void corio__proc_release(corio_process *p);

/* The loop's close: each child still running is reported, killed and reaped. */
void corio__proc_loop_term(corio_loop *loop);

#endif
