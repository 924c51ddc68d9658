/* Internal: the loop's inbox, the one way into a loop from another thread.
 *
 * Other threads post corio__work items (call_soon_threadsafe's callbacks, executor completions);
 * the loop moves them to its ready queue at the start of each iteration's ready phase, oldest
 * first. Posting is lock-free (a Treiber stack, reversed when drained) and makes no system call
 * unless the loop sleeps in the poller: the loop raises `sleeping` before it polls and then looks
 * at the inbox once more, a poster pushes and then looks at `sleeping`; both sides use
 * sequentially consistent operations, so at least one of them sees the other (as in Dekker's
 * algorithm) and no post is left waiting in the inbox of a sleeping loop.
 */
#ifndef CORIO_LOOP_INBOX_H
#define CORIO_LOOP_INBOX_H

#include "poll/poller.h"
#include "loop/work.h"

#include <stdatomic.h>

typedef struct corio__inbox {
    _Atomic(corio__work *) head; /* newest first; CORIO__INBOX_CLOSED once the loop closes */
    atomic_int sleeping;         /* the loop is in the poller, or about to be */
    atomic_uint posting;         /* posters between their push and their wake (see close) */
} corio__inbox;

void corio__inbox_init(corio__inbox *ib);

/* Any thread. Posts the chain newest -> ... -> oldest (linked through next; newest == oldest for
 * one item) and wakes the loop if it sleeps. Returns 0, or CORIO_ECLOSED once the inbox is
 * closed (nothing is posted). */
int corio__inbox_post(corio__inbox *ib, corio__poller *p, corio__work *newest,
                      corio__work *oldest);

/* Loop thread, just before a poll that may sleep: returns nonzero if work was posted (the loop
 * must then not sleep). */
int corio__inbox_prepare_sleep(corio__inbox *ib);

/* Loop thread, after the poll: appends what was posted to q, oldest first. */
void corio__inbox_drain(corio__inbox *ib, corio__workq *q);

/* Loop thread, after a poll: as drain; used by loop close to wait for completions. Sleeps in the
 * poller until something is posted. */
void corio__inbox_wait(corio__inbox *ib, corio__poller *p, corio__workq *q);

/* Loop thread, at loop close: refuses later posts, waits for posters still inside post, and
 * appends what was posted to q for the caller to drop. */
void corio__inbox_close(corio__inbox *ib, corio__workq *q);

#endif
