/* Internal: struct corio_loop, one part per layer, as libdill builds its context from one
 * sub-struct per module.
 *
 * Each part is defined by its layer's loop_part.h and read and written by that layer only; a
 * layer learns about another's state through that layer's functions (loop/loop.h, task/task.h),
 * and a lower layer tells an upper one something through a hook the upper one installed
 * (docs/layers.md). The parts share one allocation, so every layer reaches its own at a constant
 * offset from the loop pointer, as it did its fields before: no indirection on the hot paths.
 * This header is the one the layers include from above: it holds types only, no functions, so
 * the object files still reference nothing upward (scripts/check-layers.sh). The runtime
 * (src/runtime/) allocates the whole and calls each part's init and term.
 */
#ifndef CORIO_RUNTIME_LOOP_PARTS_H
#define CORIO_RUNTIME_LOOP_PARTS_H

#include "io/loop_part.h"
#include "loop/loop_part.h"
#include "proc/loop_part.h"
#include "signal/loop_part.h"
#include "task/loop_part.h"
#include "thread/loop_part.h"

struct corio_loop {
    corio__loop_core core;     /* first: a loop's magic is where base/obj.h looks for it */
    corio__loop_task task;
    corio__loop_io io;
    corio__loop_thread thread;
    corio__loop_signal sig;
    corio__loop_proc proc;
};

#endif
