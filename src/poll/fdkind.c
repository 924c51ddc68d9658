/* What each fd is, remembered once asked (a file or not), so that a read or a positioned read
 * need not ask the kernel again each time: fstat and lseek cost a system call each, as much as
 * the 4 KiB read they would guard. Forgotten with the fd (corio__poller_forget, which
 * corio_close calls); an fd closed with close(2) leaves its kind behind, as it leaves an epoll
 * registration. */
#include "poll/poller.h"

#include <stdlib.h>

int corio__poller_fd_kind(const corio__poller *p, int fd) {
    return fd >= 0 && (size_t)fd < p->nkinds ? p->kinds[fd] : CORIO__FD_UNKNOWN;
}

void corio__poller_set_fd_kind(corio__poller *p, int fd, int kind) {
    if (fd < 0)
        return;
    if ((size_t)fd >= p->nkinds &&
        (kind == CORIO__FD_UNKNOWN ||
         corio__fdtable_grow((void **)&p->kinds, &p->nkinds, 1, fd) < 0))
        return; /* unknown already, or not remembered: asked again next time */
    p->kinds[fd] = (uint8_t)kind;
}

void corio__poller_fd_kinds_free(corio__poller *p) {
    free(p->kinds);
    p->kinds = NULL;
    p->nkinds = 0;
}
