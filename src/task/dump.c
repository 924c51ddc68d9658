/* corio_loop_dump_tasks: every pending task as the await tree of `python -m asyncio pstree`. */
#include "task/debug.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEPTH 64 /* deeper chains are cut: the dump may run on a task's stack */

void corio__task_describe_wait(corio_task *t, char *buf, size_t len) {
    corio_future *f = t->waiter;
    if (!f) {
        *buf = 0;
        return;
    }
    size_t done, n;
    switch (f->kind) {
    case CORIO__FUT_TASK:
        snprintf(buf, len, "awaits task '%s'", corio_task_get_name((corio_task *)f));
        break;
    case CORIO__FUT_SLEEP: {
        double left = (double)(corio__sleep_deadline(f) - corio__loop_clock(f->loop)) / 1e9;
        snprintf(buf, len, "awaits sleep (%.3f s left)", left > 0 ? left : 0.0);
        break;
    }
    case CORIO__FUT_GATHER:
        n = corio__gather_count(f, &done);
        snprintf(buf, len, "awaits gather (%zu of %zu done)", done, n);
        break;
    default:
        snprintf(buf, len, "awaits a future");
    }
}

/* The pending tasks, with a pointer-sorted index to find a task's position. */
typedef struct tree {
    corio_loop *loop;
    FILE *out;
    size_t n;
    corio_task **v;
    struct entry {
        corio_task *t;
        size_t i;
    } *by_ptr;
    unsigned char *awaited, *listed;
} tree;

static int cmp_entry(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const struct entry *)a)->t;
    uintptr_t y = (uintptr_t)((const struct entry *)b)->t;
    return x < y ? -1 : x > y;
}

/* The index of future f among the pending tasks, or -1 (not a task, or done). */
static long task_index(const tree *tr, corio_future *f) {
    if (!f || f->kind != CORIO__FUT_TASK)
        return -1;
    struct entry key = {(corio_task *)f, 0};
    const struct entry *e = bsearch(&key, tr->by_ptr, tr->n, sizeof key, cmp_entry);
    return e ? (long)e->i : -1;
}

/* A growable list of task indexes. */
typedef struct kids {
    long *v;
    size_t n, cap;
} kids;

/* Adds the pending tasks that awaiting f waits for: f itself if it is one, or those a gather
 * waits for (through nested gathers too). */
static void collect(const tree *tr, corio_future *f, kids *k, int depth) {
    if (f->kind == CORIO__FUT_GATHER && depth < MAX_DEPTH) {
        size_t done, n = corio__gather_count(f, &done);
        for (size_t c = 0; c < n; c++)
            collect(tr, corio__gather_child(f, c), k, depth + 1);
        return;
    }
    long i = task_index(tr, f);
    if (i < 0)
        return;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 8;
        long *v = corio__realloc(k->v, cap * sizeof *v);
        if (!v)
            return; /* the dump leaves it out */
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = i;
}

/* The tasks t awaits: its waiter if that is a task, or the tasks a gather it awaits waits for.
 * Returns how many, with their indexes in a malloc'd *out (NULL when none). */
static size_t awaited_tasks(const tree *tr, corio_task *t, long **out) {
    kids k = {NULL, 0, 0};
    if (t->waiter)
        collect(tr, t->waiter, &k, 0);
    *out = k.v;
    return k.n;
}

static void print_task(tree *tr, corio_task *t, const char *prefix, const char *branch,
                       const char *note) {
    char wait[160];
    corio__task_describe_wait(t, wait, sizeof wait);
    /* A task whose waiter is done has its wake-up queued: it is ready. */
    const char *state = t == tr->loop->task.current                                  ? "running"
                        : t->waiter && t->waiter->state == CORIO_FUTURE_PENDING ? "waiting"
                                                                                : "ready";
    fprintf(tr->out, "%s%s(T) %s [%s%s]%s%s", prefix, branch, corio_task_get_name(t), state,
            t->ncancel ? ", cancelling" : "", *wait ? " " : "", wait);
    ssize_t hwm = t->stack_marked ? corio_task_stack_high_water(t) : -1;
    if (hwm >= 0)
        fprintf(tr->out, " stack %zd B", hwm);
    fprintf(tr->out, "%s\n", note);
}

static void print_subtree(tree *tr, size_t i, char *prefix, size_t plen, int last, int depth) {
    corio_task *t = tr->v[i];
    const char *branch = last ? "└── " : "├── ";
    if (tr->listed[i]) {
        print_task(tr, t, prefix, branch, " (listed above)");
        return;
    }
    tr->listed[i] = 1;
    if (depth >= MAX_DEPTH) {
        print_task(tr, t, prefix, branch, " (deeper awaits cut)");
        return;
    }
    print_task(tr, t, prefix, branch, "");
    long *kids;
    size_t k = awaited_tasks(tr, t, &kids);
    const char *pad = last ? "    " : "│   ";
    size_t padlen = strlen(pad);
    memcpy(prefix + plen, pad, padlen + 1);
    for (size_t c = 0; c < k; c++)
        print_subtree(tr, (size_t)kids[c], prefix, plen + padlen, c + 1 == k, depth + 1);
    prefix[plen] = 0;
    free(kids);
}

static int tree_init(tree *tr, corio_loop *loop, FILE *out) {
    memset(tr, 0, sizeof *tr);
    tr->loop = loop;
    tr->out = out;
    tr->n = (size_t)corio_all_tasks(loop, NULL, 0); /* loop is set: a count, never an error */
    size_t m = tr->n ? tr->n : 1;
    tr->v = corio__malloc(m * sizeof *tr->v);
    tr->by_ptr = corio__malloc(m * sizeof *tr->by_ptr);
    tr->awaited = corio__calloc(m, 1);
    tr->listed = corio__calloc(m, 1);
    if (!tr->v || !tr->by_ptr || !tr->awaited || !tr->listed)
        return -ENOMEM;
    corio_all_tasks(loop, tr->v, tr->n);
    for (size_t i = 0; i < tr->n; i++)
        tr->by_ptr[i] = (struct entry){tr->v[i], i};
    qsort(tr->by_ptr, tr->n, sizeof *tr->by_ptr, cmp_entry);
    return 0;
}

static void tree_free(tree *tr) {
    free(tr->v);
    free(tr->by_ptr);
    free(tr->awaited);
    free(tr->listed);
}

int corio__dump_tasks(corio_loop *loop, FILE *out) {
    tree tr;
    int rc = tree_init(&tr, loop, out);
    if (rc < 0) {
        tree_free(&tr);
        return rc;
    }
    for (size_t i = 0; i < tr.n; i++) {
        long *kids;
        size_t k = awaited_tasks(&tr, tr.v[i], &kids);
        for (size_t c = 0; c < k; c++)
            tr.awaited[kids[c]] = 1;
        free(kids);
    }
    char prefix[MAX_DEPTH * 8 + 8] = "";
    for (size_t i = 0; i < tr.n; i++)
        if (!tr.awaited[i])
            print_subtree(&tr, i, prefix, 0, 1, 0);
    /* What is left awaits in a cycle: every task in it is awaited by another. */
    for (size_t i = 0; i < tr.n; i++)
        if (!tr.listed[i]) {
            fprintf(out, "(await cycle)\n");
            print_subtree(&tr, i, prefix, 0, 1, 0);
        }
    fflush(out);
    tree_free(&tr);
    return (int)tr.n;
}

int corio_loop_dump_tasks(corio_loop *loop, FILE *out) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!out)
        return -EINVAL;
    return corio__dump_tasks(loop, out);
}

int corio_loop_dump_tasks_fd(corio_loop *loop, int fd) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (fd < 0)
        return -EBADF;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return -ENOMEM;
    int rc = corio__dump_tasks(loop, mem);
    fclose(mem);
    for (size_t off = 0; rc >= 0 && off < len;) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno != EINTR)
            rc = -errno;
        else if (w > 0)
            off += (size_t)w;
    }
    free(buf);
    return rc;
}
