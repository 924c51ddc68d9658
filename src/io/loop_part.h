/* Internal: the I/O request layer's part of the loop (runtime/loop_parts.h puts the parts
 * together). Only src/io/ reads or writes these fields. */
#ifndef CORIO_IO_LOOP_PART_H
#define CORIO_IO_LOOP_PART_H

#include "base/pool.h"

typedef struct corio__loop_io {
    corio__pool ops; /* awaited operations (corio__io_op) */
} corio__loop_io;

#endif
