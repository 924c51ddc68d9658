/* Internal: telling a live object from a freed one (docs/conventions.md, row "misuse").
 *
 * Every object kind the API hands out carries a 32-bit magic: its kind's live value while it
 * lives, a dead value once its owner freed it (last unref, _free, a scope's exit). Each public
 * function checks the magic of the object it acts on first: one load and one compare, and on a
 * mismatch corio__misuse reports the call by name and aborts, instead of working on freed memory.
 *
 * In debug mode (CORIO_DEBUG=1, or the object's loop in debug mode) freed memory is kept aside for
 * a while (a bounded FIFO, the "keep"), so that a second free or a later call still reads the dead
 * magic rather than memory handed to another object. Outside debug mode freed memory goes back at
 * once: pooled objects (futures, tasks, handles) keep it in their loop's pool, so a misuse is
 * still often caught there; malloc'd ones are undefined behaviour, as any use after free.
 *
 * The lowest layer: libc only. How a report reaches a loop's error handler is the loop layer's
 * business (corio__misuse_set_reporter).
 */
#ifndef CORIO_BASE_OBJ_H
#define CORIO_BASE_OBJ_H

#include <stddef.h>
#include <stdint.h>

typedef enum corio__kind {
    CORIO__KIND_LOOP = 1,
    CORIO__KIND_FUTURE = 2, /* even, and a task is the next one: see CORIO__CHECK_FUTURE */
    CORIO__KIND_TASK = 3,
    CORIO__KIND_HANDLE,
    CORIO__KIND_STREAM,
    CORIO__KIND_SERVER,
    CORIO__KIND_LOCK,
    CORIO__KIND_EVENT,
    CORIO__KIND_CONDITION,
    CORIO__KIND_SEMAPHORE,
    CORIO__KIND_BARRIER,
    CORIO__KIND_QUEUE,
    CORIO__KIND_TASKGROUP,
    CORIO__KIND_TIMEOUT,
    CORIO__KIND_AS_COMPLETED,
    CORIO__KIND_EXECUTOR,
    CORIO__KIND_CONCURRENT,
    CORIO__KIND_SIGNAL_WATCHER,
    CORIO__KIND_PROCESS,
    CORIO__KIND_COUNT
} corio__kind;

/* Dead values come in two: DEAD (the memory may belong to someone else by now) and KEPT (the
 * memory is in the keep, untouched but for the magic, so the object's fields can still be read). */
#define CORIO__MAGIC_LIVE(kind) (0xC0A10000u | (uint32_t)(kind))
#define CORIO__MAGIC_DEAD(kind) (0xDEAD0000u | (uint32_t)(kind))
#define CORIO__MAGIC_KEPT(kind) (0xDEAD0100u | (uint32_t)(kind))

static inline corio__kind corio__magic_kind(uint32_t magic) { return (corio__kind)(magic & 0xff); }

/* Is `magic` the kept value of `kind`? A future's check also takes a task's (a task is one). */
static inline int corio__magic_kept_as(uint32_t magic, corio__kind kind) {
    if (kind == CORIO__KIND_FUTURE)
        magic &= ~1u;
    return magic == CORIO__MAGIC_KEPT(kind);
}

/* Reports the call `fn` on `obj`, whose magic is not its kind's live value, and aborts. `loop` is
 * the object's loop as the object records it (read only when the object is kept, NULL
 * otherwise): the report goes to its error handler if that loop still lives. */
void corio__misuse(const void *obj, uint32_t magic, corio__kind kind, const char *fn,
                   const void *loop) __attribute__((cold, noreturn, noinline));

/* The check every public function makes on its subject: `obj->magic` must be `kind`'s live value.
 * `loop_expr` (the object's loop) is evaluated only on a mismatch, and only when the object is
 * kept, so that it never reads through memory that may have been reused. */
#define CORIO__CHECK_AS(obj, kind, fn, loop_expr)                                                  \
    do {                                                                                           \
        uint32_t corio_m_ = (obj)->magic;                                                          \
        if (__builtin_expect(corio_m_ != CORIO__MAGIC_LIVE(kind), 0))                              \
            corio__misuse((obj), corio_m_, (kind), (fn),                                           \
                          corio__magic_kept_as(corio_m_, (kind)) ? (const void *)(loop_expr)       \
                                                                 : NULL);                          \
    } while (0)
#define CORIO__CHECK(obj, kind, loop_expr) CORIO__CHECK_AS(obj, kind, __func__, loop_expr)

/* A future's functions take a task as well: the two live values differ only in the lowest bit,
 * so one OR and one compare check for either. */
#define CORIO__CHECK_FUTURE_AS(f, fn)                                                              \
    do {                                                                                           \
        uint32_t corio_m_ = (f)->magic;                                                            \
        if (__builtin_expect((corio_m_ | 1u) != CORIO__MAGIC_LIVE(CORIO__KIND_TASK), 0))           \
            corio__misuse((f), corio_m_, CORIO__KIND_FUTURE, (fn),                                 \
                          corio__magic_kept_as(corio_m_, CORIO__KIND_FUTURE)                       \
                              ? (const void *)(f)->loop                                            \
                              : NULL);                                                             \
    } while (0)
#define CORIO__CHECK_FUTURE(f) CORIO__CHECK_FUTURE_AS(f, __func__)

/* Routes a report to an error handler: returns 1 if it went to a handler the user set, 0 if to
 * the default one (which writes it to stderr), -1 if there was no loop to take it. Installed by
 * the loop layer; before that, reports go to stderr. */
typedef int (*corio__misuse_reporter_fn)(const void *loop, const char *message);
void corio__misuse_set_reporter(corio__misuse_reporter_fn fn);

/* Is CORIO_DEBUG set (non-empty, not "0")? Read once, on the first call. */
int corio__debug_env(void);

/* ---- the keep: a bounded FIFO of freed objects ---- */

typedef struct corio__kept {
    void *obj;
    void *ctx; /* what the owner needs to give it back */
} corio__kept;

typedef struct corio__keep {
    corio__kept *ring; /* made on the first push */
    uint32_t cap, next;
} corio__keep;

#define CORIO__KEEP_CAP 4096

/* Keeps obj. Returns the entry it pushed out ({NULL, NULL} while the ring fills), for the caller
 * to give back; {obj, ctx} itself when no ring could be made. Not thread-safe. */
corio__kept corio__keep_push(corio__keep *k, void *obj, void *ctx);
/* Gives every kept object back with release(obj, ctx), oldest first, and frees the ring. */
void corio__keep_drain(corio__keep *k, void (*release)(void *obj, void *ctx));

/* ---- malloc'd objects ---- */

/* Marks an object freed: its live magic becomes its kind's KEPT value when keep, else DEAD. For
 * objects whose memory outlives their owner's free (a stream's tasks, a loop's futures). */
static inline void corio__obj_kill(uint32_t *magic, int keep) {
    corio__kind kind = corio__magic_kind(*magic);
    *magic = keep ? CORIO__MAGIC_KEPT(kind) : CORIO__MAGIC_DEAD(kind);
}

/* Marks a live pooled object DEAD in one instruction (the last unref of a future is on the path
 * of every await); the pool makes it KEPT if it keeps it (corio__obj_keep_mark). */
static inline void corio__obj_kill_live(uint32_t *magic) {
    *magic ^= CORIO__MAGIC_LIVE(0) ^ CORIO__MAGIC_DEAD(0);
}

/* A DEAD object goes into a keep: KEPT from now on. */
static inline void corio__obj_keep_mark(uint32_t *magic) {
    if ((*magic & 0xffffff00u) == CORIO__MAGIC_DEAD(0))
        *magic = CORIO__MAGIC_KEPT(corio__magic_kind(*magic));
}

/* Frees a malloc'd object whose magic is at `magic` (inside it), marking it freed: with keep it
 * goes to the process's keep (thread-safe), and the oldest kept object is freed in its place. */
void corio__obj_free(void *obj, uint32_t *magic, int keep);

/* A kept object whose memory goes back now: its magic becomes DEAD, its fields are no longer to
 * be trusted. */
static inline void corio__obj_unkeep(uint32_t *magic) {
    if ((*magic & 0xffffff00u) == CORIO__MAGIC_KEPT(0))
        *magic = CORIO__MAGIC_DEAD(corio__magic_kind(*magic));
}

#endif
