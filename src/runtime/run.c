/* The entry points that run a loop: run_until_complete, and corio_run, which also makes the loop
 * and closes it (asyncio.run). */
#define _GNU_SOURCE /* gettid */
#include "signal/signal.h"
#include "task/task.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static void stop_loop(corio_future *f, void *arg) {
    (void)f;
    corio_loop_stop(arg);
}

int corio_loop_run_until_complete(corio_loop *loop, corio_future *fut, void **result) {
    if (result)
        *result = NULL;
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (!fut)
        return -EINVAL;
    CORIO__CHECK_FUTURE(fut);
    if (corio__future_loop(fut) != loop)
        return -EINVAL;
    if (corio__loop_closing(loop))
        return CORIO_ECLOSED;
    if (corio__running_loop)
        return CORIO_ERUNNING;
    if (corio__future_pending(fut)) {
        int rc = corio_future_add_done_callback(fut, stop_loop, loop);
        if (rc < 0)
            return rc;
        rc = corio_loop_run_forever(loop);
        corio_future_remove_done_callback(fut, stop_loop, loop);
        if (rc < 0)
            return rc;
        if (corio__future_pending(fut))
            return CORIO_ESTOPPED;
    }
    return corio_future_result(fut, result);
}

/* asyncio.run's _cancel_all_tasks: cancel what is left and let it finish. */
static void cancel_all(corio_loop *loop) {
    int count = corio_all_tasks(loop, NULL, 0);
    if (count <= 0)
        return;
    size_t n = (size_t)count;
    corio_task **v = corio__malloc(n * sizeof *v);
    if (!v)
        return; /* close will destroy them instead */
    corio_all_tasks(loop, v, n);
    for (size_t i = 0; i < n; i++)
        corio_task_ref(v[i]);
    for (size_t i = 0; i < n; i++)
        corio_task_cancel(v[i], NULL);
    corio_future *g;
    if (corio_gather_new(&g, (corio_future *const *)v, n, CORIO_GATHER_RETURN_ERRORS) == 0) {
        corio_loop_run_until_complete(loop, g, NULL);
        corio_future_unref(g);
    }
    for (size_t i = 0; i < n; i++) {
        int err = corio_future_error(corio_task_future(v[i]));
        if (err < 0 && err != -ECANCELED && corio_future_done(corio_task_future(v[i])))
            corio__loop_report(loop, "unhandled error during corio_run() shutdown", err, NULL,
                               v[i]);
        corio_task_unref(v[i]);
    }
    free(v);
}

/* asyncio.Runner's SIGINT: a weak subscription (signal/signal.h), so that corio's action is
 * one-shot and steps aside for the program's own. */
typedef struct runner {
    corio_task *main;
    int interrupted;
} runner;

static void on_sigint(corio__sig_sub *sub, int signo, void *arg) {
    (void)sub;
    (void)signo;
    runner *r = arg;
    if (r->interrupted++ == 0)
        corio_task_cancel(r->main, "interrupted by SIGINT");
}

/* Whether SIGINT is free for corio_run to take: the main thread, the default action, not
 * blocked. */
static int sigint_free(const corio_run_opts *opts) {
    if (opts && opts->sigint < 0)
        return 0;
    if (getpid() != gettid())
        return 0;
    struct sigaction sa;
    sigset_t mask;
    if (sigaction(SIGINT, NULL, &sa) < 0 || pthread_sigmask(SIG_BLOCK, NULL, &mask) != 0)
        return 0;
    return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL && !sigismember(&mask, SIGINT);
}

static int run_main(corio_loop *loop, corio_coro_fn fn, void *arg, void **result,
                    const corio_run_opts *opts) {
    runner r = {0};
    corio__sig_sub *sub = NULL;
    int rc = 0;
    if (sigint_free(opts))
        rc = corio__signal_subscribe(&sub, loop, SIGINT, on_sigint, &r, CORIO__SIG_WEAK);
    if (rc == 0)
        rc = corio_create_task(&r.main, loop, fn, arg, &(corio_task_opts){.name = "main"});
    if (rc < 0) {
        corio__signal_unsubscribe(sub);
        return rc;
    }
    rc = corio_loop_run_until_complete(loop, corio_task_future(r.main), result);
    corio__signal_unsubscribe(sub);
    cancel_all(loop);
    corio_task_unref(r.main);
    if (r.interrupted) {
        if (result)
            *result = NULL;
        rc = CORIO_EINTERRUPTED;
    }
    return rc;
}

int corio_run(corio_coro_fn fn, void *arg, void **result, const corio_run_opts *opts) {
    if (result)
        *result = NULL;
    if (!fn)
        return -EINVAL;
    if (corio__running_loop)
        return CORIO_ERUNNING;
    corio_loop *loop;
    int rc = corio_loop_new(&loop, opts ? opts->loop : NULL);
    if (rc < 0)
        return rc;
    corio_loop *saved = corio__loop_swap_current(loop);
    rc = run_main(loop, fn, arg, result, opts);
    corio_loop_free(loop);
    corio__loop_swap_current(saved);
    return rc;
}
