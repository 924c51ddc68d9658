/* Internal: the signal layer's part of the loop (runtime/loop_parts.h puts the parts together).
 * Only src/signal/ reads or writes these fields. */
#ifndef CORIO_SIGNAL_LOOP_PART_H
#define CORIO_SIGNAL_LOOP_PART_H

typedef struct corio__loop_signal {
    struct corio__sig_loop *state; /* signal/loop.c: made when the loop first takes a signal */
} corio__loop_signal;

#endif
