/* Stack overflow: turn a guard-page hit into a message naming the task, then abort().
 *
 * A fiber that runs off the low end of its stack touches the guard page below it and gets SIGSEGV
 * (SIGBUS on some systems). The handler cannot run on the overflowed stack, so each thread gets an
 * alternate signal stack. The handler is process-wide and installed once; faults that are not a
 * guard hit of the running fiber go to whatever handler was installed before ours, or get the
 * default action (the fault repeats with the default disposition and kills the process as it would
 * have without us).
 */
#define _GNU_SOURCE
#include "fiber.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct sigaction corio__prev_segv, corio__prev_bus;
static pthread_once_t corio__handler_once = PTHREAD_ONCE_INIT;
static int corio__handler_err;
static pthread_key_t corio__altstack_key;
static __thread int corio__altstack_done;

static void corio__put_str(char *buf, size_t *n, size_t cap, const char *s)
{
    while (*s != '\0' && *n < cap)
        buf[(*n)++] = *s++;
}

static void corio__put_num(char *buf, size_t *n, size_t cap, size_t v)
{
    char digits[24];
    int k = 0;
    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (k > 0 && *n < cap)
        buf[(*n)++] = digits[--k];
}

static void corio__chain(int sig, siginfo_t *info, void *uctx)
{
    struct sigaction *prev = sig == SIGBUS ? &corio__prev_bus : &corio__prev_segv;
    if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction != NULL) {
        prev->sa_sigaction(sig, info, uctx);
        return;
    }
    if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    /* Default action: restore it and return; the faulting instruction runs again and the kernel
     * delivers the signal with its default disposition (a core dump where enabled). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
}

static void corio__on_fault(int sig, siginfo_t *info, void *uctx)
{
    int saved = errno;
    corio__fiber *f = corio__fiber_current();
    if (f != NULL && f->stack != NULL && info != NULL) {
        uintptr_t addr = (uintptr_t)info->si_addr;
        uintptr_t lo = (uintptr_t)f->stack->lo;
        uintptr_t page = 4096;
        long pg = sysconf(_SC_PAGESIZE); /* async-signal-safe in practice: a cached value */
        if (pg > 0)
            page = (uintptr_t)pg;
        if (addr < lo && addr >= lo - corio__guard_size(page)) {
            const char *name = corio__fiber_describe(f);
            char buf[512];
            size_t n = 0;
            corio__put_str(buf, &n, sizeof buf, "corio: stack overflow in task '");
            corio__put_str(buf, &n, sizeof buf - 64, name != NULL ? name : "?");
            corio__put_str(buf, &n, sizeof buf, "' (stack of ");
            corio__put_num(buf, &n, sizeof buf, f->stack->size);
            corio__put_str(buf, &n, sizeof buf, " bytes)\n");
            ssize_t r = write(2, buf, n);
            (void)r;
            abort();
        }
    }
    errno = saved;
    corio__chain(sig, info, uctx);
}

static void corio__altstack_free(void *p)
{
    stack_t ss, old;
    memset(&ss, 0, sizeof ss);
    ss.ss_flags = SS_DISABLE;
    /* Only disable it if it is still ours. */
    if (sigaltstack(NULL, &old) == 0 && old.ss_sp == p) {
        sigaltstack(&ss, NULL);
        munmap(p, old.ss_size);
    } else if (p != NULL) {
        /* Someone replaced it; leaking is safer than unmapping a stack that might be in use. */
    }
}

static void corio__install_process(void)
{
    if (pthread_key_create(&corio__altstack_key, corio__altstack_free) != 0) {
        corio__handler_err = -EAGAIN;
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = corio__on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &corio__prev_segv) != 0 ||
        sigaction(SIGBUS, &sa, &corio__prev_bus) != 0)
        corio__handler_err = -errno;
}

int corio__overflow_handler_install(void)
{
    pthread_once(&corio__handler_once, corio__install_process);
    if (corio__handler_err != 0)
        return corio__handler_err;
    if (corio__altstack_done)
        return 0;
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE) && old.ss_size >= 32768) {
        corio__altstack_done = 1; /* the program (or a sanitizer) already gave this thread one */
        return 0;
    }
    size_t size = 64 * 1024;
#if defined(_SC_MINSIGSTKSZ)
    long min = sysconf(_SC_MINSIGSTKSZ); /* AVX-512 and SVE frames can be large */
    if (min > 0 && (size_t)min * 4 > size)
        size = (size_t)min * 4;
#endif
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = p;
    ss.ss_size = size;
    if (sigaltstack(&ss, NULL) != 0) {
        int e = errno;
        munmap(p, size);
        return -e;
    }
    pthread_setspecific(corio__altstack_key, p);
    corio__altstack_done = 1;
    return 0;
}
