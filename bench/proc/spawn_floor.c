/* The ceiling of workload (A) (bench/proc/README.md): posix_spawn of /bin/true and waitpid(-1),
 * INFLIGHT children at a time, nothing in between: what starting and reaping processes costs the
 * kernel on this machine, whatever runtime drives it.
 *
 *   cc -O2 -o /tmp/spawn_floor bench/proc/spawn_floor.c && /tmp/spawn_floor 2000 50
 *
 * Prints "floor true N SECONDS RATE/s". */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc != 3)
        return 2;
    long n = atol(argv[1]), inflight = atol(argv[2]), started = 0, done = 0;
    char *args[] = {"/bin/true", NULL};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    while (done < n) {
        for (; started < n && started - done < inflight; started++) {
            pid_t pid;
            if (posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ) != 0)
                return 1;
        }
        int st;
        if (waitpid(-1, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
        done++;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("floor true %ld %.3f %.0f/s\n", n, s, (double)n / s);
    return 0;
}
