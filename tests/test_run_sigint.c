/* corio_run and SIGINT, as asyncio.Runner: the first Ctrl-C cancels the main task, which may
 * clean up, and corio_run returns CORIO_EINTERRUPTED; a second one ends the program at once,
 * even while a task hogs the loop; the program's own handling of SIGINT wins; an option turns it
 * off. Each case runs in a child process: the process's main thread is what corio_run looks for,
 * and some cases end by SIGINT. */
#include "in_child.h"
#include "signal_helpers.h"

#include <sys/wait.h>

static int status;
static char out[4096];

static void child(void (*fn)(void)) { in_child(fn, out, sizeof out, &status); }

static void expect_exit(int code)
{
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == code,
              "child: status %#x, want exit %d; stderr: %s", status, code, out);
}

/* ---- first Ctrl-C: the main task is cancelled and cleans up ---- */

static int cleaned_up;

static void *sleeps_then_cleans_up(void *arg)
{
    (void)arg;
    kill(getpid(), SIGINT);
    int rc = corio_sleep(30);
    if (rc == -ECANCELED && corio_sleep(0.01) == 0) /* the task goes on after its cancel */
        cleaned_up = 1;
    return IV(7);
}

static void first_sigint(void)
{
    void *res = SENTINEL;
    int rc = corio_run(sleeps_then_cleans_up, NULL, &res, NULL);
    if (rc != CORIO_EINTERRUPTED || res != NULL || !cleaned_up)
        _exit(10);
    if (action_of(SIGINT) != SIG_DFL)
        _exit(11);
    _exit(0);
}

Test(run_sigint, first_ctrl_c_cancels_the_main_task, .timeout = 20)
{
    child(first_sigint);
    expect_exit(0);
}

/* ---- second Ctrl-C: the process ends, even with the loop stuck ---- */

static void *hogs_after_cancel(void *arg)
{
    (void)arg;
    kill(getpid(), SIGINT);
    corio_sleep(30); /* cancelled */
    kill(getpid(), SIGINT);
    for (;;) /* never yields: only the default action can end this */
        ;
    return NULL;
}

static void second_sigint(void)
{
    corio_run(hogs_after_cancel, NULL, NULL, NULL);
    _exit(20);
}

Test(run_sigint, a_second_ctrl_c_ends_the_program_at_once, .timeout = 20)
{
    child(second_sigint);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "child: status %#x; stderr: %s",
              status, out);
}

/* ---- off: SIGINT keeps its default action ---- */

static void *sends_sigint(void *arg)
{
    (void)arg;
    kill(getpid(), SIGINT);
    corio_sleep(0.5);
    return NULL;
}

static void option_off(void)
{
    corio_run(sends_sigint, NULL, NULL, &(corio_run_opts){.sigint = -1});
    _exit(30);
}

Test(run_sigint, the_option_turns_it_off, .timeout = 20)
{
    child(option_off);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "child: status %#x; stderr: %s",
              status, out);
}

/* ---- the program's own SIGINT handling wins ---- */

static void ignored(void)
{
    signal(SIGINT, SIG_IGN);
    int rc = corio_run(sends_sigint, NULL, NULL, NULL);
    _exit(rc == 0 && action_of(SIGINT) == SIG_IGN ? 0 : 40);
}

Test(run_sigint, an_ignored_sigint_stays_ignored, .timeout = 20)
{
    child(ignored);
    expect_exit(0);
}

static int handled;
static void on_sigint(int signo, void *arg)
{
    (void)arg;
    handled = signo;
}

static void *handles_sigint_itself(void *arg)
{
    (void)arg;
    if (corio_loop_add_signal_handler(NULL, SIGINT, on_sigint, NULL) != 0)
        return IV(1);
    kill(getpid(), SIGINT);
    for (int i = 0; i < 500 && !handled; i++)
        if (corio_sleep(0.01) < 0)
            return IV(2); /* cancelled: corio_run's handling did not step aside */
    return IV(handled == SIGINT ? 0 : 3);
}

static void own_handler(void)
{
    void *res = SENTINEL;
    int rc = corio_run(handles_sigint_itself, NULL, &res, NULL);
    _exit(rc == 0 ? VI(res) : 50);
}

Test(run_sigint, a_loop_handler_for_sigint_takes_it_over, .timeout = 20)
{
    child(own_handler);
    expect_exit(0);
}

/* ---- only on the process's main thread ---- */

static void *reads_action(void *arg)
{
    *(void (**)(int))arg = action_of(SIGINT);
    return NULL;
}

static void *run_on_a_thread(void *arg)
{
    int rc = corio_run(reads_action, arg, NULL, NULL);
    return IV(rc);
}

Test(run_sigint, only_the_main_thread_takes_it, .timeout = 20)
{
    void (*seen)(int) = NULL;
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, run_on_a_thread, &seen), 0);
    void *rc;
    cr_assert_eq(pthread_join(t, &rc), 0);
    cr_expect_eq(VI(rc), 0);
    cr_expect_eq(seen, SIG_DFL, "corio_run on another thread took SIGINT");
}
