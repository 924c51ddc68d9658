/* Guard pages for pooled stacks; see stack_guard.h for the three mechanisms and why. */
#define _GNU_SOURCE
#include "stack_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 uapi; older headers lack it */
#endif
#if defined(__linux__) && !defined(SYS_process_madvise)
#if defined(__x86_64__) || defined(__aarch64__)
#define SYS_process_madvise 440
#endif
#endif
#if defined(__linux__) && !defined(SYS_pidfd_open)
#if defined(__x86_64__) || defined(__aarch64__)
#define SYS_pidfd_open 434
#endif
#endif
#define CORIO__PIDFD_SELF_PROCESS (-10001) /* PIDFD_SELF_THREAD_GROUP, Linux 6.15+ */
#define CORIO__IOV_MAX 1024                /* UIO_MAXIOV: most ranges one call takes */

const char *corio__guard_mode_name(enum corio__guard_mode mode)
{
    switch (mode) {
    case CORIO__GUARD_REGION_BATCH:
        return "guard-region";
    case CORIO__GUARD_REGION:
        return "guard-region";
    case CORIO__GUARD_MPROTECT:
        return "mprotect";
    case CORIO__GUARD_CANARY:
        return "canary";
    default:
        return "unknown";
    }
}

#if defined(SYS_process_madvise)
/* One process_madvise over up to 1024 guard pages. process_madvise accepts every advice for the
 * calling process since Linux 6.13; before that it refuses MADV_GUARD_INSTALL with EINVAL. */
static int corio__guard_batch(char *base, size_t stride, size_t count, size_t page)
{
    struct iovec iov[CORIO__IOV_MAX];
    size_t done = 0;
    int pidfd = CORIO__PIDFD_SELF_PROCESS, own_fd = 0;
    while (done < count) {
        size_t n = count - done < CORIO__IOV_MAX ? count - done : CORIO__IOV_MAX;
        for (size_t i = 0; i < n; i++) {
            iov[i].iov_base = base + (done + i) * stride;
            iov[i].iov_len = page;
        }
        long r = syscall(SYS_process_madvise, pidfd, iov, n, MADV_GUARD_INSTALL, 0);
        if (r < 0 && errno == EBADF && !own_fd) {
            /* Kernels before 6.15 know no PIDFD_SELF: open a pidfd of our own, once per slab. */
            pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
            if (pidfd < 0)
                return -1;
            own_fd = 1;
            continue;
        }
        if (r < 0 || (size_t)r != n * page)
            break;
        done += n;
    }
    if (own_fd)
        close(pidfd);
    return done == count ? 0 : -1;
}
#endif

/* Do guard regions really fault here? madvise can report success and do nothing: qemu-user and
 * some sandboxes accept unknown advice as a harmless hint. Asks the kernel to read a guarded page
 * on our behalf (write(2) into a pipe): EFAULT means the guard is real. Once per process. */
static atomic_int corio__guard_verdict; /* 0 unknown, 1 works, -1 does not */

static int corio__guard_regions_work(size_t page)
{
    int v = atomic_load_explicit(&corio__guard_verdict, memory_order_relaxed);
    if (v != 0)
        return v > 0;
    v = -1;
    char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        int fds[2];
        p[page] = 1;
        if (madvise(p, page, MADV_GUARD_INSTALL) == 0 && pipe(fds) == 0) {
            ssize_t r = write(fds[1], p, 1);
            if (r < 0 && errno == EFAULT && write(fds[1], p + page, 1) == 1)
                v = 1;
            close(fds[0]);
            close(fds[1]);
        }
        munmap(p, 2 * page);
    }
    atomic_store_explicit(&corio__guard_verdict, v, memory_order_relaxed);
    return v > 0;
}

int corio__guard_slab(enum corio__guard_mode *mode, char *base, size_t stride, size_t count,
                      size_t page)
{
    if (*mode == CORIO__GUARD_UNKNOWN && !corio__guard_regions_work(page))
        *mode = CORIO__GUARD_MPROTECT;
#if defined(SYS_process_madvise)
    if (*mode == CORIO__GUARD_UNKNOWN || *mode == CORIO__GUARD_REGION_BATCH) {
        if (corio__guard_batch(base, stride, count, page) == 0) {
            *mode = CORIO__GUARD_REGION_BATCH;
            return 0;
        }
        *mode = CORIO__GUARD_REGION;
    }
#endif
    if (*mode == CORIO__GUARD_UNKNOWN || *mode == CORIO__GUARD_REGION) {
        /* madvise is idempotent for guards, so a batch that stopped half-way is simply redone. */
        size_t i = 0;
        for (; i < count; i++)
            if (madvise(base + i * stride, page, MADV_GUARD_INSTALL) != 0)
                break;
        if (i == count) {
            *mode = CORIO__GUARD_REGION;
            return 0;
        }
        *mode = CORIO__GUARD_MPROTECT;
    }
    return -1; /* MPROTECT and CANARY guard nothing per slab */
}

/* ---- mprotect fallback under a VMA budget ----
 * Process-wide on purpose: vm.max_map_count limits the process, not a pool. */
static atomic_long corio__vma_budget = -1; /* -1: not read yet */
static atomic_long corio__vma_used;

static long corio__read_budget(void)
{
    long max = 65530; /* the kernel's default, if /proc is not mounted */
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[32];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) {
            buf[n] = '\0';
            long v = strtol(buf, NULL, 10);
            if (v > 0)
                max = v;
        }
    }
    return max / 4;
}

int corio__guard_mprotect(void *guard, size_t page)
{
    long budget = atomic_load_explicit(&corio__vma_budget, memory_order_relaxed);
    if (budget < 0) {
        budget = corio__read_budget();
        atomic_store_explicit(&corio__vma_budget, budget, memory_order_relaxed);
    }
    /* A guard in the middle of a mapping turns one VMA into three. */
    if (atomic_fetch_add_explicit(&corio__vma_used, 2, memory_order_relaxed) + 2 > budget) {
        atomic_fetch_sub_explicit(&corio__vma_used, 2, memory_order_relaxed);
        return -1;
    }
    if (mprotect(guard, page, PROT_NONE) != 0) {
        atomic_fetch_sub_explicit(&corio__vma_used, 2, memory_order_relaxed);
        return -1;
    }
    return 0;
}

void corio__guard_mprotect_release(size_t count)
{
    atomic_fetch_sub_explicit(&corio__vma_used, (long)(2 * count), memory_order_relaxed);
}
