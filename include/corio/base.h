/* corio/base.h: what every corio header needs: the version, the object types, the function types
 * and the time constant. Included by each <corio/...> header; see <corio.h> for the overview and
 * docs/conventions.md for the rules every function follows.
 */
#ifndef CORIO_BASE_H
#define CORIO_BASE_H

#include <stddef.h>
#include <stdint.h>

#include "corio/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CORIO_VERSION_MAJOR 0
#define CORIO_VERSION_MINOR 2
#define CORIO_VERSION_PATCH 0

typedef struct corio_loop corio_loop;
typedef struct corio_future corio_future;
typedef struct corio_task corio_task;
typedef struct corio_handle corio_handle;

/* A coroutine: runs on its task's own stack; its return value becomes the task's result. */
typedef void *(*corio_coro_fn)(void *arg);
/* A plain callback run by the loop. */
typedef void (*corio_callback_fn)(void *arg);
/* A future's done callback: receives the (done) future and the argument given when added. */
typedef void (*corio_done_fn)(corio_future *fut, void *arg);

/* No limit, wherever a timeout or a deadline is taken (any negative value means the same). */
#define CORIO_FOREVER (-1.0)

#ifdef __cplusplus
}
#endif

#endif
