/* Children at scale: 10,000 `cat` processes in rounds, 200 at a time, each given a random
 * payload on stdin through communicate and checked byte for byte on stdout. After every round no
 * fd and no child may be left, and RSS must stay flat (stress_util.h). */
#include "stress_util.h"

#include <sys/wait.h>

#define ROUNDS 5
#define IN_FLIGHT 200
#define MAX_PAYLOAD 32768

static long per_round, next_child, done_ok;

static void *worker(void *arg)
{
    unsigned char *in = malloc(MAX_PAYLOAD);
    CHECK(in != NULL, "no memory");
    (void)arg;
    while (in && next_child < per_round) {
        next_child++;
        size_t n = 1 + (size_t)rng_below(MAX_PAYLOAD);
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)rng();
        const char *const cat[] = {"cat", NULL};
        corio_process_opts o = {.stdin_mode = CORIO_PROCESS_PIPE,
                                .stdout_mode = CORIO_PROCESS_PIPE};
        corio_process *p;
        int rc = corio_create_subprocess_exec(&p, NULL, cat, &o);
        CHECK(rc == 0, "spawn: %s", corio_strerror(rc));
        if (rc < 0)
            break;
        char *out = NULL;
        size_t len = 0;
        int code = -1;
        rc = corio_process_communicate(p, in, n, &out, &len, NULL, NULL, &code);
        CHECK(rc == 0 && code == 0, "communicate: %s, returncode %d", corio_strerror(rc), code);
        CHECK(len == n && memcmp(out, in, n) == 0, "echo of %zu bytes: %zu bytes differ", n, len);
        done_ok += rc == 0 && code == 0 && len == n && memcmp(out, in, n) == 0;
        free(out);
        corio_process_free(p);
    }
    free(in);
    return NULL;
}

static void *round_main(void *arg)
{
    (void)arg;
    corio_task *t[IN_FLIGHT];
    int n = 0;
    for (; n < IN_FLIGHT; n++)
        if (corio_create_task(&t[n], NULL, worker, NULL, NULL) < 0)
            break;
    CHECK(n == IN_FLIGHT, "only %d workers", n);
    for (int i = 0; i < n; i++) {
        corio_await(corio_task_future(t[i]), NULL);
        corio_task_unref(t[i]);
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* each round's line out at once, should a round hang */
    rng_seed();
    per_round = scaled(10000) / ROUNDS;
    if (per_round < IN_FLIGHT)
        per_round = IN_FLIGHT;
    int fds0 = -1;
    long rss[ROUNDS];
    double t0 = now_s();
    for (int r = 0; r < ROUNDS; r++) {
        next_child = 0;
        double t = now_s();
        int rc = corio_run(round_main, NULL, NULL, NULL);
        CHECK(rc == 0, "round %d: %s", r + 1, corio_strerror(rc));
        int fds = open_fds();
        if (fds0 < 0)
            fds0 = fds;
        CHECK(fds == fds0, "round %d: %d fds open, %d after the first", r + 1, fds, fds0);
        CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "round %d: a child was left",
              r + 1);
        rss[r] = rss_kib();
        printf("round %d: %ld children, %.0f children/s, RSS %ld KiB, %d fds\n", r + 1,
               per_round, (double)per_round / (now_s() - t), rss[r], fds);
    }
    CHECK(done_ok == per_round * ROUNDS, "%ld of %ld children echoed their payload", done_ok,
          per_round * ROUNDS);
    check_rss_flat(rss, ROUNDS);
    printf("%ld children in %.1f s, %s backend, %s\n", per_round * ROUNDS, now_s() - t0,
           getenv("CORIO_BACKEND") ? getenv("CORIO_BACKEND") : "default",
           getenv("CORIO_PIDFD") && !strcmp(getenv("CORIO_PIDFD"), "0") ? "SIGCHLD" : "pidfd");
    return stress_result("stress_process");
}
