/* Internal: futures, the object every await is bound to. */
#ifndef CORIO_TASK_FUTURE_H
#define CORIO_TASK_FUTURE_H

#include "loop/loop.h"

#include <errno.h>

/* A done-callback registration, queued on the loop as is when the future completes. The first
 * one lives inside the future; the others are nodes that also know their future. */
typedef struct corio__fcb {
    corio__work work;
    corio_done_fn fn;
    void *arg;
} corio__fcb;

typedef struct corio__fcb_node {
    corio__fcb cb;
    struct corio__fcb_node *next;
    corio_future *fut;
} corio__fcb_node;

/* What tasks and gathering futures do differently from plain futures. */
typedef struct corio__future_ops {
    int (*cancel)(corio_future *f, const char *msg);
    void (*destroy)(corio_future *f); /* frees the object and what the subtype owns */
} corio__future_ops;

/* A future's kind (CORIO__FUT_*, task/loop_part.h) indexes its loop's table of kinds: a byte
 * instead of a pointer in every future. A layer above registers its own kinds at its loop init,
 * from CORIO__FUT_UPPER on. */
extern const corio__future_ops corio__task_ops, corio__gather_ops, corio__sleep_ops;
static inline void corio__future_kind_register(corio_loop *loop, int kind,
                                               const corio__future_ops *ops) {
    loop->task.kinds[kind] = ops;
}

enum {
    CORIO__F_RETRIEVED = 1, /* the error was looked at */
    CORIO__F_CB0_USED = 2,  /* cb0 holds a registration not yet scheduled */
    CORIO__F_CB0_QUEUED = 4, /* cb0 sits in the ready queue */
    CORIO__F_CB0_EAGER = 8   /* cb0 is internal bookkeeping, run at completion (see below) */
};

struct corio_future {
    corio_loop *loop;
    uint32_t refs;
    int err;
    uint8_t state;
    uint8_t flags;
    uint8_t kind;         /* CORIO__FUT_* */
    uint32_t magic;       /* base/obj.h: a future's live value, or a task's */
    void *result;
    corio__fcb cb0;       /* the first registration lives inline: most futures have one waiter */
    corio__fcb_node *cbs; /* the others, in registration order */
    char *cancel_msg;     /* a task keeps its latest cancel request's message here */
};

static inline const corio__future_ops *corio__future_ops_of(const corio_future *f) {
    return f->loop->task.kinds[f->kind];
}

/* What the layers above may read of a future. */
static inline corio_loop *corio__future_loop(const corio_future *f) { return f->loop; }
static inline int corio__future_pending(const corio_future *f) {
    return f->state == CORIO_FUTURE_PENDING;
}
static inline corio_future_state corio__future_state(const corio_future *f) {
    return (corio_future_state)f->state;
}
/* Its error, without marking it retrieved (0 while pending, or for a result). */
static inline int corio__future_err(const corio_future *f) { return f->err; }

/* Initialises an object allocated by the caller; takes a reference on the loop; refs = 1. */
void corio__future_init(corio_future *f, corio_loop *loop, int kind);

/* corio_future_new on `loop` as it is: also a loop its owner has freed (then CORIO_ECLOSED), for
 * calls that take the loop of a future they were given. */
int corio__future_new(corio_future **out, corio_loop *loop);

/* corio_future_unref without the check of f: for references corio holds itself. */
void corio__future_unref(corio_future *f);
static inline corio_future *corio__future_ref(corio_future *f) {
    f->refs++;
    return f;
}

/* corio_future_result on a future known to be live. */
static inline int corio__future_result(corio_future *f, void **value) {
    if (value)
        *value = NULL;
    switch (f->state) {
    case CORIO_FUTURE_PENDING:
        return CORIO_EINVALSTATE;
    case CORIO_FUTURE_CANCELLED:
        return -ECANCELED;
    default:
        f->flags |= CORIO__F_RETRIEVED;
        if (f->err)
            return f->err;
        if (value)
            *value = f->result;
        return 0;
    }
}

/* corio_future_add_done_callback and corio_future_cancel on a future known to be live. */
int corio__future_add_done_callback(corio_future *f, corio_done_fn fn, void *arg);
int corio__future_cancel(corio_future *f, const char *msg);

/* Completes a pending future and schedules its callbacks, bypassing the subtype (a task ending,
 * a gather finishing). msg (cancelled only) is owned by the future afterwards. */
void corio__future_finish(corio_future *f, corio_future_state state, int err, void *result,
                          char *msg);

/* The plain cancel, for subtypes that end up cancelled themselves. */
int corio__future_cancel_plain(corio_future *f, const char *msg);

/* Registers an internal done callback that runs at completion instead of one iteration later.
 * Only for bookkeeping whose own effects are scheduled (gather counting its children, wait and
 * TaskGroup watching theirs): user callbacks and task wake-ups always go through the ready queue.
 * It saves a million-task gather a queue round trip and a pass over every child. On a pending
 * future the callback is never queued: it has either run or is still registered, so removing it
 * leaves nothing behind that points at the caller's state (a queued callback could not be
 * removed, and loop close would drop it without running it). On a done future it is scheduled as
 * a plain callback. Returns 0 or -ENOMEM. */
int corio__future_add_eager_callback(corio_future *f, corio_done_fn fn, void *arg);

/* If `w` is a queued done callback calling `fn`, returns its argument (and leaves it queued). */
void *corio__work_callback_arg(corio__work *w, corio_done_fn fn);

/* Copies a cancel message (NULL stays NULL; a failed copy is dropped silently: the message is
 * advisory). */
char *corio__strdup(const char *s);

#endif
