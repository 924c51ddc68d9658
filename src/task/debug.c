/* Debug mode's timing of callbacks and task steps (asyncio's slow_callback_duration). */
#include "task/debug.h"

#include <errno.h>
#include <math.h>

static void report_slow(corio_loop *loop, corio_task *t, int64_t ns) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s took %.3f s (slow callback duration %.3f s)",
             t ? "task step" : "callback", (double)ns / 1e9, (double)loop->task.slow_ns / 1e9);
    corio__loop_report(loop, msg, 0, NULL, t);
}

static void plug_fn(corio__work *w, int drop) {
    (void)w;
    (void)drop;
}

/* Each item is timed on the real clock. The task is looked up and held before the item runs:
 * the step may finish the task and drop the last reference to it. */
static void run_timed(corio_loop *loop, corio__work *w) {
    corio_task *t = corio__work_task(w);
    if (t)
        corio_task_ref(t);
    int64_t t0 = corio__clock_ns();
    w->fn(w, 0);
    int64_t ns = corio__clock_ns() - t0;
    if (ns >= loop->task.slow_ns)
        report_slow(loop, t, ns);
    corio_task_unref(t);
}

/* In debug mode the batch runs from a local queue while the loop's batch holds only a plug, a work
 * item that is not a task: a suspending task then finds no task to switch to directly
 * (next_in_batch in task.c, which would also take the next iteration's work into an empty batch)
 * and comes back here, so that each step is timed on its own. The plug costs the normal path
 * nothing. */
void corio__debug_run_batch(corio_loop *loop, corio__workq *batch) {
    if (loop->task.dump_signo)
        corio__dump_if_signalled(loop);
    if (corio__loop_debug(loop)) {
        corio__workq q;
        corio__work plug = {.fn = plug_fn};
        corio__workq_take(batch, &q);
        corio__workq_push(batch, &plug);
        for (corio__work *w; (w = corio__workq_pop(&q));)
            run_timed(loop, w);
        corio__workq_init(batch);
    } else {
        for (corio__work *w; (w = corio__workq_pop(batch));)
            w->fn(w, 0);
    }
    /* Again after the batch: a signal that came while it ran is dumped now rather than after the
     * loop's next sleep. */
    if (loop->task.dump_signo)
        corio__dump_if_signalled(loop);
}

int corio_loop_set_slow_callback_duration(corio_loop *loop, double seconds) {
    if (!(loop = corio__loop_resolve(loop)))
        return CORIO_ENOLOOP;
    if (isnan(seconds) || seconds < 0)
        return -EINVAL;
    loop->task.slow_ns = corio__sec_to_ns(seconds);
    return 0;
}

double corio_loop_get_slow_callback_duration(const corio_loop *loop) {
    loop = corio__loop_resolve(loop);
    return loop ? (double)loop->task.slow_ns / 1e9 : NAN;
}
