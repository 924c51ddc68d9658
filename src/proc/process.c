/* The process object's calls: accessors, wait, signals, free. */
#define _GNU_SOURCE
#include "proc/proc.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int corio_process_get_pid(const corio_process *p) {
    if (!p)
        return 0;
    CORIO__PROC_CHECK(p);
    return (int)p->pid;
}

int corio_process_get_returncode(const corio_process *p, int *code) {
    if (code)
        *code = 0;
    if (!p)
        return 0;
    CORIO__PROC_CHECK(p);
    if (p->exited && code)
        *code = p->code;
    return p->exited;
}

corio_writer *corio_process_get_stdin(const corio_process *p) {
    if (!p)
        return NULL;
    CORIO__PROC_CHECK(p);
    return p->in;
}

corio_reader *corio_process_get_stdout(const corio_process *p) {
    if (!p)
        return NULL;
    CORIO__PROC_CHECK(p);
    return p->out;
}

corio_reader *corio_process_get_stderr(const corio_process *p) {
    if (!p)
        return NULL;
    CORIO__PROC_CHECK(p);
    return p->err;
}

int corio__process_wait(corio_process *p, int *code) {
    int rc = 0;
    p->waiting++;
    while (!p->exited && rc == 0)
        rc = corio__loop_closing(p->loop) ? CORIO_ECLOSED : corio_event_wait(p->exit_ev);
    p->waiting--;
    if (code)
        *code = rc == 0 ? p->code : 0;
    return rc;
}

int corio__process_can_wait(const corio_process *p, const char *fn) {
    if (!p)
        return -EINVAL;
    CORIO__CHECK_AS(p, CORIO__KIND_PROCESS, fn, p->loop);
    corio_task *self = corio__current_task();
    if (!self)
        return CORIO_ENOTASK;
    return corio__task_loop_of(self) == p->loop ? 0 : -EINVAL;
}

int corio_process_wait(corio_process *p, int *code) {
    if (code)
        *code = 0;
    int rc = corio__process_can_wait(p, __func__);
    return rc < 0 ? rc : corio__process_wait(p, code);
}

int corio_process_send_signal(corio_process *p, int signo) {
    if (!p || signo < 0 || signo >= NSIG)
        return -EINVAL;
    CORIO__PROC_CHECK(p);
    if (p->exited)
        return -ESRCH;
    long rc = p->pidfd >= 0 ? syscall(SYS_pidfd_send_signal, p->pidfd, signo, NULL, 0)
                            : kill(p->pid, signo);
    return rc < 0 ? -errno : 0;
}

int corio_process_terminate(corio_process *p) { return corio_process_send_signal(p, SIGTERM); }
int corio_process_kill(corio_process *p) { return corio_process_send_signal(p, SIGKILL); }

int corio_process_free(corio_process *p) {
    if (!p)
        return 0;
    CORIO__PROC_CHECK(p);
    if (p->waiting)
        return -EBUSY;
    corio_stream_free(NULL, p->in);
    corio_stream_free(p->out, NULL);
    corio_stream_free(p->err, NULL);
    if (p->exited) {
        corio__proc_release(p);
        return 0;
    }
    /* Still running: the loop reaps it when it exits (reap.c), then the memory goes. */
    corio__obj_kill(&p->magic, 0);
    p->freed = 1;
    return 0;
}
