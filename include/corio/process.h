/* corio processes: asyncio's create_subprocess_exec / create_subprocess_shell and its Process.
 *
 * Included by <corio.h>; docs/conventions.md holds.
 *
 * Spawning: posix_spawn (glibc's runs the child on a fresh stack with CLONE_VFORK, so a big
 * parent costs nothing to copy, and any thread may spawn at any time). The child starts with an
 * empty signal mask and SIGPIPE and SIGXFSZ at their default actions (corio's loops ignore
 * SIGPIPE; a child must not inherit that, as asyncio's restore_signals). An exec that fails is
 * the create call's error (-ENOENT, -EACCES, ...), never a child that exits 127.
 *
 * Pipes: each stdio stream given CORIO_PROCESS_PIPE is a corio stream (<corio/stream.h>): the
 * child's stdin is a corio_writer with write/drain and the water marks, its stdout and stderr are
 * corio_readers with read/readline/readuntil and the stream limit. Underneath they are Unix
 * stream socket pairs (as libuv's pipes for processes), so that write_eof closes only the child's
 * stdin and the stream calls behave exactly as on a connection; a child sees a socket where it
 * would see a pipe (a program that insists on a FIFO would notice).
 *
 * Exit: the loop learns of a child's exit through a pidfd (Linux 5.3 and later) watched like any
 * fd, else through SIGCHLD (<corio/signal.h>: a user's SIGCHLD handler still works beside it).
 * CORIO_PIDFD=0 in the environment forces SIGCHLD. A SIGCHLD that never reaches corio (another
 * handler put in its place) delays the news by at most a second: while it has children without
 * pidfds, the loop also looks at them once a second. corio reaps its children itself with
 * waitid(P_PID): a program that reaps any child (waitpid(-1)) or ignores SIGCHLD takes their exit
 * status away from corio (their returncode is then 255).
 *
 * A returncode is asyncio's: the exit status (0..255), or -N for a child killed by signal N.
 *
 * Lifetime: the process object is its creator's, freed with corio_process_free, which also frees
 * its streams. A child still running when its object is freed keeps running and is reaped when
 * it exits (no zombie). When the loop closes, each child still running is reported through the
 * loop's error handler, killed (SIGKILL) and reaped, as asyncio's transport close does.
 */
#ifndef CORIO_PROCESS_H
#define CORIO_PROCESS_H

#include <stddef.h>

#include "corio/base.h"
#include "corio/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_process corio_process;

/* What one of the child's stdin, stdout and stderr is. */
typedef enum corio_process_stdio {
    CORIO_PROCESS_INHERIT = 0, /* the parent's own (asyncio's None) */
    CORIO_PROCESS_PIPE,        /* a corio stream (above) */
    CORIO_PROCESS_DEVNULL,     /* /dev/null */
    CORIO_PROCESS_STDOUT,      /* stderr only: wherever stdout goes (asyncio's STDOUT) */
    CORIO_PROCESS_FD,          /* the given fd (the matching *_fd field), which stays the caller's */
} corio_process_stdio;

/* process_group: a new group whose leader is the child (asyncio's process_group=0). */
#define CORIO_PROCESS_NEW_GROUP (-1)

typedef struct corio_process_opts {
    corio_process_stdio stdin_mode, stdout_mode, stderr_mode; /* 0: CORIO_PROCESS_INHERIT */
    int stdin_fd, stdout_fd, stderr_fd;  /* the fds of CORIO_PROCESS_FD */
    const char *cwd;                     /* the child's working directory; NULL: the parent's */
    const char *const *env;              /* the child's environment, "NAME=value" strings ending
                                            with NULL; NULL: the parent's */
    int new_session;                     /* > 0: the child starts a new session (setsid) */
    int process_group;                   /* 0: the parent's; > 0: join that group;
                                            CORIO_PROCESS_NEW_GROUP: a group of its own */
    int keep_fds;                        /* 0: the child gets only its stdin, stdout and stderr,
                                            every other fd is closed (asyncio's close_fds=True);
                                            > 0: it inherits the fds without FD_CLOEXEC */
    const corio_stream_opts *stream;     /* the pipes' stream options (limit, timeouts); NULL:
                                            the defaults of corio_stream_new */
    size_t max_output;                   /* communicate: the most bytes kept of stdout and of
                                            stderr each; 0: 64 MiB */
} corio_process_opts;

/* asyncio's create_subprocess_exec: starts argv[0] with the arguments argv[0..], which end with
 * NULL. A name without a slash is searched as execvp does, in the PATH of opts->env when given
 * (as CPython's subprocess), else in the parent's. Does not await. On 0, *out is the
 * process. Returns 0; the exec's error: -ENOENT (no such program), -EACCES, -ENOEXEC, ...;
 * -EINVAL for a NULL or empty argv, a NULL argv[0], a stdio mode out of range, STDOUT for stdin
 * or stdout, a NaN timeout in opts->stream; -EBADF for a CORIO_PROCESS_FD that is not open;
 * -EMFILE, -ENFILE, -EAGAIN (the process limit), -ENOMEM; CORIO_ECLOSED, CORIO_ENOLOOP. Nothing
 * is left behind on failure. */
int corio_create_subprocess_exec(corio_process **out, corio_loop *loop, const char *const *argv,
                                 const corio_process_opts *opts);

/* asyncio's create_subprocess_shell: corio_create_subprocess_exec of /bin/sh -c cmd. -EINVAL for
 * a NULL cmd; the other errors as corio_create_subprocess_exec. */
int corio_create_subprocess_shell(corio_process **out, corio_loop *loop, const char *cmd,
                                  const corio_process_opts *opts);

/* The child's process id; 0 for NULL. */
int corio_process_get_pid(const corio_process *p);

/* 1 if the child has exited, its returncode (above) in *code when not NULL; 0 if it runs (*code
 * then 0), also for NULL. asyncio's returncode. */
int corio_process_get_returncode(const corio_process *p, int *code);

/* The streams of the stdio given CORIO_PROCESS_PIPE, else NULL (also for NULL). They are the
 * process's: freed with it; closing one (corio_writer_close) is allowed, freeing it is not. */
corio_writer *corio_process_get_stdin(const corio_process *p);
corio_reader *corio_process_get_stdout(const corio_process *p);
corio_reader *corio_process_get_stderr(const corio_process *p);

/* Awaits the child's exit and returns its returncode in *code (when not NULL). Returns 0;
 * -ECANCELED (the child is left running, as asyncio's), CORIO_ENOTASK, -EINVAL (NULL p, or a
 * task of another loop), CORIO_ECLOSED. Like asyncio's wait, it does not read the pipes: a child
 * that fills a pipe nobody reads never exits (corio_process_communicate reads them). */
int corio_process_wait(corio_process *p, int *code);

/* asyncio's communicate: writes `len` bytes of input (none for NULL; len must then be 0) to the
 * child's stdin and closes it, while reading its stdout and stderr to their end at the same time
 * (so a child that writes much before it reads never deadlocks), then awaits its exit. *out and
 * *err get the bytes read from stdout and stderr, NUL-terminated for convenience, with their
 * lengths in *out_len and *err_len (each output may be NULL: that stream's bytes are read and
 * dropped; a stream that is not a pipe gives NULL and 0); the caller frees them with free().
 * Returns 0 with the returncode in *code (when not NULL); CORIO_ELIMIT if an output passed
 * opts->max_output (the child has been killed and reaped; what was read is still returned);
 * -EPIPE is not an error (a child that exits without reading its input is fine, as in asyncio);
 * -ECANCELED (the child is left running; the outputs are NULL); -EINVAL (NULL p, input with no
 * stdin pipe, NULL input with len > 0); CORIO_ENOTASK; -ENOMEM. */
int corio_process_communicate(corio_process *p, const void *input, size_t len, char **out,
                              size_t *out_len, char **err, size_t *err_len, int *code);

/* Sends signal signo to the child (through its pidfd where there is one, so that a reused pid is
 * never signalled). Returns 0; -ESRCH if the child has exited (asyncio's ProcessLookupError);
 * -EINVAL for NULL or an invalid signal; -EPERM. */
int corio_process_send_signal(corio_process *p, int signo);
/* corio_process_send_signal with SIGTERM, and with SIGKILL. */
int corio_process_terminate(corio_process *p);
int corio_process_kill(corio_process *p);

/* Frees the process and its streams (as corio_stream_free: buffered input is still sent). A
 * child that still runs goes on and is reaped when it exits. -EBUSY, with nothing done, while a
 * task waits on it. NULL does nothing. */
int corio_process_free(corio_process *p);

#ifdef __cplusplus
}
#endif

#endif
