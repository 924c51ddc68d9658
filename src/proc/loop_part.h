/* Internal: the process layer's part of the loop (runtime/loop_parts.h puts the parts together).
 * Only src/proc/ reads or writes these fields. */
#ifndef CORIO_PROC_LOOP_PART_H
#define CORIO_PROC_LOOP_PART_H

typedef struct corio__loop_proc {
    struct corio__proc_loop *state; /* proc/reap.c: made when the loop spawns its first child */
} corio__loop_proc;

#endif
