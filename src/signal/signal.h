/* Internal: the signal layer.
 *
 * Two levels. The process-wide table (table.c) knows which loops take which signal: for each
 * signal a lock-free list of nodes, one per loop, that corio's async-signal-safe handler walks
 * to record the signal in each loop and write a byte to its pipe. The loop level (loop.c) keeps
 * each loop's subscribers per signal and calls them from the pipe's reader callback, on the
 * loop's thread. Public handlers (handler.c), watchers (watcher.c), the process layer's SIGCHLD
 * and corio_run's SIGINT are all subscribers.
 */
#ifndef CORIO_SIGNAL_SIGNAL_H
#define CORIO_SIGNAL_SIGNAL_H

#include "corio/signal.h"
#include "task/task.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

/* ---- the process-wide table (table.c) ---- */

/* One loop's entry in one signal's list. The handler reads it at any time: it is unlinked and
 * waited out before its memory goes (corio__sig_table_detach). */
typedef struct corio__sig_node {
    _Atomic(struct corio__sig_node *) next;
    int wfd;                      /* the loop's pipe */
    atomic_ullong *pending;       /* the loop's mask of signals recorded, bit signo - 1 */
    uint8_t weak;                 /* only weak subscribers in this loop (see CORIO__SIG_WEAK) */
} corio__sig_node;

/* 1 if signo may be taken by corio (the rules of corio/signal.h). */
int corio__sig_valid(int signo);
/* Links node into signo's list, installing corio's action (saving the one in place) when it is
 * the first. `owner`: the loop that claims signo for a public subscriber, or NULL for an
 * internal one; CORIO_ESIGOWNED if another loop has claimed it. -errno of sigaction. */
int corio__sig_table_attach(int signo, corio__sig_node *node, const void *owner);
/* Claims signo for `owner` (a public subscriber came to a loop already in the list). */
int corio__sig_table_claim(int signo, const void *owner);
/* Drops `owner`'s claim on signo, if it has it. */
void corio__sig_table_unclaim(int signo, const void *owner);
/* 1 if some loop has claimed signo. ANY THREAD (reads a snapshot). */
int corio__sig_table_claimed(int signo);
/* Re-reads the nodes' weak flags and installs the action they call for. */
void corio__sig_table_refresh(int signo);
/* Unlinks node; puts the saved action back when it was the last; returns when no handler can
 * still be reading node. */
void corio__sig_table_detach(int signo, corio__sig_node *node);

/* ---- a loop's subscribers (loop.c) ---- */

typedef struct corio__sig_sub corio__sig_sub;
typedef void (*corio__sig_fn)(corio__sig_sub *sub, int signo, void *arg);

enum {
    /* A public registration: claims the signal for its loop (corio/signal.h, "Ownership"). */
    CORIO__SIG_PUBLIC = 1u << 0,
    /* Steps aside for the program's own handling: not called while any loop has claimed the
     * signal, and while every subscriber of the signal in the process is weak, corio's action
     * is installed with SA_RESETHAND, so the signal's next delivery after this one meets the
     * action that was there before (corio_run's SIGINT: a second Ctrl-C ends the program even
     * when the loop is stuck). */
    CORIO__SIG_WEAK = 1u << 1,
    /* Freed by the loop's close if still subscribed, with its arg (a public handler, which no
     * object holds). */
    CORIO__SIG_OWNED_BY_LOOP = 1u << 2,
};

/* Calls fn(sub, signo, arg) on loop's thread for every delivery of signo until unsubscribed.
 * The returned subscription is the caller's to give to corio__signal_unsubscribe; the loop's
 * close unsubscribes what is left (and calls nothing after). Errors as
 * corio_loop_add_signal_handler's (the check of signo is the caller's). */
int corio__signal_subscribe(corio__sig_sub **out, corio_loop *loop, int signo, corio__sig_fn fn,
                            void *arg, unsigned flags);
void corio__signal_unsubscribe(corio__sig_sub *sub);
/* The subscription's signal and arg; 1 if its loop closed (it calls nothing any more). */
int corio__signal_sub_signo(const corio__sig_sub *sub);
void *corio__signal_sub_arg(const corio__sig_sub *sub);
int corio__signal_sub_closed(const corio__sig_sub *sub);
/* The first subscription of loop for signo whose fn is `fn`, or NULL. */
corio__sig_sub *corio__signal_find(corio_loop *loop, int signo, corio__sig_fn fn);

/* Called by runtime/loop.c: the loop's close drops every subscription and gives each signal
 * back (before the I/O layer's term: the pipe's reader is an add_reader). */
void corio__signal_loop_term(corio_loop *loop);

#endif
