/* Signals and processes across threads, for ThreadSanitizer: two threads, each running a loop
 * that takes a signal of its own and spawns children from several tasks, while the main thread
 * sends both signals until each loop has seen its own. corio's signal table and handler are
 * shared by the threads, and spawning must be safe from any of them. Ends with every child
 * reaped and both signals back at their default action. */
#include "standalone.h"

#include <corio.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 40
#define SPAWNERS 4

typedef struct side {
    int signo;
    atomic_int ready, got;
    pthread_t thread;
} side;

static void *spawner(void *arg) {
    (void)arg;
    const char *const t[] = {"true", NULL};
    for (int i = 0; i < CHILDREN / SPAWNERS; i++) {
        corio_process *p;
        int rc = corio_create_subprocess_exec(&p, NULL, t, NULL);
        CHECK(rc == 0);
        if (rc < 0)
            return NULL;
        int code = -1;
        CHECK(corio_process_wait(p, &code) == 0 && code == 0);
        CHECK(corio_process_free(p) == 0);
    }
    return NULL;
}

static void *side_main(void *arg) {
    side *s = arg;
    corio_signal_watcher *w;
    CHECK(corio_signal_watcher_new(&w, NULL, &s->signo, 1) == 0);
    corio_task *t[SPAWNERS];
    for (int i = 0; i < SPAWNERS; i++)
        CHECK(corio_create_task(&t[i], NULL, spawner, NULL, NULL) == 0);
    atomic_store(&s->ready, 1);
    corio_timeout *tm;
    CHECK(corio_timeout_enter(&tm, 20.0) == 0);
    int got = corio_timeout_exit(tm, corio_signal_watcher_wait(w));
    CHECK(got == s->signo);
    atomic_store(&s->got, got == s->signo);
    for (int i = 0; i < SPAWNERS; i++) {
        corio_await(corio_task_future(t[i]), NULL);
        corio_task_unref(t[i]);
    }
    CHECK(corio_signal_watcher_free(w) == 0);
    return NULL;
}

static void *side_thread(void *arg) {
    CHECK(corio_run(side_main, arg, NULL, NULL) == 0);
    return NULL;
}

int main(void) {
    side s[2] = {{.signo = SIGUSR1}, {.signo = SIGUSR2}};
    /* Blocked here, the signals go to the loops' threads, which unblock them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&s[i].thread, NULL, side_thread, &s[i]) == 0);
    for (int round = 0; round < 2000 && !(atomic_load(&s[0].got) && atomic_load(&s[1].got));
         round++) {
        for (int i = 0; i < 2; i++)
            if (atomic_load(&s[i].ready) && !atomic_load(&s[i].got))
                kill(getpid(), s[i].signo);
        usleep(10000);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(s[i].thread, NULL);
        CHECK(atomic_load(&s[i].got));
        struct sigaction sa;
        sigaction(s[i].signo, NULL, &sa);
        CHECK(sa.sa_handler == SIG_DFL);
    }
    CHECK(waitpid(-1, NULL, WNOHANG) < 0);
    printf("standalone_signal_process: %d failures\n", atomic_load(&failures));
    return atomic_load(&failures) != 0;
}
