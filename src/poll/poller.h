/* Internal: the poller, the lowest I/O layer. The loop sleeps in it; the I/O request layer
 * (src/io) builds the awaiting calls on it.
 *
 * It knows fds, readiness masks and, on io_uring, operations in the kernel. Whatever waits on
 * it is a record (corio__poll_rec) with a callback, embedded in its owner's object: the poller
 * calls it and knows nothing else of its clients (no futures, tasks, awaiting or cancellation
 * rules). A handful of functions, in the manner of Redis's ae.c and libuv's uv__io_*.
 *
 * One backend per poller, chosen when it is set up (the name given, else CORIO_BACKEND, else
 * io_uring when the kernel allows it, else epoll). Each backend has a few calls of its own for
 * the request layer: poll/epoll.h, poll/uring.h.
 */
#ifndef CORIO_POLL_POLLER_H
#define CORIO_POLL_POLLER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Readiness bits (the poll(2) values, so that they pass through unchanged). */
#define CORIO__POLL_IN 0x001u
#define CORIO__POLL_OUT 0x004u

typedef struct corio__poll_rec corio__poll_rec;

/* What the poller tells a record's owner: res is the readiness (revents) or an operation's
 * result, or -errno. `final`: the poller has let go of the record and will not call it again. */
typedef void (*corio__poll_fn)(corio__poll_rec *r, int res, int final);

struct corio__poll_rec {
    corio__poll_fn fn;
    corio__poll_rec *next; /* the poller's (io_uring: the fd's list of operations) */
    int fd;
    uint32_t dir;          /* CORIO__POLL_IN / _OUT, or the poll mask */
    uint32_t state;        /* the poller's (io_uring: CORIO__UREC_*) */
};

enum { CORIO__POLLER_EPOLL, CORIO__POLLER_URING };

typedef struct corio__poller {
    const struct corio__poll_backend *be;
    void *impl;        /* the backend's state */
    uint8_t kind;      /* CORIO__POLLER_*: picks the request layer's strategy */
    unsigned nwatched; /* fds registered or operations in flight: with none, a busy loop need not
                          poll at all */
    atomic_int wake_pending; /* a wake was sent and not yet drained: later wakes skip the send */
    uint8_t *kinds;          /* CORIO__FD_* by fd (fdkind.c) */
    size_t nkinds;
} corio__poller;

/* Sets up the backend named `name` ("epoll", "io_uring"; NULL: CORIO_BACKEND, else the best one
 * the kernel allows). -EINVAL for an unknown name, -ENOSYS / -EPERM when the named backend is
 * refused (a name given explicitly never falls back). Also ignores SIGPIPE (see backend.c). */
int corio__poller_init(corio__poller *p, const char *name);
/* Lets go of everything: watchers are called with `final`, operations in the kernel are
 * cancelled and waited for. */
void corio__poller_close(corio__poller *p);

/* Waits for I/O for at most timeout_ns (< 0: until something happens, 0: just look) and calls
 * the records it concerns. Returns the number of events handled or -errno; EINTR counts as 0. */
int corio__poller_wait(corio__poller *p, int64_t timeout_ns);

/* Makes a sleeping (or the next) corio__poller_wait return soon. Any thread, async-signal-safe
 * (errno is preserved); repeated wakes before the poller drains them cost one backend wake.
 * Returns 0 or -errno. */
int corio__poller_wake(corio__poller *p);

/* For backends: the wake signal was consumed (called from the poller's wait, after reading it).
 * A wake that lands between the read and this skips its send, but the poller is returning
 * anyway, which is all a wake promises. */
static inline void corio__poller_wake_drained(corio__poller *p) {
    atomic_store_explicit(&p->wake_pending, 0, memory_order_release);
}

/* Before a thread polls or closes: a backend bound to one thread (an io_uring ring that only its
 * issuer may enter) takes this thread instead when it has nothing in the kernel or its thread
 * has exited. 0, or -EEXIST when what it has in flight belongs to another live thread, or
 * another -errno. */
int corio__poller_attach(corio__poller *p);

const char *corio__poller_name(const corio__poller *p);

/* fd is about to be closed: records waiting for its readiness are called with -EBADF, its
 * watchers with -EBADF and `final`, its operations in the kernel are cancelled (each ends with
 * its CQE, marked CORIO__UREC_FORGOTTEN) and its registration is dropped. */
void corio__poller_forget(corio__poller *p, int fd);

/* What an fd is, as last remembered (fdkind.c): unknown, a file (a regular file or a block
 * device: readiness cannot wait for it, and it has positions), or something else. Forgotten by
 * corio__poller_forget. Setting may fail to remember (no memory): then it stays unknown. */
enum { CORIO__FD_UNKNOWN, CORIO__FD_FILE, CORIO__FD_OTHER };
int corio__poller_fd_kind(const corio__poller *p, int fd);
void corio__poller_set_fd_kind(corio__poller *p, int fd, int kind);
void corio__poller_fd_kinds_free(corio__poller *p);

/* A level-triggered watcher of fd in direction dir (CORIO__POLL_IN or _OUT): w->fn(w, revents,
 * 0) is called while fd is ready that way, until replaced, removed or forgotten. w == NULL
 * removes. Returns the watcher it replaces or removes (the caller owns it again), or NULL; sets
 * *err (0, -ENOMEM, -EPERM for a file that cannot be polled, -EBADF...). */
corio__poll_rec *corio__poller_watch(corio__poller *p, int fd, uint32_t dir, corio__poll_rec *w,
                                     int *err);

/* ---- for the backends (poll/epoll.c, poll/uring.c) ---- */

typedef struct corio__poll_backend {
    const char *name;
    uint8_t kind;
    int (*init)(corio__poller *p);
    void (*fini)(corio__poller *p);
    int (*wait)(corio__poller *p, int64_t timeout_ns);
    int (*wake)(corio__poller *p);
    int (*attach)(corio__poller *p); /* NULL: any thread may poll */
    void (*forget)(corio__poller *p, int fd);
    corio__poll_rec *(*watch)(corio__poller *p, int fd, uint32_t dir, corio__poll_rec *w,
                              int *err);
} corio__poll_backend;

extern const corio__poll_backend corio__poll_epoll;
#ifdef CORIO_HAVE_LIBURING
extern const corio__poll_backend corio__poll_uring;
#endif

/* Grows a backend's per-fd table (*n entries of elem bytes) so that it holds index fd; the new
 * entries are zero. 0 or -ENOMEM (the table is unchanged). */
int corio__fdtable_grow(void **table, size_t *n, size_t elem, int fd);

#endif
