/* Internal: the loop core's part of the loop (runtime/loop_parts.h puts the parts together).
 * Only src/loop/ reads or writes these fields; the layers above use loop/loop.h's functions. */
#ifndef CORIO_LOOP_LOOP_PART_H
#define CORIO_LOOP_LOOP_PART_H

#include "corio.h"
#include "base/obj.h"
#include "base/pool.h"
#include "loop/inbox.h"
#include "loop/timer_heap.h"
#include "loop/work.h"
#include "poll/poller.h"

#include <stdint.h>

#define CORIO__LOOP_MAX_POOLS 8 /* pools the layers hand the core (corio__loop_add_pool) */

typedef struct corio__loop_core {
    uint32_t refs;      /* the creator's, plus one per future, task and handle bound to it */
    uint32_t magic;     /* base/obj.h: dead once corio_loop_free has run, memory or not */
    uint8_t keep;       /* objects freed now are kept aside (base/obj.h): debug or CORIO_DEBUG */
    uint8_t kept_any;   /* keep was on at some point: the loop's own memory is kept too */
    uint8_t running, stopping, closing, closed, debug;
    uint8_t virtual_time; /* the clock moves only when the loop jumps it to the next timer */
    uint8_t watch;        /* the layer above asked for run_watched (a dump signal is set) */
    uint8_t watched;      /* each iteration goes through run_watched: debug || watch */
    int64_t now;        /* clock read at the start of the iteration, ns; the clock itself under
                           virtual time */
    corio__workq ready; /* what the next iteration runs, FIFO */
    corio__workq batch; /* what this iteration still runs (a suspending task may take from it) */
    corio__timer_heap timers;
    corio__poller poller;
    corio__inbox inbox;            /* work posted by other threads (loop/inbox.c) */
    corio_error_handler_fn err_fn;
    void *err_arg;
    /* Hooks the task layer installs (loop/loop.h): runs `batch` in place of the plain loop when
     * `watched` is set (the task layer knows what a work item belongs to), and prepares the
     * thread for tasks when the loop starts running on it. */
    void (*run_watched)(corio_loop *loop, corio__workq *batch);
    void (*on_run)(corio_loop *loop);
    corio__pool handles;           /* call_soon / call_later handles (loop/handle.c) */
    /* Every layer's pools (this one's handles too), freed with the loop's memory; in debug mode
     * they keep what is freed into them in pool_keep. */
    corio__pool *pools[CORIO__LOOP_MAX_POOLS];
    unsigned npools;
    corio__keep pool_keep;
} corio__loop_core;

#endif
