/* Allocation failure at every allocation site of an I/O scenario (issue 6), on each backend: a
 * server and a client task exchange messages over loopback TCP and a pipe, with each allocation
 * failing in turn. Each run must end with success or -ENOMEM from the call that could not
 * allocate, close every fd, and not hang (the first failure cancels the other side); the ASan
 * and Valgrind runs of the suite check that nothing leaks. */
#include "fault_helpers.h"
#include "io_helpers.h"

static struct sockaddr_storage srv_addr;
static socklen_t srv_alen;
static int listen_fd;

static void *server(void *arg)
{
    (void)arg;
    int c = corio_sock_accept(listen_fd, NULL, NULL);
    if (c < 0)
        return corio_raise(c);
    char buf[256];
    ssize_t n;
    int rc = 0;
    while ((n = corio_sock_recv(c, buf, sizeof buf, 0)) > 0)
        if ((rc = (int)corio_sock_sendall(c, buf, (size_t)n, 0)) < 0)
            break;
    corio_close(c);
    if (n < 0)
        rc = (int)n;
    return rc < 0 ? corio_raise(rc) : NULL;
}

static void *client(void *arg)
{
    (void)arg;
    int fd = corio_socket(srv_addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return corio_raise(fd);
    int rc = corio_sock_connect(fd, (struct sockaddr *)&srv_addr, srv_alen, 5.0);
    for (int i = 0; rc == 0 && i < 3; i++) {
        char msg[16], back[16];
        int len = snprintf(msg, sizeof msg, "msg %d", i);
        ssize_t n = corio_sock_sendall(fd, msg, (size_t)len, 0);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        ssize_t got = 0;
        while (got < len && (n = corio_sock_recv(fd, back + got, sizeof back - (size_t)got, 0)) > 0)
            got += n;
        if (n <= 0)
            rc = n < 0 ? (int)n : -EPROTO;
    }
    corio_close(fd);
    return rc < 0 ? corio_raise(rc) : NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    corio_task *t[2] = {NULL, NULL};
    int rc = corio_create_task(&t[0], NULL, server, NULL, NULL);
    if (rc == 0)
        rc = corio_create_task(&t[1], NULL, client, NULL, NULL);
    if (rc == 0) {
        corio_future *fs[2] = {corio_task_future(t[0]), corio_task_future(t[1])};
        rc = corio_gather(fs, 2, 0, NULL, NULL);
    }
    reap_tasks(t, 2);
    return rc < 0 ? corio_raise(rc) : NULL;
}

/* A fresh listener per run: a connection a failed run left in the backlog must not meet the
 * next run's server. */
static int io_scenario(void)
{
    listen_fd = tcp_listener(0, &srv_addr, &srv_alen);
    int rc = corio_run(main_task, NULL, NULL, NULL);
    corio_close(listen_fd);
    return rc;
}

Test(io_fault_alloc, every_io_allocation_fails_cleanly, .timeout = 120)
{
    FD_CHECK_BEGIN();
    fault_sweep_report("io_fault_alloc", io_scenario, 10);
    FD_CHECK_END();
}
