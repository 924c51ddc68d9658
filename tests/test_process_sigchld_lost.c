/* A child's exit still ends its wait when the SIGCHLD that should tell the loop never reaches
 * corio: another part of the program put its own handler in corio's place (the fallback used
 * without pidfds, forced here with CORIO_PIDFD=0). The loop's periodic look at its children
 * (src/proc/reap.c) reaps them with their right returncodes, a second or so late, never a wait
 * for ever. */
#include "process_helpers.h"

static volatile sig_atomic_t stolen;

static void thief(int signo)
{
    (void)signo;
    stolen = 1;
}

/* Takes SIGCHLD from corio after its first spawn (which installs corio's handler), then spawns
 * and waits for `n` children that exit with codes 0..n-1. */
static void *waits_without_the_signal(void *arg)
{
    int n = *(int *)arg;
    corio_process *p[8];
    pid_t pid[8];
    char code_s[8][12];
    struct sigaction mine = {.sa_handler = thief}, corio_s;
    sigemptyset(&mine.sa_mask);
    for (int i = 0; i < n; i++) {
        snprintf(code_s[i], sizeof code_s[i], "%d", i);
        const char *const sh[] = {"/bin/sh", "-c", "sleep 0.1; exit $0", code_s[i], NULL};
        p[i] = spawn_ok(sh, NULL);
        if (!p[i])
            return NULL;
        pid[i] = corio_process_get_pid(p[i]);
        if (i == 0)
            cr_expect_eq(sigaction(SIGCHLD, &mine, &corio_s), 0);
    }
    for (int i = 0; i < n; i++) {
        int code = -1000;
        cr_expect_eq(corio_process_wait(p[i], &code), 0);
        cr_expect_eq(code, i, "child %d: returncode %d", i, code);
        cr_expect_eq(corio_process_free(p[i]), 0);
        cr_expect(reaped(pid[i]), "child %d left a zombie", i);
    }
    cr_expect(stolen, "the thief's handler ran instead of corio's");
    cr_expect_eq(sigaction(SIGCHLD, &corio_s, NULL), 0);
    return NULL;
}

static void run(int n)
{
    setenv("CORIO_PIDFD", "0", 1); /* this test's process only: before its first spawn */
    run_in_loop(waits_without_the_signal, &n);
}

Test(process_sigchld_lost, one_child, .timeout = 30) { run(1); }

Test(process_sigchld_lost, several_children_each_with_its_code, .timeout = 30) { run(6); }
