/* asyncio.TaskGroup (3.11+): structured concurrency over tasks of one owner.
 *
 * Mirrors CPython's taskgroups.py: _abort, _on_task_done, _aexit and the
 * _parent_cancel_requested / uncancel bookkeeping that tells the group's own cancellation of the
 * owner from a cancellation that came from outside.
 */
#include "combine/combine.h"

#include <errno.h>
#include <stdlib.h>

#define CHECK(tg) CORIO__CHECK(tg, CORIO__KIND_TASKGROUP, (tg)->loop)

/* A task of the group while it runs: the group holds a reference, and the node is the task's
 * eager done callback's argument. */
typedef struct member {
    corio__link link;
    corio_taskgroup *tg;
    corio_task *task;
} member;

struct corio_taskgroup {
    corio_task *owner;         /* a reference */
    corio_loop *loop;          /* the owner's, for a misuse report once the owner may be gone */
    uint32_t magic;            /* base/obj.h */
    corio__link running;       /* members not done yet */
    size_t nrunning;
    corio_future *on_completed; /* what exit awaits while tasks run, or NULL */
    corio_taskgroup_error *errors; /* each with a reference to its task */
    size_t nerrors, cap;
    int exiting, finished, aborting, parent_cancel_requested;
};

int corio_taskgroup_new(corio_taskgroup **out) {
    if (!out)
        return -EINVAL;
    *out = NULL;
    corio_task *t = corio__current_task();
    if (!t)
        return CORIO_ENOTASK;
    corio_taskgroup *tg = corio__calloc(1, sizeof *tg);
    if (!tg)
        return -ENOMEM;
    tg->owner = corio_task_ref(t);
    tg->loop = corio__task_loop_of(t);
    tg->magic = CORIO__MAGIC_LIVE(CORIO__KIND_TASKGROUP);
    corio__list_init(&tg->running);
    *out = tg;
    return 0;
}

static void abort_group(corio_taskgroup *tg) {
    tg->aborting = 1;
    for (corio__link *l = tg->running.next; l != &tg->running; l = l->next)
        corio_task_cancel(corio__container_of(l, member, link)->task, NULL);
}

/* Appends an error; when memory runs out the error is reported instead of lost silently. */
static void record_error(corio_taskgroup *tg, corio_task *task, int err) {
    if (tg->nerrors == tg->cap) {
        size_t cap = tg->cap ? 2 * tg->cap : 4;
        corio_taskgroup_error *v = corio__realloc(tg->errors, cap * sizeof *v);
        if (!v) {
            corio__loop_report(corio__task_loop_of(tg->owner),
                               "TaskGroup could not record an error", err, NULL, task);
            return;
        }
        tg->errors = v;
        tg->cap = cap;
    }
    tg->errors[tg->nerrors++] = (corio_taskgroup_error){task ? corio_task_ref(task) : NULL, err};
}

static void on_task_done(corio_future *f, void *arg) {
    member *m = arg;
    corio_taskgroup *tg = m->tg;
    corio__list_remove(&m->link);
    free(m);
    if (--tg->nrunning == 0 && tg->on_completed && corio__future_pending(tg->on_completed))
        corio_future_set_result(tg->on_completed, NULL);
    int err = corio_future_error(f);
    if (err < 0 && err != -ECANCELED) {
        corio_task *task = (corio_task *)f;
        record_error(tg, task, err);
        if (!corio__future_pending(corio__task_fut(tg->owner))) {
            corio__loop_report(corio__future_loop(f),
                               "Task error in a TaskGroup whose owner is done", err, f, task);
        } else if (!tg->aborting && !tg->parent_cancel_requested) {
            /* Stop whatever the body is awaiting; exit withdraws this request again. */
            abort_group(tg);
            tg->parent_cancel_requested = 1;
            corio_task_cancel(tg->owner, NULL);
        }
    }
    corio_task_unref((corio_task *)f); /* the group's reference */
}

int corio_taskgroup_create_task(corio_task **out, corio_taskgroup *tg, corio_coro_fn fn,
                                void *arg, const corio_task_opts *opts) {
    if (out)
        *out = NULL;
    if (!tg)
        return -EINVAL;
    CHECK(tg);
    if (!fn)
        return -EINVAL;
    if (tg->finished || (tg->exiting && tg->nrunning == 0) || tg->aborting)
        return CORIO_EINVALSTATE;
    member *m = corio__malloc(sizeof *m);
    if (!m)
        return -ENOMEM;
    corio_task *t;
    int rc = corio_create_task(&t, corio__task_loop_of(tg->owner), fn, arg, opts);
    if (rc == 0 && corio__future_add_eager_callback(corio__task_fut(t), on_task_done, m) < 0) {
        corio_task_cancel(t, NULL); /* it never runs: a task cancelled before it starts */
        corio_task_unref(t);
        rc = -ENOMEM;
    }
    if (rc < 0) {
        free(m);
        return rc;
    }
    m->tg = tg;
    m->task = t; /* the creation reference becomes the group's */
    corio__list_insert_tail(&tg->running, &m->link);
    tg->nrunning++;
    if (out)
        *out = corio_task_ref(t);
    return 0;
}

/* Waits until no task runs. Returns the owner's cancellation to propagate: -ECANCELED if the
 * owner was cancelled from outside while it waited, else 0. */
static int wait_all(corio_taskgroup *tg, corio_task *owner) {
    int propagate = 0;
    while (tg->nrunning) {
        if (corio__task_destroying(owner))
            return -ECANCELED; /* the loop closes: its tasks are destroyed with it */
        if (!tg->on_completed &&
            corio__future_new(&tg->on_completed, corio__task_loop_of(owner)) < 0) {
            /* Out of memory: yield and look again rather than leave tasks behind. */
            if (corio_sleep(0.001) == -ECANCELED && !tg->aborting) {
                propagate = -ECANCELED;
                abort_group(tg);
            }
            continue;
        }
        if (corio_await(tg->on_completed, NULL) == -ECANCELED && !tg->aborting) {
            /* The owner is cancelled from outside while its tasks still run. */
            propagate = -ECANCELED;
            abort_group(tg);
        }
        corio_future_unref(tg->on_completed);
        tg->on_completed = NULL;
    }
    return propagate;
}

int corio_taskgroup_exit(corio_taskgroup *tg, int body_rc) {
    corio_task *owner = corio__current_task();
    if (!owner)
        return CORIO_ENOTASK;
    if (!tg)
        return -EINVAL;
    CHECK(tg);
    if (owner != tg->owner)
        return -EINVAL;
    if (tg->exiting)
        return CORIO_EINVALSTATE;
    tg->exiting = 1;
    int propagate = body_rc == -ECANCELED ? -ECANCELED : 0;
    if (body_rc < 0 && !tg->aborting)
        abort_group(tg); /* the owner is cancelled, or the body failed */
    int rc = wait_all(tg, owner);
    if (rc < 0)
        propagate = rc;
    tg->finished = 1;
    if (tg->parent_cancel_requested && corio_task_uncancel(owner) == 0)
        propagate = 0; /* the only cancellation was the group's own */
    if (body_rc < 0 && body_rc != -ECANCELED)
        record_error(tg, NULL, body_rc);
    if (tg->nerrors == 0)
        return propagate;
    /* Errors win over a cancellation from outside, which is requested again to keep the count. */
    if (corio_task_cancelling(owner)) {
        corio_task_uncancel(owner);
        corio_task_cancel(owner, NULL);
    }
    return tg->errors[0].err;
}

int corio_taskgroup_wait(corio_taskgroup *tg) {
    if (tg)
        CHECK(tg);
    return corio_taskgroup_exit(tg, 0);
}

size_t corio_taskgroup_errors(const corio_taskgroup *tg, const corio_taskgroup_error **errors) {
    if (errors)
        *errors = NULL;
    if (!tg)
        return 0;
    CHECK(tg);
    if (errors)
        *errors = tg->errors;
    return tg->nerrors;
}

int corio_taskgroup_free(corio_taskgroup *tg) {
    if (!tg)
        return 0;
    CHECK(tg);
    if (tg->exiting && !tg->finished)
        return -EBUSY; /* the owner waits in exit, on state freed here */
    while (tg->running.next != &tg->running) {
        member *m = corio__container_of(tg->running.next, member, link);
        corio_future_remove_done_callback(corio__task_fut(m->task), on_task_done, m);
        corio_task_cancel(m->task, NULL);
        corio_task_unref(m->task);
        corio__list_remove(&m->link);
        free(m);
    }
    for (size_t i = 0; i < tg->nerrors; i++)
        corio_task_unref(tg->errors[i].task);
    free(tg->errors);
    corio_future_unref(tg->on_completed);
    corio_task *owner = tg->owner;
    /* Before the owner's reference, which holds the loop a kept group names (base/obj.h). */
    corio__obj_free(tg, &tg->magic, corio__loop_keeps(tg->loop));
    corio_task_unref(owner);
    return 0;
}
