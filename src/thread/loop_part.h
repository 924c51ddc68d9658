/* Internal: the thread layer's part of the loop (runtime/loop_parts.h puts the parts together).
 * Only src/thread/ reads or writes these fields. */
#ifndef CORIO_THREAD_LOOP_PART_H
#define CORIO_THREAD_LOOP_PART_H

#include "base/pool.h"

typedef struct corio__loop_thread {
    struct corio__loop_exec *exec; /* executor state (thread/run_in_executor.c), made on first use */
    corio__pool futs;              /* bound jobs' futures (corio__to_thread_bound) */
} corio__loop_thread;

#endif
